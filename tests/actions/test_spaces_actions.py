"""bridge.actions.spaces over fake ports and a real (SQLite) database: what is sent,
that a second pass sends nothing, the party switch, the feature switch, invitations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.actions.spaces import install_spaces, on_member_event
from bridge.config import SpacesConfig
from bridge.db import PortalRow
from bridge.ids import ChannelID, GuildID, RoomID, UserID
from bridge.model import CATEGORY, DiscordChannel, DiscordGuild
from tests.actions.fakes import CHANNEL, GUILD, FakeDiscord, FakeMatrix, fake_context

SECRET = ChannelID(4000000000000000002)
CATEGORY_ID = ChannelID(4000000000000000009)
ALICE = UserID("@alice:example.org")


class SpaceMatrix(FakeMatrix):
    def __init__(self) -> None:
        super().__init__()
        self.spaces: list[tuple[RoomID, str, dict[str, Any]]] = []
        self.state: list[tuple[RoomID, str, str, dict[str, Any]]] = []
        self.invites: list[tuple[RoomID, UserID]] = []
        self.members: dict[RoomID, list[UserID]] = {}

    async def create_space(
        self, name: str, topic: str, avatar_mxc: str | None, join_rule: dict[str, Any]
    ) -> RoomID:
        room = RoomID(f"!space{len(self.spaces)}:example.org")
        self.spaces.append((room, name, join_rule))
        return room

    async def set_room_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        self.state.append((room_id, event_type, state_key, content))

    async def joined_members(self, room_id: RoomID) -> list[UserID]:
        return self.members.get(room_id, [])

    async def invite(self, room_id: RoomID, user_id: UserID) -> None:
        self.invites.append((room_id, user_id))


def guild_of(discord: FakeDiscord, name: str = "Campaign HQ") -> None:
    channels = [
        DiscordChannel(CATEGORY_ID, GUILD, "Campagne", type=CATEGORY, position=0),
        DiscordChannel(CHANNEL, GUILD, "campaign", parent_id=CATEGORY_ID),
        DiscordChannel(SECRET, GUILD, "members", position=1),
    ]

    async def guild(guild_id: GuildID) -> DiscordGuild:
        return DiscordGuild(GUILD, name, "The HQ", icon_url="https://cdn/hq.png")

    async def guild_channels(guild_id: GuildID) -> list[DiscordChannel]:
        return channels

    discord.guild = guild  # type: ignore[method-assign]
    discord.guild_channels = guild_channels  # type: ignore[method-assign]


async def setup(ctx: BridgeContext, matrix: SpaceMatrix) -> None:
    ctx.matrix = matrix
    for chan, room, access in ((CHANNEL, "!pub:x", "public"), (SECRET, "!sec:x", "members_only")):
        await ctx.stores.portals.upsert(
            PortalRow(chan, GUILD, RoomID(room), "n", "", access)  # type: ignore[arg-type]
        )


async def noop() -> None:
    return None


async def test_first_pass_builds_the_tree_and_a_second_sends_nothing(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        matrix = SpaceMatrix()
        await setup(ctx, matrix)
        guild_of(discord)
        matrix.members[RoomID("!pub:x")] = [ALICE, ctx.namer.bot_mxid]
        spaces = await install_spaces(ctx, noop)
        assert spaces is not None
        names = [name for _, name, _ in matrix.spaces]
        assert names == ["Campagne", "Members only", "Campaign HQ", "Passerelle"]
        members_rule = matrix.spaces[1][2]
        assert members_rule["join_rule"] == "restricted"
        assert members_rule["allow"] == [{"type": "m.room_membership", "room_id": "!sec:x"}]
        children = {(r, k) for r, t, k, c in matrix.state if t == "m.space.child" and c}
        assert (matrix.spaces[0][0], "!pub:x") in children
        assert (matrix.spaces[1][0], "!sec:x") in children
        assert all(k != "!sec:x" for r, k in children if r != matrix.spaces[1][0])
        # Alice (in a portal room) is invited to the guild and party spaces; not the bot.
        assert set(matrix.invites) == {
            (matrix.spaces[2][0], ALICE),
            (matrix.spaces[3][0], ALICE),
        }
        sent, created = len(matrix.state), len(matrix.spaces)
        await spaces.reconcile_all()
        await spaces.reconcile(GUILD)
        assert (len(matrix.state), len(matrix.spaces)) == (sent, created)
        assert len(matrix.uploads) == 1  # the icon is not uploaded again
        # The guild renamed: its name (and the members space's topic, which says it).
        guild_of(discord, "HQ 2027")
        await spaces.reconcile(GUILD)
        topic = {"topic": "HQ 2027: the rooms for verified members"}
        assert matrix.state[sent:] == [
            (matrix.spaces[1][0], "m.room.topic", "", topic),
            (matrix.spaces[2][0], "m.room.name", "", {"name": "HQ 2027"}),
        ]


async def test_party_switched_off_and_feature_off(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        matrix = SpaceMatrix()
        await setup(ctx, matrix)
        guild_of(discord)
        base = ctx.config
        ctx.config = replace(base, bridge=replace(base.bridge, spaces=SpacesConfig(party=False)))
        spaces = await install_spaces(ctx, noop)
        assert spaces is not None
        assert [name for _, name, _ in matrix.spaces] == ["Campagne", "Members only", "Campaign HQ"]
    (tmp_path / "off").mkdir()
    async with fake_context(tmp_path / "off") as (ctx, _, discord):
        matrix = SpaceMatrix()
        await setup(ctx, matrix)
        guild_of(discord)
        base = ctx.config
        off = SpacesConfig(enabled=False)
        ctx.config = replace(base, bridge=replace(base.bridge, spaces=off))
        assert await install_spaces(ctx, noop) is None
        assert matrix.spaces == [] and ctx.structure_changed == []


async def test_a_newcomer_in_a_portal_room_is_invited_once(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        matrix = SpaceMatrix()
        await setup(ctx, matrix)
        guild_of(discord)
        await install_spaces(ctx, noop)
        join: dict[str, Any] = {
            "type": "m.room.member",
            "room_id": "!pub:x",
            "state_key": ALICE,
            "content": {"membership": "join"},
        }
        await on_member_event(ctx, join)
        await on_member_event(ctx, join)  # again (left and came back): not re-invited
        ghost = {**join, "state_key": ctx.namer.ghost_mxid(2000000000000000002)}
        await on_member_event(ctx, ghost)
        elsewhere = {**join, "room_id": "!not-a-portal:x"}
        await on_member_event(ctx, elsewhere)
        assert [user for _, user in matrix.invites] == [ALICE, ALICE]  # guild and party
