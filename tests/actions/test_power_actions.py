"""Discord roles -> Matrix power levels: the flows (computed once per guild, one
write per room only where it differs, new portals, ghosts registered)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bridge.actions.context import BridgeContext
from bridge.actions.power import (
    install_power,
    member_changed,
    sync_all_power,
    sync_guild_power,
)
from bridge.db import PortalRow, SpaceRow
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from bridge.model import DiscordAuthor, RoomPowerLevels
from tests.actions.fakes import BOT_USER, GUILD, FakeDiscord, FakeMatrix, fake_context

OTHER = GuildID(3000000000000000002)
MOD = DiscordUserID(2000000000000000003)
PLAIN = DiscordUserID(2000000000000000002)
BAN, ADMIN = 1 << 2, 1 << 3
ROOMS = [RoomID(f"!r{i}:test") for i in range(3)]
OTHER_ROOM = RoomID("!other:test")
SPACE = RoomID("!space:test")  # the guild's space


class Rooms:
    """The homeserver's power levels, per room, as the fake Matrix port serves them."""

    def __init__(self, matrix: FakeMatrix, bot: str) -> None:
        self.levels: dict[RoomID, dict[str, Any]] = {}
        self.writes: list[RoomID] = []
        self.unreadable: set[RoomID] = set()
        # What the bot's cache still says, where it lags behind the homeserver.
        self.cached: dict[RoomID, dict[str, Any]] = {}
        self.bot = bot

        async def read(room_id: RoomID, fresh: bool = False) -> RoomPowerLevels | None:
            if room_id in self.unreadable:
                return None
            content = self.levels.setdefault(room_id, {"users": {}, "ban": 50})
            if not fresh and room_id in self.cached:
                content = self.cached[room_id]
            return RoomPowerLevels(dict(content), frozenset({bot}))

        async def write(room_id: RoomID, content: dict[str, Any]) -> bool:
            self.writes.append(room_id)
            self.levels[room_id] = content
            return True

        matrix.room_power_levels = read  # type: ignore[attr-defined]
        matrix.set_room_power_levels = write  # type: ignore[attr-defined]

    def users(self, room_id: RoomID) -> dict[str, Any]:
        return dict(self.levels.get(room_id, {}).get("users", {}))


class Members:
    def __init__(self, discord: FakeDiscord) -> None:
        # guild -> user -> (roles, permissions, owner); None: the bot is not in it
        self.guilds: dict[GuildID, dict[DiscordUserID, tuple[frozenset[int], int, bool]]] = {
            GUILD: {
                BOT_USER: (frozenset(), ADMIN, False),
                MOD: (frozenset(), BAN, False),
                PLAIN: (frozenset(), 0, False),
            },
            OTHER: {PLAIN: (frozenset(), ADMIN, True)},
        }
        self.listed = 0

        async def guild_members(
            guild_id: GuildID,
        ) -> dict[DiscordUserID, tuple[frozenset[int], int, bool]] | None:
            self.listed += 1
            return self.guilds.get(guild_id)

        async def member_profile(guild_id: GuildID, user_id: DiscordUserID) -> DiscordAuthor:
            return DiscordAuthor(user_id, f"user{user_id % 10}", nick=f"Nick {user_id % 10}")

        async def member_roles(
            guild_id: GuildID, user_id: DiscordUserID
        ) -> tuple[frozenset[int], int, bool] | None:
            return self.guilds.get(guild_id, {}).get(user_id)

        discord.guild_members = guild_members  # type: ignore[attr-defined]
        discord.member_roles = member_roles  # type: ignore[attr-defined]
        discord.member_profile = member_profile  # type: ignore[attr-defined]


@pytest.fixture
async def world(
    tmp_path: Path,
) -> AsyncIterator[tuple[BridgeContext, Rooms, Members, FakeMatrix]]:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        ctx.config = replace(
            ctx.config,
            moderation=replace(ctx.config.moderation, moderators=("@carol:example.org",)),
        )
        for i, room in enumerate(ROOMS):
            await ctx.stores.portals.upsert(
                PortalRow(ChannelID(4000000000000000001 + i), GUILD, room, f"c{i}", "", "public")
            )
        await ctx.stores.portals.upsert(
            PortalRow(ChannelID(4100000000000000001), OTHER, OTHER_ROOM, "o", "", "public")
        )
        await ctx.stores.spaces.put(SpaceRow("guild", GUILD, GUILD, SPACE, "HQ", ""))
        yield ctx, Rooms(matrix, str(ctx.namer.bot_mxid)), Members(discord), matrix


def ghost(ctx: BridgeContext, user: DiscordUserID) -> UserID:
    return ctx.namer.ghost_mxid(user)


async def test_a_guild_is_computed_once_and_written_once_per_room(
    world: tuple[BridgeContext, Rooms, Members, FakeMatrix],
) -> None:
    ctx, rooms, members, _ = world
    assert await sync_guild_power(ctx, GUILD) == 4
    assert members.listed == 1 and sorted(rooms.writes) == sorted([*ROOMS, SPACE])
    for room in [*ROOMS, SPACE]:
        assert rooms.users(room) == {ghost(ctx, MOD): 50, "@carol:example.org": 50}
    assert OTHER_ROOM not in rooms.levels  # another guild's room is not touched
    # Nothing changed: no write.
    rooms.writes.clear()
    assert await sync_guild_power(ctx, GUILD) == 0 and rooms.writes == []


