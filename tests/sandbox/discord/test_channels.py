"""Guild channels created, moved between categories, renamed and deleted: REST (validated
against the OpenAPI spec), audit entries, test controls, and a discord.py client following
it all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest

from sandbox.discord import permissions as perms
from sandbox.discord.openapi import Contract
from sandbox.discord.server import KEEP, Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_moderation import collect, next_of
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import (
    BOB,
    BOT,
    CAMPAIGN,
    EVERYONE_ROLE,
    GUILD,
    GUILD2_CATEGORY,
    MEMBER_ROLE,
    MEMBERS,
    TOKENS,
    make_seed,
    with_second_guild,
)

CHANNELS = f"/guilds/{GUILD}/channels"
HIDDEN = {"id": EVERYONE_ROLE, "type": 0, "allow": "0", "deny": str(perms.VIEW_CHANNEL)}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(with_second_guild(make_seed()), validate_responses=True)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.contract_violations == []


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


async def test_create_and_validate(api: Api, contract: Contract, emu: Emulator) -> None:
    status, body, _ = await api.call("POST", CHANNELS, TOKENS[BOB], json={"name": "x"})
    assert (status, body["code"]) == (403, 50013)
    category = await call(
        api, contract, "POST", CHANNELS, json={"name": "Campaign", "type": 4}, expect=201
    )
    assert (category["type"], category["parent_id"]) == (4, None)
    text = await call(
        api,
        contract,
        "POST",
        CHANNELS,
        json={
            "name": "strategy",
            "topic": "Plans",
            "parent_id": category["id"],
            "permission_overwrites": [
                HIDDEN,
                {"id": MEMBER_ROLE, "type": 0, "allow": str(perms.VIEW_CHANNEL)},
            ],
        },
        expect=201,
    )
    assert text["type"] == 0 and text["parent_id"] == category["id"]
    assert text["position"] == 0 and text["topic"] == "Plans"  # first of its category
    assert text["permission_overwrites"][1] == {
        "id": MEMBER_ROLE,
        "type": 0,
        "allow": "1024",
        "deny": "0",
    }
    listed = await call(api, contract, "GET", CHANNELS)
    assert [c["id"] for c in listed][-2:] == [category["id"], text["id"]]
    voice = await call(
        api, contract, "POST", CHANNELS, json={"name": "Stage", "type": 2}, expect=201
    )
    assert voice["bitrate"] == 64000
    # parent_id must be a category of this guild; categories have none.
    for parent, kind in ((CAMPAIGN, 0), (GUILD2_CATEGORY, 0), ("1", 0), (category["id"], 4)):
        err = await call(
            api,
            contract,
            "POST",
            CHANNELS,
            json={"name": "bad", "type": kind, "parent_id": parent},
            expect=400,
        )
        assert err["code"] == 50035 and "parent_id" in err["errors"]
    for body in ({"name": ""}, {"name": "x", "type": 11}, {"name": "x", "topic": "t" * 1025}):
        err = await call(api, contract, "POST", CHANNELS, json=body, expect=400)
        assert err["code"] == 50035
    [created, created2] = [e for e in emu.audit_log(GUILD) if e["action_type"] == 10][:2]
    assert created["target_id"] == category["id"]
    keys = {c["key"]: c["new_value"] for c in created2["changes"]}
    assert keys["name"] == "strategy" and keys["type"] == 0
    assert keys["parent_id"] == category["id"] and len(keys["permission_overwrites"]) == 2


async def test_move_rename_and_positions(api: Api, contract: Contract, emu: Emulator) -> None:
    category = await call(
        api, contract, "POST", CHANNELS, json={"name": "Ops", "type": 4}, expect=201
    )
    other = await call(
        api, contract, "POST", CHANNELS, json={"name": "Archive", "type": 4}, expect=201
    )
    moved = await call(
        api,
        contract,
        "PATCH",
        f"/channels/{CAMPAIGN}",
        json={"parent_id": category["id"], "name": "campaign-2", "position": 4},
    )
    assert (moved["parent_id"], moved["name"], moved["position"]) == (
        category["id"],
        "campaign-2",
        4,
    )
    err = await call(
        api, contract, "PATCH", f"/channels/{CAMPAIGN}", json={"parent_id": MEMBERS}, expect=400
    )
    assert err["code"] == 50035 and "parent_id" in err["errors"]
    out = await call(api, contract, "PATCH", f"/channels/{CAMPAIGN}", json={"parent_id": None})
    assert out["parent_id"] is None
    [update] = [e for e in emu.audit_log(GUILD) if e["action_type"] == 11][-1:]
    assert update["changes"] == [{"key": "parent_id", "old_value": category["id"]}]
    # Bulk positions: one parent change at most; lock_permissions syncs the overwrites.
    await call(
        api,
        contract,
        "PUT",
        f"/channels/{category['id']}/permissions/{EVERYONE_ROLE}",
        json={"type": 0, "deny": str(perms.VIEW_CHANNEL)},
        expect=204,
    )
    await call(
        api,
        contract,
        "PATCH",
        CHANNELS,
        json=[
            {"id": CAMPAIGN, "position": 7},
            {"id": MEMBERS, "position": 0, "parent_id": category["id"], "lock_permissions": True},
        ],
        expect=204,
    )
    campaign, members = emu.state.channels[CAMPAIGN], emu.state.channels[MEMBERS]
    assert (campaign.position, campaign.parent_id) == (7, None)
    assert members.parent_id == category["id"]
    assert members.overwrites == emu.state.channels[category["id"]].overwrites
    err = await call(
        api,
        contract,
        "PATCH",
        CHANNELS,
        json=[
            {"id": CAMPAIGN, "parent_id": other["id"]},
            {"id": MEMBERS, "parent_id": other["id"]},
        ],
        expect=400,
    )
    assert err["code"] == 40009
    err = await call(
        api, contract, "PATCH", CHANNELS, json=[{"id": "1", "position": 1}], expect=404
    )
    assert err["code"] == 10003
    status, body, _ = await api.call(
        "PATCH", CHANNELS, TOKENS[BOB], json=[{"id": CAMPAIGN, "position": 1}]
    )
    assert (status, body["code"]) == (403, 50013)


async def test_delete_category_orphans_children(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    category = await call(
        api, contract, "POST", CHANNELS, json={"name": "Old", "type": 4}, expect=201
    )
    child = await call(
        api,
        contract,
        "POST",
        CHANNELS,
        json={"name": "inside", "parent_id": category["id"]},
        expect=201,
    )
    status, body, _ = await api.call("DELETE", f"/channels/{category['id']}", TOKENS[BOB])
    assert (status, body["code"]) == (403, 50013)
    deleted = await call(api, contract, "DELETE", f"/channels/{category['id']}")
    assert deleted["id"] == category["id"] and deleted["type"] == 4
    assert category["id"] not in emu.state.channels
    assert emu.state.channels[child["id"]].parent_id is None
    await call(api, contract, "GET", f"/channels/{category['id']}", expect=404)
    gone = await call(api, contract, "DELETE", f"/channels/{child['id']}")
    assert gone["name"] == "inside"
    entry = emu.audit_log(GUILD)[-1]
    assert (entry["action_type"], entry["target_id"]) == (12, child["id"])
    assert {"key": "name", "old_value": "inside"} in entry["changes"]
    logged = await call(
        api, contract, "GET", f"/guilds/{GUILD}/audit-logs", params={"action_type": "12"}
    )
    assert [e["target_id"] for e in logged["audit_log_entries"]] == [
        child["id"],
        category["id"],
    ]


async def test_discordpy_follows_channel_changes(emu: Emulator, start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    client = bot.client
    events = collect(
        client, "on_guild_channel_create", "on_guild_channel_update", "on_guild_channel_delete"
    )
    guild = client.get_guild(int(GUILD))
    assert guild is not None
    # As a Discord user in the client (the controls) ...
    cat_id = emu.create_channel(GUILD, "Operations", type=4)
    cat = await next_of(events["on_guild_channel_create"])
    assert isinstance(cat, discord.CategoryChannel) and cat.id == int(cat_id)
    text_id = emu.create_channel(GUILD, "war-room", parent_id=cat_id, topic="Strategy")
    text = await next_of(events["on_guild_channel_create"])
    assert isinstance(text, discord.TextChannel) and text.category == cat
    assert text.topic == "Strategy" and text in cat.text_channels
    emu.move_channel(text_id, parent_id=None)
    before, after = await next_of(events["on_guild_channel_update"])
    assert before.category == cat and after.category is None
    emu.move_channel(text_id, position=3, parent_id=cat_id)
    _, after = await next_of(events["on_guild_channel_update"])
    assert after.category == cat and after.position == 3
    emu.move_channel(text_id, position=3)  # no change, no dispatch
    emu.rename_channel(text_id, "war-room-2", topic=None)
    before, after = await next_of(events["on_guild_channel_update"])
    assert (before.name, after.name, after.topic) == ("war-room", "war-room-2", None)
    emu.rename_channel(text_id, "war-room-3", topic=KEEP)
    _, after = await next_of(events["on_guild_channel_update"])
    assert after.name == "war-room-3"
    emu.delete_channel(cat_id)
    assert (await next_of(events["on_guild_channel_delete"])).id == int(cat_id)
    _, after = await next_of(events["on_guild_channel_update"])
    assert after.id == int(text_id) and after.category is None
    assert guild.get_channel(int(cat_id)) is None

    # ... and through discord.py's own REST calls.
    made = await guild.create_category("Made by the bot")
    assert (await next_of(events["on_guild_channel_create"])).id == made.id
    chan = await guild.create_text_channel("bot-room", category=made, topic="hi")
    assert chan.category == made and chan.topic == "hi"
    await next_of(events["on_guild_channel_create"])
    edited = await chan.edit(name="bot-room-2", category=None)
    assert edited is not None and edited.name == "bot-room-2" and edited.category is None
    await next_of(events["on_guild_channel_update"])
    await chan.move(beginning=True, category=made)
    _, after = await next_of(events["on_guild_channel_update"])
    assert after.category == made
    await made.delete()
    assert (await next_of(events["on_guild_channel_delete"])).id == made.id
    await asyncio.sleep(0.05)
    entries = [e.action async for e in guild.audit_logs(limit=100)]
    assert discord.AuditLogAction.channel_create in entries
    assert discord.AuditLogAction.channel_delete in entries
