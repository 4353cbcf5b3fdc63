"""Command line: `python -m bridge run|generate-registration|migrate|doctor -c config.yaml`.

What it prints is in ``--lang`` if given, else the config's ``bridge.language`` once
the file could be read, else the environment's language (``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``), else English. Log event names stay as they are."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from bridge.config import Config, ConfigError, configured_language, load_config
from bridge.i18n import LANGUAGES, cli, set_cli_language
from bridge.ids import ChannelID
from bridge.logs import setup_logging

log = logging.getLogger("bridge")


async def _run(config: Config) -> int:
    from bridge.app import Bridge, SchemaOutdated
    from bridge.registration import load_tokens
    from bridge.startup import (
        FIRST_DELAY,
        MAX_DELAY,
        is_connection_failure,
        wait_for_homeserver,
    )

    tokens = load_tokens(config)
    secrets = [config.discord.token, tokens.as_token, tokens.hs_token]
    setup_logging(config.log_level, secrets, config.log_format)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    delay = FIRST_DELAY
    while True:
        # The homeserver down (or restarting): one line per attempt, and start once it
        # is back, instead of a traceback.
        if not await wait_for_homeserver(config.homeserver.url, stop):
            return 0  # stopped while waiting
        bridge = Bridge(config, tokens)
        try:
            await bridge.start()
            break
        except SchemaOutdated as exc:
            log.error("startup.failed reason=%s", exc)
            await bridge.stop()
            return 2
        except Exception as exc:
            await bridge.stop()
            if not is_connection_failure(exc):
                log.exception("startup.failed")
                return 1
            log.warning(
                "startup.homeserver-lost url=%s reason=%s retry_in=%.0fs",
                config.homeserver.url,
                type(exc).__name__,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return 0
            delay = min(delay * 2, MAX_DELAY)
    await stop.wait()
    await bridge.stop()
    return 0


def _generate_registration(config: Config, output: Path) -> int:
    from bridge.registration import build_registration, write_registration

    write_registration(build_registration(config), output)
    tr = cli()
    print(
        tr._(
            "Wrote {file} (mode 600). Give it to your homeserver (Synapse: {setting})"
            " and restart it.",
            file=output,
            setting=f"app_service_config_files: [{output.resolve()}]",
        )
    )
    if output.resolve() != config.appservice.registration.resolve():
        print(
            tr._(
                "Note: the config reads tokens from {file}; set appservice.registration to"
                " this file.",
                file=config.appservice.registration,
            )
        )
    return 0


def _migrate(config: Config) -> int:
    from bridge.db.migrate import upgrade_head

    upgrade_head(config.database.url)
    print(cli()._("Database schema is up to date."))
    return 0


def _lang_option(argv: list[str]) -> str | None:
    """``--lang fr`` / ``--lang=fr`` anywhere, read before the parser is built (its
    help texts are in that language)."""
    for index, word in enumerate(argv):
        if word == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith("--lang="):
            return word.split("=", 1)[1]
    return None


def _parser() -> argparse.ArgumentParser:
    tr = cli()
    parser = argparse.ArgumentParser(
        prog="python -m bridge", description=tr._("Passerelle, a Matrix-Discord bridge")
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=tr._("run the bridge"))
    run.add_argument("-c", "--config", required=True, type=Path)
    gen = sub.add_parser("generate-registration", help=tr._("write the appservice registration"))
    gen.add_argument("-c", "--config", required=True, type=Path)
    gen.add_argument("-o", "--output", type=Path, default=None)
    mig = sub.add_parser("migrate", help=tr._("bring the database schema up to date"))
    mig.add_argument("-c", "--config", required=True, type=Path)
    doc = sub.add_parser(
        "doctor", help=tr._("check the config, registration, database, homeserver, Discord")
    )
    doc.add_argument("-c", "--config", required=True, type=Path)
    imp = sub.add_parser(
        "import-history", help=tr._("copy a channel's whole Discord history into its room")
    )
    imp.add_argument("-c", "--config", required=True, type=Path)
    imp.add_argument("--channel", required=True, type=int, help=tr._("the Discord channel ID"))
    for command in (run, gen, mig, doc, imp):
        command.add_argument(
            "--strict",
            action="store_true",
            help=tr._("refuse unknown (misspelt) config keys instead of warning about them"),
        )
        command.add_argument(
            "--lang",
            choices=LANGUAGES,
            default=None,
            help=tr._(
                "the language of what this command prints (default: bridge.language of the"
                " config, else the LANG environment variable, else English)"
            ),
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = _lang_option(argv)
    set_cli_language(chosen if chosen in LANGUAGES else None)
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    finally:
        set_cli_language(None)


def _main(args: argparse.Namespace) -> int:
    if args.lang is None:  # the config's language, as soon as it can be read
        set_cli_language(configured_language(args.config))

    if args.command == "doctor":  # loads the config itself, to report its problems as checks
        from bridge.doctor import main as doctor

        setup_logging("ERROR")  # the checks' lines are the output
        return doctor(args.config, strict=args.strict)

    setup_logging("INFO")
    try:
        config = load_config(args.config, strict=args.strict)
    except ConfigError as exc:
        print(
            cli()._("Configuration error in {file}: {error}", file=args.config, error=exc),
            file=sys.stderr,
        )
        return 2
    if args.command == "run":
        try:
            return asyncio.run(_run(config))
        except ConfigError as exc:
            print(cli()._("Configuration error: {error}", error=exc), file=sys.stderr)
            return 2
    if args.command == "import-history":
        from bridge.import_cli import run_import
        from bridge.registration import load_tokens

        tokens = load_tokens(config)
        setup_logging("WARNING", [config.discord.token, tokens.as_token, tokens.hs_token])
        return asyncio.run(run_import(config, ChannelID(args.channel)))
    if args.command == "generate-registration":
        return _generate_registration(config, args.output or config.appservice.registration)
    return _migrate(config)


if __name__ == "__main__":
    sys.exit(main())
