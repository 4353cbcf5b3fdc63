"""Relay Discord deletions (single and bulk) as redactions of every mapped event."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.ids import EventID
from bridge.model import DiscordDeletion

log = logging.getLogger(__name__)

REASON = "Deleted on Discord"


async def relay_discord_deletion(ctx: BridgeContext, deletion: DiscordDeletion) -> list[EventID]:
    if deletion.guild_id is not None and deletion.guild_id != ctx.config.discord.guild_id:
        return []
    redacted: list[EventID] = []
    for message_id in deletion.message_ids:
        # Each link is forgotten once its event is redacted, so a retry after a failure
        # redacts what is left. Our own redaction's echo is the bot's: never relayed back.
        for row in await ctx.stores.messages.by_discord(message_id):
            await ctx.matrix.redact(row.room_id, row.event_id, REASON)
            await ctx.stores.messages.forget_row(row)
            redacted.append(row.event_id)
    if redacted:
        log.info(
            "d2m.deleted channel=%s messages=%s events=%s",
            deletion.channel_id,
            len(deletion.message_ids),
            len(redacted),
        )
    return redacted
