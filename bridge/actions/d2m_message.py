"""Relay one Discord message into its portal room, sent by the author's ghost."""

from __future__ import annotations

import logging
from dataclasses import replace

from bridge import relay_clock
from bridge.actions.context import BridgeContext
from bridge.actions.d2m_forward import forward_text, snapshot_message
from bridge.actions.d2m_media import (
    Relation,
    d2m_txn_id,
    has_media,
    relay_discord_media,
    relay_media_only,
)
from bridge.actions.d2m_poll import relay_poll_result, relay_poll_start
from bridge.actions.d2m_thread import (
    ensure_thread_root,
    forum_of,
    is_post_starter,
    post_header,
    sent_in_thread,
    thread_parent,
)
from bridge.actions.emoji_pack import known_emoji_mxc
from bridge.actions.portals import ensure_portal
from bridge.actions.puppets import sync_puppet
from bridge.actions.typing import stop_ghost_typing
from bridge.convert.d2m.forum import post_root
from bridge.convert.d2m.text import discord_to_matrix_text, mention_context
from bridge.db import MessageRow, PortalRow, ThreadRow
from bridge.db.messages import text_digest
from bridge.i18n import translator
from bridge.ids import ChannelID, EventID, MessageID, UserID
from bridge.model import DiscordMessage, MatrixText
from moderation.lockdown_gate import discord_message_paused

log = logging.getLogger(__name__)

# DEFAULT and REPLY; system messages (joins, pins, boosts ...) are not relayed as text.
RELAYED_TYPES = frozenset({0, 19})
# Ghosts of mentioned users are registered so pills show their names; capped per message.
MAX_MENTION_SYNCS = 10


async def convert_text(
    ctx: BridgeContext, message: DiscordMessage, portal: PortalRow, *, with_reply: bool = True
) -> MatrixText | None:
    """Resolve the lookups a message needs, then convert its text (pure)."""
    for user in message.mentions[:MAX_MENTION_SYNCS]:
        await sync_puppet(ctx, user)
    channel_rooms: dict[int, tuple[str, str]] = {}
    hidden = set(message.hidden_channel_ids)
    for other in await ctx.stores.portals.all():
        if other.access != "public":
            hidden.add(int(other.discord_channel_id))
        channel_rooms[int(other.discord_channel_id)] = (other.name, str(other.room_id))
    # Members-only channels are not even named in a public room.
    hidden_here = hidden - {int(portal.discord_channel_id)} if portal.access == "public" else set()
    reply_to: EventID | None = None
    if with_reply and message.reply_to is not None:
        # Only ever point at an event in this same room: never across portals.
        rows = await ctx.stores.messages.by_discord(message.reply_to)
        reply_to = next((r.event_id for r in rows if r.room_id == portal.room_id), None)
    converter_ctx = mention_context(
        message,
        ctx.namer.ghost_mxid,
        channel_rooms,
        hidden_here,
        custom_emoji_mxc=await known_emoji_mxc(ctx, message.content),
        language=ctx.config.bridge.language,
    )
    return discord_to_matrix_text(message, converter_ctx, reply_to)


async def _poll_start(
    ctx: BridgeContext,
    message: DiscordMessage,
    portal: PortalRow,
    ghost: UserID,
    thread: Relation | None,
    sent: list[EventID],
) -> Relation | None:
    """The message's poll (if any) as a Matrix poll, appended to ``sent``; the thread
    relation for what follows."""
    event_id = await relay_poll_start(ctx, message, portal, ghost, thread)
    if event_id is None:
        return thread
    sent.append(event_id)
    return replace(thread, thread_latest=event_id) if thread is not None else None


