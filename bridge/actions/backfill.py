"""Backfill: what happened on Discord while the bridge was not listening.

After a restart or a new gateway session (re-IDENTIFY), each channel's
history after the last relayed message is read back from Discord and relayed
with its original timestamps; the message map keeps anything from being
relayed twice. The last ``WINDOW`` relayed messages are compared too: edits
made meanwhile are relayed, messages deleted meanwhile are redacted, and polls
that ended meanwhile are ended on Matrix (votes changed meanwhile are not read back).
The reactions of every message read back (the window and the new ones) are
reconciled with the ghost reactions relayed for them: reactions added meanwhile
are relayed, removed ones redacted (:mod:`bridge.actions.backfill_reactions`,
which reads who reacted only where a count differs, within its own bounds).
The channel's bridged threads are read back the same way, the most recent
``THREADS`` of them (older ones reach Matrix when next active); a forum's posts
created meanwhile are read back whole (:func:`bridge.actions.d2m_forum.backfill_posts`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bridge.actions.backfill_reactions import backfill_reactions
from bridge.actions.context import BridgeContext
from bridge.actions.d2m_delete import relay_discord_deletion
from bridge.actions.d2m_edit import relay_discord_edit
from bridge.actions.d2m_forum import backfill_posts
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_poll import relay_discord_poll_end
from bridge.ids import ChannelID, MessageID
from bridge.model import DiscordDeletion

log = logging.getLogger(__name__)

# Relayed messages re-read to find edits and deletions made while away.
WINDOW = 50
# New messages read back per channel and per start (a longer outage: history import).
LIMIT = 2000
# Bridged threads read back per channel and per start, newest first.
THREADS = 20


@dataclass(frozen=True)
class Backfilled:
    new: int = 0
    edited: int = 0
    deleted: int = 0
    reactions_added: int = 0
    reactions_removed: int = 0

    def __add__(self, other: Backfilled) -> Backfilled:
        return Backfilled(
            self.new + other.new,
            self.edited + other.edited,
            self.deleted + other.deleted,
            self.reactions_added + other.reactions_added,
            self.reactions_removed + other.reactions_removed,
        )


async def backfill_with_threads(ctx: BridgeContext, channel_id: ChannelID) -> Backfilled:
    """The channel, then its most recent bridged threads (in the channel's queue, as
    live thread messages are)."""
    total = await backfill_channel(ctx, channel_id)
    total += Backfilled(new=await backfill_posts(ctx, channel_id))
    threads = sorted(
        await ctx.stores.threads.in_parent(channel_id),
        key=lambda t: t.thread_channel_id,
        reverse=True,
    )
    for thread in threads[:THREADS]:
        total += await backfill_channel(ctx, thread.thread_channel_id)
    return total


async def backfill_channel(ctx: BridgeContext, channel_id: ChannelID) -> Backfilled:
    window = dict(await ctx.stores.messages.discord_window(channel_id, WINDOW))
    if window:
        after = MessageID(min(window) - 1)  # from the oldest message of the window on
    else:
        last = await ctx.stores.messages.last_in_channel(channel_id)
        if last is None:
            return Backfilled()  # nothing relayed here yet: nothing to catch up with
        after = last.discord_message_id
    history = await ctx.discord.messages_after(channel_id, after, LIMIT + len(window))
    new = edited = 0
    for message in history:
        if message.id not in window:
            if await ctx.stores.protection_held.contains(message.id):
                continue  # a protection held it back (moderation.protections)
            if await relay_discord_message(ctx, message) is not None:
                new += 1
            continue
        if message.poll is not None and message.poll.finalized:  # ended while away: once
            await relay_discord_poll_end(ctx, message)
        relayed_edit = window[message.id]
        if message.edited_ms is not None and (
            relayed_edit is None or message.edited_ms > relayed_edit
        ):
            if await relay_discord_edit(ctx, message) is not None:
                edited += 1
    # An empty answer may be a channel the bot cannot read: never a reason to redact.
    present = {m.id for m in history}
    gone = tuple(sorted(m for m in window if m not in present)) if history else ()
    if gone:
        deletion = DiscordDeletion(channel_id, None, gone)
        await relay_discord_deletion(ctx, deletion)
    reactions = await backfill_reactions(ctx, history)
    if new or edited or gone or reactions.added or reactions.removed or reactions.deferred:
        log.info(
            "d2m.backfilled channel=%s new=%s edited=%s deleted=%s reactions_added=%s"
            " reactions_removed=%s reactions_read=%s reactions_deferred=%s",
            channel_id,
            new,
            edited,
            len(gone),
            reactions.added,
            reactions.removed,
            reactions.fetched,
            reactions.deferred,
        )
    return Backfilled(new, edited, len(gone), reactions.added, reactions.removed)
