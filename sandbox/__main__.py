"""`python -m sandbox up`: Synapse + Discord emulator + database + bridge, one command.

Starts everything on 127.0.0.1, shows a message crossing each way, prints how
to connect, and keeps running until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bridge.logs import setup_logging
from sandbox.bridge_process import BridgeProcessError
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.connection import connection_lines
from sandbox.stack import DEMO_SEED, SERVER_NAME, SandboxStack, StackOptions

log = logging.getLogger("sandbox")

MATRIX_USER = ("alice", "sandbox-password")


async def demo(stack: SandboxStack) -> None:
    """Send one message each way and print how long it took to cross."""
    assert stack.synapse and stack.emulator and stack.config
    user_id, token = next(iter(stack.matrix_tokens.items()))
    guild = stack.seed["guilds"][0]
    discord_user = next(u for u in stack.seed["users"] if not u.get("bot"))
    channel_id = int(stack.config.bridge.channels[0].discord_channel)
    channel = stack.emulator.state.channels[str(channel_id)]
    matrix = MatrixUser(stack.synapse.url, user_id, token)
    dc = DiscordUser(stack.emulator.api_base, discord_user["token"])
    try:
        # By its alias: works the same with the bridge in this process or its own.
        room_id = await matrix.join(stack.config.namer.portal_alias(channel_id))  # type: ignore[arg-type]
        await matrix.prime()
        await dc.start()
        sent = time.perf_counter()
        await dc.send(channel_id, f"Hello from Discord, I am {discord_user['username']}!")
        event, arrived = await matrix.wait_for_event(
            room_id, lambda e: e.get("type") == "m.room.message"
        )
        print(
            f"  Discord -> Matrix: {event['sender']} said {event['content']['body']!r} "
            f"in {(arrived - sent) * 1000:.0f} ms"
        )
        sent = time.perf_counter()
        await matrix.send_text(room_id, "Hello from Matrix!")
        message, arrived = await dc.wait_for_message(lambda m: m.webhook_id is not None)
        print(
            f"  Matrix -> Discord: webhook '{message.author.name}' said {message.content!r} "
            f"in {(arrived - sent) * 1000:.0f} ms"
        )
        print(f"  (guild '{guild['name']}', channel #{channel.name}, room {room_id})")
    finally:
        await dc.close()
        await matrix.close()


async def print_connection(stack: SandboxStack) -> None:
    user_id = next(iter(stack.matrix_tokens))
    print("\nPasserelle sandbox is running. Press Ctrl-C to stop.\n")
    print("\n".join(await connection_lines(stack, user_id, MATRIX_USER[1])) + "\n")


async def supervise_bridge(stack: SandboxStack, stop: asyncio.Event) -> None:
    """With --bridge-process: start the bridge again whenever it exits (killed, crashed)."""
    process = stack.bridge_process
    assert process is not None
    while not stop.is_set():
        code = await process.wait()
        print(f"Bridge process exited (code {code}); starting it again ...", flush=True)
        await asyncio.sleep(1)
        try:
            await process.start()
        except BridgeProcessError as exc:
            print(f"Bridge process did not start: {exc}", file=sys.stderr, flush=True)
            stop.set()
            return
        print(f"Bridge process restarted: pid {process.pid}", flush=True)


async def up(args: argparse.Namespace) -> int:
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="passerelle-sandbox-"))
    opts = StackOptions(
        workdir=workdir.resolve(),
        database_url=args.database_url,
        seed=Path(args.seed),
        synapse_port=args.synapse_port,
        discord_port=args.discord_port,
        appservice_port=args.appservice_port,
        web_port=args.web_port,
        web_registration=args.web_registration,
        sso=True,  # the homeserver's SSO is the sandbox CAS: try the page's SSO way too
        matrix_users=[MATRIX_USER],
        # The demo user may read the members-only room and moderate.
        members_allowlist=[f"@{MATRIX_USER[0]}:{SERVER_NAME}"],
        moderators=[f"@{MATRIX_USER[0]}:{SERVER_NAME}"],
        log_level=args.log_level,
        # The seed's members all "joined" when the emulator started: only accounts made
        # later (the members' page, new test users) count as newcomers.
        config_overrides={
            "moderation": {"protections": {"newcomers": {"min_member_age_minutes": 0}}}
        },
        bridge_subprocess=args.bridge_process,
        # Kept with --dir: a restart on the same directory finds the Discord side as it was.
        emulator_state=workdir.resolve() / "discord-emulator.state" if args.dir else None,
    )
    stack = SandboxStack(opts)
    supervisor: asyncio.Task[None] | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(f"Starting the sandbox in {opts.workdir} ...")
        await stack.start()
        if stack.emulator_state_loaded:
            assert stack.emulator is not None
            count = len(stack.emulator.state.messages)
            print(f"Discord emulator state loaded from {opts.emulator_state} ({count} messages)")
        if not args.no_demo:
            print("Showing one message crossing each way:")
            await demo(stack)
        await print_connection(stack)
        if args.exit_after_demo:
            return 0
        if stack.bridge_process is not None:
            supervisor = asyncio.create_task(supervise_bridge(stack, stop))
        await stop.wait()
        print("Stopping ...")
        return 0
    except OSError as exc:
        print(f"Could not start the sandbox: {exc}", file=sys.stderr)
        return 1
    finally:
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await stack.stop()
        if not args.dir:
            shutil.rmtree(opts.workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="start Synapse + Discord emulator + bridge")
    p.add_argument("--dir", help="keep state in this directory (default: a temporary one)")
    p.add_argument(
        "--database-url", help="bridge database (default: SQLite in the sandbox directory)"
    )
    p.add_argument("--seed", default=str(DEMO_SEED), help="emulator seed YAML")
    p.add_argument("--synapse-port", type=int, default=8008)
    p.add_argument("--discord-port", type=int, default=8090)
    p.add_argument("--appservice-port", type=int, default=29330)
    p.add_argument("--web-port", type=int, default=29331, help="the members' page")
    p.add_argument(
        "--web-registration",
        choices=("synapse_shared_secret", "registration_token"),
        default="synapse_shared_secret",
        help="how the members' page creates accounts",
    )
    p.add_argument(
        "--bridge-process",
        action="store_true",
        help="run the bridge as its own child process (python -m bridge run), which can be "
        "killed and is started again alone",
    )
    p.add_argument("--no-demo", action="store_true", help="skip the demo messages")
    p.add_argument(
        "--exit-after-demo", action="store_true", help="stop right after the demo (for CI)"
    )
    p.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    setup_logging(args.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(up(args))
    return 130


if __name__ == "__main__":
    sys.exit(main())
