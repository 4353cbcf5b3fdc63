"""Several guilds at scale (issue 11): start-up and memory with G guilds x N channels
(5 x 200 by default; quick: 2 x 40), and how long a channel moved to another category
on Discord takes to reach the Matrix spaces.

One stack, seeded by :func:`bench.seeds.make_guilds_seed` (categories of 20 channels;
the first guild's channels listed in the config, the other guilds bridged whole):

1. first start: ``python -m bridge run`` timed until ``bridge.started`` (it creates
   every portal room, the spaces and sub-spaces); idle RSS 3 s later;
2. warm restart: SIGTERM, spawned again (rooms and spaces exist); idle RSS;
3. moves, once the start-up power pass is over (``power.start-up-done`` in the log:
   it runs behind start-up): ``emu.move_channel`` puts a channel in another
   category, as a Discord moderator would; timed until the portal room's
   ``m.space.parent`` names the new category's sub-space and that sub-space lists
   the room in ``m.space.child`` (read from Synapse with the bridge's own token,
   polled every 20 ms).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp

from bench.common import Summary, loadavg, rss_kib, table
from bench.harness import BenchStack, log_phases, new_workdir, remove_workdir
from bench.scale import PHASES
from bench.seeds import category_id, guild_channel_id, make_guilds_seed

if TYPE_CHECKING:
    from bench.__main__ import Options


async def _state(
    session: aiohttp.ClientSession, stack: BenchStack, room: str, event_type: str
) -> dict[str, dict[str, Any]]:
    """state_key -> content of one state type (via the bridge bot's token)."""
    url = f"{stack.hs_url}/_matrix/client/v3/rooms/{quote(room)}/state"
    headers = {"Authorization": f"Bearer {stack.as_token}"}
    async with session.get(url, headers=headers) as resp:
        events = await resp.json() if resp.status == 200 else []
    return {
        e["state_key"]: e.get("content") or {}
        for e in events
        if isinstance(e, dict) and e.get("type") == event_type
    }


async def _parent(session: aiohttp.ClientSession, stack: BenchStack, room: str) -> str | None:
    parents = await _state(session, stack, room, "m.space.parent")
    return next((k for k, v in parents.items() if v), None)


async def measure_move(
    stack: BenchStack, portals: dict[int, str], guild: int, n: int, channels: int
) -> float:
    """Move channel ``n`` of ``guild`` into the next category; seconds until both the
    room's parent and the new sub-space's children say so."""
    categories = max(2, channels // 20)
    destination = (n // 20 + 1) % categories
    channel = guild_channel_id(guild, n)
    neighbour = guild_channel_id(guild, destination * 20)  # never moved itself
    room, other = portals[channel], portals.get(neighbour)
    async with aiohttp.ClientSession() as session:
        target = await _parent(session, stack, other) if other else None
        before = await _parent(session, stack, room)
        if target is None or before is None or target == before:
            raise RuntimeError(f"no distinct sub-spaces found for {channel} / {neighbour}")
        start = time.perf_counter()
        stack.emu.move_channel(str(channel), parent_id=str(category_id(guild, destination)))
        deadline = start + 30
        while time.perf_counter() < deadline:
            children = await _state(session, stack, target, "m.space.child")
            if children.get(room) and await _parent(session, stack, room) == target:
                return time.perf_counter() - start
            await asyncio.sleep(0.02)
    raise RuntimeError(f"the move of {channel} did not reach the space within 30 s")


async def guilds_suite(opts: Options) -> None:
    guilds, channels = (2, 40) if opts.quick else (5, 200)
    workdir = new_workdir(opts.workdir, "guilds")
    stack = BenchStack(workdir, make_guilds_seed(guilds, channels), database=opts.database)
    rows: list[list[object]] = []
    moves: list[float] = []
    try:
        await stack.start(start_bridge=False)
        for label in ("first start", "warm restart"):
            run = await stack.start_bridge(timeout=3600)
            phases = log_phases(run.log_text(), run.spawned_epoch, PHASES)
            portals = await stack.portals()
            await asyncio.sleep(3)
            rss = rss_kib(run.pid)[0] / 1024
            rows.append(
                [
                    label,
                    run.ready_seconds,
                    phases.get("discord.ready", float("nan")),
                    len(portals),
                    rss,
                ]
            )
            if label == "first start":
                await stack.stop_bridge()
        if len(portals) != guilds * channels:
            raise RuntimeError(f"{len(portals)} portals, expected {guilds * channels}")
        # Steady state: the power-level pass that follows a start runs in the background
        # (a warm start reads every room's levels once); moves are timed after it.
        settled = time.perf_counter() + 600
        while "power.start-up-done" not in run.log_text():
            if time.perf_counter() > settled:
                break
            await asyncio.sleep(0.5)
        for i in range(5 if opts.quick else 20):
            moves.append(await measure_move(stack, portals, i % guilds, i, channels))
    finally:
        await stack.stop()
        remove_workdir(workdir, opts.keep)
    title = f"\n== {guilds} guilds x {channels} channels (loadavg {loadavg()})"
    headers = ["run", "ready s", "discord ready s", "portals", "RSS idle MiB"]
    print(table(headers, rows, title), flush=True)
    s = Summary.of([m * 1000 for m in moves])
    print(
        table(
            ["channel moves", "n", "p50 ms", "p95 ms", "max ms"],
            [["move -> space", len(moves), s.p50, s.p95, max(moves) * 1000]],
        ),
        flush=True,
    )
