"""Routing of guild-structure events (channels created, moved, renamed, deleted; the
guild's name or icon; roles; a member's roles) to the flows that follow them.

Everything runs in one serial queue of the bridge's Discord -> Matrix queues, so that
a burst is applied in Discord's order; a burst of channel updates of one guild (a
category reordered) coalesces into one run. The flows themselves register on the
hook lists of :class:`bridge.actions.context.BridgeContext`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from bridge.actions.context import BridgeContext
from bridge.ids import ChannelID, DiscordUserID, GuildID

log = logging.getLogger(__name__)

# The queue key of the structure queue (no channel has this ID).
STRUCTURE_QUEUE = ChannelID(2)


class StructureEvents:
    def __init__(
        self,
        ctx: Callable[[], BridgeContext | None],
        submit: Callable[[ChannelID, Callable[[], Awaitable[object]]], None],
        reapply_rules: Callable[[], Awaitable[object]],
        until_started: Callable[[], Awaitable[None]],
    ) -> None:
        self._ctx = ctx
        self._submit = submit
        self._reapply_rules = reapply_rules
        self._until_started = until_started
        # Guilds whose structure run is queued and not started yet (bursts coalesce).
        self._pending: set[GuildID] = set()

    def _bridged(self, guild_id: GuildID) -> BridgeContext | None:
        ctx = self._ctx()
        if ctx is None or guild_id not in ctx.config.discord.guild_ids:
            return None
        return ctx

    async def on_structure(self, guild_id: GuildID) -> None:
        """A channel was created, moved, renamed or deleted, or the guild changed."""
        if self._bridged(guild_id) is None or guild_id in self._pending:
            return  # in a burst, the queued run will see it all
        self._pending.add(guild_id)
        self._submit(STRUCTURE_QUEUE, functools.partial(self._structure_changed, guild_id))

    async def _structure_changed(self, guild_id: GuildID) -> None:
        self._pending.discard(guild_id)  # what changes from now on queues again
        await self._until_started()
        ctx = self._ctx()
        if ctx is None:
            return
        await self._reapply_rules()  # category and guild rules may bridge or drop channels
        for hook in ctx.structure_changed:
            await hook(guild_id)

    async def on_guild_roles(self, guild_id: GuildID) -> None:
        ctx = self._bridged(guild_id)
        for hook in ctx.guild_roles_changed if ctx is not None else ():
            self._submit(STRUCTURE_QUEUE, functools.partial(hook, guild_id))

    async def on_member_roles(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        ctx = self._bridged(guild_id)
        for hook in ctx.member_roles_changed if ctx is not None else ():
            self._submit(STRUCTURE_QUEUE, functools.partial(hook, guild_id, user_id))

    async def on_channel_deleted(self, channel_id: ChannelID, guild_id: GuildID) -> None:
        ctx = self._bridged(guild_id)
        for hook in ctx.channel_deleted if ctx is not None else ():
            self._submit(STRUCTURE_QUEUE, functools.partial(hook, channel_id))
