"""Matrix spaces for the party's structure, through Synapse + the emulator + the bridge:
a space per guild with its categories as sub-spaces in Discord's order, a party space
above them, changes on Discord followed live (moves in under a second, renames, the
guild's name and icon, new channels), a deleted channel's room unlinked, restarts
reusing every space, and ``/hierarchy`` never showing members-only rooms to others."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from mautrix.api import Method, Path
from mautrix.types import PaginationDirection
from mautrix.types import RoomID as MxRoomID

from bridge.ids import ChannelID, GuildID, RoomID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.conftest import matrix_token
from tests.e2e.test_admin import admin_carol, ask  # noqa: F401 (fixture)
from tests.e2e.waits import (
    eventually,
    room_of,
    space_of,
    state_content,
    wait_for_space_child,
)

pytestmark = pytest.mark.e2e

HQ = GuildID(3000000000000000001)
NORD = GuildID(3000000000000000002)
YVELINES = GuildID(3000000000000000003)
HQ_CAMPAIGN, HQ_MEMBERS = ChannelID(4000000000000000001), ChannelID(4000000000000000002)
NORD_GENERAL = ChannelID(4100000000000000001)
NORD_ANNONCES, NORD_DISCUSSION = ChannelID(4100000000000000011), ChannelID(4100000000000000012)
NORD_MEMBERS = ChannelID(4100000000000000013)
CAMPAGNE = ChannelID(4200000000000000001)
TRACTAGE, PORTE, ACCUEIL = (
    ChannelID(4200000000000000011),
    ChannelID(4200000000000000012),
    ChannelID(4200000000000000013),
)


async def children(stack: SandboxStack, space: str) -> dict[str, str]:
    """The space's current children (room -> order), as the homeserver has them."""
    assert stack.bridge is not None
    api = stack.bridge.matrix.bot.api
    state = await api.request(Method.GET, Path.v3.rooms[MxRoomID(space)].state)
    return {
        e["state_key"]: e["content"].get("order", "")
        for e in state
        if e["type"] == "m.space.child" and e["content"].get("via")
    }


def in_order(kids: dict[str, str]) -> list[str]:
    return sorted(kids, key=lambda r: kids[r])


def before(listed: list[str], *rooms: str) -> bool:
    """All of ``rooms`` are listed, in this order (other tests may add channels)."""
    return all(r in listed for r in rooms) and [r for r in listed if r in rooms] == list(rooms)


async def hierarchy(base_url: str, token: str, space: str) -> dict[str, Any]:
    """GET /_matrix/client/v1/rooms/{space}/hierarchy as that token's user (all pages)."""
    url = f"{base_url}/_matrix/client/v1/rooms/{space}/hierarchy"
    rooms: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        while True:
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(url, headers=headers, params=params) as resp:
                assert resp.status == 200, await resp.text()
                page = await resp.json()
            rooms.extend(page["rooms"])
            if "next_batch" not in page:
                return {"rooms": rooms}
            params = {"from": page["next_batch"]}


