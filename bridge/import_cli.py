"""`python -m bridge import-history -c config.yaml --channel ID`: the one-shot archive.

Runs the whole bridge in the foreground (so the daemon must be stopped: both
would listen on the appservice port), imports the channel's history with a
progress line, then stops. Interrupted (Ctrl-C, a crash), it resumes where it
stopped when run again. With the daemon running, use `!bridge import <id>` in
the moderators' room instead.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime

from bridge.actions.history_import import import_history
from bridge.config import Config
from bridge.db import ImportRow
from bridge.i18n import cli
from bridge.ids import ChannelID, snowflake_ms

log = logging.getLogger(__name__)


def progress_line(row: ImportRow, began: float, now: float) -> str:
    """One line of progress: messages copied, how far in time, rate (pure)."""
    elapsed = max(now - began, 1e-6)
    tr = cli()
    at = datetime.fromtimestamp(snowflake_ms(row.last_message_id) / 1000, tz=UTC)
    return tr.ngettext(
        "channel {channel}: {n} message copied, up to {date}, {rate}/s",
        "channel {channel}: {n} messages copied, up to {date}, {rate}/s",
        row.imported,
        channel=row.discord_channel_id,
        date=tr.date(at.date()),
        rate=tr.number(round(row.imported / elapsed, 1)),
    )


async def run_import(config: Config, channel_id: ChannelID) -> int:
    from bridge.app import Bridge
    from bridge.registration import load_tokens

    if config.bridge.channel(channel_id) is None:
        print(
            cli()._("Channel {id} is not in bridge.channels of the config.", id=channel_id),
            file=sys.stderr,
        )
        return 2
    bridge = Bridge(config, load_tokens(config))
    try:
        await bridge.start()
    except OSError as exc:
        print(
            cli()._(
                "Could not start ({error}). Is the bridge already running? Stop it, or use"
                " '{command}' in the moderators' room.",
                error=exc.strerror,
                command=f"!bridge import {channel_id}",
            ),
            file=sys.stderr,
        )
        await bridge.stop()
        return 1
    began = time.monotonic()

    async def progress(row: ImportRow) -> None:
        print("\r" + progress_line(row, began, time.monotonic()), end="", file=sys.stderr)

    try:
        row = await import_history(bridge.ctx, channel_id, progress, bridge.in_channel_queue)
    finally:
        print(file=sys.stderr)
        await bridge.stop()
    print(
        cli().ngettext(
            "Done: {n} message copied from channel {channel}.",
            "Done: {n} messages copied from channel {channel}.",
            row.imported,
            channel=channel_id,
        )
    )
    return 0
