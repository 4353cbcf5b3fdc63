"""Typed identifiers and the Matrix ID <-> Discord snowflake templates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NewType

from mautrix.types import EventID, RoomAlias, RoomID, UserID

__all__ = [
    "ChannelID",
    "DiscordUserID",
    "EventID",
    "GhostNamer",
    "GuildID",
    "MessageID",
    "RoomAlias",
    "RoomID",
    "UserID",
    "WebhookID",
]

GuildID = NewType("GuildID", int)
ChannelID = NewType("ChannelID", int)
MessageID = NewType("MessageID", int)
DiscordUserID = NewType("DiscordUserID", int)
WebhookID = NewType("WebhookID", int)


DISCORD_EPOCH_MS = 1420070400000


def snowflake_at(ms: int) -> int:
    """The smallest Discord snowflake of this moment (for ``after=`` history queries)."""
    return max(0, ms - DISCORD_EPOCH_MS) << 22


def snowflake_ms(snowflake: int) -> int:
    """When a Discord snowflake was made, in ms since the Unix epoch."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


@dataclass(frozen=True)
class GhostNamer:
    """Builds and parses the Matrix IDs the bridge owns.

    Ghosts are ``@{user_prefix}{snowflake}:{server}`` and portal aliases are
    ``#{alias_prefix}{channel snowflake}:{server}``.
    """

    server_name: str
    user_prefix: str
    alias_prefix: str
    bot_localpart: str

    @property
    def bot_mxid(self) -> UserID:
        return UserID(f"@{self.bot_localpart}:{self.server_name}")

    def ghost_mxid(self, user_id: DiscordUserID) -> UserID:
        return UserID(f"@{self.user_prefix}{int(user_id)}:{self.server_name}")

    def parse_ghost(self, mxid: str) -> DiscordUserID | None:
        match = re.fullmatch(
            rf"@{re.escape(self.user_prefix)}(\d{{1,20}}):{re.escape(self.server_name)}", mxid
        )
        return DiscordUserID(int(match.group(1))) if match else None

    def portal_alias(self, channel_id: ChannelID) -> RoomAlias:
        return RoomAlias(f"#{self.alias_prefix}{int(channel_id)}:{self.server_name}")

    def alias_localpart(self, channel_id: ChannelID) -> str:
        return f"{self.alias_prefix}{int(channel_id)}"

    def parse_alias(self, alias: str) -> ChannelID | None:
        match = re.fullmatch(
            rf"#{re.escape(self.alias_prefix)}(\d{{1,20}}):{re.escape(self.server_name)}", alias
        )
        return ChannelID(int(match.group(1))) if match else None

    def is_bridge_owned(self, mxid: str) -> bool:
        """True for the bridge bot and every ghost: their events are never relayed back."""
        return mxid == self.bot_mxid or self.parse_ghost(mxid) is not None

    def user_regex(self) -> str:
        return f"@{re.escape(self.user_prefix)}.*:{re.escape(self.server_name)}"

    def alias_regex(self) -> str:
        return f"#{re.escape(self.alias_prefix)}.*:{re.escape(self.server_name)}"