async def relay_discord_message(ctx: BridgeContext, message: DiscordMessage) -> EventID | None:
    """Returns the Matrix event ID, or None when the message is not relayed."""
    if message.guild_id not in ctx.config.discord.guild_ids:
        return None
    if message.webhook_id is not None and message.webhook_id in ctx.own_webhooks:
        return None  # our own relay of a Matrix message: never echo it back
    # A thread's messages belong to its parent channel's portal (as an m.thread).
    parent_id = await thread_parent(ctx, message)
    if ctx.config.bridge.channel(parent_id or message.channel_id) is None:
        return None
    if await discord_message_paused(ctx, message):
        return None  # a lockdown holds new accounts' messages (moderation.lockdown)
    if message.poll_result_of is not None:  # Discord's "the poll has closed" notice
        return await relay_poll_result(ctx, message)
    if message.type not in RELAYED_TYPES:
        log.info("d2m.skipped message=%s reason=type-%s", message.id, message.type)
        return None
    if await ctx.stores.messages.has_discord(message.id):
        log.debug("d2m.duplicate message=%s", message.id)
        return None
    portal = await ensure_portal(ctx, parent_id or message.channel_id)
    if portal is None:
        return None
    text = await convert_text(ctx, message, portal)
    if message.forward is not None:  # the forwarded copy, quoted (or hidden): d2m_forward
        copy = snapshot_message(message, message.forward)
        inner = await convert_text(ctx, copy, portal, with_reply=False)
        message, text = await forward_text(ctx, message, portal, inner)
    # A forum post's first message: the root of its thread, under its title and tags.
    header = None
    if parent_id is not None and is_post_starter(message, parent_id):
        header = await post_header(ctx, message.channel_id, parent_id)
    if header is not None:
        text = post_root(header, text, translator(ctx.config.bridge.language))
    if text is None and not has_media(message) and message.poll is None:
        log.info("d2m.skipped message=%s reason=no-text", message.id)
        return None
    thread: Relation | None = None
    if parent_id is not None and header is None:
        await _post_starter_first(ctx, message.channel_id, parent_id)
        row = await ensure_thread_root(ctx, message.channel_id, parent_id, portal)
        thread = Relation(None, row.root_event_id, row.latest_event_id)
    ghost = await sync_puppet(ctx, message.author, portal)
    await ctx.matrix.ensure_in_room(portal.room_id, ghost)
    await stop_ghost_typing(ctx, portal.room_id, ghost)
    sent: list[EventID] = []
    if text is not None:
        if thread is not None:
            text = replace(thread, reply_to=text.reply_to).on(text)
        txn_id = d2m_txn_id(message, 0)
        sent.append(
            await ctx.matrix.send_text(
                portal.room_id, ghost, text, message.timestamp_ms, txn_id=txn_id
            )
        )
        await ctx.stores.messages.insert(
            MessageRow(
                discord_message_id=message.id,
                part=0,
                discord_channel_id=message.channel_id,
                room_id=portal.room_id,
                event_id=sent[0],
                origin="discord",
                text_digest=text_digest(text.body, text.formatted_body),
            )
        )
        if message.edited_ms is not None:  # already edited (read back by backfill)
            await ctx.stores.messages.set_edited(message.id, message.edited_ms)
        if header is not None and parent_id is not None:  # the post's root: files follow in it
            await ctx.stores.threads.insert(
                ThreadRow(
                    message.channel_id,
                    parent_id,
                    portal.room_id,
                    sent[0],
                    "discord",
                    name=header.title,
                )
            )
            log.info("d2m.post-rooted post=%s forum=%s root=%s", message.id, parent_id, sent[0])
            thread = Relation(None, sent[0], sent[0])
        elif thread is not None:
            thread = replace(thread, thread_latest=sent[0])
        thread = await _poll_start(ctx, message, portal, ghost, thread, sent)
        sent += await relay_discord_media(ctx, message, portal, ghost, thread=thread)
    else:  # a poll, attachments, stickers or embeds only: files' parts 1..N, the first replies
        thread = await _poll_start(ctx, message, portal, ghost, thread, sent)
        sent += await relay_media_only(ctx, message, portal, ghost, thread)
    if parent_id is not None and sent:
        await sent_in_thread(ctx, message.channel_id, sent[-1])
    if not sent:
        return None
    event_id = sent[0]
    log.info(
        "d2m.relayed message=%s channel=%s room=%s event=%s inside_ms=%s",
        message.id,
        message.channel_id,
        portal.room_id,
        event_id,
        relay_clock.inside_ms(),
    )
    return event_id


async def _post_starter_first(
    ctx: BridgeContext, thread_id: ChannelID, parent_id: ChannelID
) -> None:
    """A message in a forum post never rooted on Matrix (created while the bridge was
    away): its starter message, read back from Discord, is relayed first as the root."""
    if await ctx.stores.threads.by_thread(thread_id) is not None:
        return
    if await forum_of(ctx, parent_id) is None:
        return
    found = await ctx.discord.messages_after(thread_id, MessageID(thread_id - 1), 1)
    if found and int(found[0].id) == int(thread_id):
        await relay_discord_message(ctx, found[0])
