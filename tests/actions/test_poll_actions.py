"""Discord polls relayed to Matrix, with fake networks and a real (SQLite) database:
the start, votes (add, remove, multi-select, across a restart), the end (once), and
Matrix votes ignored."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bridge.actions.backfill import backfill_channel
from bridge.actions.d2m_delete import relay_discord_deletion
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_poll import (
    POLL_PART,
    relay_discord_poll_end,
    relay_discord_poll_vote,
)
from bridge.actions.m2d_poll import ignore_matrix_vote
from bridge.convert.d2m.poll import POLL_END, POLL_RESPONSE, POLL_START, TEXT
from bridge.ids import DiscordUserID, EventID, GuildID, MessageID
from bridge.model import (
    DiscordAuthor,
    DiscordDeletion,
    DiscordMessage,
    DiscordPoll,
    DiscordPollAnswer,
    DiscordPollVote,
)
from tests.actions.fakes import CHANNEL, GUILD, FakeMatrix, fake_context

BOB = DiscordAuthor(DiscordUserID(2000000000000000002), "bob", global_name="Bob")
CAROL = DiscordUserID(2000000000000000003)
BOB_GHOST = "@_discord_2000000000000000002:example.org"
CAROL_GHOST = "@_discord_2000000000000000003:example.org"
POLL_MSG = MessageID(700)


def the_poll(multi: bool = False, *, counts: tuple[int, int] = (0, 0)) -> DiscordPoll:
    return DiscordPoll(
        "Where next?",
        (DiscordPollAnswer(1, "Cave", counts[0]), DiscordPollAnswer(2, "Tower", counts[1])),
        allow_multiselect=multi,
    )


def poll_message(content: str = "", **kw: object) -> DiscordMessage:
    fields: dict[str, object] = {
        "id": POLL_MSG,
        "channel_id": CHANNEL,
        "guild_id": GUILD,
        "author": BOB,
        "content": content,
        "timestamp_ms": 1_700_000_000_000,
        "poll": the_poll(),
    }
    fields.update(kw)
    return DiscordMessage(**fields)  # type: ignore[arg-type]


def vote(
    answer: int, added: bool = True, user: DiscordUserID = CAROL, **kw: object
) -> DiscordPollVote:
    return DiscordPollVote(
        channel_id=CHANNEL,
        guild_id=kw.get("guild", GUILD),  # type: ignore[arg-type]
        message_id=kw.get("message", POLL_MSG),  # type: ignore[arg-type]
        user_id=user,
        answer_id=answer,
        added=added,
    )


def responses(matrix: FakeMatrix) -> list[tuple[str, list[str]]]:
    """(sender, answers) of every poll response sent."""
    return [
        (sender, content[POLL_RESPONSE]["answers"])
        for _, sender, kind, content, _ in matrix.events
        if kind == POLL_RESPONSE
    ]


async def test_poll_start_from_the_authors_ghost(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        event_id = await relay_discord_message(ctx, poll_message())
        assert matrix.sent == []  # no text part: the poll is the message
        [(_room, sender, kind, content, txn_id)] = matrix.events
        assert (sender, kind, event_id) == (BOB_GHOST, POLL_START, "$event1")
        start = content[POLL_START]
        assert start["question"] == {TEXT: "Where next?"}
        assert [(a["id"], a[TEXT]) for a in start["answers"]] == [("1", "Cave"), ("2", "Tower")]
        assert start["max_selections"] == 1
        assert txn_id == f"passerelle.d2m.{POLL_MSG}.{POLL_PART}"
        rows = await ctx.stores.messages.by_discord(POLL_MSG)
        assert [(r.part, r.event_id) for r in rows] == [(POLL_PART, "$event1")]
        assert (await ctx.stores.polls.get(POLL_MSG)) is not None
        # A replay sends nothing more.
        assert await relay_discord_message(ctx, poll_message()) is None
        assert len(matrix.events) == 1


async def test_poll_with_text_sends_both_and_replies_reach_the_poll(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        multi = poll_message("Vote please", poll=the_poll(multi=True))
        await relay_discord_message(ctx, multi)
        assert [t.body for _, _, t, _ in matrix.sent] == ["Vote please"]
        assert matrix.events[0][3][POLL_START]["max_selections"] == 2
        rows = await ctx.stores.messages.by_discord(POLL_MSG)
        assert [r.part for r in rows] == [0, POLL_PART]
    (tmp_path / "b").mkdir()
    async with fake_context(tmp_path / "b") as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message())
        reply = poll_message("Cave!", id=MessageID(701), poll=None, reply_to=POLL_MSG, type=19)
        await relay_discord_message(ctx, reply)
        assert matrix.sent[0][2].reply_to == EventID("$event1")


async def test_votes_add_remove_multiselect(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message(poll=the_poll(multi=True)))
        start = matrix.events[0][3]
        assert await relay_discord_poll_vote(ctx, vote(1)) is not None
        assert await relay_discord_poll_vote(ctx, vote(1)) is None  # already counted
        await relay_discord_poll_vote(ctx, vote(2))
        await relay_discord_poll_vote(ctx, vote(1, added=False))
        await relay_discord_poll_vote(ctx, vote(2, added=False))
        await relay_discord_poll_vote(ctx, vote(2, user=BOB.id))
        assert responses(matrix) == [
            (CAROL_GHOST, ["1"]),
            (CAROL_GHOST, ["1", "2"]),
            (CAROL_GHOST, ["2"]),
            (CAROL_GHOST, []),  # every vote removed: an empty response replaces the last
            (BOB_GHOST, ["2"]),
        ]
        relations = {c["m.relates_to"]["event_id"] for _, _, k, c, _ in matrix.events[1:]}
        assert relations == {"$event1"} and POLL_START in start
        assert all(
            c["m.relates_to"]["rel_type"] == "m.reference" for _, _, _, c, _ in matrix.events[1:]
        )
        assert (matrix.events[1][0], CAROL_GHOST) in matrix.joined
        assert CAROL_GHOST in matrix.ghosts  # a ghost for a voter never seen before


async def test_votes_not_relayed(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message())
        assert await relay_discord_poll_vote(ctx, vote(1, message=MessageID(999))) is None
        assert await relay_discord_poll_vote(ctx, vote(1, guild=GuildID(42))) is None
        assert await relay_discord_poll_vote(ctx, vote(1, added=False)) is None  # never voted
        assert responses(matrix) == []
        # The channel is no longer bridged: its poll's votes and end stay on Discord.
        ctx.config = replace(ctx.config, bridge=replace(ctx.config.bridge, channels=()))
        assert await relay_discord_poll_vote(ctx, vote(1)) is None
        ended = poll_message(poll=replace(the_poll(), finalized=True))
        assert await relay_discord_poll_end(ctx, ended) is None
        assert [k for _, _, k, _, _ in matrix.events] == [POLL_START]


async def test_restart_keeps_votes(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message(poll=the_poll(multi=True)))
        await relay_discord_poll_vote(ctx, vote(1))
    async with fake_context(tmp_path) as (ctx, matrix, _):  # same database, new process
        await relay_discord_poll_vote(ctx, vote(2))
        assert responses(matrix) == [(CAROL_GHOST, ["1", "2"])]


async def test_end_once_with_counts(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message())
        await relay_discord_poll_vote(ctx, vote(1))
        assert await relay_discord_poll_end(ctx, poll_message()) is None  # not finalized
        ended = poll_message(poll=replace(the_poll(counts=(1, 0)), finalized=True))
        event_id = await relay_discord_poll_end(ctx, ended)
        assert event_id is not None
        _, sender, kind, content, _ = matrix.events[-1]
        assert (sender, kind) == (BOB_GHOST, POLL_END)
        assert content["m.relates_to"] == {"rel_type": "m.reference", "event_id": "$event1"}
        assert "Cave: 1 vote\nTower: 0 votes" in content[TEXT]
        assert await relay_discord_poll_end(ctx, ended) is None  # once only
        assert await relay_discord_poll_vote(ctx, vote(2)) is None  # over: no more votes
        assert [k for _, _, k, _, _ in matrix.events].count(POLL_END) == 1
        row = await ctx.stores.polls.get(POLL_MSG)
        assert row is not None and row.end_event_id == event_id


async def test_end_from_a_partial_update_uses_the_authors_ghost(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message())
        nobody = DiscordAuthor(DiscordUserID(0), "")  # an update without its author
        ended = poll_message(author=nobody, poll=replace(the_poll(), finalized=True))
        await relay_discord_poll_end(ctx, ended)
        assert matrix.events[-1][1:3] == (BOB_GHOST, POLL_END)


async def test_backfilled_finalized_poll_starts_and_ends(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ended = poll_message(poll=replace(the_poll(counts=(0, 3)), finalized=True))
        await relay_discord_message(ctx, ended)
        assert [k for _, _, k, _, _ in matrix.events] == [POLL_START, POLL_END]


async def test_backfill_ends_a_poll_that_ended_while_away(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, poll_message())
        ended = poll_message(poll=replace(the_poll(counts=(1, 1)), finalized=True))
        discord.history[CHANNEL] = [ended]
        await backfill_channel(ctx, CHANNEL)
        await backfill_channel(ctx, CHANNEL)  # a second session: still once
        assert [k for _, _, k, _, _ in matrix.events] == [POLL_START, POLL_END]


async def test_poll_result_message_ends_the_poll_once(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, poll_message())
        notice = poll_message(id=MessageID(701), poll=None, type=46, poll_result_of=POLL_MSG)
        discord.history[CHANNEL] = [poll_message()]  # not finalized yet: nothing to end
        assert await relay_discord_message(ctx, notice) is None
        ended = poll_message(poll=replace(the_poll(counts=(0, 2)), finalized=True))
        discord.history[CHANNEL] = [ended]
        assert await relay_discord_message(ctx, notice) is not None
        assert await relay_discord_message(ctx, notice) is None  # once
        assert [k for _, _, k, _, _ in matrix.events] == [POLL_START, POLL_END]
        assert "Tower: 2 votes" in matrix.events[-1][3][TEXT]
        assert matrix.sent == []  # the notice itself is not relayed as text


async def test_deleting_the_poll_redacts_its_start(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, poll_message())
        await relay_discord_deletion(ctx, DiscordDeletion(CHANNEL, GUILD, (POLL_MSG,)))
        assert [e for _, e, _ in matrix.redactions] == ["$event1"]


@pytest.mark.parametrize(
    ("event_type", "ignored"),
    [
        ("org.matrix.msc3381.poll.response", True),
        ("m.poll.response", True),
        ("m.room.message", False),
        ("m.reaction", False),
    ],
)
def test_matrix_votes_ignored(
    event_type: str, ignored: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bridge.actions.m2d_poll"):
        assert ignore_matrix_vote(event_type, "$vote", "@alice:example.org") is ignored
    assert ("reason=poll-vote" in caplog.text) is ignored
