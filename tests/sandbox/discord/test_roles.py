"""Guild roles created, edited, reordered and deleted: REST (validated against the OpenAPI
spec) with MANAGE_ROLES and the role hierarchy, audit entries, test controls, and a
discord.py client following it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import discord
import pytest

from sandbox.discord import permissions as perms
from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_moderation import collect, next_of
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import (
    BOB,
    BOT,
    BRIDGE_ROLE,
    CAROL,
    GUILD,
    MEMBER_ROLE,
    MOD_ROLE,
    TOKENS,
)

ROLES = f"/guilds/{GUILD}/roles"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


async def until(queue: asyncio.Queue[Any], pred: Callable[[Any], bool]) -> Any:
    """The next queued event matching ``pred`` (skipping the others)."""
    while True:
        item = await next_of(queue)
        if pred(item):
            return item


def positions(emu: Emulator) -> dict[str, int]:
    return {r.id: r.position for r in emu.state.guilds[GUILD].roles.values()}


async def test_create_edit_reorder_delete(api: Api, contract: Contract, emu: Emulator) -> None:
    status, body, _ = await api.call("POST", ROLES, TOKENS[BOB], json={"name": "x"})
    assert (status, body["code"]) == (403, 50013)
    made = await call(
        api,
        contract,
        "POST",
        ROLES,
        json={"name": "Volunteer", "permissions": str(perms.SEND_MESSAGES), "color": 0x3366FF},
    )
    vid = made["id"]
    assert (made["name"], made["permissions"], made["color"]) == ("Volunteer", "2048", 0x3366FF)
    # New roles go just above @everyone; the others move up.
    assert positions(emu) == {GUILD: 0, vid: 1, MEMBER_ROLE: 2, BRIDGE_ROLE: 3, MOD_ROLE: 4}
    default = await call(api, contract, "POST", ROLES, json={})
    assert default["name"] == "new role"
    assert default["permissions"] == str(emu.state.guilds[GUILD].roles[GUILD].permissions)
    assert (await call(api, contract, "GET", f"{ROLES}/{vid}"))["name"] == "Volunteer"
    await call(api, contract, "GET", f"{ROLES}/1", expect=404)
    edited = await call(
        api, contract, "PATCH", f"{ROLES}/{vid}", json={"name": "Volunteers", "hoist": True}
    )
    assert (edited["name"], edited["hoist"], edited["mentionable"]) == ("Volunteers", True, False)
    for bad in ({"name": ""}, {"color": -1}, {"permissions": "lots"}):
        err = await call(api, contract, "PATCH", f"{ROLES}/{vid}", json=bad, expect=400)
        assert err["code"] == 50035
    # Hierarchy: the bot (Bridge, now 4) cannot touch Moderator (5), even as ADMINISTRATOR.
    err = await call(api, contract, "PATCH", f"{ROLES}/{MOD_ROLE}", json={"name": "x"}, expect=403)
    assert err["code"] == 50013
    # Carol (Moderator: MANAGE_ROLES, no ADMINISTRATOR) grants only what she has.
    err = await call(
        api,
        contract,
        "PATCH",
        f"{ROLES}/{vid}",
        TOKENS[CAROL],
        json={"permissions": str(perms.ADMINISTRATOR)},
        expect=403,
    )
    granted = str(perms.SEND_MESSAGES | perms.MANAGE_MESSAGES)
    ok = await call(
        api, contract, "PATCH", f"{ROLES}/{vid}", TOKENS[CAROL], json={"permissions": granted}
    )
    assert ok["permissions"] == granted
    # Positions: every role is answered; only roles below yours, to below yours.
    listed = await call(api, contract, "PATCH", ROLES, json=[{"id": vid, "position": 3}])
    assert {r["id"]: r["position"] for r in listed}[vid] == 3
    assert positions(emu)[MEMBER_ROLE] == 2 and positions(emu)[default["id"]] == 1
    err = await call(api, contract, "PATCH", ROLES, json=[{"id": vid, "position": 4}], expect=403)
    err = await call(api, contract, "PATCH", ROLES, json=[{"id": GUILD, "position": 2}], expect=400)
    assert err["code"] == 50028
    # Deleting: the members lose the role; the roles above move down.
    emu.set_member_roles(GUILD, BOB, [vid])
    await call(api, contract, "DELETE", f"{ROLES}/{vid}", expect=204)
    assert vid not in emu.state.guilds[GUILD].roles
    assert emu.state.member(GUILD, BOB).roles == []  # type: ignore[union-attr]
    assert sorted(positions(emu).values()) == [0, 1, 2, 3, 4]
    err = await call(api, contract, "DELETE", f"{ROLES}/{vid}", expect=404)
    assert err["code"] == 10011
    err = await call(api, contract, "DELETE", f"{ROLES}/{GUILD}", expect=400)
    assert err["code"] == 50028
    await call(api, contract, "DELETE", f"{ROLES}/{MOD_ROLE}", expect=403)
    actions = [e["action_type"] for e in emu.audit_log(GUILD)]
    assert actions == [30, 30, 31, 31, 32]
    create = emu.audit_log(GUILD)[0]
    assert {"key": "name", "new_value": "Volunteer"} in create["changes"]
    assert {"key": "permissions", "new_value": "2048"} in create["changes"]
    logged = await call(
        api, contract, "GET", f"/guilds/{GUILD}/audit-logs", params={"action_type": "32"}
    )
    assert [e["target_id"] for e in logged["audit_log_entries"]] == [vid]


async def test_discordpy_follows_role_changes(emu: Emulator, start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    client = bot.client
    events = collect(client, "on_guild_role_create", "on_guild_role_update", "on_guild_role_delete")
    guild = client.get_guild(int(GUILD))
    assert guild is not None
    # In the Discord client (the controls) ...
    rid = emu.create_role(GUILD, "Organisers", permissions=perms.MANAGE_MESSAGES, position=2)
    role = await next_of(events["on_guild_role_create"])
    assert role.id == int(rid) and role.permissions.manage_messages
    await until(events["on_guild_role_update"], lambda ba: ba[1].id == int(rid))
    assert [r.name for r in guild.roles] == [
        "@everyone",
        "Member",
        "Organisers",
        "Bridge",
        "Moderator",
    ]
    emu.edit_role(GUILD, rid, name="Organizers", permissions=0)
    before, after = await until(
        events["on_guild_role_update"], lambda ba: ba[1].name == "Organizers"
    )
    assert (before.name, after.name, after.permissions.value) == ("Organisers", "Organizers", 0)
    emu.set_member_roles(GUILD, BOB, [rid])
    emu.delete_role(GUILD, rid)
    assert (await next_of(events["on_guild_role_delete"])).id == int(rid)
    bob = guild.get_member(int(BOB))
    assert bob is not None and [r.id for r in bob.roles] == [int(GUILD)]

    # ... and through discord.py's own calls.
    made = await guild.create_role(name="Helpers", permissions=discord.Permissions(2048))
    assert (await next_of(events["on_guild_role_create"])).id == made.id
    await made.edit(name="Helpers!", mentionable=True)
    await made.edit(position=2)  # below the bot's Bridge role (3)
    found = guild.get_role(made.id)
    assert found is not None and found.name == "Helpers!" and found.mentionable
    assert emu.state.guilds[GUILD].roles[str(made.id)].position == 2
    await made.delete()
    assert (await next_of(events["on_guild_role_delete"])).id == made.id
    entries = [e.action async for e in guild.audit_logs(limit=20)]
    assert entries[0] is discord.AuditLogAction.role_delete
