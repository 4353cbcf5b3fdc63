"""The latency and overhead commands: one bridged channel, sequential messages."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bench.common import loadavg
from bench.harness import BenchClients, BenchStack, new_workdir, remove_workdir
from bench.latency import latency_table, overhead_table, read_inside, run_latency, run_overhead
from bench.seeds import channel_id, make_seed

if TYPE_CHECKING:
    from bench.__main__ import Options


async def latency_suite(opts: Options, *, overhead: bool) -> None:
    name = "overhead" if overhead else "latency"
    n = opts.messages or (30 if opts.quick else 200)
    workdir = new_workdir(opts.workdir, name)
    stack = BenchStack(
        workdir,
        make_seed(1),
        database=opts.database,
        synapse_db=opts.synapse_db,
        profile=opts.profile,
    )
    channel = channel_id(0)
    try:
        await stack.start()
        clients = BenchClients(stack, [channel])
        await clients.start()
        try:
            # A few unrecorded messages each way first (connections, caches).
            await run_latency(clients, channel, 5)
            meter = await stack.meter()
            began = time.perf_counter()
            if overhead:
                samples = await run_overhead(clients, channel, n)
            else:
                samples = await run_latency(clients, channel, n)
            wall = time.perf_counter() - began
            cpu = meter.percent()
            if overhead:
                await asyncio.sleep(0.5)  # the last relayed lines are logged after the send
                read_inside(stack.workdir / "bridge.log", samples)
        finally:
            await clients.close()
    finally:
        await stack.stop()
        remove_workdir(workdir, opts.keep)
    title = (
        f"\n== {name}: 1 bridged channel, {n} messages each way, sequential "
        f"(database {opts.database}, loadavg {loadavg()})"
    )
    print(overhead_table(samples, title) if overhead else latency_table(samples, title))
    print(
        f"run took {wall:.1f} s; CPU (% of one core) over the run: "
        + ", ".join(f"{k} {v:.0f}%" for k, v in cpu.items()),
        flush=True,
    )
