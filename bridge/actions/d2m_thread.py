"""Discord threads -> Matrix threads (``m.thread``) in the parent channel's portal room.

A thread started from a message has that message's ID, so its Matrix thread is
rooted at the event the starter message was relayed as (found in the message
map). A thread without a bridged starter (``POST /channels/{id}/threads``, or a
starter that was never relayed) gets a root sent by the bridge bot,
"Thread: <name>". Either way the link is recorded in ``stores.threads`` so that
every later message of the thread, and Matrix replies in it, find it.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.portals import ensure_portal
from bridge.db import PortalRow, ThreadRow
from bridge.ids import ChannelID, EventID, MessageID
from bridge.model import DiscordMessage, DiscordThread, MatrixText

log = logging.getLogger(__name__)


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
        root = await ctx.matrix.send_text(portal.room_id, ctx.namer.bot_mxid, root_text(name), None)
        log.info("d2m.thread-root-sent thread=%s room=%s event=%s", thread_id, portal.room_id, root)
    row = await ctx.stores.threads.insert(
        ThreadRow(thread_id, parent_id, portal.room_id, root, "discord")
    )
    log.info(
        "d2m.thread-linked thread=%s parent=%s room=%s root=%s",
        thread_id,
        parent_id,
        portal.room_id,
        row.root_event_id,
    )
    return row


def root_text(name: str | None) -> MatrixText:
    """The root the bot sends for a thread without a bridged starter message."""
    return MatrixText(body=f"Thread: {name or 'unnamed'}", msgtype="m.notice")


async def relay_discord_thread(ctx: BridgeContext, thread: DiscordThread) -> ThreadRow | None:
    """THREAD_CREATE: a new thread of a bridged channel gets its Matrix thread now."""
    if thread.guild_id is not None and thread.guild_id != ctx.config.discord.guild_id:
        return None
    if ctx.config.bridge.channel(thread.parent_id) is None:
        return None
    portal = await ensure_portal(ctx, thread.parent_id)
    if portal is None:
        return None
    return await ensure_thread_root(ctx, thread.id, thread.parent_id, portal, thread.name)


async def sent_in_thread(ctx: BridgeContext, thread_id: ChannelID, event_id: EventID) -> None:
    """Remember the latest event of the thread (the next one's reply fallback)."""
    await ctx.stores.threads.set_last_event(thread_id, event_id)
