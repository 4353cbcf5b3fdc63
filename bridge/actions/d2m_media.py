"""Relay a Discord message's attachments, stickers and embeds after its text.

Each item becomes its own Matrix event sent by the author's ghost and is
recorded in the message map as part 1, 2, ... of the Discord message (part 0
is the text, when there is any), so deleting the Discord message redacts
every event and a replayed delivery is recognised.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TypeVar

from bridge.actions.context import BridgeContext
from bridge.convert.d2m.media import (
    NOT_COPIED,
    STICKER_IMAGE_FORMATS,
    TOO_LARGE_FOR_HOMESERVER,
    TOO_LARGE_TO_COPY,
    attachment_link_text,
    attachment_to_matrix,
    display_filename,
    embeds_to_matrix,
    guess_mimetype,
    image_dimensions,
    sticker_fallback,
    sticker_is_image,
    sticker_to_matrix,
)
from bridge.convert.d2m.voice import as_voice, is_voice_message
from bridge.db import MessageRow, PortalRow
from bridge.i18n import translator
from bridge.ids import EventID, UserID
from bridge.model import DiscordAttachment, DiscordMessage, DiscordSticker, MatrixMedia, MatrixText
from bridge.ports import MediaTooLarge

_Related = TypeVar("_Related", MatrixText, MatrixMedia)

log = logging.getLogger(__name__)

# What the bridge copies from Discord's CDN to the homeserver at most (Synapse's default
# max_upload_size is 50M); larger files are posted as a link to Discord's CDN.
D2M_MAX_BYTES = 50 * 1024 * 1024
STICKER_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Relation:
    """Where an event goes: a reply, and/or in a Matrix thread (root, latest event)."""

    reply_to: EventID | None = None
    thread_root: EventID | None = None
    thread_latest: EventID | None = None

    def on(self, content: _Related) -> _Related:
        """``content`` (a MatrixText or MatrixMedia) placed as this relation says."""
        return dataclasses.replace(
            content,
            reply_to=self.reply_to,
            thread_root=self.thread_root,
            thread_latest=self.thread_latest,
        )


def has_media(message: DiscordMessage) -> bool:
    """Whether the message carries anything besides its text."""
    return bool(
        message.attachments or message.stickers or embeds_to_matrix(message.embeds, message.content)
    )


def d2m_txn_id(message: DiscordMessage, part: int) -> str:
    """The Matrix transaction ID of part ``part`` of a Discord message: the same on a
    retry, so the homeserver returns the first event instead of sending another."""
    return f"passerelle.d2m.{message.id}.{part}"


async def relay_discord_media(
    ctx: BridgeContext,
    message: DiscordMessage,
    portal: PortalRow,
    ghost: UserID,
    *,
    reply_to: EventID | None = None,
    thread: Relation | None = None,
) -> list[EventID]:
    """Send attachments, then stickers, then embeds; returns the events sent (parts 1..N).

    ``reply_to`` is put on the first event, for a message that had no text part;
    ``thread`` (root and latest event) puts every event in that Matrix thread.
    """
    sent: list[EventID] = []

    async def record(event_id: EventID, attachment_id: int | None = None) -> None:
        sent.append(event_id)
        await ctx.stores.messages.insert(
            MessageRow(
                discord_message_id=message.id,
                part=len(sent),
                discord_channel_id=message.channel_id,
                room_id=portal.room_id,
                event_id=event_id,
                origin="discord",
                attachment_id=attachment_id,
            )
        )

    def relation() -> Relation:
        root = thread.thread_root if thread else None
        latest = sent[-1] if sent else (thread.thread_latest if thread else None)
        return Relation(reply_to if not sent else None, root, latest if root else None)

    for attachment in message.attachments:
        part = len(sent) + 1
        event_id = await _attachment(ctx, message, portal, ghost, attachment, relation(), part)
        await record(event_id, attachment.id)
    for sticker in message.stickers:
        part = len(sent) + 1
        await record(await _sticker(ctx, message, portal, ghost, sticker, relation(), part))
    notice = embeds_to_matrix(
        message.embeds, message.content, translator(ctx.config.bridge.language)
    )
    if notice is not None:
        part = len(sent) + 1
        await record(await _send_text(ctx, portal, ghost, notice, message, relation(), part))
    if sent:
        log.info(
            "d2m.media-relayed message=%s attachments=%s stickers=%s events=%s",
            message.id,
            len(message.attachments),
            len(message.stickers),
            len(sent),
        )
    return sent


async def _send_text(
    ctx: BridgeContext,
    portal: PortalRow,
    ghost: UserID,
    text: MatrixText,
    message: DiscordMessage,
    relation: Relation,
    part: int,
) -> EventID:
    sent = relation.on(text)
    return await ctx.matrix.send_text(
        portal.room_id, ghost, sent, message.timestamp_ms, txn_id=d2m_txn_id(message, part)
    )


async def _send_media(
    ctx: BridgeContext,
    portal: PortalRow,
    ghost: UserID,
    media: MatrixMedia,
    message: DiscordMessage,
    relation: Relation,
    part: int,
) -> EventID:
    placed = relation.on(media)
    return await ctx.matrix.send_media(
        portal.room_id, ghost, placed, message.timestamp_ms, txn_id=d2m_txn_id(message, part)
    )


async def _attachment(
    ctx: BridgeContext,
    message: DiscordMessage,
    portal: PortalRow,
    ghost: UserID,
    attachment: DiscordAttachment,
    relation: Relation,
    part: int,
) -> EventID:
    tr = translator(ctx.config.bridge.language)
    reason = NOT_COPIED
    if attachment.size > D2M_MAX_BYTES:
        reason = TOO_LARGE_TO_COPY
    else:
        try:
            fetched = await ctx.matrix.fetch_url(attachment.url, D2M_MAX_BYTES)
        except MediaTooLarge:
            fetched, reason = None, TOO_LARGE_TO_COPY
        if fetched is not None:
            data, served_type = fetched
            mimetype = guess_mimetype(attachment.filename, attachment.content_type or served_type)
            try:
                mxc: str | None = await ctx.matrix.upload_media(
                    data, mimetype, display_filename(attachment.filename)
                )
            except MediaTooLarge:  # the homeserver's own upload limit is lower
                mxc, reason = None, TOO_LARGE_FOR_HOMESERVER
            if mxc is not None:
                dims = image_dimensions(data) if mimetype.startswith("image/") else None
                media = attachment_to_matrix(
                    attachment, mxc, size=len(data), dimensions=dims, tr=tr
                )
                if is_voice_message(message.flags):  # an Element voice message
                    media = as_voice(media, attachment)
                return await _send_media(ctx, portal, ghost, media, message, relation, part)
    log.warning(
        "d2m.attachment-not-copied message=%s attachment=%s size=%s reason=%s",
        message.id,
        attachment.id,
        attachment.size,
        reason.replace(" ", "-"),
    )
    text = attachment_link_text(attachment, reason, tr)
    return await _send_text(ctx, portal, ghost, text, message, relation, part)


async def _sticker(
    ctx: BridgeContext,
    message: DiscordMessage,
    portal: PortalRow,
    ghost: UserID,
    sticker: DiscordSticker,
    relation: Relation,
    part: int,
) -> EventID:
    if sticker_is_image(sticker) and sticker.url:
        mxc: str | None = None
        try:
            fetched = await ctx.matrix.fetch_url(sticker.url, STICKER_MAX_BYTES)
            if fetched is not None:
                mimetype = STICKER_IMAGE_FORMATS[sticker.format_type]
                mxc = await ctx.matrix.upload_media(fetched[0], mimetype, sticker.name)
        except MediaTooLarge:  # too big to fetch, or for the homeserver
            fetched = None
        if fetched is not None and mxc is not None:
            data = fetched[0]
            media = sticker_to_matrix(
                sticker, mxc, size=len(data), dimensions=image_dimensions(data)
            )
            return await _send_media(ctx, portal, ghost, media, message, relation, part)
        log.warning("d2m.sticker-not-copied message=%s sticker=%s", message.id, sticker.id)
    fallback = sticker_fallback(sticker, translator(ctx.config.bridge.language))
    return await _send_text(ctx, portal, ghost, fallback, message, relation, part)


async def relay_media_only(
    ctx: BridgeContext,
    message: DiscordMessage,
    portal: PortalRow,
    ghost: UserID,
    thread: Relation | None = None,
) -> list[EventID]:
    """A message without text: its first media event carries the reply, if any."""
    reply_to: EventID | None = None
    if message.reply_to is not None:
        rows = await ctx.stores.messages.by_discord(message.reply_to)
        reply_to = next((r.event_id for r in rows if r.room_id == portal.room_id), None)
    return await relay_discord_media(ctx, message, portal, ghost, reply_to=reply_to, thread=thread)
