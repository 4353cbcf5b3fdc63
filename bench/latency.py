"""Relay latency each way, and the bridge's overhead over the bare paths.

latency: a Discord user (discord.py) sends, the Matrix user's /sync loop sees the
ghost's event (d2m); the Matrix user (mautrix client) sends, the Discord client
gets the webhook's MESSAGE_CREATE (m2d). Sequential: one message in flight.

overhead: the same, interleaved with the bare paths the bridge stands between:
d2m bare = PUT /rooms/{room}/send with the appservice token and ``user_id`` of the
ghost, with the content and query the bridge sends (``m.mentions``, ``ts``: Synapse's
checks of them are Synapse's time, not the bridge's), seen by the same /sync loop;
m2d bare = POST /webhooks/{id}/{token} on the emulator (the bridge's own webhook, so
the bridge ignores it; ``allowed_mentions`` as the bridge sends it), seen by the same
Discord client. The hops outside the bridge are measured too: the Discord hop
(the sender's own client gets the MESSAGE_CREATE the bridge also gets) and the
Matrix hop (the sender's own /sync sees the event Synapse also pushes to the bridge).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Summary, table
from bench.harness import BenchClients, unique_text


@dataclass
class Samples:
    d2m: list[float] = field(default_factory=list)
    m2d: list[float] = field(default_factory=list)
    d2m_bare: list[float] = field(default_factory=list)
    m2d_bare: list[float] = field(default_factory=list)
    discord_hop: list[float] = field(default_factory=list)
    matrix_hop: list[float] = field(default_factory=list)
    # The bridge's own measure (bridge.relay_clock): receipt -> delivering request.
    d2m_inside: list[float] = field(default_factory=list)
    m2d_inside: list[float] = field(default_factory=list)


_INSIDE = re.compile(r"\b(d2m|m2d)\.relayed .*\binside_ms=([0-9.]+)")


def read_inside(log: Path, s: Samples) -> None:
    """The ``inside_ms`` of the last relayed messages in the bridge's log, as many each
    way as were measured (the bare paths are not relayed, so they log nothing)."""
    found: dict[str, list[float]] = {"d2m": [], "m2d": []}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _INSIDE.search(line)
        if m:
            found[m.group(1)].append(float(m.group(2)))
    s.d2m_inside = found["d2m"][-len(s.d2m) :] if s.d2m else []
    s.m2d_inside = found["m2d"][-len(s.m2d) :] if s.m2d else []


async def d2m_once(clients: BenchClients, channel: int, text: str, s: Samples) -> None:
    t0 = time.perf_counter()
    await clients.discord.send(channel, text)
    arrived = await clients.mobs.inbox.wait(text)
    s.d2m.append((arrived - t0) * 1000)
    own = await clients.dobs.inbox.wait(text)  # the sender's client got its MESSAGE_CREATE
    s.discord_hop.append((own - t0) * 1000)


async def m2d_once(clients: BenchClients, channel: int, text: str, s: Samples) -> None:
    room = clients.rooms[channel]
    t0 = time.perf_counter()
    await clients.matrix.send_text(room, text)
    arrived = await clients.dobs.inbox.wait(text)
    s.m2d.append((arrived - t0) * 1000)
    own = await clients.mobs.inbox.wait(text)  # the sender's own /sync saw the event
    s.matrix_hop.append((own - t0) * 1000)


async def d2m_bare_once(clients: BenchClients, channel: int, text: str, s: Samples) -> None:
    ghost = clients.stack.ghost(0)
    t0 = time.perf_counter()
    await clients.raw.matrix_send(clients.rooms[channel], text, as_user=ghost, as_bridge=True)
    arrived = await clients.mobs.inbox.wait(text)
    s.d2m_bare.append((arrived - t0) * 1000)


async def m2d_bare_once(
    clients: BenchClients, hook: tuple[int, str], text: str, s: Samples
) -> None:
    t0 = time.perf_counter()
    await clients.raw.webhook_execute(hook, text)
    arrived = await clients.dobs.inbox.wait(text)
    s.m2d_bare.append((arrived - t0) * 1000)


async def run_latency(clients: BenchClients, channel: int, n: int) -> Samples:
    """``n`` messages each way, alternating directions, one at a time."""
    tag = "l" + uuid.uuid4().hex[:6]
    s = Samples()
    for i in range(n):
        await d2m_once(clients, channel, unique_text(tag + "d", i), s)
        await m2d_once(clients, channel, unique_text(tag + "m", i), s)
    return s


async def run_overhead(clients: BenchClients, channel: int, n: int) -> Samples:
    """``n`` rounds of: bridged d2m, bare d2m, bridged m2d, bare m2d (interleaved, so
    load drifts on the machine hit both alike)."""
    hook = await clients.stack.webhook(channel)
    if hook is None:
        raise RuntimeError("the bridge has no webhook in the channel (warm up first)")
    tag = "o" + uuid.uuid4().hex[:6]
    s = Samples()
    for i in range(n):
        await d2m_once(clients, channel, unique_text(tag + "d", i), s)
        await d2m_bare_once(clients, channel, unique_text(tag + "D", i), s)
        await m2d_once(clients, channel, unique_text(tag + "m", i), s)
        await m2d_bare_once(clients, hook, unique_text(tag + "M", i), s)
    return s


def inside_estimate(bridged: list[float], hop: list[float], bare: list[float]) -> float:
    """Time spent inside the bridge (ms, p50): paired per message, what is left of each
    bridged relay once the other hop is taken off, less the bare path's p50."""
    rest = [x - y for x, y in zip(bridged, hop, strict=False)]
    return Summary.of(rest).p50 - Summary.of(bare).p50