async def test_levels_follow_the_members_roles(
    world: tuple[BridgeContext, Rooms, Members, FakeMatrix],
) -> None:
    ctx, rooms, members, _ = world
    await sync_all_power(ctx)  # the configured guild only
    assert OTHER_ROOM not in rooms.levels
    await sync_guild_power(ctx, OTHER)
    # In the other guild, PLAIN owns it (100: the bot is a creator there) and MOD is nobody.
    assert rooms.users(OTHER_ROOM) == {ghost(ctx, PLAIN): 100, "@carol:example.org": 50}
    members.guilds[GUILD][MOD] = (frozenset(), 0, False)
    members.guilds[GUILD][PLAIN] = (frozenset(), ADMIN, False)
    assert await sync_guild_power(ctx, GUILD) == 4
    assert rooms.users(ROOMS[0]) == {ghost(ctx, PLAIN): 100, "@carol:example.org": 50}


async def test_nothing_changes_when_the_guild_or_a_room_cannot_be_read(
    world: tuple[BridgeContext, Rooms, Members, FakeMatrix],
) -> None:
    ctx, rooms, members, _ = world
    del members.guilds[GUILD]
    assert await sync_guild_power(ctx, GUILD) == 0 and rooms.writes == []
    members.guilds[GUILD] = {MOD: (frozenset(), BAN, False)}
    rooms.unreadable.add(ROOMS[1])
    assert await sync_guild_power(ctx, GUILD) == 3 and ROOMS[1] not in rooms.writes


async def test_install_applies_now_and_to_new_portals(
    world: tuple[BridgeContext, Rooms, Members, FakeMatrix],
) -> None:
    ctx, rooms, members, matrix = world
    await install_power(ctx)
    assert not ctx.power_ready.is_set()  # start-up is not held back by the first pass
    await ctx.power_ready.wait()
    await asyncio.sleep(0)  # done callbacks run at the next turn of the loop
    assert not ctx.background  # the task let go of itself
    assert sorted(rooms.writes) == sorted([*ROOMS, SPACE])  # every configured guild's rooms
    assert len(ctx.guild_roles_changed) == len(ctx.member_roles_changed) == 1
    new = PortalRow(ChannelID(4000000000000000009), GUILD, RoomID("!new:test"), "n", "", "public")
    for hook in ctx.portal_created:
        await hook(new)
    await asyncio.gather(*ctx.background)  # the new room's pass runs beside the queue
    assert rooms.users(new.room_id) == {ghost(ctx, MOD): 50, "@carol:example.org": 50}
    # A member's roles changed: the guild is recomputed.
    members.guilds[GUILD][PLAIN] = (frozenset(), BAN, False)
    listed = members.listed
    await ctx.member_roles_changed[0](GUILD, PLAIN)
    await asyncio.gather(*ctx.background)  # beside the structure queue, as passes
    assert rooms.users(ROOMS[0])[ghost(ctx, PLAIN)] == 50 and members.listed == listed + 1
    # A change that changes no level (a role without power, a member joining, the
    # bridge's own user) costs no pass.
    members.guilds[GUILD][PLAIN] = (frozenset({7}), BAN, False)
    members.guilds[GUILD][DiscordUserID(2000000000000000009)] = (frozenset(), 0, False)
    for user in (PLAIN, DiscordUserID(2000000000000000009), BOT_USER):
        await ctx.member_roles_changed[0](GUILD, user)
    await asyncio.gather(*ctx.background)
    assert members.listed == listed + 1
    # A member who left loses their level.
    del members.guilds[GUILD][PLAIN]
    await ctx.member_roles_changed[0](GUILD, PLAIN)
    await asyncio.gather(*ctx.background)
    assert ghost(ctx, PLAIN) not in rooms.users(ROOMS[0]) and members.listed == listed + 2
    # Ghosts with a level are registered with their profile, once; not the bot's user.
    assert matrix.ghosts[ghost(ctx, MOD)][0] is not None
    assert ghost(ctx, BOT_USER) not in matrix.ghosts
    assert await ctx.stores.puppets.get(MOD) is not None


async def test_a_write_keeps_a_level_set_since_the_cache_was_filled(
    world: tuple[BridgeContext, Rooms, Members, FakeMatrix],
) -> None:
    """The bot's cache can lag (the homeserver's echo of a change comes later): a room
    to write is read again from the homeserver first, so a level set there is kept."""
    ctx, rooms, _, _ = world
    rooms.levels[ROOMS[0]] = {"users": {"@erin:example.org": 20}, "ban": 50}
    rooms.cached[ROOMS[0]] = {"users": {}, "ban": 50}  # erin's level not seen yet
    await sync_guild_power(ctx, GUILD)
    assert rooms.users(ROOMS[0]) == {
        "@erin:example.org": 20,
        ghost(ctx, MOD): 50,
        "@carol:example.org": 50,
    }


async def test_a_member_change_during_a_pass_is_not_lost(
    world: tuple[BridgeContext, Rooms, Members, FakeMatrix],
) -> None:
    """A pass that read the members before a change records its levels after: the
    change is compared with those, not with what was recorded before the pass."""
    ctx, rooms, members, _ = world
    await sync_guild_power(ctx, GUILD)  # recorded: MOD 50, PLAIN nothing
    async with ctx.power_lock:  # a pass in progress, which read PLAIN with Ban Members
        members.guilds[GUILD][PLAIN] = (frozenset(), 0, False)  # then the role went
        check = asyncio.create_task(member_changed(ctx, GUILD, PLAIN))
        await asyncio.sleep(0.01)
        assert not check.done()  # waits for the pass
        ctx.power_levels[GUILD] = {MOD: 50, PLAIN: 50}  # what the pass applied
        for room in ROOMS:
            rooms.levels[room]["users"][ghost(ctx, PLAIN)] = 50
    assert await check > 0
    assert all(ghost(ctx, PLAIN) not in rooms.users(room) for room in ROOMS)
