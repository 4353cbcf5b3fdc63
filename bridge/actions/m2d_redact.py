"""Relay a Matrix redaction by deleting the mapped Discord message(s).

Messages that came from Matrix are deleted through the bridge's webhook.
Messages that came from Discord are deleted with the bot's permission
(Manage Messages), and only when the redactor may redact others' events in
the room (own events, or power level >= the room's redact level).
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_thread import webhook_target
from bridge.actions.webhooks import channel_webhook
from bridge.i18n import translator
from bridge.ids import MessageID
from bridge.model import MatrixRedaction

log = logging.getLogger(__name__)


async def relay_matrix_redaction(ctx: BridgeContext, redaction: MatrixRedaction) -> list[MessageID]:
    if ctx.namer.is_bridge_owned(redaction.sender):
        return []  # our own redactions mirror Discord deletions
    rows = await ctx.stores.messages.by_event(redaction.redacts, redaction.room_id)
    if not rows:
        return []
    original_sender = await ctx.matrix.event_sender(redaction.room_id, redaction.redacts)
    if original_sender is None or not await ctx.matrix.may_redact(
        redaction.room_id, redaction.sender, original_sender
    ):
        log.warning(
            "m2d.redaction-refused event=%s sender=%s reason=no-power",
            redaction.event_id,
            redaction.sender,
        )
        return []
    await ctx.stores.messages.forget_event(redaction.redacts)
    deleted: list[MessageID] = []
    # Discord's audit log, read by the guild's moderators: the bridge's language.
    tr = translator(ctx.config.bridge.language)
    if redaction.reason:
        reason = tr._(
            "Deleted on Matrix by {who}: {reason}", who=redaction.sender, reason=redaction.reason
        )
    else:
        reason = tr._("Deleted on Matrix by {who}", who=redaction.sender)
    for row in rows:
        if row.origin == "matrix":
            # a thread's message: the parent's webhook deletes it, naming the thread
            hook_channel, thread_id = await webhook_target(ctx, row.discord_channel_id)
            webhook = await channel_webhook(ctx, hook_channel)
            await ctx.discord.delete_webhook_message(webhook, row.discord_message_id, thread_id)
        elif not await ctx.discord.delete_message(
            row.discord_channel_id, row.discord_message_id, reason
        ):
            log.warning("m2d.delete-failed message=%s reason=no-permission", row.discord_message_id)
            continue
        deleted.append(row.discord_message_id)
    log.info("m2d.redacted event=%s messages=%s", redaction.redacts, len(deleted))
    return deleted
