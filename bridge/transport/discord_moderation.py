"""Discord side of moderation: bans, kicks, the audit log, member lookups and who may
see a channel, over the same discord.py client as :mod:`bridge.transport.discord`.

Implements :class:`moderation.ports.DiscordModerationPort`.
"""

from __future__ import annotations

import logging

import discord

from bridge.ids import ChannelID, DiscordUserID, GuildID
from moderation.members_only import Overwrite, channel_visibility
from moderation.ports import DiscordBan, DiscordMember

log = logging.getLogger(__name__)

AUDIT_MEMBER_BAN_ADD = 22
REASON_MAX = 512  # Discord's X-Audit-Log-Reason limit


def _reason(text: str) -> str:
    return text[:REASON_MAX]


def visibility_of(channel: discord.abc.GuildChannel) -> str:
    """Whether @everyone can view the channel, by our own tested computation over
    the raw overwrites (fails closed on anything odd)."""
    guild = channel.guild
    overwrites = []
    for target, pair in channel.overwrites.items():
        allow, deny = pair.pair()
        kind = 0 if isinstance(target, discord.Role) else 1
        overwrites.append(Overwrite(target.id, kind, allow.value, deny.value))
    return channel_visibility(guild.id, guild.default_role.permissions.value, overwrites)


class DiscordModeration:
    """Not bound to a guild: every call that acts on one names it."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _call(
        self, what: str, guild_id: GuildID, user_id: DiscordUserID, coro: object
    ) -> bool:
        try:
            await coro  # type: ignore[misc]
        except discord.NotFound:
            log.info("discord.%s-target-gone guild=%s user=%s", what, guild_id, user_id)
            return what == "unban"  # nothing to lift is fine; nobody to ban/kick is not
        except discord.Forbidden as exc:
            log.warning(
                "discord.%s-refused guild=%s user=%s code=%s", what, guild_id, user_id, exc.code
            )
            return False
        except discord.HTTPException as exc:
            log.warning(
                "discord.%s-failed guild=%s user=%s status=%s", what, guild_id, user_id, exc.status
            )
            return False
        return True

    async def ban(
        self, guild_id: GuildID, user_id: DiscordUserID, reason: str, delete_seconds: int
    ) -> bool:
        http = self.client.http
        call = http.ban(user_id, guild_id, delete_seconds, reason=_reason(reason))
        return await self._call("ban", guild_id, user_id, call)

    async def unban(self, guild_id: GuildID, user_id: DiscordUserID, reason: str) -> bool:
        call = self.client.http.unban(user_id, guild_id, reason=_reason(reason))
        return await self._call("unban", guild_id, user_id, call)

    async def kick(self, guild_id: GuildID, user_id: DiscordUserID, reason: str) -> bool:
        call = self.client.http.kick(user_id, guild_id, reason=_reason(reason))
        return await self._call("kick", guild_id, user_id, call)

    async def timeout(
        self, guild_id: GuildID, user_id: DiscordUserID, until_iso: str | None, reason: str
    ) -> bool:
        call = self.client.http.edit_member(
            guild_id, user_id, reason=_reason(reason), communication_disabled_until=until_iso
        )
        return await self._call("timeout", guild_id, user_id, call)

    async def bans(self, guild_id: GuildID) -> list[DiscordBan] | None:
        found: list[DiscordBan] = []
        after: int | None = None
        while True:
            try:
                page = await self.client.http.get_bans(guild_id, 1000, after=after)
            except discord.HTTPException as exc:
                log.warning("discord.bans-unavailable guild=%s status=%s", guild_id, exc.status)
                return None
            found += [
                DiscordBan(DiscordUserID(int(b["user"]["id"])), b.get("reason")) for b in page
            ]
            if len(page) < 1000:
                return found
            after = int(page[-1]["user"]["id"])

    async def ban_author(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[DiscordUserID | None, str | None]:
        try:
            data = await self.client.http.get_audit_logs(
                guild_id,
                limit=10,
                action_type=AUDIT_MEMBER_BAN_ADD,  # type: ignore[arg-type]
            )
        except discord.HTTPException as exc:
            log.info("discord.audit-log-unavailable guild=%s status=%s", guild_id, exc.status)
            return None, None
        for entry in data.get("audit_log_entries", []):
            if str(entry.get("target_id")) == str(user_id):
                actor = entry.get("user_id")
                return (DiscordUserID(int(actor)) if actor else None), entry.get("reason")
        return None, None

    def _member(self, member: discord.Member) -> DiscordMember:
        names = tuple(dict.fromkeys(n for n in (member.nick, member.global_name, member.name) if n))
        return DiscordMember(
            id=DiscordUserID(member.id),
            names=names,
            permissions=member.guild_permissions.value,
            is_owner=member.guild.owner_id == member.id,
        )

    async def _guild_member(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> discord.Member | None:
        guild = self.client.get_guild(guild_id)
        if guild is None:
            return None
        found = guild.get_member(user_id)
        if found is None:
            try:
                found = await guild.fetch_member(user_id)
            except discord.HTTPException:
                return None
        return found

    async def member(self, guild_id: GuildID, user_id: DiscordUserID) -> DiscordMember | None:
        found = await self._guild_member(guild_id, user_id)
        return self._member(found) if found is not None else None

    async def members(self, guild_id: GuildID) -> list[DiscordMember]:
        guild = self.client.get_guild(guild_id)
        return [self._member(m) for m in guild.members] if guild is not None else []

    async def guild_name(self, guild_id: GuildID) -> str | None:
        guild = self.client.get_guild(guild_id)
        return guild.name if guild is not None else None

    async def post(self, channel_id: ChannelID, text: str) -> None:
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            log.warning("discord.post-failed channel=%s reason=not-a-text-channel", channel_id)
            return
        try:
            await channel.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("discord.post-failed channel=%s status=%s", channel_id, exc.status)

    async def member_roles(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[int, ...] | None:
        member = await self._guild_member(guild_id, user_id)
        if member is None:
            return None
        return tuple(r.id for r in member.roles if not r.is_default())

    async def send_dm(self, user_id: DiscordUserID, text: str) -> bool:
        try:
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            await user.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("discord.dm-failed user=%s status=%s", user_id, exc.status)
            return False
        return True
