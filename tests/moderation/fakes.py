"""Fake moderation ports for flow tests: record calls, answer like the real networks.

:func:`moderation_context` builds a :class:`ModerationContext` over a real SQLite
database (migrated to head, like ``tests.actions.fakes.fake_context``), with two
portal rooms, the bridge's own policy list, a followed list and the moderators'
room already known, so each test starts from a running bridge's state.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.config import parse_config
from bridge.db import AuditEntry, Stores, open_database
from bridge.db.migrate import upgrade_head
from bridge.db.portals import PortalRow
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, RoomID, UserID
from moderation.context import ModerationContext
from moderation.ports import DiscordBan, DiscordMember
from tests.actions.fakes import BOT_USER, FakeDiscord, FakeMatrix
from tests.test_config import VALID

GUILD = GuildID(3000000000000000001)
CHANNEL_A = ChannelID(4000000000000000001)
CHANNEL_B = ChannelID(4000000000000000002)
ROOM_A = RoomID("!portal-a:example.org")
ROOM_B = RoomID("!portal-b:example.org")
POLICY_ROOM = RoomID("!own-list:example.org")
SUB_LIST = RoomID("!community-list:other.example")
MOD_ROOM = RoomID("!mods:example.org")
MOD_CHANNEL = ChannelID(4000000000000000099)

# A second and a third guild (multi_guild_context): G2 has a public and a members-only
# portal, G3 one public portal; each guild has its moderators' channel.
GUILD_2 = GuildID(3000000000000000002)
GUILD_3 = GuildID(3000000000000000003)
CHANNEL_C = ChannelID(4100000000000000001)
CHANNEL_D = ChannelID(4100000000000000002)
CHANNEL_E = ChannelID(4200000000000000001)
ROOM_C = RoomID("!portal-c:example.org")
ROOM_D = RoomID("!portal-d:example.org")
ROOM_E = RoomID("!portal-e:example.org")
MOD_CHANNEL_2 = ChannelID(4100000000000000099)
MOD_CHANNEL_3 = ChannelID(4200000000000000099)
MEMBER_ROLE_1 = 7000000000000000011
MEMBER_ROLE_2 = 7000000000000000021

MODERATOR = UserID("@mod:example.org")
BOT = UserID("@passerelle:example.org")

BAN_MEMBERS = 1 << 2


class FakeDiscordModeration:
    """Discord's guilds: bans, kicks, members, the audit log and posts, all recorded.

    Per guild (``bans_in``, ``members_in``, ``roles_in``); ``guild_bans``,
    ``guild_members`` and ``roles`` are the first guild's (``GUILD``), for tests of a
    single-guild deployment. Every call record starts with the guild it acted on."""

    def __init__(self) -> None:
        # Discord's current bans, by guild: user -> reason.
        self.bans_in: dict[GuildID, dict[DiscordUserID, str | None]] = {}
        self.ban_calls: list[tuple[GuildID, DiscordUserID, str, int]] = []
        self.unban_calls: list[tuple[GuildID, DiscordUserID, str]] = []
        self.kick_calls: list[tuple[GuildID, DiscordUserID, str]] = []
        # What Discord answers (False: missing permission or hierarchy); per guild in
        # ``refuses_bans_in``.
        self.may_ban = True
        self.refuses_bans_in: set[GuildID] = set()
        self.may_kick = True
        # Guilds whose ban list Discord would not give (bans() answers None).
        self.bans_unlisted: set[GuildID] = set()
        # The audit log: (guild, user) -> (moderator, reason) of their ban; ``authors``
        # is the first guild's.
        self.authors_in: dict[
            GuildID, dict[DiscordUserID, tuple[DiscordUserID | None, str | None]]
        ] = {}
        self.members_in: dict[GuildID, dict[DiscordUserID, DiscordMember]] = {}
        self.posts: list[tuple[ChannelID, str]] = []
        # Each guild member's role IDs (members-only filter); absent: not in the guild.
        self.roles_in: dict[GuildID, dict[DiscordUserID, tuple[int, ...]]] = {}
        # Guilds the bridge cannot ask about (Discord unreachable): member_roles is None.
        self.unreachable: set[GuildID] = set()
        self.names: dict[GuildID, str] = {}
        self.dms: list[tuple[DiscordUserID, str]] = []
        self.may_dm = True
        # Timeouts: (guild, user, until or None to lift, reason)
        self.timeout_calls: list[tuple[GuildID, DiscordUserID, str | None, str]] = []

    @property
    def guild_bans(self) -> dict[DiscordUserID, str | None]:
        return self.bans_in.setdefault(GUILD, {})

    @guild_bans.setter
    def guild_bans(self, value: dict[DiscordUserID, str | None]) -> None:
        self.bans_in[GUILD] = value

    @property
    def authors(self) -> dict[DiscordUserID, tuple[DiscordUserID | None, str | None]]:
        return self.authors_in.setdefault(GUILD, {})

    @property
    def guild_members(self) -> dict[DiscordUserID, DiscordMember]:
        return self.members_in.setdefault(GUILD, {})

    @property
    def roles(self) -> dict[DiscordUserID, tuple[int, ...]]:
        return self.roles_in.setdefault(GUILD, {})

    def add_member(
        self,
        user_id: int,
        *names: str,
        permissions: int = 0,
        is_owner: bool = False,
        guild: GuildID = GUILD,
    ) -> DiscordUserID:
        uid = DiscordUserID(user_id)
        self.members_in.setdefault(guild, {})[uid] = DiscordMember(
            uid, names, permissions, is_owner
        )
        return uid

    async def ban(
        self, guild_id: GuildID, user_id: DiscordUserID, reason: str, delete_seconds: int
    ) -> bool:
        self.ban_calls.append((guild_id, user_id, reason, delete_seconds))
        if not self.may_ban or guild_id in self.refuses_bans_in:
            return False
        self.bans_in.setdefault(guild_id, {})[user_id] = reason
        return True

    async def unban(self, guild_id: GuildID, user_id: DiscordUserID, reason: str) -> bool:
        self.unban_calls.append((guild_id, user_id, reason))
        self.bans_in.setdefault(guild_id, {}).pop(user_id, None)
        return True

    async def kick(self, guild_id: GuildID, user_id: DiscordUserID, reason: str) -> bool:
        self.kick_calls.append((guild_id, user_id, reason))
        return self.may_kick

    async def bans(self, guild_id: GuildID) -> list[DiscordBan] | None:
        if guild_id in self.bans_unlisted:
            return None
        return [DiscordBan(uid, r) for uid, r in self.bans_in.get(guild_id, {}).items()]

    async def ban_author(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[DiscordUserID | None, str | None]:
        return self.authors_in.get(guild_id, {}).get(user_id, (None, None))

    async def member(self, guild_id: GuildID, user_id: DiscordUserID) -> DiscordMember | None:
        return self.members_in.get(guild_id, {}).get(user_id)

    async def members(self, guild_id: GuildID) -> list[DiscordMember]:
        return list(self.members_in.get(guild_id, {}).values())

    async def guild_name(self, guild_id: GuildID) -> str | None:
        return self.names.get(guild_id)

    async def post(self, channel_id: ChannelID, text: str) -> None:
        self.posts.append((channel_id, text))

    async def member_roles(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[int, ...] | None:
        if guild_id in self.unreachable:
            return None
        return self.roles_in.get(guild_id, {}).get(user_id)

    async def send_dm(self, user_id: DiscordUserID, text: str) -> bool:
        self.dms.append((user_id, text))
        return self.may_dm

    async def timeout(
        self, guild_id: GuildID, user_id: DiscordUserID, until_iso: str | None, reason: str
    ) -> bool:
        self.timeout_calls.append((guild_id, user_id, until_iso, reason))
        return True


class FakeMatrixModeration:
    """The homeserver as the moderation layer sees it: memberships, power levels, state."""

    def __init__(self) -> None:
        self.memberships: dict[tuple[RoomID, UserID], str] = {}
        self.ban_calls: list[tuple[RoomID, UserID, str]] = []
        self.unban_calls: list[tuple[RoomID, UserID, str]] = []
        self.kick_calls: list[tuple[RoomID, UserID, str]] = []
        self.levels: dict[RoomID, dict[str, Any]] = {}
        self.raised: list[tuple[RoomID, tuple[UserID, ...], int]] = []
        self.joins: list[str] = []
        self.joinable: dict[str, RoomID] = {}
        # room -> its state events (what room_state answers)
        self.state: dict[RoomID, list[dict[str, Any]]] = {}
        self.set_state_calls: list[tuple[RoomID, str, str, dict[str, Any]]] = []
        self.created: list[tuple[str, str, tuple[UserID, ...]]] = []
        self.notices: list[tuple[RoomID, str]] = []
        self.invite_calls: list[tuple[RoomID, UserID]] = []
        # (room, public) for every set_room_access call
        self.access_calls: list[tuple[RoomID, bool]] = []
        self._ids = itertools.count(1)

    def join_member(self, room_id: RoomID, *users: UserID) -> None:
        for user in users:
            self.memberships[(room_id, user)] = "join"

    def bans_in(self, room_id: RoomID) -> set[UserID]:
        return {u for (r, u), m in self.memberships.items() if r == room_id and m == "ban"}

    async def ban(self, room_id: RoomID, user_id: UserID, reason: str) -> bool:
        self.ban_calls.append((room_id, user_id, reason))
        self.memberships[(room_id, user_id)] = "ban"
        return True

    async def unban(self, room_id: RoomID, user_id: UserID, reason: str) -> bool:
        self.unban_calls.append((room_id, user_id, reason))
        self.memberships[(room_id, user_id)] = "leave"
        return True

    async def kick(self, room_id: RoomID, user_id: UserID, reason: str) -> bool:
        self.kick_calls.append((room_id, user_id, reason))
        self.memberships[(room_id, user_id)] = "leave"
        return True

    async def invite(self, room_id: RoomID, user_id: UserID) -> bool:
        self.invite_calls.append((room_id, user_id))
        self.memberships[(room_id, user_id)] = "invite"
        return True

    async def set_room_access(self, room_id: RoomID, *, public: bool) -> bool:
        self.access_calls.append((room_id, public))
        return True

    async def invited_members(self, room_id: RoomID) -> list[UserID]:
        return sorted(u for (r, u), m in self.memberships.items() if r == room_id and m == "invite")

    async def membership(self, room_id: RoomID, user_id: UserID) -> str | None:
        return self.memberships.get((room_id, user_id))

    async def joined_members(self, room_id: RoomID) -> list[UserID]:
        return sorted(u for (r, u), m in self.memberships.items() if r == room_id and m == "join")

    async def power_levels(self, room_id: RoomID) -> Mapping[str, Any]:
        return self.levels.get(room_id, {"users": {}, "ban": 50})

    async def raise_power(self, room_id: RoomID, users: list[UserID], level: int) -> bool:
        self.raised.append((room_id, tuple(users), level))
        return True

    async def join(self, room: str) -> RoomID | None:
        self.joins.append(room)
        if room.startswith("!"):
            return RoomID(room)
        return self.joinable.get(room)

    async def room_state(self, room_id: RoomID) -> list[dict[str, Any]]:
        return list(self.state.get(room_id, []))

    async def set_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> EventID:
        self.set_state_calls.append((room_id, event_type, state_key, content))
        return EventID(f"$state{next(self._ids)}")

    async def create_room(
        self, name: str, topic: str, invite: list[UserID], state: list[dict[str, Any]]
    ) -> RoomID:
        self.created.append((name, topic, tuple(invite)))
        return RoomID(f"!created{len(self.created)}:example.org")

    async def notice(self, room_id: RoomID, text: str, html: str | None = None) -> None:
        self.notices.append((room_id, text))

    async def set_user_level(self, room_id: RoomID, user_id: UserID, level: int | None) -> bool:
        users = self.levels.setdefault(room_id, {"users": {}, "ban": 50}).setdefault("users", {})
        if level is None:
            users.pop(user_id, None)
        else:
            users[user_id] = level
        return True


@dataclass
class Harness:
    mctx: ModerationContext
    matrix: FakeMatrixModeration
    discord: FakeDiscordModeration
    relay_matrix: FakeMatrix
    relay_discord: FakeDiscord

    @property
    def stores(self) -> Stores:
        return self.mctx.stores

    def ghost(self, user_id: int) -> UserID:
        return self.mctx.namer.ghost_mxid(DiscordUserID(user_id))

    async def audits(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        return list(reversed(await self.stores.audit.recent(1000)))


def moderation_config(**moderation: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data["bridge"]["channels"][0]["matrix_room"] = ROOM_A
    data["bridge"]["channels"][1]["matrix_room"] = ROOM_B
    data["moderation"] = {
        "moderators": [MODERATOR],
        "mod_channel": str(MOD_CHANNEL),
        **moderation,
    }
    return data


def multi_guild_config(**moderation: Any) -> dict[str, Any]:
    """Three guilds: GUILD (rooms A and B, public), GUILD_2 (C public, D members-only,
    member role MEMBER_ROLE_2) and GUILD_3 (E public), each with a moderators' channel."""
    data = copy.deepcopy(VALID)
    del data["discord"]["guild_id"]
    data["bridge"]["channels"] = []

    def channel(chan: int, room: str, access: str) -> dict[str, Any]:
        return {"discord_channel": str(chan), "matrix_room": room, "access": access}

    data["discord"]["guilds"] = [
        {
            "id": str(GUILD),
            "channels": [
                channel(CHANNEL_A, ROOM_A, "public"),
                channel(CHANNEL_B, ROOM_B, "public"),
            ],
            "member_roles": [str(MEMBER_ROLE_1)],
            "mod_channel": str(MOD_CHANNEL),
        },
        {
            "id": str(GUILD_2),
            "channels": [
                channel(CHANNEL_C, ROOM_C, "public"),
                channel(CHANNEL_D, ROOM_D, "members_only"),
            ],
            "member_roles": [str(MEMBER_ROLE_2)],
            "mod_channel": str(MOD_CHANNEL_2),
        },
        {
            "id": str(GUILD_3),
            "channels": [channel(CHANNEL_E, ROOM_E, "public")],
            "mod_channel": str(MOD_CHANNEL_3),
        },
    ]
    data["moderation"] = {"moderators": [MODERATOR], **moderation}
    return data