def latency_table(s: Samples, title: str) -> str:
    rows = []
    for name, values in (
        ("Discord->Matrix", s.d2m),
        ("Matrix->Discord", s.m2d),
    ):
        q = Summary.of(values)
        rows.append([name, q.n, q.p50, q.p95, q.p99, q.mean, q.max])
    return table(["direction", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms", "max ms"], rows, title)


def overhead_table(s: Samples, title: str) -> str:
    rows = []
    for name, bridged, bare, hop in (
        ("Discord->Matrix", s.d2m, s.d2m_bare, s.discord_hop),
        ("Matrix->Discord", s.m2d, s.m2d_bare, s.matrix_hop),
    ):
        b, r, h = Summary.of(bare).p50, Summary.of(bridged).p50, Summary.of(hop).p50
        inside = inside_estimate(bridged, hop, bare)
        logged = Summary.of(s.d2m_inside if name.startswith("Discord") else s.m2d_inside)
        rows.append(
            [
                name,
                len(bridged),
                b,
                r,
                r - b,
                f"{r / b:.2f}x" if b == b and b > 0 else "-",
                h,
                inside,
                logged.p50,
                Summary.of(bridged).p95 - Summary.of(bare).p95,
            ]
        )
    headers = [
        "direction",
        "n",
        "bare p50",
        "bridged p50",
        "added ms",
        "ratio",
        "other hop p50",
        "in bridge ms",
        "inside (log) p50",
        "added p95",
    ]
    notes = (
        "bare: d2m = appservice PUT as the ghost, m2d = webhook execute on the emulator.\n"
        "other hop: d2m = Discord REST+gateway (sender's own MESSAGE_CREATE), "
        "m2d = Synapse (sender's own /sync).\n"
        "in bridge = p50 of (bridged - other hop) per message, less bare p50: an estimate "
        "of the time spent inside the bridge process.\n"
        "inside (log): the bridge's own clock (bridge/relay_clock.py), from the message's "
        "receipt to the start of the request that delivers it, from its log lines."
    )
    return table(headers, rows, title) + "\n" + notes
