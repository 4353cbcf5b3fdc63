"""Relay Discord deletions (single and bulk) as redactions of every mapped event."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.db import MessageRow
from bridge.i18n import N_, translator
from bridge.ids import EventID
from bridge.model import DiscordDeletion

log = logging.getLogger(__name__)

REASON = N_("Deleted on Discord")  # a redaction reason: in bridge.language


async def redact_rows(
    ctx: BridgeContext, rows: list[MessageRow], reason: str, done: list[EventID] | None = None
) -> list[EventID]:
    """Redact the Matrix events of message-map rows and forget the rows; returns the
    events redacted (each once: a long Matrix message split on Discord has several rows,
    and events in ``done`` were redacted already).

    Each link is forgotten once its event is redacted, so a retry after a failure
    redacts what is left. Our own redaction's echo is the bot's: never relayed back.
    """
    redacted: list[EventID] = []
    for row in rows:
        if row.event_id not in redacted and (done is None or row.event_id not in done):
            await ctx.matrix.redact(row.room_id, row.event_id, reason)
            redacted.append(row.event_id)
        await ctx.stores.messages.forget_row(row)
    return redacted


async def relay_discord_deletion(ctx: BridgeContext, deletion: DiscordDeletion) -> list[EventID]:
    if deletion.guild_id is not None and deletion.guild_id not in ctx.config.discord.guild_ids:
        return []
    redacted: list[EventID] = []
    for message_id in deletion.message_ids:
        rows = await ctx.stores.messages.by_discord(message_id)
        redacted += await redact_rows(
            ctx, rows, translator(ctx.config.bridge.language)._(REASON), done=redacted
        )
    if redacted:
        log.info(
            "d2m.deleted channel=%s messages=%s events=%s",
            deletion.channel_id,
            len(deletion.message_ids),
            len(redacted),
        )
    return redacted
