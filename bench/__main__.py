"""``python -m bench <name> [--quick]``: run benchmarks against the sandbox stack.

Names: latency, overhead, throughput, memory, startup, guilds, all. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path

from bench.common import loadavg, machine_line


@dataclass(frozen=True)
class Options:
    quick: bool
    database: str
    synapse_db: str
    workdir: Path | None
    keep: bool
    profile: Path | None
    messages: int | None
    channels: list[int] | None
    portals: list[int] | None
    window: float | None


async def _latency(opts: Options) -> None:
    from bench.suites import latency_suite

    await latency_suite(opts, overhead=False)


async def _overhead(opts: Options) -> None:
    from bench.suites import latency_suite

    await latency_suite(opts, overhead=True)


async def _throughput(opts: Options) -> None:
    from bench.throughput import throughput_suite

    await throughput_suite(opts)


async def _memory(opts: Options) -> None:
    from bench.scale import scale_suite

    await scale_suite(opts, memory=True, startup=False)


async def _startup(opts: Options) -> None:
    from bench.scale import scale_suite

    await scale_suite(opts, memory=False, startup=True)


async def _guilds(opts: Options) -> None:
    from bench.guilds import guilds_suite

    await guilds_suite(opts)


async def _all(opts: Options) -> None:
    from bench.scale import scale_suite
    from bench.suites import latency_suite
    from bench.throughput import throughput_suite

    await latency_suite(opts, overhead=False)
    await latency_suite(opts, overhead=True)
    await throughput_suite(opts)
    await scale_suite(opts, memory=True, startup=True)


SUITES: dict[str, Callable[[Options], Coroutine[object, object, None]]] = {
    "latency": _latency,
    "overhead": _overhead,
    "throughput": _throughput,
    "memory": _memory,
    "startup": _startup,
    "guilds": _guilds,
    "all": _all,
}


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=sorted(SUITES))
    parser.add_argument("--quick", action="store_true", help="small counts (about a minute each)")
    parser.add_argument(
        "--database",
        choices=["postgres", "sqlite"],
        default="postgres",
        help="the bridge's database (postgres: a fresh database on $PASSERELLE_TEST_PG "
        "or postgresql://postgres@127.0.0.1:5432)",
    )
    parser.add_argument(
        "--synapse-db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="Synapse's database: sqlite (the sandbox's) or postgres (as deployed; needs "
        "psycopg2, e.g. `.venv/bin/pip install psycopg2-binary`)",
    )
    parser.add_argument("--messages", type=int, help="messages per direction (overrides)")
    parser.add_argument("--channels", type=_ints, help="throughput channel counts, e.g. 1,10")
    parser.add_argument("--portals", type=_ints, help="memory/startup portal counts, e.g. 100")
    parser.add_argument("--window", type=float, help="throughput: max seconds per run")
    parser.add_argument("--workdir", type=Path, help="parent of the stacks' work directories")
    parser.add_argument("--keep", action="store_true", help="keep work directories (logs)")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the bridge under cProfile, writing PROFILE.<n>.prof per bridge start",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if not args.verbose:
        # discord.py warns about every 429 it retries: that is what the rate-limit runs do.
        logging.getLogger("discord").setLevel(logging.ERROR)
    opts = Options(
        quick=args.quick,
        database=args.database,
        synapse_db=args.synapse_db,
        workdir=args.workdir,
        keep=args.keep,
        profile=args.profile.resolve() if args.profile else None,
        messages=args.messages,
        channels=args.channels,
        portals=args.portals,
        window=args.window,
    )
    print(machine_line(), flush=True)
    print(
        f"stack: bridge database {args.database}, Synapse database {args.synapse_db}, "
        "bridge as a subprocess (python -m bridge run), emulator + clients in this process",
        flush=True,
    )
    began = time.perf_counter()
    asyncio.run(SUITES[args.name](opts))
    print(
        f"\n{args.name} done in {time.perf_counter() - began:.0f} s; loadavg now {loadavg()}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
