"""Direct messages in the emulator: ``POST /users/@me/channels``, messages in a DM
channel, who may see them, the DIRECT_MESSAGES intent, and real discord.py clients
DMing the bot (how a Matrix user proves a Discord account is theirs)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_gateway_raw import Connector
from tests.sandbox.discord.world import ALICE, BOB, BOT, CAMPAIGN, CAROL, DAVE, TOKENS

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


@pytest.fixture
async def connect(emu: Emulator) -> AsyncIterator[Connector]:
    async with aiohttp.ClientSession() as session:
        yield Connector(emu, session)


async def call(
    api: Api,
    contract: Contract,
    method: str,
    path: str,
    user: str,
    expect: int = 200,
    **kwargs: Any,
) -> Any:
    status, body, _headers = await api.call(method, path, TOKENS[user], **kwargs)
    assert status == expect, (method, path, status, body)
    assert contract.errors(method, path.split("?")[0], status, body) == []
    return body


async def open_dm(api: Api, contract: Contract, user: str, recipient: str) -> dict[str, Any]:
    body = await call(
        api, contract, "POST", "/users/@me/channels", user, json={"recipient_id": recipient}
    )
    assert isinstance(body, dict)
    return body


# -- REST ------------------------------------------------------------------------------


async def test_create_dm_returns_one_channel_per_pair(api: Api, contract: Contract) -> None:
    from_bot = await open_dm(api, contract, BOT, ALICE)
    assert from_bot["type"] == 1 and "guild_id" not in from_bot
    assert [u["id"] for u in from_bot["recipients"]] == [ALICE]
    again = await open_dm(api, contract, BOT, ALICE)
    assert again["id"] == from_bot["id"]
    from_alice = await open_dm(api, contract, ALICE, BOT)
    assert from_alice["id"] == from_bot["id"]
    assert [u["id"] for u in from_alice["recipients"]] == [BOT]
    other = await open_dm(api, contract, BOB, BOT)
    assert other["id"] != from_bot["id"]
    # GET /channels/{dm} for each participant, with the other one as recipient.
    seen = await call(api, contract, "GET", f"/channels/{from_bot['id']}", ALICE)
    assert seen["id"] == from_bot["id"] and [u["id"] for u in seen["recipients"]] == [BOT]


async def test_create_dm_errors(api: Api, contract: Contract) -> None:
    path = "/users/@me/channels"
    err = await call(api, contract, "POST", path, BOT, 404, json={"recipient_id": "42"})
    assert err["code"] == 10013
    err = await call(api, contract, "POST", path, BOT, 403, json={"recipient_id": BOT})
    assert err["code"] == 50007
    err = await call(api, contract, "POST", path, BOT, 400, json={"recipient_id": "bob"})
    assert err["code"] == 50035 and "recipient_id" in err["errors"]
    err = await call(api, contract, "POST", path, BOT, 400, json={})
    assert err["code"] == 50035
    status, _body, _ = await api.call("POST", path, None, json={"recipient_id": ALICE})
    assert status == 401


async def test_messages_in_a_dm(api: Api, contract: Contract, emu: Emulator) -> None:
    dm = (await open_dm(api, contract, ALICE, BOT))["id"]
    sent = await call(
        api, contract, "POST", f"/channels/{dm}/messages", ALICE, json={"content": "ABCD-1234"}
    )
    assert sent["channel_id"] == dm and sent["author"]["id"] == ALICE
    assert "guild_id" not in sent
    reply = await call(
        api,
        contract,
        "POST",
        f"/channels/{dm}/messages",
        BOT,
        json={"content": "linked", "message_reference": {"message_id": sent["id"]}},
    )
    assert reply["type"] == 19 and reply["referenced_message"]["id"] == sent["id"]
    assert "guild_id" not in reply["message_reference"]
    assert [u["id"] for u in reply["mentions"]] == [ALICE]
    history = await call(api, contract, "GET", f"/channels/{dm}/messages", BOT)
    assert [m["id"] for m in history] == [reply["id"], sent["id"]]
    got = await call(api, contract, "GET", f"/channels/{dm}/messages/{sent['id']}", BOT)
    assert got["content"] == "ABCD-1234"
    # Edit own, refuse deleting the other's, delete own.
    path = f"/channels/{dm}/messages/{sent['id']}"
    edited = await call(api, contract, "PATCH", path, ALICE, json={"content": "EFGH-5678"})
    assert edited["content"] == "EFGH-5678"
    err = await call(api, contract, "DELETE", path, BOT, 403)
    assert err["code"] == 50013
    await call(api, contract, "DELETE", path, ALICE, 204)
    assert [m["id"] for m in emu.state.messages_in(dm)] == [reply["id"]]
    await call(api, contract, "POST", f"/channels/{dm}/typing", BOT, 204)


async def test_only_participants_reach_a_dm(api: Api, contract: Contract) -> None:
    dm = (await open_dm(api, contract, ALICE, BOT))["id"]
    for method, path, body in [
        ("GET", f"/channels/{dm}", None),
        ("GET", f"/channels/{dm}/messages", None),
        ("POST", f"/channels/{dm}/messages", {"content": "let me in"}),
    ]:
        err = await call(api, contract, method, path, CAROL, 403, json=body)
        assert err["code"] == 50001, (method, path)


async def test_guild_only_actions_refuse_dms(api: Api, contract: Contract) -> None:
    dm = (await open_dm(api, contract, ALICE, BOT))["id"]
    for method, path, body in [
        ("PATCH", f"/channels/{dm}", {"name": "x"}),
        ("POST", f"/channels/{dm}/webhooks", {"name": "hook"}),
        ("PUT", f"/channels/{dm}/permissions/{ALICE}", {"type": 1, "allow": "0", "deny": "0"}),
        ("POST", f"/channels/{dm}/threads", {"name": "t"}),
    ]:
        err = await call(api, contract, method, path, ALICE, 400, json=body)
        assert err["code"] == 50003, (method, path)


async def test_dm_needs_a_shared_guild(api: Api, contract: Contract) -> None:
    dm = (await open_dm(api, contract, BOT, DAVE))["id"]  # dave is in no guild
    err = await call(
        api, contract, "POST", f"/channels/{dm}/messages", BOT, 403, json={"content": "hi"}
    )
    assert err["code"] == 50007


# -- gateway ---------------------------------------------------------------------------


async def test_dm_messages_reach_both_participants_with_direct_messages_intent(
    connect: Connector, api: Api, contract: Contract
) -> None:
    bot = await connect()
    await bot.identify(TOKENS[BOT], intents=DIRECT_MESSAGES)
    alice = await connect()
    await alice.identify(TOKENS[ALICE], intents=DIRECT_MESSAGES)
    carol = await connect()
    await carol.identify(TOKENS[CAROL])  # every intent, but not a participant
    guild_only = await connect()
    await guild_only.identify(TOKENS[BOB], intents=GUILD_MESSAGES | 1)
    bob_dm = (await open_dm(api, contract, BOB, BOT))["id"]
    dm = (await open_dm(api, contract, ALICE, BOT))["id"]
    await call(api, contract, "POST", f"/channels/{dm}/messages", ALICE, json={"content": "hi"})
    for gw in (bot, alice):
        event = (await gw.recv_event("MESSAGE_CREATE"))["d"]
        assert event["channel_id"] == dm and event["content"] == "hi"
        assert "guild_id" not in event and "member" not in event
    # Bob's session lacks DIRECT_MESSAGES: a DM to him is not delivered, a guild
    # message is. Carol never sees Alice's DM.
    await call(api, contract, "POST", f"/channels/{bob_dm}/messages", BOT, json={"content": "x"})
    await call(api, contract, "POST", f"/channels/{CAMPAIGN}/messages", BOT, json={"content": "y"})
    assert (await guild_only.recv_event("MESSAGE_CREATE"))["d"]["channel_id"] == CAMPAIGN
    assert (await carol.recv_event("MESSAGE_CREATE"))["d"]["channel_id"] == CAMPAIGN
    for gw in (bot, alice, carol, guild_only):
        await gw.ws.close()


# -- discord.py ------------------------------------------------------------------------


async def test_discordpy_user_dms_the_bot(start_client: StartClient, emu: Emulator) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(TOKENS[ALICE])
    carol = await start_client(TOKENS[CAROL])
    bot_user = await alice.client.fetch_user(int(BOT))
    sent = await bot_user.send("link ABCD-1234")
    assert isinstance(sent.channel, discord.DMChannel)
    received = await bot.next_message()
    assert isinstance(received.channel, discord.DMChannel)
    assert received.guild is None and received.author.id == int(ALICE)
    assert received.content == "link ABCD-1234" and received.id == sent.id
    # The bot answers in the same DM channel; Alice's client gets both messages.
    await received.channel.send("Linked.")
    echoed = await alice.next_message()
    assert echoed.id == sent.id
    answer = await alice.next_message()
    assert answer.content == "Linked." and isinstance(answer.channel, discord.DMChannel)
    assert answer.author.id == int(BOT)
    # create_dm gives the same channel; nobody else received anything.
    channel = await bot_user.create_dm()
    assert channel.id == sent.channel.id
    await asyncio.sleep(0.2)
    assert carol.messages.empty()
    assert [m["content"] for m in emu.state.messages_in(channel.id)] == [
        "link ABCD-1234",
        "Linked.",
    ]
    # Files cross too (multipart), and the bot can fetch the DM's history.
    await channel.send("proof", file=discord.File(io.BytesIO(b"PNG?"), "proof.txt"))
    assert (await bot.next_message()).content == "Linked."  # its own answer
    with_file = await bot.next_message()
    assert [a.filename for a in with_file.attachments] == ["proof.txt"]
    assert await with_file.attachments[0].read() == b"PNG?"
    history = [m.content async for m in received.channel.history(limit=10)]
    assert history == ["proof", "Linked.", "link ABCD-1234"]


async def test_discordpy_bot_without_dm_intent_hears_nothing(start_client: StartClient) -> None:
    intents = discord.Intents.all()
    intents.dm_messages = False
    bot = await start_client(TOKENS[BOT], intents=intents)
    alice = await start_client(TOKENS[ALICE])
    await (await alice.client.fetch_user(int(BOT))).send("hello?")
    assert (await alice.next_message()).content == "hello?"
    await asyncio.sleep(0.3)
    assert bot.messages.empty()
