"""Pinned messages in the emulator: REST (current and legacy routes) checked against
the OpenAPI spec, permissions, and the gateway events discord.py sees."""

from __future__ import annotations

import asyncio

import discord

from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import ALICE_TOKEN, BOB_TOKEN, BOT_TOKEN, call
from tests.sandbox.discord.world import CAMPAIGN


async def test_pin_list_unpin_with_contract(api: Api, emu: Emulator) -> None:
    contract = Contract.load()
    first = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/messages", BOB_TOKEN, json={"content": "one"}
    )
    second = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/messages", BOB_TOKEN, json={"content": "two"}
    )
    # Bob lacks MANAGE_MESSAGES: Discord's 403.
    status, body, _ = await api.call(
        "PUT", f"/channels/{CAMPAIGN}/messages/pins/{first['id']}", BOB_TOKEN
    )
    assert (status, body["code"]) == (403, 50013)
    for message in (first, second):
        await call(
            api, contract, "PUT", f"/channels/{CAMPAIGN}/messages/pins/{message['id']}", expect=204
        )
    await call(
        api, contract, "PUT", f"/channels/{CAMPAIGN}/pins/{first['id']}", expect=204
    )  # repeat: no-op
    pins = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/pins", BOB_TOKEN)
    assert [p["message"]["id"] for p in pins["items"]] == [second["id"], first["id"]]
    assert pins["has_more"] is False and pins["items"][0]["message"]["pinned"] is True
    one = await call(
        api, contract, "GET", f"/channels/{CAMPAIGN}/messages/pins?limit=1", ALICE_TOKEN
    )
    assert len(one["items"]) == 1 and one["has_more"] is True
    legacy = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/pins")
    assert [m["id"] for m in legacy] == [second["id"], first["id"]]
    # The system message Discord posts for each pin.
    notices = [m for m in emu.state.messages_in(CAMPAIGN) if m["type"] == 6]
    assert [n["message_reference"]["message_id"] for n in notices] == [first["id"], second["id"]]
    await call(
        api, contract, "DELETE", f"/channels/{CAMPAIGN}/messages/pins/{first['id']}", expect=204
    )
    pins = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/pins", BOT_TOKEN)
    assert [p["message"]["id"] for p in pins["items"]] == [second["id"]]
    status, body, _ = await api.call("PUT", f"/channels/{CAMPAIGN}/messages/pins/123", BOT_TOKEN)
    assert (status, body["code"]) == (404, 10008)


async def test_discord_py_sees_pins_update(start_client: StartClient, emu: Emulator) -> None:
    bot = await start_client(BOT_TOKEN)
    updates: asyncio.Queue[tuple[int, object]] = asyncio.Queue()

    @bot.client.event
    async def on_guild_channel_pins_update(channel: discord.abc.GuildChannel, last: object) -> None:
        updates.put_nowait((channel.id, last))

    channel = bot.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("pin me")
    await message.pin(reason="important")
    channel_id, last = await asyncio.wait_for(updates.get(), 5)
    assert channel_id == int(CAMPAIGN) and last is not None
    pinned = [m async for m in channel.pins()]
    assert [m.id for m in pinned] == [message.id] and pinned[0].pinned
    await message.unpin()
    channel_id, last = await asyncio.wait_for(updates.get(), 5)
    assert last is None
