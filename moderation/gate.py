"""Whether a Matrix user's events may reach Discord: the check every m2d flow makes.

Kept apart from :mod:`moderation.bans` so the relay needs only the bridge context.
"""

from __future__ import annotations

from bridge.actions.context import BridgeContext
from bridge.ids import UserID


def protected(ctx: BridgeContext, mxid: str) -> bool:
    """The bridge bot and the configured moderators are never banned across the bridge."""
    return mxid == ctx.namer.bot_mxid or mxid in ctx.config.moderation.moderators


async def relay_blocked(ctx: BridgeContext, sender: UserID) -> bool:
    """A Matrix user with a shared ban, or matching a ban rule of a followed policy
    list, has nothing relayed to Discord (messages, edits, reactions, pins...)."""
    if protected(ctx, sender):
        return False
    if await ctx.stores.bans.is_banned("matrix", sender):
        return True
    return ctx.moderation.policy.is_banned_user(sender) is not None
