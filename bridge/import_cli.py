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

from bridge.actions.history_import import import_history
from bridge.config import Config
from bridge.db import ImportRow
from bridge.ids import ChannelID, snowflake_ms

log = logging.getLogger(__name__)


def progress_line(row: ImportRow, began: float, now: float) -> str:
    """One line of progress: messages copied, how far in time, rate (pure)."""
    elapsed = max(now - began, 1e-6)
    at = time.strftime("%Y-%m-%d", time.gmtime(snowflake_ms(row.last_message_id) / 1000))
    return (
        f"channel {row.discord_channel_id}: {row.imported} message(s) copied, "
        f"up to {at}, {row.imported / elapsed:.1f}/s"
    )


async def run_import(config: Config, channel_id: ChannelID) -> int:
    from bridge.app import Bridge
    from bridge.registration import load_tokens

    if config.bridge.channel(channel_id) is None:
        print(f"Channel {channel_id} is not in bridge.channels of the config.", file=sys.stderr)
        return 2
    bridge = Bridge(config, load_tokens(config))
    try:
        await bridge.start()
    except OSError as exc:
        print(
            f"Could not start ({exc.strerror}). Is the bridge already running? Stop it, or "
            f"use '!bridge import {channel_id}' in the moderators' room.",
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
    print(f"Done: {row.imported} message(s) copied from channel {channel_id}.")
    return 0
