"""Relay a Matrix media event (image, video, audio, file, sticker) to Discord.

The bot downloads the file from the homeserver and the channel webhook posts it
as a multipart upload under the sender's name. Files over
``bridge.discord_upload_limit_mb`` (known from ``info.size``, from the
download, or from Discord answering 413) and files that cannot be downloaded
become a text message naming the file, with a signed link served by the bridge
(:mod:`bridge.media_links`) when ``bridge.public_media_url`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_forum import send_part
from bridge.actions.m2d_sender import sender_avatar_url, sender_name
from bridge.actions.m2d_thread import thread_channel
from bridge.convert.m2d.media import DiscordUpload, link_send, plan_upload, upload_send
from bridge.convert.m2d.voice import voice_send
from bridge.i18n import N_, translator
from bridge.ids import MessageID
from bridge.media_links import media_link
from bridge.model import DiscordSend, MatrixMessage
from bridge.ports import MediaTooLarge

log = logging.getLogger(__name__)

TOO_LARGE = N_("too large for Discord")
NOT_COPIED = N_("could not be copied")


async def relay_matrix_media(ctx: BridgeContext, message: MatrixMessage) -> list[MessageID]:
    """Returns the Discord message IDs created (empty when not relayed)."""
    portal = await ctx.stores.portals.by_room(message.room_id)
    if portal is None:
        return []
    if await ctx.stores.messages.by_event(message.event_id):
        log.debug("m2d.duplicate event=%s", message.event_id)
        return []
    limit = ctx.config.bridge.discord_upload_limit_bytes
    upload = plan_upload(message, limit)
    if upload is None:
        log.info("m2d.skipped event=%s reason=no-media-url", message.event_id)
        return []
    username = await sender_name(ctx, message.room_id, message.sender)
    avatar = await sender_avatar_url(ctx, message.room_id, message.sender)
    send = replace(await _build_send(ctx, upload, username, limit), avatar_url=avatar)
    if message.voice:  # an Element voice message: a Discord one (or an audio file)
        send = voice_send(send, message, translator(ctx.config.bridge.language))
    # In a Matrix thread: into the Discord thread of its root (started if needed).
    channel_id = await thread_channel(ctx, message, portal) or portal.discord_channel_id
    try:  # (in a forum's room, outside any thread: a new post)
        discord_id, _ = await send_part(ctx, portal, channel_id, send, message)
    except MediaTooLarge:  # Discord's limit is lower than the configured one
        log.warning("m2d.media-refused event=%s reason=413", message.event_id)
        send = _link(ctx, upload, username, len(send.files[0][1]), TOO_LARGE)
        send = replace(send, avatar_url=avatar)
        discord_id, _ = await send_part(ctx, portal, channel_id, send, message)
    log.info(
        "m2d.media-relayed event=%s room=%s channel=%s message=%s upload=%s",
        message.event_id,
        message.room_id,
        channel_id,
        discord_id,
        bool(send.files),
    )
    return [discord_id]


def _link(
    ctx: BridgeContext, upload: DiscordUpload, username: str, size: int | None, reason: str
) -> DiscordSend:
    # A signed link served by the bridge itself (authenticated-media safe), if configured.
    link = media_link(
        ctx.config.bridge.public_media_url, ctx.media_key, upload.mxc, upload.filename
    )
    tr = translator(ctx.config.bridge.language)
    return link_send(upload, username, link, size=size, reason=reason, tr=tr)


async def _build_send(
    ctx: BridgeContext, upload: DiscordUpload, username: str, limit: int
) -> DiscordSend:
    if upload.too_large:
        return _link(ctx, upload, username, None, TOO_LARGE)
    try:
        data = await ctx.matrix.download_media(upload.mxc, limit)
    except MediaTooLarge:
        return _link(ctx, upload, username, None, TOO_LARGE)
    if data is None:
        log.warning("m2d.media-download-failed mxc=%s", upload.mxc)
        return _link(ctx, upload, username, None, NOT_COPIED)
    return upload_send(upload, data, username)
