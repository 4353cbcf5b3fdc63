"""Discord side of a lockdown: a channel's slowmode and a guild's verification level,
read and written over the same discord.py client as :mod:`bridge.transport.discord`.

Implements :class:`moderation.lockdown.DiscordLockdownPort`. Reads answer None and
writes False when Discord refuses (the bot lacks Manage Channels / Manage Server) or
fails: the lockdown reports it and goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import discord

from bridge.ids import ChannelID, GuildID

log = logging.getLogger(__name__)

REASON_MAX = 512  # Discord's X-Audit-Log-Reason limit


class DiscordLockdown:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _call(self, what: str, target: int, call: Awaitable[Any]) -> Any | None:
        try:
            return await call
        except discord.Forbidden as exc:
            log.warning("discord.%s-refused target=%s code=%s", what, target, exc.code)
        except discord.HTTPException as exc:
            log.warning("discord.%s-failed target=%s status=%s", what, target, exc.status)
        return None

    async def slowmode(self, channel_id: ChannelID) -> int | None:
        data = await self._call(
            "channel-read", channel_id, self.client.http.get_channel(channel_id)
        )
        return int(data.get("rate_limit_per_user") or 0) if isinstance(data, dict) else None

    async def set_slowmode(self, channel_id: ChannelID, seconds: int, reason: str) -> bool:
        call = self.client.http.edit_channel(
            channel_id, reason=reason[:REASON_MAX], rate_limit_per_user=seconds
        )
        return await self._call("slowmode", channel_id, call) is not None

    async def verification_level(self, guild_id: GuildID) -> int | None:
        data = await self._call("guild-read", guild_id, self.client.http.get_guild(guild_id))
        return int(data.get("verification_level") or 0) if isinstance(data, dict) else None

    async def set_verification_level(self, guild_id: GuildID, level: int, reason: str) -> bool:
        call = self.client.http.edit_guild(
            guild_id, reason=reason[:REASON_MAX], verification_level=level
        )
        return await self._call("verification", guild_id, call) is not None
