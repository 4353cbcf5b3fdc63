"""What the moderation layer needs from each network, beyond relaying messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, RoomID, UserID


@dataclass(frozen=True)
class DiscordBan:
    user_id: DiscordUserID
    reason: str | None


@dataclass(frozen=True)
class DiscordMember:
    """A guild member as command lookups and permission checks see them."""

    id: DiscordUserID
    names: tuple[str, ...]  # display name, global name, username
    permissions: int
    is_owner: bool = False


class DiscordModerationPort(Protocol):
    """Every call that acts on a guild names it: one bridge serves several guilds."""

    async def ban(
        self, guild_id: GuildID, user_id: DiscordUserID, reason: str, delete_seconds: int
    ) -> bool:
        """Ban from the guild; False when Discord refuses (permissions, hierarchy)."""
        ...

    async def unban(self, guild_id: GuildID, user_id: DiscordUserID, reason: str) -> bool: ...

    async def kick(self, guild_id: GuildID, user_id: DiscordUserID, reason: str) -> bool: ...

    async def bans(self, guild_id: GuildID) -> list[DiscordBan] | None:
        """The guild's bans; None when Discord would not list them (the bot not in the
        guild, or without Ban Members): start-up then compares nothing for that guild."""
        ...

    async def ban_author(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[DiscordUserID | None, str | None]:
        """Who banned the user and why, from the guild's audit log (None, None if unknown)."""
        ...

    async def member(self, guild_id: GuildID, user_id: DiscordUserID) -> DiscordMember | None: ...

    async def members(self, guild_id: GuildID) -> list[DiscordMember]: ...

    async def guild_name(self, guild_id: GuildID) -> str | None:
        """The guild's name, for the moderation log (None when unknown)."""
        ...

    async def post(self, channel_id: ChannelID, text: str) -> None:
        """The bot posts in a channel (pings nobody)."""
        ...

    async def member_roles(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[int, ...] | None:
        """The member's role IDs in the guild; None when they are not in it (or the bridge
        cannot tell)."""
        ...

    async def send_dm(self, user_id: DiscordUserID, text: str) -> bool: ...

    async def timeout(
        self, guild_id: GuildID, user_id: DiscordUserID, until_iso: str | None, reason: str
    ) -> bool:
        """Time the member out until ``until_iso`` (ISO 8601; None lifts it); False when
        Discord refuses (Moderate Members, hierarchy)."""
        ...


class MatrixModerationPort(Protocol):
    async def ban(self, room_id: RoomID, user_id: UserID, reason: str) -> bool: ...

    async def unban(self, room_id: RoomID, user_id: UserID, reason: str) -> bool: ...

    async def kick(self, room_id: RoomID, user_id: UserID, reason: str) -> bool: ...

    async def invite(self, room_id: RoomID, user_id: UserID) -> bool: ...

    async def set_room_access(self, room_id: RoomID, *, public: bool) -> bool:
        """Public: anyone may join, history shared. Otherwise invite-only, history for
        joined members only. Never published, never guests. False when it failed."""
        ...

    async def invited_members(self, room_id: RoomID) -> list[UserID]: ...

    async def membership(self, room_id: RoomID, user_id: UserID) -> str | None: ...

    async def joined_members(self, room_id: RoomID) -> list[UserID]: ...

    async def power_levels(self, room_id: RoomID) -> Mapping[str, Any]: ...

    async def raise_power(self, room_id: RoomID, users: list[UserID], level: int) -> bool:
        """Give ``users`` at least ``level`` in the room (never lowers anyone)."""
        ...

    async def join(self, room: str) -> RoomID | None:
        """The bot joins a room by ID or alias; None when it cannot."""
        ...

    async def room_state(self, room_id: RoomID) -> list[dict[str, Any]]: ...

    async def set_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> EventID: ...

    async def create_room(
        self, name: str, topic: str, invite: list[UserID], state: list[dict[str, Any]]
    ) -> RoomID: ...

    async def notice(self, room_id: RoomID, text: str, html: str | None = None) -> None: ...

    async def set_user_level(self, room_id: RoomID, user_id: UserID, level: int | None) -> bool:
        """Set ``user_id``'s power level in the room (None: back to the room's default)."""
        ...
