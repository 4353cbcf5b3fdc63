"""Whether a Matrix user's events may reach Discord: the check every m2d flow makes.

Kept apart from :mod:`moderation.bans` so the relay needs only the bridge context.
"""

from __future__ import annotations

from bridge.actions.context import BridgeContext
from bridge.ids import RoomID, UserID


def protected(ctx: BridgeContext, mxid: str) -> bool:
    """The bridge bot and the configured moderators are never banned across the bridge."""
    return mxid == ctx.namer.bot_mxid or mxid in ctx.config.moderation.moderators


async def relay_blocked(ctx: BridgeContext, sender: UserID, room_id: RoomID | None = None) -> bool:
    """A Matrix user with a shared ban in the guild of ``room_id``'s channel, or
    matching a ban rule of a followed policy list, has nothing relayed to Discord
    from that room (messages, edits, reactions, pins...). A room that is no portal
    (or no room given) is checked against every guild: nothing is relayed from it
    anyway, and a ban anywhere blocks."""
    if protected(ctx, sender):
        return False
    portal = await ctx.stores.portals.by_room(room_id) if room_id is not None else None
    guild = portal.guild_id if portal is not None else None
    if await ctx.stores.bans.is_banned("matrix", sender, guild):
        return True
    return ctx.moderation.policy.is_banned_user(sender) is not None
