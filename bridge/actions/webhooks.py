"""The webhook the bridge posts through in a channel: stored, found or created."""

from __future__ import annotations

import dataclasses
import logging

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_thread import webhook_target
from bridge.db import InflightRow, MessageRow, WebhookRow
from bridge.db.common import now_ms
from bridge.ids import ChannelID, EventID, MessageID, RoomID, snowflake_at
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


# Where a retry looks for a send that may have happened before a crash: from a
# little before it started (clocks differ) to when it must have been answered
# (discord.py's own retries included), reading at most INFLIGHT_SCAN messages.
INFLIGHT_LOOKBACK_MS = 60 * 1000
INFLIGHT_HORIZON_MS = 10 * 60 * 1000
INFLIGHT_SCAN = 2000


async def send_once(
    ctx: BridgeContext,
    channel_id: ChannelID,
    send: DiscordSend,
    room_id: RoomID,
    event_id: EventID,
    event_part: int = 0,
    new: list[MessageID] | None = None,
) -> MessageID:
    """Post part ``event_part`` of a Matrix event once, even across a crash, and map it.

    Already mapped: nothing is sent (``new`` gets the message only if it was posted
    now). A send that was started but never recorded (the
    bridge died between Discord's answer and the database write) is looked for among
    the webhook's recent messages in the channel before posting again.

    Durable steps: the map is checked and the in-flight mark written (committed) in one
    statement before the request; the link is written together with the mark's removal
    after it. A crash at any point leaves either the link (not sent again) or the mark
    (looked for first).
    """
    started = InflightRow(event_id, event_part, channel_id, send.content, send.username, now_ms())
    claim = await ctx.stores.inflight.claim(started)
    if claim.mapped is not None:
        return claim.mapped
    found: MessageID | None = None
    if claim.previous is None:  # the usual case: never tried before
        found = await execute_send(ctx, channel_id, send)
    else:
        found = await _find_sent(ctx, claim.previous)
        if found is None:
            await ctx.stores.inflight.start(started)
            found = await execute_send(ctx, channel_id, send)
    await ctx.stores.inflight.record(
        MessageRow(found, 0, channel_id, room_id, event_id, "matrix", event_part)
    )
    if new is not None:
        new.append(found)
    return found


async def _find_sent(ctx: BridgeContext, inflight: InflightRow) -> MessageID | None:
    # Oldest first from just before the send: in a busy channel the message is among
    # the first of these, not among the channel's latest.
    after = MessageID(snowflake_at(inflight.started_at - INFLIGHT_LOOKBACK_MS))
    until = MessageID(snowflake_at(inflight.started_at + INFLIGHT_HORIZON_MS))
    recent = await ctx.discord.messages_after(
        inflight.discord_channel_id, after, INFLIGHT_SCAN, until
    )
    for message in recent:
        if (
            message.webhook_id in ctx.own_webhooks
            and message.content == inflight.content
            and message.author.username == inflight.username
            and not await ctx.stores.messages.by_discord(message.id)
        ):
            log.info(
                "m2d.inflight-found event=%s part=%s message=%s",
                inflight.event_id,
                inflight.event_part,
                message.id,
            )
            return message.id
    return None
