"""Discord roles -> Matrix power levels, through Synapse + the emulator + the bridge:
ghosts get the level of their roles in their guild's portal rooms and spaces (and
only there), follow role edits, role changes and reloads live, administrators stay
below the bot (100 where the bot is a room version 12 creator), a human-set level is
kept, and configured Matrix moderators have their level in rooms bridged after
start-up."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import yaml
from mautrix.types import EventType

from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID
from sandbox.clients import MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.test_admin import admin_carol, ask  # noqa: F401 (fixture)
from tests.e2e.waits import eventually

pytestmark = pytest.mark.e2e

HQ = GuildID(3000000000000000001)
NORD = GuildID(3000000000000000002)
YVELINES = GuildID(3000000000000000003)
BOT_USER = DiscordUserID(1000000000000000001)
ALICE = DiscordUserID(2000000000000000001)  # owns HQ
BOB = DiscordUserID(2000000000000000002)  # no role anywhere
CAROL = DiscordUserID(2000000000000000003)  # Moderator (Ban Members) in HQ; owns Nord, Yvelines
NORD_DISCUSSION = ChannelID(4100000000000000012)
NORD_MEMBER_ROLE = 3000000000000000021
MATRIX_MODERATOR = "@carol:localhost"  # moderation.moderators of the test stack
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3


def ghost(stack: SandboxStack, user: DiscordUserID) -> str:
    return str(stack.config.namer.ghost_mxid(user))  # type: ignore[union-attr]


async def guild_rooms(stack: SandboxStack, guild: GuildID) -> list[RoomID]:
    portals = await stack.bridge.ctx.stores.portals.all()  # type: ignore[union-attr]
    return [p.room_id for p in portals if p.guild_id == guild]


async def users_seen_by(user: MatrixUser, room: RoomID) -> dict[str, Any]:
    """The ``users`` of the room's power levels, read by a Matrix user from the homeserver."""
    try:
        content = await user.client.get_state_event(room, EventType.ROOM_POWER_LEVELS)
    except Exception:
        await user.join(room)  # a room bridged after the user joined every portal
        content = await user.client.get_state_event(room, EventType.ROOM_POWER_LEVELS)
    return dict(content.serialize().get("users") or {})


async def users_in(stack: SandboxStack, room: RoomID) -> dict[str, Any]:
    """The same from the homeserver, as the bridge bot (no cache): for members-only
    rooms a plain user cannot read."""
    bot = stack.bridge.matrix.bot  # type: ignore[union-attr]
    content = await bot.get_state_event(room, EventType.ROOM_POWER_LEVELS)
    return dict(content.serialize().get("users") or {})


async def admin_level(stack: SandboxStack, room: RoomID) -> int:
    """What an administrator's ghost gets: 100 where the bot created the room with
    unlimited power (room version 12+, Synapse's default), else the bot's level - 1."""
    bot = stack.bridge.matrix.bot  # type: ignore[union-attr]
    create = await bot.get_state_event(room, EventType.ROOM_CREATE, format="event")
    if int(create.content.room_version) >= 12 and create.sender == bot.mxid:
        return 100
    return int((await users_in(stack, room))[bot.mxid]) - 1


async def level_everywhere(
    stack: SandboxStack, rooms: list[RoomID], mxid: str, level: int | str | None
) -> bool:
    """Whether ``mxid`` has ``level`` (None: no entry; "admin": :func:`admin_level`)
    in every room."""
    for room in rooms:
        wanted = await admin_level(stack, room) if level == "admin" else level
        if (await users_in(stack, room)).get(mxid) != wanted:
            return False
    return True