@pytest.fixture
async def matrix_erin(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """Erin: on the homeserver, not a verified member."""
    user_id, token = matrix_token(stack, "erin")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    yield user
    await user.close()


async def test_a_space_per_guild_with_categories_and_the_party_above(
    stack: SandboxStack,
) -> None:
    assert stack.bridge is not None
    nord = await space_of(stack, "guild", NORD)
    general = await space_of(stack, "category", NORD_GENERAL)
    nord_members = await space_of(stack, "members", NORD)
    # Nord: the category "Général" (a public sub-space), then the members-only space.
    assert before(in_order(await children(stack, nord)), general, nord_members)
    assert (await state_content(stack, nord, "m.room.name"))["name"] == "Fédération du Nord"
    assert (await state_content(stack, nord, "m.room.topic"))["topic"] == "La fédération du Nord"
    create = await state_content(stack, nord, "m.room.create")
    assert create["type"] == "m.space"
    assert (await state_content(stack, nord, "m.room.join_rules"))["join_rule"] == "public"
    # Owned by the bot: only it (the creator; power 100 before room version 12) may
    # change the space.
    power = await state_content(stack, nord, "m.room.power_levels")
    assert power["state_default"] == 100 and power["events_default"] == 100
    bot = stack.bridge.config.namer.bot_mxid
    assert create["room_version"] == "12" or power["users"][bot] == 100
    # Besides the bot, only levels the bridge gives (bridge.actions.power): its ghosts'
    # (Discord roles) and moderators' below what changing the space needs.
    namer = stack.bridge.config.namer
    for user, level in power.get("users", {}).items():
        assert user == bot or namer.parse_ghost(user) or level < power["state_default"]
    assert (await state_content(stack, general, "m.room.name"))["name"] == "Général"
    annonces, discussion = (
        await room_of(stack, NORD_ANNONCES),
        await room_of(stack, NORD_DISCUSSION),
    )
    assert before(in_order(await children(stack, general)), annonces, discussion)
    # Each child names its space as canonical parent.
    parent = await state_content(stack, discussion, "m.space.parent", general)
    assert parent["canonical"] is True and parent["via"] == ["localhost"]
    # Members-only rooms: only in the restricted members space.
    adherents = await room_of(stack, NORD_MEMBERS)
    assert in_order(await children(stack, nord_members)) == [adherents]
    rule = await state_content(stack, nord_members, "m.room.join_rules")
    assert rule == {
        "join_rule": "restricted",
        "allow": [{"type": "m.room_membership", "room_id": adherents}],
    }
    # Yvelines: the channel without a category first, then the category, in Discord order.
    yvelines = await space_of(stack, "guild", YVELINES)
    campagne = await space_of(stack, "category", CAMPAGNE)
    accueil = await room_of(stack, ACCUEIL)
    assert before(in_order(await children(stack, yvelines)), accueil, campagne)
    tractage, porte = await room_of(stack, TRACTAGE), await room_of(stack, PORTE)
    assert before(in_order(await children(stack, campagne)), tractage, porte)
    # HQ's public room directly in its space (no categories there).
    hq = await space_of(stack, "guild", HQ)
    hq_kids = in_order(await children(stack, hq))
    assert hq_kids[0] == await room_of(stack, HQ_CAMPAIGN)
    assert await room_of(stack, HQ_MEMBERS) not in hq_kids
    # The party space holds the guild spaces in the config's order.
    party = await space_of(stack, "party", 0)
    assert (await state_content(stack, party, "m.room.name"))["name"] == "Le Parti"
    assert in_order(await children(stack, party)) == [hq, nord, yvelines]
    assert (await state_content(stack, nord, "m.space.parent", party))["canonical"] is True


async def test_hierarchy_shows_members_only_rooms_to_members_only(
    stack: SandboxStack, matrix_alice: MatrixUser, matrix_erin: MatrixUser
) -> None:
    """Erin is not a verified member: the hierarchy of the guild and party spaces never
    names or lists a members-only room to her; Alice (verified, in those rooms) and the
    bridge bot see them."""
    assert stack.synapse is not None and stack.bridge is not None
    secret_rooms = [await room_of(stack, NORD_MEMBERS), await room_of(stack, HQ_MEMBERS)]
    secret_names = ['"adherents-nord"', '"members"', "Adhérents seulement", "Verified members"]
    erin_token = matrix_token(stack, "erin")[1]
    for space in (await space_of(stack, "guild", NORD), await space_of(stack, "party", 0)):
        seen = await hierarchy(stack.synapse.url, erin_token, space)
        text = str(seen)
        listed = {r["room_id"] for r in seen["rooms"]}
        assert await room_of(stack, NORD_DISCUSSION) in listed  # she does see the public ones
        for room in secret_rooms:
            assert room not in text, f"{room} leaked to a non-member"
        for name in secret_names:
            assert name not in text.replace("'", '"'), f"{name} leaked to a non-member"
    # A verified member in the room sees it, and so does the bot.
    alice_token = matrix_token(stack, "alice")[1]
    nord = await space_of(stack, "guild", NORD)
    seen = await hierarchy(stack.synapse.url, alice_token, nord)
    assert await room_of(stack, NORD_MEMBERS) in {r["room_id"] for r in seen["rooms"]}
    bot_seen = await hierarchy(stack.synapse.url, stack.tokens.as_token, nord)  # type: ignore[union-attr]
    names = {r.get("name") for r in bot_seen["rooms"]}
    assert "adherents-nord" in names and "Members only" in names


async def test_a_moved_channel_follows_within_a_second(stack: SandboxStack) -> None:
    assert stack.emulator is not None
    yvelines = await space_of(stack, "guild", YVELINES)
    campagne = await space_of(stack, "category", CAMPAGNE)
    accueil = await room_of(stack, ACCUEIL)
    try:
        started = time.monotonic()
        stack.emulator.move_channel(str(ACCUEIL), position=0, parent_id=str(CAMPAGNE))
        seen = await wait_for_space_child(stack, campagne, accueil, timeout=5)
        elapsed = seen - started
        print(f"move-to-space: {elapsed * 1000:.0f} ms")
        assert elapsed < 1.0, f"the move took {elapsed:.3f}s to reach the space"
        await wait_for_space_child(stack, yvelines, accueil, present=False)
        kids = await children(stack, campagne)
        # Position 0 ties with tractage's: Discord breaks ties by ID (tractage's is lower).
        tractage, porte = await room_of(stack, TRACTAGE), await room_of(stack, PORTE)
        assert before(in_order(kids), tractage, accueil, porte)
        assert (await state_content(stack, accueil, "m.space.parent", campagne))["canonical"]
        await eventually(
            lambda: _eq(state_content(stack, accueil, "m.space.parent", yvelines), {}),
            "the old parent stays",
        )
        top = await children(stack, yvelines)
        assert campagne in top and accueil not in top
    finally:
        stack.emulator.move_channel(str(ACCUEIL), position=1, parent_id=None)
    # Back without a category, at position 1: its order comes from that position.
    await wait_for_space_child(stack, yvelines, accueil, order=f"0.000001.{ACCUEIL:020d}")
    await wait_for_space_child(stack, campagne, accueil, present=False)


async def test_renames_the_guild_and_its_icon_follow(stack: SandboxStack) -> None:
    assert stack.emulator is not None and stack.bridge is not None
    campagne = await space_of(stack, "category", CAMPAGNE)
    nord = await space_of(stack, "guild", NORD)

    async def name_of(room: str) -> str:
        return str((await state_content(stack, room, "m.room.name")).get("name"))

    try:
        stack.emulator.rename_channel(str(CAMPAGNE), "Campagne 2027")
        await eventually(lambda: _eq(name_of(campagne), "Campagne 2027"), "category rename")
        stack.emulator.update_guild(
            str(NORD), name="Nord Pas-de-Calais", description="Nouvelle fédé", new_icon=True
        )
        await eventually(lambda: _eq(name_of(nord), "Nord Pas-de-Calais"), "guild rename")

        async def topic_of(room: str) -> str:
            return str((await state_content(stack, room, "m.room.topic")).get("topic"))

        await eventually(lambda: _eq(topic_of(nord), "Nouvelle fédé"), "guild description")

        async def avatar_now() -> dict[str, Any]:
            return await state_content(stack, nord, "m.room.avatar")

        avatar = await eventually(avatar_now, "no avatar from the guild icon")
        assert str(avatar["url"]).startswith("mxc://")

        async def recorded() -> bool:
            row = await stack.bridge.ctx.stores.spaces.get("guild", NORD)  # type: ignore[union-attr]
            return row is not None and row.avatar_mxc == avatar["url"] and bool(row.icon_url)

        await eventually(recorded, "the applied icon is not recorded")
        # A new icon again: a new upload, a new avatar.
        stack.emulator.update_guild(str(NORD), new_icon=True)

        async def new_avatar() -> bool:
            now = await state_content(stack, nord, "m.room.avatar")
            return bool(now.get("url")) and now["url"] != avatar["url"]

        await eventually(new_avatar, "new icon")
    finally:
        stack.emulator.rename_channel(str(CAMPAGNE), "Campagne")
        stack.emulator.update_guild(
            str(NORD), name="Fédération du Nord", description="La fédération du Nord"
        )
    await eventually(lambda: _eq(name_of(nord), "Fédération du Nord"), "guild name back")
    await eventually(lambda: _eq(name_of(campagne), "Campagne"), "category name back")


async def _eq(value: Any, expected: object) -> bool:
    return bool(await value == expected)


async def test_a_new_channel_joins_its_space_and_a_deleted_one_is_unlinked(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """Yvelines is bridged whole: a channel created in Campagne gets its room in the
    Campagne space; deleted on Discord, its room leaves the space and is unlinked (a
    notice, nothing relayed any more) with its history kept."""
    assert stack.emulator is not None and stack.bridge is not None
    campagne = await space_of(stack, "category", CAMPAGNE)
    created = ChannelID(
        int(stack.emulator.create_channel(str(YVELINES), "boitage", parent_id=str(CAMPAGNE)))
    )

    async def portal() -> object:
        return await stack.bridge.ctx.stores.portals.by_channel(created)  # type: ignore[union-attr]

    row = await eventually(portal, "no portal for the new channel", timeout=15)
    room = RoomID(row.room_id)
    await wait_for_space_child(stack, campagne, room)
    assert in_order(await children(stack, campagne))[-1] == room  # last position
    await matrix_alice.join(room)
    text = f"Avant suppression {uuid.uuid4().hex[:6]}"
    await discord_bob.send(created, text)
    await matrix_alice.wait_for_event(room, lambda e: e["content"].get("body") == text)

    stack.emulator.delete_channel(str(created))
    notice, _ = await matrix_alice.wait_for_event(
        room, lambda e: "was deleted" in e["content"].get("body", ""), timeout=15
    )
    assert notice["content"]["msgtype"] == "m.notice"
    assert "#boitage" in notice["content"]["body"]
    assert "no longer bridged" in notice["content"]["body"]
    await wait_for_space_child(stack, campagne, room, present=False)
    await eventually(
        lambda: _eq(state_content(stack, room, "m.space.parent", campagne), {}), "parent stays"
    )
    # Unlinked, not deleted: the portal and its room stay, the channel is not bridged.
    assert stack.bridge.config.bridge.channel(created) is None
    assert await stack.bridge.ctx.stores.portals.by_channel(created) is not None
    messages = await matrix_alice.client.get_messages(
        MxRoomID(room), PaginationDirection.BACKWARD, limit=50
    )
    bodies = [e.content.serialize().get("body") for e in messages.events]
    assert text in bodies  # history kept
    # Exactly one notice (not the generic one as well).
    assert sum("no longer bridged" in str(b) for b in bodies) == 1


async def test_unbridged_by_command_leaves_the_space_and_comes_back(
    stack: SandboxStack,
    admin_carol: MatrixUser,  # noqa: F811
) -> None:
    """``!bridge remove`` takes the room out of its space (no structure change on
    Discord), ``!bridge add`` puts it back in its place."""
    general = await space_of(stack, "category", NORD_GENERAL)
    discussion = await room_of(stack, NORD_DISCUSSION)
    order = (await children(stack, general))[discussion]
    try:
        await ask(stack, admin_carol, f"!bridge remove {NORD_DISCUSSION}", "no longer")
        await wait_for_space_child(stack, general, discussion, present=False)
    finally:
        await ask(stack, admin_carol, f"!bridge add {NORD_DISCUSSION} public", "now bridged")
    await wait_for_space_child(stack, general, discussion, order=order)


async def test_a_restart_reuses_every_space_and_sends_nothing(stack: SandboxStack) -> None:
    assert stack.bridge is not None
    spaces_before = await stack.bridge.ctx.stores.spaces.all()
    bot = stack.bridge.matrix.bot

    async def state_ids(room: str) -> set[str]:
        return {str(e.event_id) for e in await bot.get_state(MxRoomID(room))}

    before = {row.room_id: await state_ids(row.room_id) for row in spaces_before}
    joined_before = set(await bot.get_joined_rooms())
    await stack.stop_bridge()
    await stack.start_bridge()
    bot = stack.bridge.matrix.bot
    assert await stack.bridge.ctx.stores.spaces.all() == spaces_before
    assert set(await bot.get_joined_rooms()) == joined_before  # no new space room
    for room, ids in before.items():
        assert await state_ids(room) == ids, f"state sent again to {room} at restart"
