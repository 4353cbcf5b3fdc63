"""Sustained throughput with 1, 10 and 100 bridged channels, and head-of-line checks.

For each channel count one stack is started, the Matrix user joins every portal and
one message crosses each way per channel (warm-up: ghosts join, webhooks are made).
Then, in this order:

1. d2m and m2d bridged, rate limits off: M messages spread round-robin over the
   channels, sent by raw HTTP with 32 in flight (Discord: POST /channels/{id}/messages
   as a user; Matrix: PUT /rooms/{room}/send as the Matrix user);
2. the bare paths under the same load (appservice PUT as the ghost; webhook execute),
   i.e. what Synapse and the emulator manage without the bridge; "d2m bare, 1/room"
   sends as the bridge must to keep each channel's order: one request in flight per
   room (rooms in parallel);
3. head-of-line checks (on the 10-channel stack): one message in every channel at
   once, first without, then with one channel made slow; per-channel latency.
   m2d: the slow channel's webhook answers 429 three times (retry_after 1 s,
   ``emu.faults.fail_next``). d2m: the bridge reaches Synapse through a proxy that
   holds the slow room's requests for 3 s (nothing on the d2m path calls Discord's
   REST API, so an emulator fault cannot slow it);
4. with the emulator's Discord rate limits enforced (webhook execute: 5 per 2 s per
   webhook): d2m, then m2d with 10 messages per channel (40 on one channel), for at
   most ``window`` seconds. The best Discord allows for that load is printed as
   "limit allows".

delivered/s = messages delivered / (last arrival - first send); offered/s = messages /
time taken to send them all. CPU is % of one core over the run: the bridge process, the
PostgreSQL backends of its connection pool (bridge db), Synapse (with its SQLite), the
benchmark process (emulator + load + observers) and the whole machine (200% = both cores
busy, whoever uses them).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.common import Summary, fmt, loadavg, table
from bench.harness import (
    BenchClients,
    BenchStack,
    SlowProxy,
    bounded,
    new_workdir,
    remove_workdir,
    unique_text,
)
from bench.seeds import channel_id, make_seed

if TYPE_CHECKING:
    from bench.__main__ import Options

CONCURRENCY = 32
HOL_CHANNELS = 10
WEBHOOK_LIMIT = (5, 2.0)  # sandbox/discord/ratelimit.py: POST /webhooks/{id}/{token}


@dataclass
class Run:
    label: str
    channels: int
    sent: int
    delivered: int
    offered_rate: float
    delivered_rate: float
    latencies: list[float]
    cpu: dict[str, float]
    timed_out: bool = False
    limit_rate: float = float("nan")


@dataclass
class HolResult:
    direction: str
    slow_channel: int
    baseline: dict[int, float] = field(default_factory=dict)
    slowed: dict[int, float] = field(default_factory=dict)


def limit_allows(per_channel: int, channels: int) -> float:
    """Messages/s the webhook buckets allow for ``per_channel`` messages sent at once in
    each of ``channels`` channels (fixed windows: 5 at once, 5 more every 2 s)."""
    burst, per = WEBHOOK_LIMIT
    windows = (per_channel - 1) // burst
    if windows == 0:
        return float("inf")
    return per_channel * channels / (windows * per)


async def load_run(
    stack: BenchStack,
    clients: BenchClients,
    label: str,
    direction: str,
    total: int,
    window: float,
    bare: bool = False,
    serial_per_channel: bool = False,
) -> Run:
    channels = clients.channels
    tag = uuid.uuid4().hex[:6]
    keys = [unique_text(f"{tag}{direction[0]}", i) for i in range(total)]
    starts: dict[str, float] = {}
    ghost = stack.ghost(0)
    hooks: dict[int, tuple[int, str]] = {}
    if bare and direction == "m2d":
        for c in channels:
            hook = await stack.webhook(c)
            assert hook is not None
            hooks[c] = hook

    def job(i: int) -> Callable[[], Awaitable[None]]:
        channel = channels[i % len(channels)]
        key = keys[i]

        async def send() -> None:
            starts[key] = time.perf_counter()
            if direction == "d2m" and not bare:
                await clients.raw.discord_post(0, channel, key)
            elif direction == "d2m":
                await clients.raw.matrix_send(clients.rooms[channel], key, as_user=ghost)
            elif not bare:
                await clients.raw.matrix_send(clients.rooms[channel], key)
            else:
                await clients.raw.webhook_execute(hooks[channel], key)

        return send

    inbox = clients.mobs.inbox if direction == "d2m" else clients.dobs.inbox
    meter = await stack.meter()
    first = time.perf_counter()
    jobs = [job(i) for i in range(total)]
    if serial_per_channel:  # as the bridge sends: one at a time per room, rooms at once
        groups = [jobs[k :: len(channels)] for k in range(len(channels))]
        jobs = [chain(group) for group in groups]
    sender = asyncio.create_task(bounded(jobs, CONCURRENCY))
    delivered = await inbox.wait_all(keys, window)
    timed_out = delivered < total
    cpu = meter.percent()
    if not sender.done():
        sender.cancel()
        ends: list[float] = []
    else:
        ends = sender.result()
    arrivals = [inbox.arrived[k] for k in keys if k in inbox.arrived]
    last = max(arrivals) if arrivals else first
    span = window if timed_out else max(1e-9, last - first)
    offered_span = (max(ends) - first) if ends else float("nan")
    return Run(
        label=label,
        channels=len(channels),
        sent=total,
        delivered=delivered,
        offered_rate=total / offered_span if ends else float("nan"),
        delivered_rate=delivered / span,
        latencies=[(inbox.arrived[k] - starts[k]) * 1000 for k in keys if k in inbox.arrived],
        cpu=cpu,
        timed_out=timed_out,
    )


def chain(group: list[Callable[[], Awaitable[None]]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        for job in group:
            await job()

    return run


async def settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)


async def hol_m2d(stack: BenchStack, clients: BenchClients, channels: list[int]) -> HolResult:
    slow = channels[0]
    result = HolResult("Matrix->Discord", slow)
    hook = await stack.webhook(slow)
    assert hook is not None
    for phase in ("baseline", "slowed"):
        if phase == "slowed":
            stack.emu.faults.fail_next(
                3, status=429, path_prefix=f"/webhooks/{hook[0]}", retry_after=1.0
            )
        tag = uuid.uuid4().hex[:6]
        keys = {c: unique_text(f"hol{tag}m", i) for i, c in enumerate(channels)}
        starts: dict[int, float] = {}

        async def send(
            c: int, keys: dict[int, str] = keys, starts: dict[int, float] = starts
        ) -> None:
            starts[c] = time.perf_counter()
            await clients.raw.matrix_send(clients.rooms[c], keys[c])

        await send(slow)
        await asyncio.sleep(0.05)  # the slow channel's event is first in Synapse's order
        await asyncio.gather(*(send(c) for c in channels if c != slow))
        await clients.dobs.inbox.wait_all(list(keys.values()), 60)
        target = result.baseline if phase == "baseline" else result.slowed
        for c, key in keys.items():
            arrived = clients.dobs.inbox.arrived.get(key)
            target[c] = (arrived - starts[c]) * 1000 if arrived else float("nan")
        stack.emu.faults.clear()
        await settle()
    return result


async def hol_d2m(stack: BenchStack, clients: BenchClients, channels: list[int]) -> HolResult:
    slow = channels[0]
    result = HolResult("Discord->Matrix", slow)
    proxy = SlowProxy(stack.hs_url)
    await proxy.start()
    try:
        await stack.stop_bridge()
        await stack.start_bridge(homeserver_url=proxy.url)
        for phase in ("baseline", "slowed"):
            if phase == "slowed":
                proxy.delays[clients.rooms[slow]] = 3.0
            tag = uuid.uuid4().hex[:6]
            keys = {c: unique_text(f"hol{tag}d", i) for i, c in enumerate(channels)}
            starts: dict[int, float] = {}

            async def send(
                c: int, keys: dict[int, str] = keys, starts: dict[int, float] = starts
            ) -> None:
                starts[c] = time.perf_counter()
                await clients.raw.discord_post(0, c, keys[c])

            await send(slow)
            await asyncio.sleep(0.05)
            await asyncio.gather(*(send(c) for c in channels if c != slow))
            await clients.mobs.inbox.wait_all(list(keys.values()), 60)
            target = result.baseline if phase == "baseline" else result.slowed
            for c, key in keys.items():
                arrived = clients.mobs.inbox.arrived.get(key)
                target[c] = (arrived - starts[c]) * 1000 if arrived else float("nan")
            proxy.delays.clear()
            await settle()
    finally:
        await stack.stop_bridge()
        await stack.start_bridge()
        await proxy.stop()
    return result


def runs_table(runs: list[Run], title: str) -> str:
    rows = []
    for r in runs:
        q = Summary.of(r.latencies)
        rows.append(
            [
                r.label,
                r.channels,
                r.sent,
                f"{r.delivered}{' (cut)' if r.timed_out else ''}",
                r.offered_rate,
                r.delivered_rate,
                fmt(r.limit_rate) if r.limit_rate == r.limit_rate else "-",
                q.p50,
                q.p95,
                r.cpu.get("bridge", float("nan")),
                r.cpu.get("bridge db", float("nan")),
                r.cpu.get("synapse", float("nan")),
                r.cpu.get("bench", float("nan")),
                r.cpu.get("machine", float("nan")),
            ]
        )
    headers = [
        "run",
        "chans",
        "sent",
        "delivered",
        "offered/s",
        "delivered/s",
        "limit allows",
        "lat p50",
        "lat p95",
        "bridge%",
        "bridge db%",
        "synapse%",
        "bench%",
        "machine%",
    ]
    return table(headers, rows, title)


def hol_table(results: list[HolResult], title: str) -> str:
    channels = sorted(results[0].baseline)
    headers = ["channel"]
    for r in results:
        short = "d2m" if r.direction.startswith("Discord") else "m2d"
        headers += [f"{short} base ms", f"{short} slowed ms"]
    rows = []
    for c in channels:
        row: list[object] = [f"{c}{' (slow)' if c == results[0].slow_channel else ''}"]
        for r in results:
            row += [r.baseline.get(c, float("nan")), r.slowed.get(c, float("nan"))]
        rows.append(row)
    lines = [table(headers, rows, title)]
    for r in results:
        others_base = [v for c, v in r.baseline.items() if c != r.slow_channel]
        others_slow = [v for c, v in r.slowed.items() if c != r.slow_channel]
        delta = max(others_slow) - max(others_base)
        verdict = "head-of-line blocking" if delta > 500 else "no head-of-line blocking"
        lines.append(
            f"{r.direction}: other channels' max {max(others_base):.0f} ms -> "
            f"{max(others_slow):.0f} ms with the slow channel ({verdict}); slow channel "
            f"{r.slowed[r.slow_channel]:.0f} ms"
        )
    return "\n".join(lines)


async def one_stack(opts: Options, n: int, do_hol: bool) -> tuple[list[Run], list[HolResult]]:
    total = opts.messages or (100 if opts.quick else max(300, 4 * n))
    window = opts.window or (30.0 if opts.quick else 90.0)
    workdir = new_workdir(opts.workdir, f"tput{n}")
    stack = BenchStack(
        workdir,
        make_seed(n),
        database=opts.database,
        synapse_db=opts.synapse_db,
        profile=opts.profile,
    )
    runs: list[Run] = []
    hol: list[HolResult] = []
    try:
        await stack.start()
        clients = BenchClients(stack, [channel_id(i) for i in range(n)])
        await clients.start()
        try:
            for label, direction, bare, serial in (
                ("d2m bridged", "d2m", False, False),
                ("d2m bare", "d2m", True, False),
                ("d2m bare, 1/room", "d2m", True, True),
                ("m2d bridged", "m2d", False, False),
                ("m2d bare", "m2d", True, False),
            ):
                runs.append(
                    await load_run(stack, clients, label, direction, total, window, bare, serial)
                )
                await settle()
            if do_hol:
                hol_channels = clients.channels[:HOL_CHANNELS]
                hol.append(await hol_d2m(stack, clients, hol_channels))
                hol.append(await hol_m2d(stack, clients, hol_channels))
            stack.set_rate_limits(True)
            runs.append(await load_run(stack, clients, "d2m bridged, limits", "d2m", total, window))
            await settle(2.5)  # fresh buckets
            per_channel = 40 if n == 1 else 10
            run = await load_run(
                stack, clients, "m2d bridged, limits", "m2d", per_channel * n, window
            )
            run.limit_rate = limit_allows(per_channel, n)
            runs.append(run)
        finally:
            await clients.close()
    finally:
        await stack.stop()
        remove_workdir(workdir, opts.keep)
    return runs, hol


async def throughput_suite(opts: Options) -> None:
    counts = opts.channels or ([1, 10] if opts.quick else [1, 10, 100])
    hol_at = next((n for n in counts if n >= HOL_CHANNELS), max(counts))
    all_runs: list[Run] = []
    for n in counts:
        runs, hol = await one_stack(opts, n, do_hol=(n == hol_at and n > 1))
        all_runs += runs
        print(
            runs_table(runs, f"\n== throughput: {n} channel(s) (loadavg {loadavg()})"),
            flush=True,
        )
        if hol:
            print(
                hol_table(
                    hol,
                    f"\n== head-of-line: {min(n, HOL_CHANNELS)} channels (of {n}), one message "
                    "in each at once; "
                    "the first channel slowed (d2m: Synapse 3 s late for its room; "
                    "m2d: its webhook answers 429 x3, retry_after 1 s)",
                ),
                flush=True,
            )
