"""Polls at the Discord transport edge: a message's poll, its finalized results in a
MESSAGE_UPDATE, and poll votes, through a real discord.py ``ConnectionState``."""

from __future__ import annotations

import copy
from typing import Any

import discord
import pytest

from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID
from bridge.model import DiscordPoll, DiscordPollAnswer
from bridge.transport.discord import DiscordHandlers, DiscordTransport, message_from
from bridge.transport.discord_objects import poll_vote_from
from tests.transport.test_discord_bad_input import FIXTURES, GUILD, Gateway, load

CAMPAIGN = "4000000000000000001"
BOB = "2000000000000000002"


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


def with_poll(*, finalized: bool = False, counts: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    data = copy.deepcopy(load(FIXTURES / "message_create_text.json"))
    data["content"] = ""
    data["poll"] = {
        "question": {"text": "Where next?"},
        "answers": [
            {"answer_id": 1, "poll_media": {"text": "Cave"}},
            {"answer_id": 2, "poll_media": {"text": "Tower"}},
        ],
        "expiry": "2026-11-25T08:00:00.000000+00:00",
        "allow_multiselect": True,
        "layout_type": 1,
        "results": {
            "answer_counts": [
                {"id": 1, "count": counts[0], "me_voted": False},
                {"id": 2, "count": counts[1], "me_voted": False},
            ],
            "is_finalized": finalized,
        },
    }
    return data


def test_message_poll(gateway: Gateway) -> None:
    message = message_from(gateway.feed("MESSAGE_CREATE", with_poll()))
    assert message.content == ""
    assert message.poll == DiscordPoll(
        "Where next?",
        (DiscordPollAnswer(1, "Cave"), DiscordPollAnswer(2, "Tower")),
        allow_multiselect=True,
    )
    plain = load(FIXTURES / "message_create_text.json")
    assert message_from(gateway.feed("MESSAGE_CREATE", plain)).poll is None


def test_finalized_results_in_an_update(gateway: Gateway) -> None:
    event = gateway.feed("MESSAGE_UPDATE", with_poll(finalized=True, counts=(2, 1)))
    assert isinstance(event, discord.RawMessageUpdateEvent)
    poll = message_from(event.message).poll
    assert poll is not None and poll.finalized
    assert [(a.id, a.count) for a in poll.answers] == [(1, 2), (2, 1)]


def test_poll_result_message(gateway: Gateway) -> None:
    data = copy.deepcopy(load(FIXTURES / "message_create_text.json"))
    poll_id = data["id"]
    data.update(
        id="1311000000000000002",
        type=46,
        content="",
        message_reference={"type": 0, "message_id": poll_id, "channel_id": CAMPAIGN},
        embeds=[
            {
                "type": "poll_result",
                "fields": [
                    {"name": "poll_question_text", "value": "Where next?", "inline": False},
                    {"name": "victor_answer_votes", "value": "0", "inline": False},
                    {"name": "total_votes", "value": "0", "inline": False},
                ],
            }
        ],
    )
    message = message_from(gateway.feed("MESSAGE_CREATE", data))
    assert (message.type, message.poll_result_of) == (46, MessageID(int(poll_id)))
    assert message.reply_to is None
    plain = load(FIXTURES / "message_create_text.json")
    assert message_from(gateway.feed("MESSAGE_CREATE", plain)).poll_result_of is None


@pytest.mark.parametrize(("event", "added"), [("ADD", True), ("REMOVE", False)])
def test_poll_votes(gateway: Gateway, event: str, added: bool) -> None:
    data = {
        "user_id": BOB,
        "channel_id": CAMPAIGN,
        "message_id": "1311000000000000001",
        "guild_id": GUILD,
        "answer_id": 2,
    }
    raw = gateway.feed(f"MESSAGE_POLL_VOTE_{event}", data)
    assert isinstance(raw, discord.RawPollVoteActionEvent)
    member = gateway.guild.get_member(int(BOB))
    vote = poll_vote_from(raw, added, member, None)
    assert (vote.channel_id, vote.guild_id, vote.message_id) == (
        ChannelID(int(CAMPAIGN)),
        GuildID(int(GUILD)),
        MessageID(1311000000000000001),
    )
    assert (vote.user_id, vote.answer_id, vote.added) == (DiscordUserID(int(BOB)), 2, added)
    assert vote.voter is not None and vote.voter.username == "bob"


async def test_transport_asks_for_poll_votes() -> None:
    async def ignore(_: object) -> None:
        return None

    transport = DiscordTransport(
        "token", "https://discord.com/api/v10", DiscordHandlers(ignore, ignore, ignore)
    )
    try:
        assert transport.client.intents.guild_polls
    finally:
        await transport.client.close()
