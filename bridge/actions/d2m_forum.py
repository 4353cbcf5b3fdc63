"""Forum and media posts, Discord -> Matrix: what changes after a post is rooted,
and posts created while the bridge was away.

A post's root (see :mod:`bridge.actions.d2m_thread`) shows its title and tags above
the starter message. THREAD_UPDATE may change either: the root is rebuilt from the
post as Discord has it now (the starter read back) and, if it reads differently,
edited (``m.replace``) by the author's ghost; the title is kept in the thread row.
Other thread settings (archiving, locking, a member joining) change nothing visible
and send nothing. A post whose root is a Matrix user's message (created from Matrix)
is never edited: only its title is kept.

At each gateway session, a forum's active posts that Matrix has not seen yet, and
that are newer than the newest post it has seen, are read back whole (starter
first): so a post created while the bridge was away arrives with its replies. A
forum with no post relayed yet is not read back (as a channel with no message
relayed yet: bridging starts now, the history import is for the past).
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_message import convert_text, relay_discord_message
from bridge.actions.d2m_thread import forum_of, relay_discord_thread_update
from bridge.actions.puppets import sync_puppet
from bridge.convert.d2m.forum import PostHeader, applied, post_root
from bridge.db.messages import text_digest
from bridge.i18n import translator
from bridge.ids import ChannelID, MessageID
from bridge.model import DiscordMessage, DiscordThread

log = logging.getLogger(__name__)

# Posts read back per forum and per gateway session (newest), and messages per post.
POSTS = 20
POST_MESSAGES = 500


async def starter_of(ctx: BridgeContext, thread_id: ChannelID) -> DiscordMessage | None:
    """A post's first message, read back from Discord (it has the post's ID)."""
    found = await ctx.discord.messages_after(thread_id, MessageID(thread_id - 1), 1)
    return found[0] if found and int(found[0].id) == int(thread_id) else None


async def relay_thread_update(ctx: BridgeContext, thread: DiscordThread) -> bool:
    """THREAD_UPDATE: a post's root edited for a new title or new tags; other threads'
    renames as :func:`relay_discord_thread_update` does. True if an edit was sent."""
    row = await ctx.stores.threads.by_thread(thread.id)
    forum = await forum_of(ctx, thread.parent_id) if row is not None else None
    if row is None or forum is None:
        return await relay_discord_thread_update(ctx, thread)
    root = next(
        (
            r
            for r in await ctx.stores.messages.by_discord(MessageID(thread.id))
            if r.part == 0 and r.origin == "discord" and r.event_id == row.root_event_id
        ),
        None,
    )
    if root is None:  # a bot's root (no starter), or a Matrix user's post
        return await relay_discord_thread_update(ctx, thread)
    if thread.name != row.name:
        await ctx.stores.threads.set_name(thread.id, thread.name)
    portal = await ctx.stores.portals.by_room(row.room_id)
    starter = await starter_of(ctx, thread.id)
    if portal is None or starter is None:
        return False  # the starter is gone: nothing to rebuild the root from
    header = PostHeader(thread.name, applied(thread.applied_tags, forum.tags))
    starter_text = await convert_text(ctx, starter, portal, with_reply=False)
    text = post_root(header, starter_text, translator(ctx.config.bridge.language))
    digest = text_digest(text.body, text.formatted_body)
    if digest == root.text_digest:
        return False  # archived, locked, joined ...: nothing shown changed
    ghost = await sync_puppet(ctx, starter.author)
    edit = await ctx.matrix.send_edit(row.room_id, ghost, row.root_event_id, text, None)
    await ctx.stores.messages.set_digest(starter.id, digest)
    log.info(
        "d2m.post-updated post=%s root=%s edit=%s tags=%s",
        thread.id,
        row.root_event_id,
        edit,
        len(header.tags),
    )
    return True


async def backfill_posts(ctx: BridgeContext, forum_id: ChannelID) -> int:
    """A forum's active posts created while away (see the module's docstring), relayed
    with their messages; returns how many messages were relayed."""
    if await forum_of(ctx, forum_id) is None:
        return 0
    known = await ctx.stores.threads.in_parent(forum_id)
    if not known:
        return 0
    newest = max(t.thread_channel_id for t in known)
    posts = sorted(
        (t for t in await ctx.discord.active_threads(forum_id) if t.id > newest),
        key=lambda t: t.id,
    )
    relayed = 0
    for post in posts[-POSTS:]:
        history = await ctx.discord.messages_after(post.id, MessageID(post.id - 1), POST_MESSAGES)
        for message in history:
            if await relay_discord_message(ctx, message) is not None:
                relayed += 1
    if posts:
        log.info(
            "d2m.posts-backfilled forum=%s posts=%s messages=%s", forum_id, len(posts), relayed
        )
    return relayed
