"""Matrix threads (``m.thread``) -> Discord threads of the portal's channel.

A Matrix message in a thread whose root is bridged to a Discord message goes
into that message's Discord thread, started by the bot when there is none yet
(named after the root's text). The bridge posts into threads through the
*parent* channel's webhook with ``thread_id``: Discord has no webhooks on
threads. Messages posted in a thread are recorded in the message map with the
thread's ID as their channel, and :func:`webhook_target` turns that back into
(webhook channel, thread) for edits and deletions.
"""

from __future__ import annotations

import logging
import re

from bridge.actions.context import BridgeContext
from bridge.convert.m2d.html import strip_reply_fallback
from bridge.db import PortalRow, ThreadRow
from bridge.ids import ChannelID
from bridge.model import MatrixMessage

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 50
WHITESPACE = re.compile(r"\s+")


def thread_name(root_body: str | None) -> str:
    """The name of a thread the bridge starts: the first 50 characters of the root's text."""
    if not root_body:
        return "Thread"
    text = WHITESPACE.sub(" ", strip_reply_fallback(root_body)).strip()
    return text[:THREAD_NAME_MAX].rstrip() or "Thread"


async def webhook_target(
    ctx: BridgeContext, channel_id: ChannelID
) -> tuple[ChannelID, ChannelID | None]:
    """(channel whose webhook posts, thread to post in) for a message-map channel ID."""
    if await ctx.stores.portals.by_channel(channel_id) is not None:
        return channel_id, None  # a bridged channel is no thread (portals are in memory)
    row = await ctx.stores.threads.by_thread(channel_id)
    if row is None:
        return channel_id, None
    return row.parent_channel_id, row.thread_channel_id


async def thread_channel(
    ctx: BridgeContext, message: MatrixMessage, portal: PortalRow
) -> ChannelID | None:
    """The Discord thread for a Matrix message in an ``m.thread``; None posts it in
    the channel itself (the root is not bridged, or the thread cannot be started)."""
    root = message.thread_root
    if root is None:
        return None
    row = await ctx.stores.threads.by_root(message.room_id, root)
    if row is not None:
        return row.thread_channel_id
    starters = [
        r
        for r in await ctx.stores.messages.by_event(root, message.room_id)
        if r.discord_channel_id == portal.discord_channel_id
    ]
    if not starters:
        log.info("m2d.thread-root-not-bridged event=%s root=%s", message.event_id, root)
        return None
    starter = starters[0]  # the first Discord message of the root event
    original = await ctx.matrix.fetch_message(message.room_id, root)
    name = thread_name(original.body if original is not None else None)
    try:
        thread_id = await ctx.discord.create_thread(
            portal.discord_channel_id, starter.discord_message_id, name
        )
    except Exception:
        log.exception(
            "m2d.thread-create-failed channel=%s message=%s",
            portal.discord_channel_id,
            starter.discord_message_id,
        )
        return None
    row = await ctx.stores.threads.insert(
        ThreadRow(thread_id, portal.discord_channel_id, message.room_id, root, "matrix", name=name)
    )
    log.info(
        "m2d.thread-started root=%s channel=%s thread=%s",
        root,
        portal.discord_channel_id,
        row.thread_channel_id,
    )
    return row.thread_channel_id
