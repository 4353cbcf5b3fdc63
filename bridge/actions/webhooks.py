"""The webhook the bridge posts through in a channel: stored, found or created."""

from __future__ import annotations

import dataclasses
import logging

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_thread import webhook_target
from bridge.db import WebhookRow
from bridge.ids import ChannelID, MessageID
from bridge.model import DiscordSend
from bridge.ports import WebhookGone

log = logging.getLogger(__name__)


async def channel_webhook(ctx: BridgeContext, channel_id: ChannelID) -> WebhookRow:
    async with ctx.webhook_locks[channel_id]:
        row = await ctx.stores.webhooks.get(channel_id)
        if row is None:
            name = ctx.config.bridge.webhook_name
            row = await ctx.discord.find_webhook(channel_id, name)
            if row is None:
                row = await ctx.discord.create_webhook(channel_id, name)
                log.info("webhook.created channel=%s webhook=%s", channel_id, row.webhook_id)
            await ctx.stores.webhooks.put(row)
        ctx.own_webhooks.add(row.webhook_id)
        return row


async def forget_webhook(ctx: BridgeContext, row: WebhookRow) -> None:
    async with ctx.webhook_locks[row.discord_channel_id]:
        current = await ctx.stores.webhooks.get(row.discord_channel_id)
        if current is not None and current.webhook_id == row.webhook_id:
            await ctx.stores.webhooks.delete(row.discord_channel_id)
            log.warning(
                "webhook.gone channel=%s webhook=%s", row.discord_channel_id, row.webhook_id
            )


async def execute_send(ctx: BridgeContext, channel_id: ChannelID, send: DiscordSend) -> MessageID:
    """Post through the channel webhook, recreating it once if it was deleted.

    ``channel_id`` may be a thread: then the parent's webhook posts with ``thread_id``.
    """
    channel_id, thread_id = await webhook_target(ctx, channel_id)
    if thread_id is not None:
        send = dataclasses.replace(send, thread_id=thread_id)
    webhook = await channel_webhook(ctx, channel_id)
    try:
        return MessageID(await ctx.discord.execute_webhook(webhook, send))
    except WebhookGone:
        await forget_webhook(ctx, webhook)
        webhook = await channel_webhook(ctx, channel_id)
        return MessageID(await ctx.discord.execute_webhook(webhook, send))
