"""Relay a Matrix ``m.replace`` edit by editing the webhook message(s) on Discord.

Only the original sender's edits count (anyone can send an ``m.replace``;
clients ignore edits from others, and so do we). A long message split into
several Discord messages is re-split: parts are edited in place, surplus old
parts deleted, extra new parts posted.
"""

from __future__ import annotations

import dataclasses
import logging

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_message import convert_text
from bridge.actions.m2d_thread import webhook_target
from bridge.actions.webhooks import channel_webhook, send_once
from bridge.ids import MessageID
from bridge.model import MatrixEdit

log = logging.getLogger(__name__)


async def relay_matrix_edit(ctx: BridgeContext, edit: MatrixEdit) -> list[MessageID]:
    if ctx.namer.is_bridge_owned(edit.sender):
        return []
    mapped = await ctx.stores.messages.by_event(edit.target, edit.room_id)
    rows = [r for r in mapped if r.origin == "matrix"]
    if not rows:
        log.info("m2d.edit-skipped event=%s reason=not-bridged", edit.event_id)
        return []
    original_sender = await ctx.matrix.event_sender(edit.room_id, edit.target)
    if original_sender != edit.sender:
        log.warning(
            "m2d.edit-refused event=%s reason=not-original-sender sender=%s",
            edit.event_id,
            edit.sender,
        )
        return []
    portal = await ctx.stores.portals.by_channel(rows[0].discord_channel_id)
    if portal is None:  # a thread's message: its portal is the parent's room
        portal = await ctx.stores.portals.by_room(rows[0].room_id)
    if portal is None:
        return []
    # Keep the reply quote of the original: m.new_content carries no reply relation.
    original = await ctx.matrix.fetch_message(edit.room_id, edit.target)
    reply_to = original.reply_to if original is not None else None
    sends = await convert_text(ctx, edit.new, portal, reply_to)
    if not sends:
        return []
    channel_id = rows[0].discord_channel_id
    # In a thread, the parent channel's webhook edits, naming the thread.
    hook_channel, thread_id = await webhook_target(ctx, channel_id)
    webhook = await channel_webhook(ctx, hook_channel)
    touched: list[MessageID] = []
    for part, send in enumerate(sends):
        send = dataclasses.replace(send, thread_id=thread_id)
        if part < len(rows):
            await ctx.discord.edit_webhook_message(webhook, rows[part].discord_message_id, send)
            touched.append(rows[part].discord_message_id)
            continue
        touched.append(await send_once(ctx, channel_id, send, edit.room_id, edit.target, part))
    for surplus in rows[len(sends) :]:
        await ctx.stores.messages.forget_row(surplus)
        await ctx.discord.delete_webhook_message(webhook, surplus.discord_message_id, thread_id)
    log.info("m2d.edited event=%s target=%s messages=%s", edit.event_id, edit.target, len(touched))
    return touched
