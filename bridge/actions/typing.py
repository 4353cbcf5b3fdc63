"""Typing notifications both ways, best effort.

Discord -> Matrix: the ghost types in the portal room for Discord's 10 seconds
(only ghosts already in the room: typing never adds anyone to a room).
Matrix -> Discord: webhooks cannot type, so the bridge bot types in the
channel while any Matrix user types, at most once per ``RETRIGGER_S``.
"""

from __future__ import annotations

import logging
import time

from bridge.actions.context import BridgeContext
from bridge.ids import ChannelID, DiscordUserID, RoomID, UserID

log = logging.getLogger(__name__)

DISCORD_TYPING_MS = 10_000
RETRIGGER_S = 8.0


async def relay_discord_typing(
    ctx: BridgeContext, channel_id: ChannelID, user_id: DiscordUserID
) -> bool:
    if ctx.config.bridge.channel(channel_id) is None:
        return False
    portal = await ctx.stores.portals.by_channel(channel_id)
    if portal is None or await ctx.stores.puppets.get(user_id) is None:
        return False
    ghost = ctx.namer.ghost_mxid(user_id)
    if not await ctx.matrix.is_joined(portal.room_id, ghost):
        return False
    await ctx.matrix.set_typing(portal.room_id, ghost, DISCORD_TYPING_MS)
    ctx.typing_ghosts.add((portal.room_id, ghost))
    return True


async def stop_ghost_typing(ctx: BridgeContext, room_id: RoomID, ghost: UserID) -> None:
    """The ghost's message arrived: its typing notice ends with it."""
    if (room_id, ghost) in ctx.typing_ghosts:
        ctx.typing_ghosts.discard((room_id, ghost))
        await ctx.matrix.set_typing(room_id, ghost, 0)


async def relay_matrix_typing(ctx: BridgeContext, room_id: RoomID, user_ids: list[UserID]) -> bool:
    typing = [u for u in user_ids if not ctx.namer.is_bridge_owned(u)]
    if not typing:
        return False
    portal = await ctx.stores.portals.by_room(room_id)
    if portal is None:
        return False
    now = time.monotonic()
    if now - ctx.discord_typing_at.get(portal.discord_channel_id, -RETRIGGER_S) < RETRIGGER_S:
        return False
    ctx.discord_typing_at[portal.discord_channel_id] = now
    await ctx.discord.trigger_typing(portal.discord_channel_id)
    return True
