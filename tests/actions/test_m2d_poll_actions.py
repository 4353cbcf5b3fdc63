"""Polls started in Matrix, relayed to Discord, with fake networks and a real (SQLite)
database: the webhook poll, its message map and poll row, Discord votes coming back
with the Matrix answer IDs, redaction, the text fallback, and the creator's end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.actions.d2m_poll import relay_discord_poll_end, relay_discord_poll_vote
from bridge.actions.m2d_poll import relay_matrix_poll_end, relay_matrix_poll_start
from bridge.actions.m2d_redact import relay_matrix_redaction
from bridge.actions.portals import ensure_portal
from bridge.convert.d2m.poll import POLL_END, POLL_RESPONSE
from bridge.db import PortalRow
from bridge.ids import DiscordUserID, EventID, MessageID, RoomID, UserID
from bridge.model import (
    DiscordAuthor,
    DiscordMessage,
    DiscordPoll,
    DiscordPollAnswer,
    DiscordPollCreate,
    DiscordPollVote,
    MatrixPollEnd,
    MatrixPollStart,
    MatrixRedaction,
)
from tests.actions.fakes import CHANNEL, GUILD, fake_context

ALICE = UserID("@alice:example.org")
CAROL = DiscordUserID(2000000000000000003)
CAROL_GHOST = "@_discord_2000000000000000003:example.org"
START = EventID("$poll")


def alice_poll(room: RoomID, answers: int = 2, sender: UserID = ALICE) -> MatrixPollStart:
    return MatrixPollStart(
        room,
        START,
        sender,
        "Where next?",
        tuple((f"matrix-{n}", f"Answer {n}") for n in range(1, answers + 1)),
        max_selections=1,
    )


async def portal_of(ctx: object) -> PortalRow:
    portal = await ensure_portal(ctx, CHANNEL)  # type: ignore[arg-type]
    assert portal is not None
    return portal


def vote(message: MessageID, answer: int, added: bool = True) -> DiscordPollVote:
    return DiscordPollVote(CHANNEL, GUILD, message, CAROL, answer, added)


async def test_a_matrix_poll_is_posted_as_a_webhook_poll_and_votes_come_back(
    tmp_path: Path,
) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await portal_of(ctx)
        matrix.names[(portal.room_id, ALICE)] = "Alice Liddell"
        [message_id] = await relay_matrix_poll_start(ctx, alice_poll(portal.room_id))
        [(hook_id, send)] = discord.executed
        assert send.username == "Alice Liddell (Matrix)"
        assert send.poll == DiscordPollCreate("Where next?", ("Answer 1", "Answer 2"), 24, False)
        assert hook_id in ctx.own_webhooks
        [row] = await ctx.stores.messages.by_event(START)
        assert (row.discord_message_id, row.origin) == (message_id, "matrix")
        poll = await ctx.stores.polls.get(MessageID(message_id))
        assert poll is not None and poll.start_event_id == START
        assert poll.answer_ids == ("matrix-1", "matrix-2") and poll.author_id == hook_id
        # A replay posts nothing more.
        assert await relay_matrix_poll_start(ctx, alice_poll(portal.room_id)) == [message_id]
        assert len(discord.executed) == 1

        # Carol votes on Discord for answer 2: her ghost answers with Alice's answer ID.
        assert await relay_discord_poll_vote(ctx, vote(message_id, 2)) is not None
        [(_room, sender, kind, content, _)] = matrix.events
        assert (sender, kind) == (CAROL_GHOST, POLL_RESPONSE)
        assert content["m.relates_to"] == {"rel_type": "m.reference", "event_id": START}
        assert content[POLL_RESPONSE] == {"answers": ["matrix-2"]}


async def test_the_poll_configured_duration_is_used(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        portal = await portal_of(ctx)
        bridge = replace(ctx.config.bridge, poll_duration_hours=72)
        ctx.config = replace(ctx.config, bridge=bridge)
        await relay_matrix_poll_start(ctx, alice_poll(portal.room_id))
        [(_, send)] = discord.executed
        assert send.poll is not None and send.poll.duration_hours == 72


async def test_ghost_polls_and_unbridged_rooms_are_not_posted(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        portal = await portal_of(ctx)
        ghost = UserID("@_discord_2000000000000000002:example.org")
        assert await relay_matrix_poll_start(ctx, alice_poll(portal.room_id, sender=ghost)) == []
        assert await relay_matrix_poll_start(ctx, alice_poll(RoomID("!other:x"))) == []
        assert discord.executed == []


async def test_more_than_ten_answers_is_text_without_a_poll_row(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        portal = await portal_of(ctx)
        [message_id] = await relay_matrix_poll_start(ctx, alice_poll(portal.room_id, 11))
        [(_, send)] = discord.executed
        assert send.poll is None and "11. Answer 11" in send.content
        assert await ctx.stores.polls.get(MessageID(message_id)) is None
        assert [r.discord_message_id for r in await ctx.stores.messages.by_event(START)] == [
            message_id
        ]


async def test_redacting_the_start_deletes_the_discord_poll(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await portal_of(ctx)
        [message_id] = await relay_matrix_poll_start(ctx, alice_poll(portal.room_id))
        matrix.senders[START] = ALICE
        redaction = MatrixRedaction(portal.room_id, EventID("$redact"), ALICE, START)
        assert await relay_matrix_redaction(ctx, redaction) == [message_id]
        assert discord.deleted == [("webhook", message_id)]


async def test_the_creators_end_asks_discord_and_stops_relaying_votes(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await portal_of(ctx)
        [message_id] = await relay_matrix_poll_start(ctx, alice_poll(portal.room_id))
        matrix.senders[START] = ALICE
        end = MatrixPollEnd(portal.room_id, EventID("$end"), ALICE, START)
        # Someone else's end is not the creator's: nothing asked of Discord.
        other = MatrixPollEnd(portal.room_id, EventID("$x"), UserID("@eve:example.org"), START)
        assert await relay_matrix_poll_end(ctx, other) is False
        assert discord.ended_polls == []
        # Discord refuses a webhook's poll (only the author may end a poll): logged.
        assert await relay_matrix_poll_end(ctx, end) is False
        assert discord.ended_polls == [(CHANNEL, message_id)]
        row = await ctx.stores.polls.get(MessageID(message_id))
        assert row is not None and row.end_event_id == "$end"
        # Over in Matrix: later Discord votes and Discord's own end are not relayed,
        # and a second end asks nothing more.
        assert await relay_discord_poll_vote(ctx, vote(message_id, 1)) is None
        assert await relay_matrix_poll_end(ctx, end) is False
        assert len(discord.ended_polls) == 1
        assert matrix.events == []


async def test_the_creators_end_when_discord_allows_it(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await portal_of(ctx)
        [message_id] = await relay_matrix_poll_start(ctx, alice_poll(portal.room_id))
        matrix.senders[START] = ALICE
        discord.may_end_polls = True
        end = MatrixPollEnd(portal.room_id, EventID("$end"), ALICE, START)
        assert await relay_matrix_poll_end(ctx, end) is True
        assert discord.ended_polls == [(CHANNEL, message_id)]


async def test_discord_ending_a_matrix_poll_is_sent_by_the_bot(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await portal_of(ctx)
        [message_id] = await relay_matrix_poll_start(ctx, alice_poll(portal.room_id))
        [(hook_id, _)] = discord.executed
        webhook_author = DiscordAuthor(DiscordUserID(hook_id), "Alice Liddell (Matrix)")
        final = DiscordPoll(
            "Where next?",
            (DiscordPollAnswer(1, "Answer 1", 0), DiscordPollAnswer(2, "Answer 2", 1)),
            finalized=True,
        )
        message = DiscordMessage(
            id=MessageID(message_id),
            channel_id=CHANNEL,
            guild_id=GUILD,
            author=webhook_author,
            content="",
            timestamp_ms=1,
            poll=final,
        )
        assert await relay_discord_poll_end(ctx, message) is not None
        [(_room, sender, kind, content, _)] = matrix.events
        assert (sender, kind) == (ctx.namer.bot_mxid, POLL_END)
        assert content["m.relates_to"]["event_id"] == START
        assert ctx.namer.ghost_mxid(DiscordUserID(hook_id)) not in matrix.ghosts
