"""Polls in the emulator: create (validated), voters, expire, checked against the OpenAPI
spec; votes cast with the ``vote`` control as discord.py sees them."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import discord
import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import ALICE_TOKEN, BOB_TOKEN, BOT_TOKEN, call
from tests.sandbox.discord.world import ALICE, BOB, CAMPAIGN

POLL = {
    "question": {"text": "Where next?"},
    "answers": [{"poll_media": {"text": "Cave"}}, {"poll_media": {"text": "Tower"}}],
    "duration": 2,
    "allow_multiselect": True,
    "layout_type": 1,
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def counts(message: dict[str, Any]) -> dict[int, tuple[int, bool]]:
    results = message["poll"]["results"]["answer_counts"]
    return {c["id"]: (c["count"], c["me_voted"]) for c in results}


async def test_poll_create_vote_voters_expire(api: Api, contract: Contract, emu: Emulator) -> None:
    path = f"/channels/{CAMPAIGN}/messages"
    created = await call(api, contract, "POST", path, BOB_TOKEN, json={"poll": POLL})
    poll = created["poll"]
    assert created["content"] == "" and poll["question"] == {"text": "Where next?"}
    assert [(a["answer_id"], a["poll_media"]["text"]) for a in poll["answers"]] == [
        (1, "Cave"),
        (2, "Tower"),
    ]
    assert poll["allow_multiselect"] is True and poll["results"]["is_finalized"] is False
    mid = created["id"]
    assert emu.vote(ALICE, CAMPAIGN, mid, 1) is True
    assert emu.vote(ALICE, CAMPAIGN, mid, 1) is False  # already there
    assert emu.vote(BOB, CAMPAIGN, mid, 1) and emu.vote(BOB, CAMPAIGN, mid, 2)
    seen = await call(api, contract, "GET", f"{path}/{mid}", ALICE_TOKEN)
    assert counts(seen) == {1: (2, True), 2: (1, False)}
    voters_path = f"/channels/{CAMPAIGN}/polls/{mid}/answers/1"
    voters = await call(api, contract, "GET", voters_path, BOT_TOKEN)
    assert [u["id"] for u in voters["users"]] == [ALICE, BOB]
    after = await call(api, contract, "GET", f"{voters_path}?after={ALICE}&limit=5", BOT_TOKEN)
    assert [u["id"] for u in after["users"]] == [BOB]
    assert emu.vote(ALICE, CAMPAIGN, mid, 1, add=False) is True
    status, body, _ = await api.call(
        "GET", f"/channels/{CAMPAIGN}/polls/{mid}/answers/7", BOT_TOKEN
    )
    assert status == 404
    # Only the author ends a poll.
    status, body, _ = await api.call(
        "POST", f"/channels/{CAMPAIGN}/polls/{mid}/expire", ALICE_TOKEN
    )
    assert (status, body["code"]) == (403, 50013)
    ended = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/polls/{mid}/expire", BOB_TOKEN)
    assert ended["poll"]["results"]["is_finalized"] is True
    assert counts(ended) == {1: (1, True), 2: (1, True)}
    with pytest.raises(ValueError):
        emu.vote(ALICE, CAMPAIGN, mid, 2)
    listed = await call(api, contract, "GET", f"{path}?limit=5", BOT_TOKEN)
    # The POLL_RESULT system message, newest; a tie names no winner.
    result, poll_msg = listed[0], listed[1]
    assert (result["type"], result["message_reference"]["message_id"]) == (46, mid)
    assert result["author"]["id"] == BOB
    fields = {f["name"]: f["value"] for f in result["embeds"][0]["fields"]}
    assert fields == {
        "poll_question_text": "Where next?",
        "victor_answer_votes": "1",
        "total_votes": "2",
    }
    assert poll_msg["poll"]["results"]["is_finalized"] is True
    again = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/polls/{mid}/expire", BOB_TOKEN)
    assert again["poll"]["results"]["is_finalized"] is True
    assert [m["type"] for m in emu.state.messages_in(CAMPAIGN)].count(46) == 1  # once
    plain = await call(api, contract, "POST", path, BOB_TOKEN, json={"content": "no poll"})
    status, _, _ = await api.call(
        "GET", f"/channels/{CAMPAIGN}/polls/{plain['id']}/answers/1", BOT_TOKEN
    )
    assert status == 404
    with pytest.raises(KeyError):
        emu.vote(ALICE, CAMPAIGN, plain["id"], 1)


@pytest.mark.parametrize(
    ("poll", "field"),
    [
        ({**POLL, "question": {"text": ""}}, "question"),
        ({**POLL, "question": {"text": "x" * 301}}, "question"),
        ({**POLL, "answers": []}, "answers"),
        ({**POLL, "answers": [{"poll_media": {"text": "a"}}] * 11}, "answers"),
        ({**POLL, "answers": [{"poll_media": {"text": "y" * 56}}]}, "answers"),
        ({**POLL, "duration": 0}, "duration"),
        ({**POLL, "duration": 769}, "duration"),
        ({**POLL, "layout_type": 2}, "layout_type"),
        ({**POLL, "allow_multiselect": "yes"}, "allow_multiselect"),
        ("a poll", "poll"),
    ],
)
async def test_poll_create_validation(api: Api, poll: Any, field: str) -> None:
    status, body, _ = await api.call(
        "POST", f"/channels/{CAMPAIGN}/messages", BOB_TOKEN, json={"poll": poll}
    )
    assert (status, body["code"]) == (400, 50035)
    errors = body["errors"] if field == "poll" else body["errors"]["poll"]
    assert field in errors or field == "poll"


async def test_single_choice_vote_moves(api: Api, contract: Contract, emu: Emulator) -> None:
    single = {**POLL, "allow_multiselect": False}
    created = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/messages", BOB_TOKEN, json={"poll": single}
    )
    emu.vote(ALICE, CAMPAIGN, created["id"], 1)
    emu.vote(ALICE, CAMPAIGN, created["id"], 2)  # the client replaces a single choice
    seen = await call(
        api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{created['id']}", ALICE_TOKEN
    )
    assert counts(seen) == {1: (0, False), 2: (1, True)}


async def test_discord_py_polls(start_client: StartClient, emu: Emulator) -> None:
    """discord.py sends a poll, sees votes (raw events) and the poll ended."""
    votes: asyncio.Queue[tuple[str, discord.RawPollVoteActionEvent]] = asyncio.Queue()
    bob = await start_client(BOB_TOKEN)
    bot = await start_client(BOT_TOKEN)
    deaf = await start_client(ALICE_TOKEN, intents=discord.Intents.default() ^ _polls_intent())
    deaf_votes: list[object] = []

    @bot.client.event
    async def on_raw_poll_vote_add(event: discord.RawPollVoteActionEvent) -> None:
        votes.put_nowait(("add", event))

    @bot.client.event
    async def on_raw_poll_vote_remove(event: discord.RawPollVoteActionEvent) -> None:
        votes.put_nowait(("remove", event))

    @deaf.client.event
    async def on_raw_poll_vote_add(event: discord.RawPollVoteActionEvent) -> None:  # noqa: F811
        deaf_votes.append(event)

    channel = bob.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    poll = discord.Poll("Snacks?", duration=datetime.timedelta(hours=1))
    poll.add_answer(text="Crisps").add_answer(text="Fruit")
    sent = await channel.send(poll=poll)
    created = await asyncio.wait_for(bot.messages.get(), 5)
    assert created.id == sent.id and created.poll is not None
    assert [a.text for a in created.poll.answers] == ["Crisps", "Fruit"]
    emu.vote(ALICE, CAMPAIGN, str(sent.id), 2)
    kind, event = await asyncio.wait_for(votes.get(), 5)
    assert (kind, event.user_id, event.message_id, event.answer_id) == (
        "add",
        int(ALICE),
        sent.id,
        2,
    )
    assert event.guild_id is not None
    emu.vote(ALICE, CAMPAIGN, str(sent.id), 2, add=False)
    kind, event = await asyncio.wait_for(votes.get(), 5)
    assert (kind, event.answer_id) == ("remove", 2)
    await sent.end_poll()
    while True:
        edit = await asyncio.wait_for(bot.edits.get(), 5)
        if edit.message_id == sent.id:
            break
    assert edit.message.poll is not None and edit.message.poll.is_finalized()
    result = await asyncio.wait_for(bot.messages.get(), 5)
    while result.type is not discord.MessageType.poll_result:
        result = await asyncio.wait_for(bot.messages.get(), 5)
    assert result.reference is not None and result.reference.message_id == sent.id
    assert "Snacks?" in result.system_content
    assert deaf_votes == []  # no GUILD_MESSAGE_POLLS intent: no votes


def _polls_intent() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guild_polls = True
    return intents


async def test_webhook_poll_contract(api: Api, contract: Contract, emu: Emulator) -> None:
    """A webhook posts a poll (the request per the spec); its author is the webhook, so
    the bot cannot end it (only a poll's author may, and no webhook route ends polls)."""
    hook = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/webhooks", json={"name": "P"})
    execute = f"/webhooks/{hook['id']}/{hook['token']}?wait=true"
    request = {"username": "Alice Liddell (Matrix)", "poll": {**POLL, "duration": 24}}
    assert contract.schema_errors("IncomingWebhookRequestPartial", request) == []
    sent = await call(api, contract, "POST", execute, None, json=request)
    assert sent["webhook_id"] == hook["id"] and sent["author"]["id"] == hook["id"]
    assert sent["author"]["username"] == "Alice Liddell (Matrix)" and sent["content"] == ""
    assert [a["poll_media"]["text"] for a in sent["poll"]["answers"]] == ["Cave", "Tower"]
    assert emu.vote(ALICE, CAMPAIGN, sent["id"], 2) is True
    seen = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{sent['id']}")
    assert counts(seen) == {1: (0, False), 2: (1, False)}
    expire = f"/channels/{CAMPAIGN}/polls/{sent['id']}/expire"
    refused = await call(api, contract, "POST", expire, BOT_TOKEN, expect=403)
    assert refused["code"] == 50013
    assert emu.vote(BOB, CAMPAIGN, sent["id"], 1) is True  # still open
    # A webhook's poll is validated as a message's is.
    too_many = {**POLL, "answers": [{"poll_media": {"text": "a"}}] * 11}
    assert contract.schema_errors("IncomingWebhookRequestPartial", {"poll": too_many}) != []
    status, body, _ = await api.call("POST", execute, None, json={"poll": too_many})
    assert (status, body["code"]) == (400, 50035) and "answers" in body["errors"]["poll"]
    long_answer = {**POLL, "answers": [{"poll_media": {"text": "y" * 56}}]}
    status, body, _ = await api.call("POST", execute, None, json={"poll": long_answer})
    assert (status, body["code"]) == (400, 50035)
