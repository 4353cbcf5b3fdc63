"""A guild's structure as the bridge sees it: the guild itself (name, icon, roles),
its channels with their categories and positions, and members' roles, translated
from discord.py's cache into :mod:`bridge.model` dataclasses.

Used for the Matrix spaces (one per guild, categories as sub-spaces), for bridging
whole categories or guilds, and for mapping Discord roles to power levels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

import discord

from bridge.convert.names import clean_name
from bridge.ids import ChannelID, DiscordUserID, GuildID
from bridge.model import DiscordAuthor, DiscordChannel, DiscordGuild, DiscordRole, ForumTag
from bridge.transport.change_log import ChangeLog
from bridge.transport.discord_moderation import visibility_of
from bridge.transport.discord_objects import author_from

log = logging.getLogger(__name__)


def channel_from(channel: discord.abc.GuildChannel) -> DiscordChannel:
    topic = getattr(channel, "topic", None)
    tags: tuple[ForumTag, ...] = ()
    if isinstance(channel, discord.ForumChannel):
        tags = tuple(forum_tag(tag, channel.guild) for tag in channel.available_tags)
    return DiscordChannel(
        id=ChannelID(channel.id),
        guild_id=GuildID(channel.guild.id),
        name=clean_name(channel.name) or str(channel.id),
        topic=topic if isinstance(topic, str) else "",
        visibility=visibility_of(channel),
        type=int(channel.type.value),
        parent_id=ChannelID(channel.category_id) if channel.category_id else None,
        position=int(channel.position),
        tags=tags,
    )


def forum_tag(tag: discord.ForumTag, guild: discord.Guild) -> ForumTag:
    """A forum tag with its emoji: unicode as is, a custom one as ``:name:`` (Discord
    sends only its ID: the name comes from the guild's emoji)."""
    emoji = tag.emoji
    shown: str | None = None
    if emoji is not None and emoji.id:
        custom = discord.utils.get(guild.emojis, id=emoji.id)
        name = emoji.name or (custom.name if custom is not None else "")
        shown = f":{name}:" if name else None
    elif emoji is not None and emoji.name:
        shown = emoji.name
    return ForumTag(tag.id, clean_name(tag.name) or str(tag.id), shown)


def role_from(role: discord.Role) -> DiscordRole:
    return DiscordRole(
        id=role.id, name=role.name, permissions=role.permissions.value, position=role.position
    )


def guild_from(guild: discord.Guild) -> DiscordGuild:
    return DiscordGuild(
        id=GuildID(guild.id),
        name=clean_name(guild.name) or str(guild.id),
        description=guild.description or "",
        icon_url=guild.icon.url if guild.icon is not None else None,
        owner_id=DiscordUserID(guild.owner_id) if guild.owner_id else None,
        roles=tuple(role_from(r) for r in guild.roles),
    )


def guild_channels(client: discord.Client, guild_id: GuildID) -> list[DiscordChannel] | None:
    """Every channel of a guild from the gateway's cache (None: the bot is not in it),
    in Discord's order: by position, then by ID, as the client lists them."""
    guild = client.get_guild(guild_id)
    if guild is None:
        return None
    channels = sorted(guild.channels, key=lambda c: (c.position, c.id))
    return [channel_from(c) for c in channels]


def member_roles(
    client: discord.Client, guild_id: GuildID, user_id: DiscordUserID
) -> tuple[frozenset[int], int, bool] | None:
    """A member's role IDs (@everyone included), their guild-wide permissions, and
    whether they own the guild; None when they are not (known to be) a member."""
    guild = client.get_guild(guild_id)
    member = guild.get_member(user_id) if guild is not None else None
    if guild is None or member is None:
        return None
    roles = frozenset(r.id for r in member.roles)
    return roles, member.guild_permissions.value, guild.owner_id == member.id


# How long to wait for the gateway to list a guild's members (its cache may be partial:
# the bridge does not ask for every member at start-up).
CHUNK_TIMEOUT = 30.0


async def guild_members(
    client: discord.Client, guild_id: GuildID
) -> dict[DiscordUserID, tuple[frozenset[int], int, bool]] | None:
    """Every member's role IDs, guild-wide permissions and ownership (as
    :func:`member_roles`); None when the bot is not in the guild. A guild whose members
    are not all cached yet is listed through the gateway first (once; then the cache
    follows joins, leaves and role changes)."""
    guild = client.get_guild(guild_id)
    if guild is None:
        return None
    if not guild.chunked:
        try:
            await asyncio.wait_for(guild.chunk(cache=True), CHUNK_TIMEOUT)
        except (TimeoutError, discord.HTTPException, discord.ClientException) as exc:
            log.warning("discord.members-partial guild=%s error=%s", guild_id, exc)
    return {
        DiscordUserID(m.id): (
            frozenset(r.id for r in m.roles),
            m.guild_permissions.value,
            guild.owner_id == m.id,
        )
        for m in guild.members
    }


def member_author(
    client: discord.Client, guild_id: GuildID, user_id: DiscordUserID
) -> DiscordAuthor | None:
    """A cached member's profile (nickname first), None when not (known as) a member."""
    guild = client.get_guild(guild_id)
    member = guild.get_member(user_id) if guild is not None else None
    return author_from(member) if member is not None else None


class MemberNames:
    """Guild members' names from the gateway's cache, for name clashes
    (bridge.actions.name_clash), and which members joined, left or were renamed, so
    that what was computed from them can catch up. A guild whose members are not all
    cached is listed through the gateway in the background (once); then everybody
    counts as changed."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._changes: ChangeLog[GuildID, DiscordUserID] = ChangeLog()
        self._chunking: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def changed(self, guild_id: int, user_id: int | None) -> None:
        self._changes.record(
            GuildID(guild_id), DiscordUserID(user_id) if user_id is not None else None
        )

    def version(self, guild_id: GuildID) -> int:
        return self._changes.version(guild_id)

    def since(self, guild_id: GuildID, version: int) -> frozenset[DiscordUserID] | None:
        return self._changes.since(guild_id, version)

    def members(
        self, guild_id: GuildID, only: Collection[DiscordUserID] | None = None
    ) -> list[DiscordAuthor]:
        guild = self._client.get_guild(guild_id)
        if guild is None:
            return []
        if not guild.chunked and guild.id not in self._chunking:
            self._chunking.add(guild.id)
            task = asyncio.get_running_loop().create_task(self._chunk(guild))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if only is not None:
            found = (guild.get_member(user_id) for user_id in only)
            return [author_from(m) for m in found if m is not None]
        return [author_from(m) for m in guild.members]

    async def _chunk(self, guild: discord.Guild) -> None:
        try:
            await asyncio.wait_for(guild.chunk(cache=True), CHUNK_TIMEOUT)
        except (TimeoutError, discord.HTTPException, discord.ClientException) as exc:
            log.warning("discord.members-partial guild=%s error=%s", guild.id, exc)
            self._chunking.discard(guild.id)  # tried again on the next message
        self.changed(guild.id, None)
