"""Relay a Discord edit as an ``m.replace`` of the mapped Matrix event."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_message import convert_text
from bridge.actions.puppets import sync_puppet
from bridge.ids import EventID
from bridge.model import DiscordMessage

log = logging.getLogger(__name__)


async def relay_discord_edit(ctx: BridgeContext, message: DiscordMessage) -> EventID | None:
    if message.edited_ms is None:
        return None  # an embed/metadata update, not an edit by the author
    if message.webhook_id is not None and message.webhook_id in ctx.own_webhooks:
        return None  # our own edit of a Matrix message
    rows = await ctx.stores.messages.by_discord(message.id)
    # Part 0 is the text; parts 1..N are attachments/stickers/embeds (never edited as text).
    original = next((r for r in rows if r.origin == "discord" and r.part == 0), None)
    if original is None:
        log.info("d2m.edit-skipped message=%s reason=not-bridged", message.id)
        return None
    portal = await ctx.stores.portals.by_channel(message.channel_id)
    if portal is None:  # a thread's message: its portal is the parent's room
        portal = await ctx.stores.portals.by_room(original.room_id)
    if portal is None:
        return None
    text = await convert_text(ctx, message, portal, with_reply=False)
    if text is None:
        return None
    ghost = await sync_puppet(ctx, message.author)
    event_id = await ctx.matrix.send_edit(
        original.room_id, ghost, original.event_id, text, message.edited_ms
    )
    await ctx.stores.messages.set_edited(message.id, message.edited_ms)
    log.info("d2m.edited message=%s event=%s edit=%s", message.id, original.event_id, event_id)
    return event_id
