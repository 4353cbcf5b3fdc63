"""Slowmode and verification level in the emulator: ``PATCH /channels/{id}``
``rate_limit_per_user`` enforced with Discord's 429 (code 20016) for members who may not
manage messages, ``PATCH /guilds/{id}`` ``verification_level`` stored and returned,
CHANNEL_UPDATE / GUILD_UPDATE seen by discord.py; every response checked against the spec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_moderation import collect, next_of
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import ALICE, BOB, BOT, CAMPAIGN, CAROL, GUILD, TOKENS, make_seed


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(make_seed(), validate_responses=True)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.contract_violations == []


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def say(text: str) -> dict[str, str]:
    return {"content": text}


async def test_slowmode_is_set_returned_and_enforced(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    path = f"/channels/{CAMPAIGN}"
    for bad in ({"rate_limit_per_user": 21601}, {"rate_limit_per_user": "ten"}):
        err = await call(api, contract, "PATCH", path, json=bad, expect=400)
        assert err["code"] == 50035 and "rate_limit_per_user" in err["errors"]
    status, err, _ = await api.call("PATCH", path, TOKENS[BOB], json={"rate_limit_per_user": 5})
    assert (status, err["code"]) == (403, 50013)  # Bob may not manage channels

    patched = await call(api, contract, "PATCH", path, json={"rate_limit_per_user": 2})
    assert patched["rate_limit_per_user"] == 2
    assert (await call(api, contract, "GET", path))["rate_limit_per_user"] == 2
    [entry] = [e for e in emu.audit_log(GUILD) if e["action_type"] == 11]
    assert entry["changes"] == [{"key": "rate_limit_per_user", "old_value": 0, "new_value": 2}]

    messages = f"{path}/messages"
    await call(api, contract, "POST", messages, TOKENS[BOB], json=say("first"))
    err = await call(api, contract, "POST", messages, TOKENS[BOB], json=say("again"), expect=429)
    assert err["code"] == 20016 and err["global"] is False and 0 < err["retry_after"] <= 2
    assert "slowmode" in err["message"]
    # Others are not slowed by Bob's message; the bot, the owner (every permission) and a
    # moderator with Manage Messages are never slowed.
    for token in (TOKENS[BOT], TOKENS[BOT], TOKENS[ALICE], TOKENS[ALICE], TOKENS[CAROL]):
        await call(api, contract, "POST", messages, token, json=say("exempt"))
    await call(api, contract, "POST", messages, TOKENS[CAROL], json=say("exempt too"))
    await asyncio.sleep(2.1)
    await call(api, contract, "POST", messages, TOKENS[BOB], json=say("after the wait"))

    await call(api, contract, "PATCH", path, json={"rate_limit_per_user": 0})
    await call(api, contract, "POST", messages, TOKENS[BOB], json=say("no slowmode"))
    await call(api, contract, "POST", messages, TOKENS[BOB], json=say("no slowmode"))


async def test_verification_level_is_stored_and_returned(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    path = f"/guilds/{GUILD}"
    assert (await call(api, contract, "GET", path))["verification_level"] == 0
    for bad in (5, -1, True, "high"):
        err = await call(api, contract, "PATCH", path, json={"verification_level": bad}, expect=400)
        assert err["code"] == 50035 and "verification_level" in err["errors"]
    status, err, _ = await api.call("PATCH", path, TOKENS[BOB], json={"verification_level": 3})
    assert (status, err["code"]) == (403, 50013)
    patched = await call(api, contract, "PATCH", path, json={"verification_level": 3})
    assert patched["verification_level"] == 3
    assert (await call(api, contract, "GET", path))["verification_level"] == 3
    [entry] = [e for e in emu.audit_log(GUILD) if e["action_type"] == 1]
    assert entry["changes"] == [{"key": "verification_level", "old_value": 0, "new_value": 3}]


async def test_discordpy_sees_slowmode_and_verification_changes(
    emu: Emulator, start_client: StartClient
) -> None:
    import discord

    bot = await start_client(TOKENS[BOT])
    watcher = await start_client(TOKENS[ALICE])
    events = collect(watcher.client, "on_guild_channel_update", "on_guild_update")
    channel = bot.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel) and channel.slowmode_delay == 0
    await channel.edit(slowmode_delay=30)
    before, after = await next_of(events["on_guild_channel_update"])
    assert (before.slowmode_delay, after.slowmode_delay) == (0, 30)
    guild = bot.client.get_guild(int(GUILD))
    assert guild is not None and guild.verification_level == discord.VerificationLevel.none
    await guild.edit(verification_level=discord.VerificationLevel.high)
    before, after = await next_of(events["on_guild_update"])
    assert after.verification_level == discord.VerificationLevel.high
    assert before.verification_level == discord.VerificationLevel.none