@asynccontextmanager
async def moderation_context(
    tmp_path: Path, *, guilds: int = 1, **moderation: Any
) -> AsyncIterator[Harness]:
    """A running bridge's moderation state over a fresh SQLite database.

    ``moderation``: keys of the config's ``moderation`` section (moderators, guild_wide_bans,
    ban_scope ...). ``guilds=3``: the three guilds of :func:`multi_guild_config`, with
    their portals (D members-only).
    """
    url = f"sqlite://{tmp_path / 'moderation.db'}"
    await asyncio.to_thread(upgrade_head, url)
    db = open_database(url)
    await db.start()
    data = multi_guild_config(**moderation) if guilds > 1 else moderation_config(**moderation)
    config = parse_config(data, tmp_path / "config.yaml")
    relay_matrix, relay_discord = FakeMatrix(), FakeDiscord()
    bridge = BridgeContext(config, Stores(db), relay_matrix, relay_discord)
    matrix, discord = FakeMatrixModeration(), FakeDiscordModeration()
    mctx = ModerationContext(bridge, discord, matrix)
    try:
        for channel, room, name in ((CHANNEL_A, ROOM_A, "campaign"), (CHANNEL_B, ROOM_B, "lore")):
            await bridge.stores.portals.upsert(PortalRow(channel, GUILD, room, name, "", "public"))
            matrix.join_member(room, BOT)
        if guilds > 1:
            for channel, guild, room, name, access in (
                (CHANNEL_C, GUILD_2, ROOM_C, "nord", "public"),
                (CHANNEL_D, GUILD_2, ROOM_D, "adherents", "members_only"),
                (CHANNEL_E, GUILD_3, ROOM_E, "accueil", "public"),
            ):
                row = PortalRow(channel, guild, room, name, "", access)
                await bridge.stores.portals.upsert(row)
                matrix.join_member(room, BOT)
            discord.names.update({GUILD: "HQ", GUILD_2: "Nord", GUILD_3: "Yvelines"})
        mctx.state.policy_room = POLICY_ROOM
        mctx.state.list_rooms[POLICY_ROOM] = "the bridge's own list"
        mctx.state.list_rooms[SUB_LIST] = "#community:other.example"
        mctx.state.mod_room = MOD_ROOM
        assert relay_discord.own_user_id() == BOT_USER
        yield Harness(mctx, matrix, discord, relay_matrix, relay_discord)
    finally:
        await db.stop()
