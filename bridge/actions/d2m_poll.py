"""Relay Discord polls as Matrix polls (MSC3381): the start, each vote change, the end.

The start is sent by the author's ghost with the message (see d2m_message) and
recorded in the message map as part :data:`POLL_PART`, so replies, deletion and
reactions reach it like a text part, and in the ``poll`` table. A vote change is
the voter's ghost's response carrying all their current answers (kept in
``poll_vote``: multi-select, restarts). The end, once Discord has finalized the
poll (MESSAGE_UPDATE, or the POLL_RESULT system message), is sent once by the
author's ghost with the final counts.

Matrix users' votes cannot cross (webhooks cannot vote): see m2d_poll.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_media import Relation, d2m_txn_id
from bridge.actions.puppets import sync_puppet
from bridge.convert.d2m.poll import (
    POLL_END,
    POLL_RESPONSE,
    POLL_START,
    poll_end_content,
    poll_response_content,
    poll_start_content,
)
from bridge.db import MessageRow, PollRow, PortalRow
from bridge.i18n import translator
from bridge.ids import EventID, MessageID, UserID
from bridge.model import DiscordMessage, DiscordPollVote, relates_to

log = logging.getLogger(__name__)

# The message map part of a poll start: after the text (0), apart from files (1..N).
POLL_PART = 100


async def relay_poll_start(
    ctx: BridgeContext,
    message: DiscordMessage,
    portal: PortalRow,
    ghost: UserID,
    thread: Relation | None = None,
) -> EventID | None:
    """Send the message's poll as a Matrix poll from ``ghost``; None if it has none."""
    poll = message.poll
    if poll is None:
        return None
    relation = (
        relates_to(None, thread.thread_root, thread.thread_latest) if thread is not None else None
    )
    event_id = await ctx.matrix.send_event(
        portal.room_id,
        ghost,
        POLL_START,
        poll_start_content(poll, relation, translator(ctx.config.bridge.language)),
        message.timestamp_ms,
        txn_id=d2m_txn_id(message, POLL_PART),
    )
    await ctx.stores.messages.insert(
        MessageRow(
            discord_message_id=message.id,
            part=POLL_PART,
            discord_channel_id=message.channel_id,
            room_id=portal.room_id,
            event_id=event_id,
            origin="discord",
        )
    )
    await ctx.stores.polls.insert(
        PollRow(message.id, message.channel_id, portal.room_id, event_id, message.author.id)
    )
    log.info("d2m.poll-started message=%s event=%s", message.id, event_id)
    if poll.finalized:  # read back by backfill after it ended
        await relay_discord_poll_end(ctx, message)
    return event_id


async def _bridged(ctx: BridgeContext, row: PollRow) -> bool:
    """Whether the poll's room is still the portal of a bridged channel."""
    portal = await ctx.stores.portals.by_room(row.room_id)
    if portal is not None and ctx.config.bridge.channel(portal.discord_channel_id) is not None:
        return True
    log.debug("d2m.poll-skipped message=%s reason=unbridged", row.discord_message_id)
    return False


async def _voter_ghost(ctx: BridgeContext, vote: DiscordPollVote) -> UserID:
    if vote.voter is not None:
        return await sync_puppet(ctx, vote.voter)
    ghost = ctx.namer.ghost_mxid(vote.user_id)
    if await ctx.stores.puppets.get(vote.user_id) is None:
        await ctx.matrix.ensure_ghost(ghost, None, None)
    return ghost


