"""The members' page flows (bridge.actions.web_join) with fake networks and a real
SQLite database: what a member is invited to and joins, that a members-only room
needs the bridge's own check to agree with the login (fail closed), spaces, and
unlinking."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge.actions.web_join import link_and_join, offered_rooms, unlink
from bridge.config import MembersConfig
from bridge.db import SpaceRow
from bridge.ids import DiscordUserID, GuildID, RoomID, UserID
from tests.moderation.fakes import CHANNEL_B, GUILD, ROOM_A, ROOM_B, Harness, moderation_context

MEMBER_ROLE = 7000000000000000001
NOEMIE = UserID("@noemie:example.org")
NOEMIE_UID = DiscordUserID(5000000000000000009)
GUILD_SPACE = RoomID("!space-hq:example.org")
PARTY_SPACE = RoomID("!space-party:example.org")


class FakeHomeserver:
    def __init__(self) -> None:
        self.joins: list[tuple[str, str]] = []

    async def join(self, room_id: str, token: str) -> bool:
        self.joins.append((room_id, token))
        return True


async def _setup(h: Harness) -> None:
    config = h.mctx.bridge.config
    h.mctx.bridge.config = dataclasses.replace(
        config, members=MembersConfig(role_ids=(MEMBER_ROLE,))
    )
    await h.stores.portals.set_access(CHANNEL_B, "members_only")
    await h.stores.spaces.put(SpaceRow("guild", GUILD, GUILD, GUILD_SPACE, "HQ", ""))
    await h.stores.spaces.put(SpaceRow("party", 0, GuildID(0), PARTY_SPACE, "Parti", ""))


async def test_member_is_invited_and_joined_everywhere_their_roles_allow(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await _setup(h)
        h.discord.roles[NOEMIE_UID] = (MEMBER_ROLE,)  # the bot sees the role too
        hs = FakeHomeserver()
        roles = {GUILD: [MEMBER_ROLE]}
        joined = await link_and_join(h.mctx, NOEMIE, NOEMIE_UID, roles, hs, "tok")  # type: ignore[arg-type]
        assert [r.room_id for r in joined.rooms] == [ROOM_A, ROOM_B]
        assert joined.spaces == [GUILD_SPACE, PARTY_SPACE]
        want = {GUILD_SPACE, PARTY_SPACE, ROOM_A, ROOM_B}
        assert {r for r, u in h.matrix.invite_calls if u == NOEMIE} == want
        assert {r for r, _ in hs.joins} == want
        assert (await h.stores.links.by_discord(NOEMIE_UID)).mxid == NOEMIE  # type: ignore[union-attr]
        assert NOEMIE in await h.stores.spaces.invited(GUILD_SPACE)


async def test_members_only_needs_the_bridges_own_check_too(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await _setup(h)
        h.discord.roles[NOEMIE_UID] = ()  # the login said Member, the bot sees no role
        hs = FakeHomeserver()
        joined = await link_and_join(  # type: ignore[arg-type]
            h.mctx, NOEMIE, NOEMIE_UID, {GUILD: [MEMBER_ROLE]}, hs, None
        )
        assert [r.room_id for r in joined.rooms] == [ROOM_A]
        assert (ROOM_B, NOEMIE) not in h.matrix.invite_calls
        assert hs.joins == []  # an existing account is invited, not joined


async def test_no_role_public_only_and_unlink_leaves_members_only(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await _setup(h)
        offers = await offered_rooms(h.mctx, NOEMIE_UID, {GUILD: []})
        assert [r.room_id for r in offers] == [ROOM_A]
        assert await offered_rooms(h.mctx, NOEMIE_UID, {GUILD: None}) == []
        h.discord.roles[NOEMIE_UID] = (MEMBER_ROLE,)
        await link_and_join(h.mctx, NOEMIE, NOEMIE_UID, {GUILD: [MEMBER_ROLE]}, FakeHomeserver())  # type: ignore[arg-type]
        h.matrix.join_member(ROOM_B, NOEMIE)
        row = await unlink(h.mctx, NOEMIE_UID)
        assert row is not None and row.mxid == NOEMIE
        assert any(r == ROOM_B and u == NOEMIE for r, u, _ in h.matrix.kick_calls)
        assert await unlink(h.mctx, NOEMIE_UID) is None
