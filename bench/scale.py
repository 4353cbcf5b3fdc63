"""Memory and start-up with many portals (100 and 1,000 by default).

For each portal count a fresh stack (emulator seeded with N public channels, all
bridged; a fresh database) is started without the bridge; then:

1. first start: ``python -m bridge run`` is spawned and timed until its
   ``bridge.started`` log line; it creates every portal room (ensure_all_portals);
2. idle RSS (VmRSS of the bridge process from /proc/<pid>/status, 3 s after start);
3. relay: the Matrix user joins up to 10 portals, 40 rounds of the overhead benchmark
   (bridged and bare, each way) give the latency and the time spent inside the bridge
   at this portal count, then 200 messages each way over those portals (as in the
   throughput benchmark); RSS and peak RSS (VmHWM) after;
4. warm restart: SIGTERM, spawn again, timed the same way (the rooms exist: the
   portal table is read, nothing is created); idle RSS again.

"imports only" is a Python process that imports the bridge's modules and nothing
else: the floor under every figure.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.common import Summary, cpu_seconds, loadavg, rss_kib, table
from bench.harness import (
    REPO_ROOT,
    BenchClients,
    BenchStack,
    log_phases,
    new_workdir,
    remove_workdir,
)
from bench.latency import inside_estimate, run_overhead
from bench.seeds import channel_id, make_seed
from bench.throughput import load_run

if TYPE_CHECKING:
    from bench.__main__ import Options

PHASES = [
    "appservice.listening",
    "discord.ready",
    "portal.created",
    "bridge.started",
]
IMPORTS_ONLY = (
    "import bridge.app, bridge.__main__; from bench.common import rss_kib; print(*rss_kib())"
)


@dataclass
class ScaleResult:
    portals: int
    first_start: float = float("nan")
    first_phases: dict[str, float] = field(default_factory=dict)
    first_cpu: tuple[float, float] = (float("nan"), float("nan"))  # bridge, Synapse (s)
    warm_start: float = float("nan")
    warm_phases: dict[str, float] = field(default_factory=dict)
    warm_cpu: tuple[float, float] = (float("nan"), float("nan"))
    rss_idle: int = 0
    rss_loaded: int = 0
    hwm_loaded: int = 0
    rss_warm: int = 0
    d2m_p50: float = float("nan")
    m2d_p50: float = float("nan")
    d2m_inside: float = float("nan")
    m2d_inside: float = float("nan")
    relayed: int = 0


def overhead_rounds(opts: Options) -> int:
    return 10 if opts.quick else 40


def imports_only_rss() -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", IMPORTS_ONLY],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(REPO_ROOT),
    ).stdout
    rss, hwm = (int(v) for v in out.split())
    return rss, hwm


async def one_scale(opts: Options, n: int) -> ScaleResult:
    result = ScaleResult(n)
    workdir = new_workdir(opts.workdir, f"scale{n}")
    stack = BenchStack(
        workdir,
        make_seed(n),
        database=opts.database,
        synapse_db=opts.synapse_db,
        profile=opts.profile,
    )
    try:
        await stack.start(start_bridge=False)
        synapse_cpu = cpu_seconds(stack.pids["synapse"])  # type: ignore[arg-type]
        run = await stack.start_bridge(timeout=1800)
        result.first_cpu = (
            cpu_seconds(stack.pids["bridge"]),
            cpu_seconds(stack.pids["synapse"]) - synapse_cpu,  # type: ignore[arg-type]
        )
        result.first_start = run.ready_seconds
        result.first_phases = log_phases(run.log_text(), run.spawned_epoch, PHASES)
        portals = await stack.portals()
        if len(portals) != n:
            raise RuntimeError(f"{len(portals)} portals after the first start, expected {n}")
        await asyncio.sleep(3)
        result.rss_idle = rss_kib(run.pid)[0]
        used = [channel_id(i) for i in range(min(n, 10))]
        clients = BenchClients(stack, used)
        await clients.start()
        try:
            samples = await run_overhead(clients, used[0], overhead_rounds(opts))
            result.d2m_p50 = Summary.of(samples.d2m).p50
            result.m2d_p50 = Summary.of(samples.m2d).p50
            result.d2m_inside = inside_estimate(samples.d2m, samples.discord_hop, samples.d2m_bare)
            result.m2d_inside = inside_estimate(samples.m2d, samples.matrix_hop, samples.m2d_bare)
            total = 50 if opts.quick else 200
            for direction in ("d2m", "m2d"):
                r = await load_run(stack, clients, direction, direction, total, 120)
                result.relayed += r.delivered
            await asyncio.sleep(2)
            result.rss_loaded, result.hwm_loaded = rss_kib(run.pid)
        finally:
            await clients.close()
        await stack.stop_bridge()
        synapse_cpu = cpu_seconds(stack.pids["synapse"])  # type: ignore[arg-type]
        warm = await stack.start_bridge(timeout=1800)
        result.warm_cpu = (
            cpu_seconds(warm.pid),
            cpu_seconds(stack.pids["synapse"]) - synapse_cpu,  # type: ignore[arg-type]
        )
        result.warm_start = warm.ready_seconds
        result.warm_phases = log_phases(warm.log_text(), warm.spawned_epoch, PHASES)
        await asyncio.sleep(3)
        result.rss_warm = rss_kib(warm.pid)[0]
    finally:
        await stack.stop()
        remove_workdir(workdir, opts.keep)
    return result


def mib(kib: int) -> float:
    return kib / 1024


def startup_table(results: list[ScaleResult]) -> str:
    rows = []
    for r in results:
        for label, total, ph, cpu in (
            ("first start", r.first_start, r.first_phases, r.first_cpu),
            ("warm restart", r.warm_start, r.warm_phases, r.warm_cpu),
        ):
            first = ph.get("portal.created", float("nan"))
            last = ph.get("portal.created(last)", first)
            created = r.portals if label == "first start" else 0
            span = last - first if created > 1 else float("nan")
            rows.append(
                [
                    f"{r.portals} portals, {label}",
                    total,
                    ph.get("appservice.listening", float("nan")),
                    ph.get("discord.ready", float("nan")),
                    span,
                    (created - 1) / span if span == span and span > 0 else float("nan"),
                    ph.get("bridge.started", float("nan")),
                    cpu[0],
                    cpu[1],
                ]
            )
    headers = [
        "run",
        "ready s",
        "http up s",
        "discord ready s",
        "creating rooms s",
        "rooms/s",
        "started s",
        "bridge cpu s",
        "synapse cpu s",
    ]
    note = (
        "ready s: spawn of `python -m bridge run` until its bridge.started line (measured by "
        "the benchmark); the other columns come from the bridge's log timestamps (ms "
        "resolution), in seconds since the spawn. cpu s: CPU time the bridge process and "
        "Synapse used until ready."
    )
    return table(headers, rows, "\n== startup (loadavg " + loadavg() + ")") + "\n" + note


def memory_table(results: list[ScaleResult], floor: tuple[int, int], rounds: int) -> str:
    rows: list[list[object]] = [
        ["imports only", "-", mib(floor[0]), "-", mib(floor[1]), "-", "-", "-", "-", "-", "-"]
    ]
    for r in results:
        rows.append(
            [
                f"{r.portals} portals",
                r.portals,
                mib(r.rss_idle),
                mib(r.rss_loaded),
                mib(r.hwm_loaded),
                mib(r.rss_warm),
                r.relayed,
                r.d2m_p50,
                r.m2d_p50,
                r.d2m_inside,
                r.m2d_inside,
            ]
        )
    headers = [
        "bridge process",
        "portals",
        "RSS idle MiB",
        "RSS after relay MiB",
        "peak MiB",
        "RSS warm restart MiB",
        "msgs relayed",
        "d2m p50 ms",
        "m2d p50 ms",
        "d2m in bridge",
        "m2d in bridge",
    ]
    note = (
        f"p50 and in-bridge estimates (ms) from {rounds} interleaved bridged/bare rounds at "
        "this portal count, as in the overhead benchmark."
    )
    return table(headers, rows, "\n== memory (loadavg " + loadavg() + ")") + "\n" + note


async def scale_suite(opts: Options, *, memory: bool, startup: bool) -> None:
    counts = opts.portals or ([20, 100] if opts.quick else [100, 1000])
    results = []
    for n in counts:
        results.append(await one_scale(opts, n))
        print(f"  ({n} portals measured, loadavg {loadavg()})", flush=True)
    if startup:
        print(startup_table(results), flush=True)
    if memory:
        print(memory_table(results, imports_only_rss(), overhead_rounds(opts)), flush=True)