async def relay_discord_poll_vote(ctx: BridgeContext, vote: DiscordPollVote) -> EventID | None:
    """The voter's current answers as a poll response; None when nothing is sent (a
    poll not bridged or over, a vote already relayed)."""
    if vote.guild_id not in ctx.config.discord.guild_ids:
        return None
    poll = await ctx.stores.polls.get(vote.message_id)
    if poll is None:
        log.debug("d2m.poll-vote-skipped message=%s reason=unmapped", vote.message_id)
        return None
    if poll.end_event_id is not None:
        log.debug("d2m.poll-vote-skipped message=%s reason=ended", vote.message_id)
        return None
    if not await _bridged(ctx, poll):
        return None
    before = await ctx.stores.polls.votes_of(vote.message_id, vote.user_id)
    if (vote.answer_id in before) == vote.added:
        log.debug("d2m.poll-vote-duplicate message=%s user=%s", vote.message_id, vote.user_id)
        return None
    current = set(before) | {vote.answer_id} if vote.added else set(before) - {vote.answer_id}
    ghost = await _voter_ghost(ctx, vote)
    await ctx.matrix.ensure_in_room(poll.room_id, ghost)
    event_id = await ctx.matrix.send_event(
        poll.room_id,
        ghost,
        POLL_RESPONSE,
        poll_response_content(poll.start_event_id, current, poll.answer_ids),
        None,
    )
    # Stored once sent: a retry after a failed send sends it again.
    await ctx.stores.polls.set_vote(vote.message_id, vote.user_id, vote.answer_id, vote.added)
    log.info(
        "d2m.poll-vote message=%s user=%s answers=%s event=%s",
        vote.message_id,
        vote.user_id,
        sorted(current),
        event_id,
    )
    return event_id


async def relay_discord_poll_end(ctx: BridgeContext, message: DiscordMessage) -> EventID | None:
    """A MESSAGE_UPDATE with the poll's final results: the poll end, sent once."""
    poll = message.poll
    if poll is None or not poll.finalized:
        return None
    row = await ctx.stores.polls.get(message.id)
    if row is None:
        log.debug("d2m.poll-end-skipped message=%s reason=unmapped", message.id)
        return None
    if row.end_event_id is not None:
        log.debug("d2m.poll-end-skipped message=%s reason=already-ended", message.id)
        return None
    if not await _bridged(ctx, row):
        return None
    if row.from_matrix:  # its creator is no ghost: the bot (room moderator) ends it
        ghost = ctx.namer.bot_mxid
    elif message.author.id == row.author_id:
        ghost = await sync_puppet(ctx, message.author)
    else:  # a partial update without its author
        ghost = ctx.namer.ghost_mxid(row.author_id)
    await ctx.matrix.ensure_in_room(row.room_id, ghost)
    event_id = await ctx.matrix.send_event(
        row.room_id,
        ghost,
        POLL_END,
        poll_end_content(row.start_event_id, poll, translator(ctx.config.bridge.language)),
        None,
        txn_id=f"passerelle.d2m.{message.id}.poll-end",
    )
    await ctx.stores.polls.set_ended(message.id, event_id)
    log.info("d2m.poll-ended message=%s event=%s", message.id, event_id)
    return event_id


async def relay_poll_result(ctx: BridgeContext, result: DiscordMessage) -> EventID | None:
    """A POLL_RESULT system message (type 46), Discord's notice that a poll ended: the
    poll's end, from the poll message's final results read back, unless already sent
    (the MESSAGE_UPDATE with those results usually comes first). The notice itself is
    not relayed."""
    poll_id = result.poll_result_of
    if poll_id is None:
        return None
    row = await ctx.stores.polls.get(poll_id)
    if row is None or row.end_event_id is not None:
        log.debug("d2m.poll-result-skipped message=%s poll=%s", result.id, poll_id)
        return None
    found = await ctx.discord.messages_after(
        row.discord_channel_id, MessageID(poll_id - 1), 1, until=poll_id
    )
    poll_message = next((m for m in found if m.id == poll_id), None)
    if poll_message is None or poll_message.poll is None or not poll_message.poll.finalized:
        log.info("d2m.poll-result-unread message=%s poll=%s", result.id, poll_id)
        return None
    return await relay_discord_poll_end(ctx, poll_message)
