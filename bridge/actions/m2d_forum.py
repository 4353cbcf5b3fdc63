"""Matrix -> a forum or media channel: a message outside any thread starts a post.

Discord takes no message in a forum (or media) channel itself, only in its posts
(threads). A Matrix reply in a post's thread goes into the post like any thread
message (:mod:`bridge.actions.m2d_thread`); a message sent in the forum's room
outside any thread creates a new post through the forum's webhook (``thread_name``),
titled after its first line (:func:`bridge.convert.m2d.forum.post_title`). The
Matrix event becomes the root of the post's Matrix thread: replies to it in Element
reach the post, and Discord answers come back into that thread. Further parts of a
long message follow in the post.
"""

from __future__ import annotations

import dataclasses
import logging

from bridge.actions.context import BridgeContext
from bridge.actions.webhooks import execute_send, send_once
from bridge.convert.m2d.forum import post_title
from bridge.db import MessageRow, PortalRow, ThreadRow
from bridge.i18n import translator
from bridge.ids import ChannelID, MessageID
from bridge.model import DiscordSend, MatrixMessage

log = logging.getLogger(__name__)


async def send_part(
    ctx: BridgeContext,
    portal: PortalRow,
    channel_id: ChannelID,
    send: DiscordSend,
    message: MatrixMessage,
    part: int = 0,
    new: list[MessageID] | None = None,
) -> tuple[MessageID, ChannelID]:
    """Post part ``part`` of a Matrix event in ``channel_id`` (once: see
    :func:`send_once`); in a forum, part 0 creates a post. Returns the Discord message
    and the channel the next parts go to (the post, after its creation); ``new`` gets
    the message only if it was posted now (not found mapped)."""
    if channel_id == portal.discord_channel_id and await is_forum_channel(ctx, channel_id):
        post = await create_post(ctx, channel_id, send, message, new)
        return MessageID(post), post
    sent = await send_once(ctx, channel_id, send, message.room_id, message.event_id, part, new)
    return sent, channel_id


async def is_forum_channel(ctx: BridgeContext, channel_id: ChannelID) -> bool:
    channel = await ctx.discord.channel(channel_id)
    return channel is not None and channel.is_forum


async def create_post(
    ctx: BridgeContext,
    forum_id: ChannelID,
    send: DiscordSend,
    message: MatrixMessage,
    new: list[MessageID] | None = None,
) -> ChannelID:
    """A new post of the forum whose first message is ``send``; the event is its root.

    Done once per event: a retry finds the post in the message map."""
    for row in await ctx.stores.messages.by_event(message.event_id):
        if row.event_part == 0:
            return row.discord_channel_id
    title = post_title(message.body, translator(ctx.config.bridge.language))
    sent = await execute_send(ctx, forum_id, dataclasses.replace(send, thread_name=title))
    post = ChannelID(sent)  # the starter message has the post's ID
    await ctx.stores.threads.insert(
        ThreadRow(post, forum_id, message.room_id, message.event_id, "matrix", name=title)
    )
    await ctx.stores.messages.insert(
        MessageRow(sent, 0, post, message.room_id, message.event_id, "matrix", 0)
    )
    if new is not None:
        new.append(sent)
    log.info(
        "m2d.post-created event=%s forum=%s post=%s title_chars=%s",
        message.event_id,
        forum_id,
        post,
        len(title),
    )
    return post