async def test_start_up_levels_follow_each_guilds_roles(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    assert stack.bridge is not None
    await asyncio.wait_for(stack.bridge.ctx.power_ready.wait(), 60)  # the start-up pass
    hq, nord, yvelines = [await guild_rooms(stack, g) for g in (HQ, NORD, YVELINES)]
    assert hq and nord and yvelines
    bot = str(stack.config.namer.bot_mxid)  # type: ignore[union-attr]
    for room in hq:
        users = await users_in(stack, room)
        assert users.get(ghost(stack, CAROL)) == 50  # Moderator role: Ban Members
        # The owner: an administrator (100, or below the bot where it has a level).
        assert users.get(ghost(stack, ALICE)) == await admin_level(stack, room)
        assert ghost(stack, BOB) not in users
        assert ghost(stack, BOT_USER) not in users  # the bridge's own Discord user
        assert users.get(bot, 100) == 100  # never lowered (no entry: a v12 creator)
        assert users.get(MATRIX_MODERATOR, 0) >= 50
    # The guild's spaces (its own, its categories', its members') get the same levels.
    spaces = await stack.bridge.ctx.stores.spaces.of_guild(HQ)  # type: ignore[union-attr]
    assert any(s.kind == "guild" for s in spaces)
    for space in spaces:
        users = await users_in(stack, space.room_id)
        assert users.get(ghost(stack, CAROL)) == 50, space.kind
        assert users.get(ghost(stack, ALICE)) == await admin_level(stack, space.room_id)
    for room in nord:
        users = await users_in(stack, room)
        assert users.get(ghost(stack, CAROL)) == await admin_level(stack, room)  # the owner
        assert ghost(stack, ALICE) not in users  # owns HQ, a plain member in Nord
    for room in yvelines:
        # No member with a level (the seed's owner is not among its members): no ghost
        # has one, though Alice administers HQ and Carol moderates HQ.
        users = await users_in(stack, room)
        assert not [u for u in users if stack.config.namer.parse_ghost(u)]  # type: ignore[union-attr]
    # As a Matrix user sees it, in a public room of Nord.
    public_nord = next(
        p.room_id
        for p in await stack.bridge.ctx.stores.portals.all()  # type: ignore[union-attr]
        if p.discord_channel_id == NORD_DISCUSSION
    )
    seen = await users_seen_by(matrix_alice, public_nord)
    assert seen.get(ghost(stack, CAROL)) == await admin_level(stack, public_nord)
    assert ghost(stack, BOB) not in seen and seen.get(MATRIX_MODERATOR) == 50
    # The ghosts with a level are registered with their profile, spoken or not.
    for user, name in ((CAROL, "Carol"), (ALICE, "Alice")):
        displayname = await matrix_alice.client.get_displayname(ghost(stack, user))  # type: ignore[arg-type]
        assert displayname is not None and name in displayname


async def test_a_role_with_ban_members_follows_edits_in_its_guild_only(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    emulator = stack.emulator
    assert emulator is not None
    nord, hq, yvelines = [await guild_rooms(stack, g) for g in (NORD, HQ, YVELINES)]
    bob = ghost(stack, BOB)
    before = list(emulator.state.guilds[str(NORD)].members[str(BOB)].roles)
    role = emulator.create_role(str(NORD), f"Modo {uuid.uuid4().hex[:4]}", BAN_MEMBERS)
    try:
        emulator.set_member_roles(str(NORD), str(BOB), [*before, role])
        await eventually(
            lambda: level_everywhere(stack, nord, bob, 50), "Bob's ghost lacks 50 in Nord"
        )
        public_nord = next(
            p.room_id
            for p in await stack.bridge.ctx.stores.portals.all()  # type: ignore[union-attr]
            if p.discord_channel_id == NORD_DISCUSSION
        )
        assert (await users_seen_by(matrix_alice, public_nord)).get(bob) == 50
        # A member of several guilds: the Nord role gives nothing in HQ's or Yvelines' rooms.
        assert await level_everywhere(stack, hq + yvelines, bob, None)
        # The permission taken from the role: the level goes.
        emulator.edit_role(str(NORD), role, permissions=0)
        await eventually(
            lambda: level_everywhere(stack, nord, bob, None), "Bob's ghost kept its level"
        )
        # Administrator: 100 (99 where the bot has 100: it must be able to lower him).
        emulator.edit_role(str(NORD), role, permissions=ADMINISTRATOR)
        await eventually(
            lambda: level_everywhere(stack, nord, bob, "admin"), "Bob's ghost is no administrator"
        )
        # The role taken away from him.
        emulator.set_member_roles(str(NORD), str(BOB), before)
        await eventually(
            lambda: level_everywhere(stack, nord, bob, None), "Bob's ghost kept its level"
        )
        # Given back, then the role deleted.
        emulator.set_member_roles(str(NORD), str(BOB), [*before, role])
        await eventually(lambda: level_everywhere(stack, nord, bob, "admin"), "level not back")
        emulator.delete_role(str(NORD), role)
        role = ""
        await eventually(
            lambda: level_everywhere(stack, nord, bob, None), "the deleted role still counts"
        )
        assert await level_everywhere(stack, hq + yvelines, bob, None)
    finally:
        if role:
            emulator.delete_role(str(NORD), role)
        emulator.set_member_roles(str(NORD), str(BOB), before)


async def test_a_human_set_level_is_kept(stack: SandboxStack) -> None:
    """Only ghosts' entries are the bridge's: a level an admin gave a Matrix user stays
    when the bridge rewrites the room's levels."""
    emulator = stack.emulator
    assert emulator is not None
    room = (await guild_rooms(stack, NORD))[0]
    bot = stack.bridge.matrix.bot  # type: ignore[union-attr]
    levels = await bot.get_power_levels(room, ignore_cache=True)
    levels.set_user_level("@erin:localhost", 20)  # type: ignore[arg-type]
    await bot.set_power_levels(room, levels)
    bob = ghost(stack, BOB)
    before = list(emulator.state.guilds[str(NORD)].members[str(BOB)].roles)
    role = emulator.create_role(str(NORD), "Modo", BAN_MEMBERS)
    try:
        emulator.set_member_roles(str(NORD), str(BOB), [*before, role])
        await eventually(lambda: level_everywhere(stack, [room], bob, 50), "no rewrite")
        users = await users_in(stack, room)
        assert users.get("@erin:localhost") == 20
        assert users.get(ghost(stack, CAROL)) == await admin_level(stack, room)
    finally:
        emulator.delete_role(str(NORD), role)
        emulator.set_member_roles(str(NORD), str(BOB), before)
    await eventually(lambda: level_everywhere(stack, [room], bob, None), "Bob kept 50")
    assert (await users_in(stack, room)).get("@erin:localhost") == 20


async def test_moderators_and_ghosts_have_their_level_in_rooms_bridged_later(
    stack: SandboxStack,
    matrix_alice: MatrixUser,
    admin_carol: MatrixUser,  # noqa: F811
) -> None:
    emulator = stack.emulator
    assert emulator is not None and stack.bridge is not None

    async def portal_of(channel: str) -> RoomID | None:
        row = await stack.bridge.ctx.stores.portals.by_channel(ChannelID(int(channel)))  # type: ignore[union-attr]
        return row.room_id if row is not None else None

    async def levels_in(room: RoomID, expected: dict[str, int]) -> bool:
        """Whether a Matrix user sees these levels in the room (its portal row is stored
        before the new-portal hooks run: spaces first, then power levels)."""
        users = await users_seen_by(matrix_alice, room)
        return all(users.get(u) == level for u, level in expected.items())

    # A new channel in Nord (bridged whole): its room is created while running.
    channel = emulator.create_channel(str(NORD), f"nouveau-{uuid.uuid4().hex[:4]}")
    room = await eventually(lambda: portal_of(channel), "the new channel was not bridged", 20)
    wanted = {MATRIX_MODERATOR: 50, ghost(stack, CAROL): await admin_level(stack, room)}
    await eventually(lambda: levels_in(room, wanted), f"not {wanted} in the new room", 20)
    # A channel of HQ (listed one by one) bridged by command.
    channel = emulator.create_channel(str(HQ), f"ajout-{uuid.uuid4().hex[:4]}")
    await ask(stack, admin_carol, f"!bridge add {channel} public", "now bridged")
    room = await eventually(lambda: portal_of(channel), "the added channel has no room", 20)
    wanted = {
        MATRIX_MODERATOR: 50,
        ghost(stack, CAROL): 50,
        ghost(stack, ALICE): await admin_level(stack, room),
    }
    await eventually(lambda: levels_in(room, wanted), f"not {wanted} in the added room", 20)


async def test_rules_changed_by_a_reload(
    stack: SandboxStack,
    admin_carol: MatrixUser,  # noqa: F811
) -> None:
    """A rule for one role added to the config file applies on ``!bridge reload``, and
    goes when the file is set back."""
    assert stack.bridge is not None and stack.bridge.config.path is not None
    path = stack.bridge.config.path
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    data["bridge"]["role_power_levels"] = [
        {"permission": "administrator", "level": 100},
        {"permission": "ban_members", "level": 50},
        {"role": str(NORD_MEMBER_ROLE), "level": 10},
    ]
    nord = await guild_rooms(stack, NORD)
    alice = ghost(stack, ALICE)  # a Member in Nord
    try:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        await ask(stack, admin_carol, "!bridge reload", "Config reloaded")
        await eventually(lambda: level_everywhere(stack, nord, alice, 10), "no level 10")
        assert await level_everywhere(stack, await guild_rooms(stack, YVELINES), alice, None)
    finally:
        path.write_text(original, encoding="utf-8")
        await ask(stack, admin_carol, "!bridge reload", "Config reloaded")
    await eventually(lambda: level_everywhere(stack, nord, alice, None), "level 10 stayed")
