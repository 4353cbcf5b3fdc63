"""Matrix polls (MSC3381) on Discord: a poll start becomes a Discord poll posted by the
channel webhook under the sender's name, its creator's poll end asks Discord to end it.

The Discord poll is in the message map (redacting the start deletes it) and in the
``poll`` table with the Matrix answer IDs, so Discord votes come back as the voters'
ghosts' poll responses (d2m_poll). A poll of more than 10 answers is posted as text
(no poll, no votes). Discord lets only a poll's author end it early, and the author of
a webhook's message is the webhook, which has no route to end polls: Discord refuses
the bot, so the poll stays open on Discord until it expires (logged); from the Matrix
end on, Discord votes are no longer relayed.

Matrix users' votes cannot cross (webhooks cannot vote): dropped, logged at debug.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_sender import sender_avatar_url, sender_name
from bridge.actions.webhooks import channel_webhook, send_once
from bridge.convert.d2m.poll import MATRIX_VOTE_TYPES
from bridge.convert.m2d.poll import matrix_poll_to_discord
from bridge.db import PollRow
from bridge.ids import DiscordUserID, MessageID
from bridge.model import MatrixPollEnd, MatrixPollStart

log = logging.getLogger(__name__)


def ignore_matrix_vote(event_type: object, event_id: object, sender: object) -> bool:
    """True for a Matrix user's poll vote: dropped, logged at debug level. A bridged
    poll's start says to vote on Discord."""
    if event_type not in MATRIX_VOTE_TYPES:
        return False
    log.debug("m2d.skipped event=%s sender=%s reason=poll-vote", event_id, sender)
    return True


async def relay_matrix_poll(ctx: BridgeContext, event: MatrixPollStart | MatrixPollEnd) -> None:
    if isinstance(event, MatrixPollStart):
        await relay_matrix_poll_start(ctx, event)
    else:
        await relay_matrix_poll_end(ctx, event)


async def relay_matrix_poll_start(ctx: BridgeContext, poll: MatrixPollStart) -> list[MessageID]:
    """Post the poll (or its text) on Discord; the Discord message IDs (empty: not relayed).

    Safe to retry: parts already posted are not posted again, the poll row is kept once."""
    if ctx.namer.is_bridge_owned(poll.sender):
        return []  # a ghost's poll came from Discord
    portal = await ctx.stores.portals.by_room(poll.room_id)
    if portal is None:
        return []
    sends = matrix_poll_to_discord(
        poll,
        await sender_name(ctx, poll.room_id, poll.sender),
        await sender_avatar_url(ctx, poll.room_id, poll.sender),
        ctx.config.bridge.poll_duration_hours,
    )
    channel_id = portal.discord_channel_id
    created = [
        await send_once(ctx, channel_id, send, poll.room_id, poll.event_id, part)
        for part, send in enumerate(sends)
    ]
    if sends and sends[0].poll is not None:
        webhook = await channel_webhook(ctx, channel_id)  # the Discord author of the poll
        await ctx.stores.polls.insert(
            PollRow(
                created[0],
                channel_id,
                poll.room_id,
                poll.event_id,
                DiscordUserID(webhook.webhook_id),
                answer_ids=tuple(answer_id for answer_id, _ in poll.answers),
            )
        )
    log.info(
        "m2d.poll-started event=%s channel=%s messages=%s as_poll=%s",
        poll.event_id,
        channel_id,
        ",".join(str(i) for i in created),
        bool(sends and sends[0].poll is not None),
    )
    return created


async def relay_matrix_poll_end(ctx: BridgeContext, end: MatrixPollEnd) -> bool:
    """The creator of a poll started in Matrix ends it: ask Discord to end it too. True
    when Discord ended it. Either way Discord votes are no longer relayed."""
    row = await ctx.stores.polls.by_start(end.start)
    if row is None or not row.from_matrix or row.room_id != end.room_id:
        log.debug("m2d.poll-end-skipped event=%s reason=not-a-matrix-poll", end.event_id)
        return False
    if row.end_event_id is not None:
        log.debug("m2d.poll-end-skipped event=%s reason=already-ended", end.event_id)
        return False
    creator = await ctx.matrix.event_sender(end.room_id, end.start)
    if creator != end.sender:
        log.info("m2d.poll-end-skipped event=%s reason=not-the-creator", end.event_id)
        return False
    ended = await ctx.discord.end_poll(row.discord_channel_id, row.discord_message_id)
    await ctx.stores.polls.set_ended(row.discord_message_id, end.event_id)
    if ended:
        log.info("m2d.poll-ended event=%s message=%s", end.event_id, row.discord_message_id)
    else:
        log.warning(
            "m2d.poll-end-refused event=%s message=%s reason=discord-refuses-webhook-poll"
            " (it stays open on Discord until it expires)",
            end.event_id,
            row.discord_message_id,
        )
    return ended
