"""Relay one Matrix message to its Discord channel through the channel webhook."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.webhooks import channel_webhook, forget_webhook
from bridge.convert.m2d.text import matrix_to_discord_text
from bridge.db import MessageRow
from bridge.ids import ChannelID, MessageID
from bridge.model import DiscordSend, MatrixMessage
from bridge.ports import WebhookGone

log = logging.getLogger(__name__)

RELAYED_MSGTYPES = frozenset({"m.text", "m.notice", "m.emote"})


async def relay_matrix_message(ctx: BridgeContext, message: MatrixMessage) -> list[MessageID]:
    """Returns the Discord message IDs created (empty when not relayed)."""
    if ctx.namer.is_bridge_owned(message.sender):
        return []  # ghosts and the bot: their events came from Discord
    if message.msgtype not in RELAYED_MSGTYPES:
        log.info("m2d.skipped event=%s reason=msgtype-%s", message.event_id, message.msgtype)
        return []
    portal = await ctx.stores.portals.by_room(message.room_id)
    if portal is None:
        return []
    if await ctx.stores.messages.by_event(message.event_id):
        log.debug("m2d.duplicate event=%s", message.event_id)
        return []
    displayname = await ctx.matrix.displayname(message.room_id, message.sender)
    sends = matrix_to_discord_text(message, displayname)
    created: list[MessageID] = []
    for part, send in enumerate(sends):
        discord_id = await execute_send(ctx, portal.discord_channel_id, send)
        created.append(discord_id)
        await ctx.stores.messages.insert(
            MessageRow(
                discord_message_id=discord_id,
                part=0,
                discord_channel_id=portal.discord_channel_id,
                room_id=message.room_id,
                event_id=message.event_id,
                origin="matrix",
                event_part=part,
            )
        )
    log.info(
        "m2d.relayed event=%s room=%s channel=%s messages=%s",
        message.event_id,
        message.room_id,
        portal.discord_channel_id,
        ",".join(str(i) for i in created),
    )
    return created


async def execute_send(ctx: BridgeContext, channel_id: ChannelID, send: DiscordSend) -> MessageID:
    """Post through the channel webhook, recreating it once if it was deleted."""
    webhook = await channel_webhook(ctx, channel_id)
    try:
        return MessageID(await ctx.discord.execute_webhook(webhook, send))
    except WebhookGone:
        await forget_webhook(ctx, webhook)
        webhook = await channel_webhook(ctx, channel_id)
        return MessageID(await ctx.discord.execute_webhook(webhook, send))
