"""Discord threads -> Matrix threads (``m.thread``) in the parent channel's portal room.

A thread started from a message has that message's ID, so its Matrix thread is
rooted at the event the starter message was relayed as (found in the message
map). A thread without a bridged starter (``POST /channels/{id}/threads``, or a
starter that was never relayed) gets a root sent by the bridge bot,
"Thread: <name>". Either way the link is recorded in ``stores.threads`` so that
every later message of the thread, and Matrix replies in it, find it.

A post of a forum or media channel is a thread too, whose starter message lives in
the thread and has its ID: that message, relayed with the post's title and tags
(:mod:`bridge.convert.d2m.forum`), is the root; THREAD_CREATE sends nothing
(:mod:`bridge.actions.d2m_forum` relays what changes later).

A rename edits the bot's root (a starter message's event is the author's and
stays). A deleted thread is deleted on Matrix too: every event relayed in it is
redacted, and the bot's root with them. Archiving and locking are not relayed:
Matrix threads have neither (if Discord refuses a Matrix reply into a locked
thread, its sender gets the plain-words notice of m2d_undelivered).
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_delete import redact_rows
from bridge.actions.portals import ensure_portal
from bridge.convert.d2m.forum import PostHeader, applied
from bridge.db import PortalRow, ThreadRow
from bridge.i18n import N_, Translator, translator
from bridge.ids import ChannelID, EventID, MessageID
from bridge.model import (
    DiscordChannel,
    DiscordMessage,
    DiscordThread,
    DiscordThreadDeletion,
    MatrixText,
)

log = logging.getLogger(__name__)

THREAD_DELETED = N_("Thread deleted on Discord")


async def thread_parent(ctx: BridgeContext, message: DiscordMessage) -> ChannelID | None:
    """The channel whose thread ``message`` was posted in; None outside threads.

    The transport knows it when discord.py has the thread cached; otherwise a thread
    the bridge already knows is found in the store.
    """
    if message.thread_parent_id is not None:
        return message.thread_parent_id
    if ctx.config.bridge.channel(message.channel_id) is not None:
        return None  # a bridged channel is no thread
    row = await ctx.stores.threads.by_thread(message.channel_id)
    return row.parent_channel_id if row is not None else None


async def forum_of(ctx: BridgeContext, channel_id: ChannelID) -> DiscordChannel | None:
    """The channel if it is a forum or media channel (whose threads are posts)."""
    channel = await ctx.discord.channel(channel_id)
    return channel if channel is not None and channel.is_forum else None


def is_post_starter(message: DiscordMessage, parent_id: ChannelID | None) -> bool:
    """The first message of a forum post: it lives in the post and has its ID (in a
    text channel, a thread's starter lives in the channel)."""
    return parent_id is not None and int(message.id) == int(message.channel_id)


async def post_header(
    ctx: BridgeContext, thread_id: ChannelID, parent_id: ChannelID
) -> PostHeader | None:
    """The title and tags of a forum or media post; None when ``parent_id`` is no forum."""
    forum = await forum_of(ctx, parent_id)
    if forum is None:
        return None
    thread = await ctx.discord.thread(thread_id)
    if thread is None:
        row = await ctx.stores.threads.by_thread(thread_id)
        return PostHeader(row.name if row is not None and row.name else "")
    return PostHeader(thread.name, applied(thread.applied_tags, forum.tags))


async def ensure_thread_root(
    ctx: BridgeContext,
    thread_id: ChannelID,
    parent_id: ChannelID,
    portal: PortalRow,
    name: str | None = None,
) -> ThreadRow:
    """The recorded Matrix thread of a Discord thread, rooting it first if needed."""
    row = await ctx.stores.threads.by_thread(thread_id)
    if row is not None:
        return row
    starter = next(
        (
            r
            for r in await ctx.stores.messages.by_discord(MessageID(thread_id))
            if r.room_id == portal.room_id and r.discord_channel_id == parent_id
        ),
        None,
    )
    if starter is not None:
        root = starter.event_id
    else:
        if name is None:
            found = await ctx.discord.thread(thread_id)
            name = found.name if found is not None else None
        root = await ctx.matrix.send_text(
            portal.room_id,
            ctx.namer.bot_mxid,
            root_text(name, translator(ctx.config.bridge.language)),
            None,
        )
        log.info("d2m.thread-root-sent thread=%s room=%s event=%s", thread_id, portal.room_id, root)
    row = await ctx.stores.threads.insert(
        ThreadRow(thread_id, parent_id, portal.room_id, root, "discord", name=name)
    )
    log.info(
        "d2m.thread-linked thread=%s parent=%s room=%s root=%s",
        thread_id,
        parent_id,
        portal.room_id,
        row.root_event_id,
    )
    return row


def root_text(name: str | None, tr: Translator | None = None) -> MatrixText:
    """The root the bot sends for a thread without a bridged starter message."""
    tr = tr or translator()
    body = tr._("Thread: {name}", name=name) if name else tr._("Thread: unnamed")
    return MatrixText(body=body, msgtype="m.notice")


async def relay_discord_thread(ctx: BridgeContext, thread: DiscordThread) -> ThreadRow | None:
    """THREAD_CREATE: a new thread of a bridged channel gets its Matrix thread now."""
    if thread.guild_id is not None and thread.guild_id not in ctx.config.discord.guild_ids:
        return None
    if ctx.config.bridge.channel(thread.parent_id) is None:
        return None
    portal = await ensure_portal(ctx, thread.parent_id)
    if portal is None:
        return None
    if await forum_of(ctx, thread.parent_id) is not None:
        return None  # a post: its starter message, which follows, is the root
    return await ensure_thread_root(ctx, thread.id, thread.parent_id, portal, thread.name)


async def sent_in_thread(ctx: BridgeContext, thread_id: ChannelID, event_id: EventID) -> None:
    """Remember the latest event of the thread (the next one's reply fallback)."""
    await ctx.stores.threads.set_last_event(thread_id, event_id)


async def _bot_root(ctx: BridgeContext, row: ThreadRow) -> bool:
    """Whether the thread's root is the bot's "Thread: <name>" notice (not a message)."""
    return not await ctx.stores.messages.by_event(row.root_event_id, row.room_id)


async def relay_discord_thread_update(ctx: BridgeContext, thread: DiscordThread) -> bool:
    """THREAD_UPDATE: a renamed thread's bot root is edited; True if it was."""
    row = await ctx.stores.threads.by_thread(thread.id)
    if row is None or row.name == thread.name:
        return False  # not bridged, or archived/locked/other settings: nothing to show
    await ctx.stores.threads.set_name(thread.id, thread.name)
    if row.name is None or not await _bot_root(ctx, row):
        return False  # name unknown before (nothing to compare), or the author's message
    await ctx.matrix.send_edit(
        row.room_id,
        ctx.namer.bot_mxid,
        row.root_event_id,
        root_text(thread.name, translator(ctx.config.bridge.language)),
        None,
    )
    log.info("d2m.thread-renamed thread=%s root=%s", thread.id, row.root_event_id)
    return True


async def relay_discord_thread_deletion(
    ctx: BridgeContext, deletion: DiscordThreadDeletion
) -> list[EventID]:
    """THREAD_DELETE: every event relayed in the thread is redacted, then the bot's root."""
    if deletion.guild_id is not None and deletion.guild_id not in ctx.config.discord.guild_ids:
        return []
    row = await ctx.stores.threads.by_thread(deletion.thread_id)
    if row is None:
        return []
    bot_root = await _bot_root(ctx, row)  # (a forum post's root is its starter: in rows)
    rows = await ctx.stores.messages.in_channel(deletion.thread_id)
    redacted = await redact_rows(
        ctx, rows, translator(ctx.config.bridge.language)._(THREAD_DELETED)
    )
    if bot_root:
        await ctx.matrix.redact(
            row.room_id, row.root_event_id, translator(ctx.config.bridge.language)._(THREAD_DELETED)
        )
        redacted.append(row.root_event_id)
    await ctx.stores.threads.forget(deletion.thread_id)
    log.info(
        "d2m.thread-deleted thread=%s room=%s events=%s",
        deletion.thread_id,
        row.room_id,
        len(redacted),
    )
    return redacted
