"""A Discord poll through real Synapse + the Discord emulator + the bridge: Element sees
the poll start from the author's ghost, each vote as the voter's ghost's response, and
the end with the final counts."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import discord
import pytest

from bridge.convert.d2m.poll import POLL_END, POLL_RESPONSE, POLL_START, TEXT
from bridge.ids import ChannelID, DiscordUserID, MessageID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)
CAROL = DiscordUserID(2000000000000000003)


def end_of(start_id: str) -> Any:
    """A poll end of this poll (other tests' polls may end in the same room)."""
    return lambda e: (
        e["type"] == POLL_END and e["content"].get("m.relates_to", {}).get("event_id") == start_id
    )


def response_of(start_id: str, sender: str, answers: list[str]) -> Any:
    def check(event: dict[str, Any]) -> bool:
        content = event["content"]
        return (
            event["type"] == POLL_RESPONSE
            and event["sender"] == sender
            and content.get("m.relates_to", {}).get("event_id") == start_id
            and content.get(POLL_RESPONSE, {}).get("answers") == answers
        )

    return check


async def test_discord_poll_start_votes_and_end_reach_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.bridge is not None and stack.emulator is not None
    emulator, namer = stack.emulator, stack.bridge.config.namer
    room = await room_of(stack, PUBLIC)
    question = f"Where next? {uuid.uuid4().hex[:8]}"
    poll = discord.Poll(question, duration=datetime.timedelta(hours=1), multiple=True)
    poll.add_answer(text="Cave").add_answer(text="Tower")
    channel = discord_bob.client.get_channel(PUBLIC)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send(poll=poll)

    start, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == POLL_START
            and e["content"].get(POLL_START, {}).get("question", {}).get(TEXT) == question
        ),
    )
    bob_ghost, carol_ghost = namer.ghost_mxid(BOB), namer.ghost_mxid(CAROL)
    assert start["sender"] == bob_ghost
    body = start["content"][POLL_START]
    assert [(a["id"], a[TEXT]) for a in body["answers"]] == [("1", "Cave"), ("2", "Tower")]
    assert body["max_selections"] == 2 and body["kind"] == "org.matrix.msc3381.poll.disclosed"
    assert "Vote on Discord" in start["content"][TEXT]
    start_id = start["event_id"]

    # Votes made in the Discord client (the emulator's control), in order.
    emulator.vote(str(BOB), str(PUBLIC), str(message.id), 1)
    emulator.vote(str(CAROL), str(PUBLIC), str(message.id), 2)
    emulator.vote(str(BOB), str(PUBLIC), str(message.id), 2)
    emulator.vote(str(BOB), str(PUBLIC), str(message.id), 1, add=False)
    for sender, answers in [
        (bob_ghost, ["1"]),
        (carol_ghost, ["2"]),
        (bob_ghost, ["1", "2"]),
        (bob_ghost, ["2"]),  # the removal sends what remains
    ]:
        await matrix_alice.wait_for_event(room, response_of(start_id, sender, answers))

    await message.end_poll()
    end, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == POLL_END
            and e["content"].get("m.relates_to", {}).get("event_id") == start_id
        ),
    )
    assert end["sender"] == bob_ghost
    # Discord also posts its POLL_RESULT notice (type 46): the poll still ends once.
    # (Guarded twice: the poll table, and the end's transaction ID, which Synapse
    # deduplicates; tests/actions/test_poll_actions.py checks the first alone.)
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(room, end_of(start_id), timeout=2)
    assert "Cave: 0 votes\nTower: 2 votes\nWinner: Tower" in end["content"][TEXT]
    stores = stack.bridge.ctx.stores
    row = await eventually(
        lambda: stores.polls.get(MessageID(message.id)), "the poll is not recorded"
    )
    assert row.start_event_id == start_id
    assert await stores.polls.votes_of(MessageID(message.id), BOB) == [2]
    ended = await eventually(
        lambda: _ended(stack, MessageID(message.id)), "the poll end is not recorded"
    )
    assert ended == end["event_id"]


async def _ended(stack: SandboxStack, message_id: MessageID) -> str | None:
    assert stack.bridge is not None
    row = await stack.bridge.ctx.stores.polls.get(message_id)
    return row.end_event_id if row is not None else None
