"""``python -m sandbox.discord --port P --seed seed.yaml``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from sandbox.discord.seed import SeedError, load_seed
from sandbox.discord.server import Emulator

log = logging.getLogger("sandbox.discord")

DEMO_SEED = Path(__file__).with_name("demo_seed.yaml")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sandbox.discord", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    p.add_argument("--seed", type=Path, default=DEMO_SEED, help="seed YAML (default: demo seed)")
    p.add_argument("--rate-limits", action="store_true", help="enforce Discord-like 429s")
    p.add_argument(
        "--validate", action="store_true", help="log responses that do not match the OpenAPI spec"
    )
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    seed = load_seed(args.seed)
    emu = Emulator(seed, validate_responses=args.validate, rate_limits=args.rate_limits)
    await emu.start(args.host, args.port)
    print(f"Discord emulator on {emu.url}", flush=True)
    print(f"  REST    {emu.api_base}", flush=True)
    print(f"  gateway {emu.gateway_url}", flush=True)
    print(f"  CDN     {emu.cdn_url}", flush=True)
    for user in seed["users"]:
        kind = "bot " if user["bot"] else "user"
        print(f"  {kind} {user['username']:<14} token {user['token']}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        asyncio.run(run(args))
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
