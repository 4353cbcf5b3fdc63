"""A poll started in Element through real Synapse + the bridge + the Discord emulator:
Bob's Discord client sees it as a webhook poll under Alice's name, his vote comes back
as his ghost's response to Alice's poll start, and Alice's end of the poll, which
Discord does not let the bridge apply to a webhook's poll, stops the relay of votes."""

from __future__ import annotations

import uuid
from typing import Any

import discord
import pytest

from bridge.convert.d2m.poll import POLL_RESPONSE
from bridge.ids import ChannelID, DiscordUserID, MessageID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)
CAROL = DiscordUserID(2000000000000000003)
START = "org.matrix.msc3381.poll.start"
END = "org.matrix.msc3381.poll.end"
TEXT = "org.matrix.msc1767.text"


def element_poll(question: str) -> dict[str, Any]:
    """What Element sends for a single-choice poll (its answer IDs are its own)."""
    answers = [("cave-x1", "Cave"), ("tower-y2", "Tower")]
    return {
        START: {
            "question": {TEXT: question, "body": question, "msgtype": "m.text"},
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "answers": [{"id": i, TEXT: t} for i, t in answers],
        },
        TEXT: f"{question}\n1. Cave\n2. Tower",
    }


async def test_element_poll_reaches_discord_and_discord_votes_come_back(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.bridge is not None and stack.emulator is not None
    emulator, namer = stack.emulator, stack.bridge.config.namer
    room = await room_of(stack, PUBLIC)
    question = f"Where next? {uuid.uuid4().hex[:8]}"
    start_id = await matrix_alice.send_content(room, element_poll(question), kind=START)

    message, _ = await discord_bob.wait_for_message(
        lambda m: m.poll is not None and m.poll.question == question
    )
    assert message.webhook_id is not None
    assert message.webhook_id in stack.bridge.ctx.own_webhooks
    assert message.author.name == "Alice Liddell (Matrix)"
    assert message.channel.id == PUBLIC
    assert message.poll is not None
    assert [a.text for a in message.poll.answers] == ["Cave", "Tower"]
    assert message.poll.multiple is False
    stores = stack.bridge.ctx.stores
    row = await eventually(
        lambda: stores.polls.get(MessageID(message.id)), "the poll is not recorded"
    )
    assert row.start_event_id == start_id

    # Bob votes in his Discord client for "Tower": Alice sees his ghost's response to
    # her poll start, with her client's answer ID.
    emulator.vote(str(BOB), str(PUBLIC), str(message.id), 2)
    bob_ghost = namer.ghost_mxid(BOB)
    response, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == POLL_RESPONSE
            and e["sender"] == bob_ghost
            and e["content"].get("m.relates_to", {}).get("event_id") == start_id
        ),
    )
    assert response["content"]["m.relates_to"]["rel_type"] == "m.reference"
    assert response["content"][POLL_RESPONSE]["answers"] == ["tower-y2"]

    # Alice ends her poll in Element. Discord lets only a poll's author end it, and
    # this one's author is the webhook: it stays open there, but is over for Matrix.
    end_id = await matrix_alice.send_content(
        room,
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start_id},
            END: {},
            TEXT: "Ended poll",
        },
        kind=END,
    )
    await matrix_alice.wait_for_event(room, lambda e: e["event_id"] == end_id)  # consumed
    ended = await eventually(
        lambda: _ended(stack, MessageID(message.id)), "the Matrix end is not recorded"
    )
    assert ended == end_id
    stored = emulator.state.messages[str(message.id)]
    assert stored["poll"]["results"]["is_finalized"] is False
    emulator.vote(str(CAROL), str(PUBLIC), str(message.id), 1)
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room,
            lambda e: e["type"] == POLL_RESPONSE and e["sender"] == namer.ghost_mxid(CAROL),
            timeout=2,
        )
    # The bridge's own end of the poll would be refused by Discord too.
    with pytest.raises(discord.Forbidden):
        await stack.bridge.discord.client.http.end_poll(PUBLIC, message.id)


async def _ended(stack: SandboxStack, message_id: MessageID) -> str | None:
    assert stack.bridge is not None
    row = await stack.bridge.ctx.stores.polls.get(message_id)
    return row.end_event_id if row is not None else None


async def test_element_poll_of_eleven_answers_is_text_and_redaction_deletes_it(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """Discord polls have at most 10 answers: a bigger one arrives as a text listing;
    redacting the poll start in Element deletes what was posted."""
    assert stack.bridge is not None and stack.emulator is not None
    room = await room_of(stack, PUBLIC)
    question = f"Pick a number {uuid.uuid4().hex[:8]}"
    content = element_poll(question)
    content[START]["answers"] = [{"id": f"n{n}", TEXT: f"number {n}"} for n in range(1, 12)]
    start_id = await matrix_alice.send_content(room, content, kind=START)
    message, _ = await discord_bob.wait_for_message(lambda m: question in m.content)
    assert message.poll is None and message.webhook_id is not None
    assert message.author.name == "Alice Liddell (Matrix)"
    assert "1. number 1" in message.content and "11. number 11" in message.content
    assert await stack.bridge.ctx.stores.polls.get(MessageID(message.id)) is None

    await matrix_alice.redact(room, start_id, reason="too many")
    emulator = stack.emulator

    async def gone() -> bool:
        return str(message.id) not in emulator.state.messages

    await eventually(gone, "the webhook message was not deleted")
