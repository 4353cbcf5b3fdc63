"""Test controls for what people do in the Discord client: guild settings, channels,
roles and forum posts. :class:`sandbox.discord.server.Emulator` has these methods.

Each does what the REST handler does (same validation, same dispatches) without the
permission checks and without an audit entry, as :meth:`Emulator.set_member_roles`.
Invalid arguments raise the :class:`~sandbox.discord.errors.ApiError` REST would answer;
unknown ids raise ``KeyError``.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from sandbox.discord import rest_channels, rest_guilds, rest_roles
from sandbox.discord.context import Ctx
from sandbox.discord.state import Channel

log = logging.getLogger(__name__)


class Unset(enum.Enum):
    """The type of :data:`KEEP`."""

    KEEP = 0


KEEP = Unset.KEEP  # "leave this as it is" (where None has a meaning of its own)


class Controls:
    """Guild, channel, role and forum controls (mixed into the Emulator)."""

    ctx: Ctx

    def _guild_channel(self, channel_id: str) -> Channel:
        channel = self.ctx.state.channels[str(channel_id)]
        if channel.is_thread or channel.is_dm:
            raise KeyError(f"not a guild channel: {channel_id}")
        return channel

    # -- guild -------------------------------------------------------------------------

    def update_guild(
        self,
        guild_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        new_icon: bool = False,
    ) -> None:
        """Guild settings changed in the Discord client: GUILD_UPDATE when something
        changed. None leaves a field as it is (``description=""`` clears it); ``new_icon``
        draws a new icon (a new hash, served on the CDN)."""
        guild = self.ctx.state.guilds[str(guild_id)]
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        values = rest_guilds.guild_fields(self.ctx, guild, body)
        if new_icon:
            values["icon"] = rest_guilds.drawn_icon(guild)
        rest_guilds.apply_guild(self.ctx, guild, values)

    # -- channels ----------------------------------------------------------------------

    def create_channel(
        self,
        guild_id: str,
        name: str,
        *,
        type: int = 0,
        parent_id: str | None = None,
        position: int | None = None,
        topic: str | None = None,
        overwrites: list[dict[str, Any]] | None = None,
        available_tags: list[dict[str, Any]] | None = None,
    ) -> str:
        """A channel created in the Discord client: CHANNEL_CREATE; returns its id.
        ``overwrites``: ``{id, type, allow, deny}``; ``available_tags`` (forum and media
        channels): ``{name, moderated, emoji_id, emoji_name}`` (ids are made up)."""
        guild = self.ctx.state.guilds[str(guild_id)]
        if type not in rest_channels.GUILD_CHANNEL_TYPES:
            raise ValueError(f"not a guild channel type: {type}")
        body: dict[str, Any] = {"name": name, "position": position, "topic": topic}
        if parent_id is not None:
            body["parent_id"] = str(parent_id)
        if overwrites is not None:
            body["permission_overwrites"] = overwrites
        if available_tags is not None:
            body["available_tags"] = available_tags
        values = rest_channels.fields(self.ctx, guild, body, type)
        return rest_channels.create(self.ctx, guild, type, values).id

    def move_channel(
        self,
        channel_id: str,
        *,
        position: int | None = None,
        parent_id: str | Unset | None = KEEP,
    ) -> None:
        """A channel dragged in the Discord client: a new ``position`` and/or category
        (``parent_id=None``: out of any category). CHANNEL_UPDATE when something changed."""
        channel = self._guild_channel(channel_id)
        guild = self.ctx.state.guilds[channel.guild_id]
        body: dict[str, Any] = {"position": position}
        if parent_id is not KEEP:
            body["parent_id"] = parent_id
        values = rest_channels.fields(self.ctx, guild, body, channel.type, channel)
        rest_channels.apply(self.ctx, channel, values)

    def rename_channel(self, channel_id: str, name: str, topic: str | Unset | None = KEEP) -> None:
        """A channel renamed (and its topic changed, unless KEEP) in the Discord client."""
        channel = self._guild_channel(channel_id)
        guild = self.ctx.state.guilds[channel.guild_id]
        body: dict[str, Any] = {"name": name}
        if topic is not KEEP:
            body["topic"] = topic
        values = rest_channels.fields(self.ctx, guild, body, channel.type, channel)
        rest_channels.apply(self.ctx, channel, values)

    def delete_channel(self, channel_id: str) -> None:
        """A channel deleted in the Discord client: CHANNEL_DELETE (and, for a category,
        CHANNEL_UPDATE for each child, whose ``parent_id`` becomes null)."""
        rest_channels.delete(self.ctx, self._guild_channel(channel_id))

    # -- roles ---------------------------------------------------------------------------

    def create_role(
        self, guild_id: str, name: str, permissions: int = 0, position: int | None = None
    ) -> str:
        """A role created in the Discord client: GUILD_ROLE_CREATE (at position 1, or at
        ``position``: the roles it passes move, GUILD_ROLE_UPDATE each); returns its id."""
        guild = self.ctx.state.guilds[str(guild_id)]
        values = rest_roles.role_fields({"name": name, "permissions": str(permissions)})
        role = rest_roles.create(self.ctx, guild, values)
        if position is not None:
            rest_roles.reorder(self.ctx, guild, {role.id: position})
        return role.id

    def edit_role(
        self,
        guild_id: str,
        role_id: str,
        *,
        name: str | None = None,
        permissions: int | None = None,
        position: int | None = None,
    ) -> None:
        """A role edited in the Discord client: GUILD_ROLE_UPDATE (and, when it moves, for
        each role whose position changes)."""
        guild = self.ctx.state.guilds[str(guild_id)]
        role = guild.roles[str(role_id)]
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if permissions is not None:
            body["permissions"] = str(permissions)
        rest_roles.apply(self.ctx, guild, role, rest_roles.role_fields(body))
        if position is not None:
            rest_roles.reorder(self.ctx, guild, {role.id: position})

    def delete_role(self, guild_id: str, role_id: str) -> None:
        """A role deleted in the Discord client: GUILD_ROLE_DELETE; members lose it."""
        guild = self.ctx.state.guilds[str(guild_id)]
        rest_roles.delete(self.ctx, guild, guild.roles[str(role_id)])
