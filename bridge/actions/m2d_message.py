"""Relay one Matrix message to its Discord channel through the channel webhook."""

from __future__ import annotations

import logging

from bridge import relay_clock
from bridge.actions.context import BridgeContext
from bridge.actions.emoji_pack import pack_emoji_markup
from bridge.actions.m2d_forum import send_part
from bridge.actions.m2d_media import relay_matrix_media
from bridge.actions.m2d_sender import sender_avatar_url
from bridge.actions.m2d_thread import thread_channel
from bridge.actions.name_clash import matrix_name_clashes
from bridge.convert.m2d.html import M2DContext, strip_reply_fallback
from bridge.convert.m2d.media import MEDIA_MSGTYPES
from bridge.convert.m2d.text import ReplyQuote, matrix_to_discord_text
from bridge.db import PortalRow
from bridge.i18n import translator
from bridge.ids import ChannelID, EventID, MessageID
from bridge.model import DiscordSend, MatrixMessage
from moderation.lockdown_gate import is_paused

log = logging.getLogger(__name__)

RELAYED_MSGTYPES = frozenset({"m.text", "m.notice", "m.emote"})


async def relay_matrix_message(ctx: BridgeContext, message: MatrixMessage) -> list[MessageID]:
    """Returns the Discord message IDs created (empty when not relayed)."""
    if ctx.namer.is_bridge_owned(message.sender):
        return []  # ghosts and the bot: their events came from Discord
    if await is_paused(ctx, "matrix", message.sender, message.room_id):
        return []  # a lockdown holds new accounts' messages (moderation.lockdown)
    if message.msgtype in MEDIA_MSGTYPES:
        return await relay_matrix_media(ctx, message)
    if message.msgtype not in RELAYED_MSGTYPES:
        log.info("m2d.skipped event=%s reason=msgtype-%s", message.event_id, message.msgtype)
        return []
    portal = await ctx.stores.portals.by_room(message.room_id)
    if portal is None:
        return []
    sends = await convert_text(ctx, message, portal, message.reply_to)
    # Parts already posted (a replay, or before a crash) are not posted again: send_once
    # checks each part against the message map in the statement that marks it in flight.
    # In a Matrix thread: into the Discord thread of its root (started if needed).
    # Outside any thread in a forum's room: a new post (bridge.actions.m2d_forum).
    channel_id = await thread_channel(ctx, message, portal) or portal.discord_channel_id
    created: list[MessageID] = []
    for part, send in enumerate(sends):
        _, channel_id = await send_part(ctx, portal, channel_id, send, message, part, created)
    if not created:
        log.debug("m2d.duplicate event=%s", message.event_id)
        return []
    log.info(
        "m2d.relayed event=%s room=%s channel=%s messages=%s inside_ms=%s",
        message.event_id,
        message.room_id,
        channel_id,
        ",".join(str(i) for i in created),
        relay_clock.inside_ms(),
    )
    return created


def jump_url(portal: PortalRow, message_id: MessageID, channel_id: ChannelID | None = None) -> str:
    """Discord's link to a message of the portal's channel (or of one of its threads)."""
    channel = channel_id or portal.discord_channel_id
    return f"https://discord.com/channels/{portal.guild_id}/{channel}/{message_id}"


async def reply_quote(
    ctx: BridgeContext, message: MatrixMessage, portal: PortalRow, reply_to: EventID
) -> ReplyQuote | None:
    """The quote line of a Matrix reply, when the replied-to event is bridged here."""
    rows = [
        r
        for r in await ctx.stores.messages.by_event(reply_to, message.room_id)
        if r.room_id == message.room_id  # this portal's channel or one of its threads
    ]
    if not rows:
        return None
    original = await ctx.matrix.fetch_message(message.room_id, reply_to)
    if original is None:
        return None
    author_id = ctx.namer.parse_ghost(original.sender)
    name = await ctx.matrix.displayname(message.room_id, original.sender)
    excerpt = original.body if original.msgtype in RELAYED_MSGTYPES else f"[{original.msgtype}]"
    return ReplyQuote(
        author_name=name or original.sender,
        excerpt=strip_reply_fallback(excerpt),
        jump_url=jump_url(portal, rows[0].discord_message_id, rows[0].discord_channel_id),
        author_discord_id=author_id,
        ping=original.sender in message.mentioned_user_ids,
    )


async def convert_text(
    ctx: BridgeContext, message: MatrixMessage, portal: PortalRow, reply_to: EventID | None
) -> list[DiscordSend]:
    """Resolve what the converter needs (names, rooms, power), then convert (pure)."""
    room_channel: dict[str, int] = {}
    for p in await ctx.stores.portals.all():
        room_channel[str(p.room_id)] = int(p.discord_channel_id)
        room_channel[str(ctx.namer.portal_alias(p.discord_channel_id))] = int(p.discord_channel_id)
    custom_emoji, emoji_shortcodes = await pack_emoji_markup(
        ctx, portal.guild_id, message.body, message.formatted_body
    )
    converter_ctx = M2DContext(
        ghost_discord_id=ctx.namer.parse_ghost,
        room_channel=room_channel,
        may_mention_room=await ctx.matrix.may_mention_room(message.room_id, message.sender),
        custom_emoji=custom_emoji,
        emoji_shortcodes=emoji_shortcodes,
    )
    quote = await reply_quote(ctx, message, portal, reply_to) if reply_to else None
    displayname = await ctx.matrix.displayname(message.room_id, message.sender)
    clash = await matrix_name_clashes(
        ctx, message.room_id, portal.guild_id, message.sender, displayname
    )
    return matrix_to_discord_text(
        message,
        displayname,
        converter_ctx,
        quote,
        ctx.config.bridge.webhook_displayname,
        await sender_avatar_url(ctx, message.room_id, message.sender),
        translator(ctx.config.bridge.language),
        disambiguate=clash,
    )
