"""Relay a Discord edit: an ``m.replace`` of the text part, and redactions of the
attachments the edit removed.

An edit that leaves the text as it was relayed (say, only an attachment was
removed) sends no ``m.replace``: Matrix clients would mark the message edited for
nothing. Text removed altogether (a message left with its files) redacts the text
part. Attachments *added* by an edit (possible through the API only) are not relayed.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_delete import redact_rows
from bridge.actions.d2m_message import convert_text
from bridge.actions.d2m_thread import post_header
from bridge.actions.puppets import sync_puppet
from bridge.convert.d2m.forum import post_root
from bridge.db import MessageRow
from bridge.db.messages import text_digest
from bridge.i18n import N_, translator
from bridge.ids import EventID
from bridge.model import DiscordMessage

log = logging.getLogger(__name__)

# Redaction reasons, in bridge.language.
ATTACHMENT_REMOVED = N_("Attachment removed on Discord")
TEXT_REMOVED = N_("Text removed on Discord")


async def relay_discord_edit(ctx: BridgeContext, message: DiscordMessage) -> EventID | None:
    """Returns the ``m.replace`` event sent, if the text changed."""
    if message.edited_ms is None:
        return None  # an embed/metadata update (or a partial payload), not an author's edit
    if message.webhook_id is not None and message.webhook_id in ctx.own_webhooks:
        return None  # our own edit of a Matrix message
    if message.forward is not None:
        return None  # a forward cannot be edited: its copy (and its files) stay as sent
    rows = [r for r in await ctx.stores.messages.by_discord(message.id) if r.origin == "discord"]
    if not rows:
        log.info("d2m.edit-skipped message=%s reason=not-bridged", message.id)
        return None
    await _redact_removed_attachments(ctx, message, rows)
    # Part 0 is the text; parts 1..N are attachments/stickers/embeds (never edited as text).
    original = next((r for r in rows if r.part == 0), None)
    if original is None:  # a message of files only
        await ctx.stores.messages.set_edited(message.id, message.edited_ms)
        return None
    portal = await ctx.stores.portals.by_channel(message.channel_id)
    if portal is None:  # a thread's message: its portal is the parent's room
        portal = await ctx.stores.portals.by_room(original.room_id)
    if portal is None:
        return None
    text = await convert_text(ctx, message, portal, with_reply=False)
    header = None
    if int(message.id) == int(message.channel_id):  # a forum post's first message
        post = await ctx.stores.threads.by_thread(message.channel_id)
        if post is not None and post.root_event_id == original.event_id:
            header = await post_header(ctx, post.thread_channel_id, post.parent_channel_id)
    if header is not None:  # a forum post's root: its title and tags stay
        text = post_root(header, text, translator(ctx.config.bridge.language))
    if text is None:
        if len(rows) > 1:  # the files stay; the text went
            await redact_rows(
                ctx, [original], translator(ctx.config.bridge.language)._(TEXT_REMOVED)
            )
            log.info("d2m.edit-text-removed message=%s event=%s", message.id, original.event_id)
        return None
    digest = text_digest(text.body, text.formatted_body)
    if digest == original.text_digest:
        await ctx.stores.messages.set_edited(message.id, message.edited_ms)
        log.info("d2m.edit-text-unchanged message=%s", message.id)
        return None
    ghost = await sync_puppet(ctx, message.author)
    event_id = await ctx.matrix.send_edit(
        original.room_id, ghost, original.event_id, text, message.edited_ms
    )
    await ctx.stores.messages.set_edited(message.id, message.edited_ms, digest)
    log.info("d2m.edited message=%s event=%s edit=%s", message.id, original.event_id, event_id)
    return event_id


async def _redact_removed_attachments(
    ctx: BridgeContext, message: DiscordMessage, rows: list[MessageRow]
) -> None:
    kept = {a.id for a in message.attachments}
    removed = [r for r in rows if r.attachment_id is not None and r.attachment_id not in kept]
    reason = translator(ctx.config.bridge.language)._(ATTACHMENT_REMOVED)
    for event_id in await redact_rows(ctx, removed, reason):
        log.info("d2m.edit-attachment-removed message=%s event=%s", message.id, event_id)
