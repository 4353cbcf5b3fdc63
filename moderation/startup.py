"""Start-up: moderation rooms and lists, then catch up with what changed while the
bridge was down (bans made or lifted on Discord, rules added to followed lists)."""

from __future__ import annotations

import logging

from bridge.ids import DiscordUserID, UserID
from moderation import lists
from moderation.bans import ban_discord_user, unban_discord_user
from moderation.context import ModerationContext
from moderation.policy import ban_level

log = logging.getLogger(__name__)

DOWN = "while the bridge was down"


async def reconcile_discord_bans(mctx: ModerationContext) -> tuple[int, int]:
    """Apply Discord bans the bridge missed, lift those lifted meanwhile.

    Only bans that came from Discord are lifted here: a ban of a ghost made on
    Matrix while ``ban_on_discord`` is off has no Discord ban to compare with.
    """
    current = {ban.user_id: ban for ban in await mctx.discord.bans()}
    recorded = {
        DiscordUserID(int(row.target)): row for row in await mctx.stores.bans.all("discord")
    }
    added = lifted = 0
    for user_id, ban in current.items():
        if user_id not in recorded:
            await ban_discord_user(
                mctx,
                user_id,
                reason=ban.reason or "",
                actor=f"a Discord moderator ({DOWN})",
                origin="startup",
                source="startup",
                on_discord=False,
            )
            added += 1
    for user_id, row in recorded.items():
        if user_id not in current and row.origin in ("discord", "startup"):
            lifted += await unban_discord_user(
                mctx,
                user_id,
                reason=f"unbanned on Discord {DOWN}",
                actor="a Discord moderator",
                source="startup",
                on_discord=False,
            )
    return added, lifted


async def moderators_may_ban(mctx: ModerationContext) -> int:
    """Configured moderators get the ban level in every portal room (Element's ban
    button then works for them, and the homeserver enforces who may)."""
    moderators = [UserID(m) for m in mctx.config.moderators]
    if not moderators:
        return 0
    raised = 0
    for portal in await mctx.stores.portals.all():
        levels = await mctx.matrix.power_levels(portal.room_id)
        raised += await mctx.matrix.raise_power(portal.room_id, moderators, ban_level(levels))
    return raised


async def start_moderation(mctx: ModerationContext) -> None:
    await lists.setup(mctx)
    await moderators_may_ban(mctx)
    applied = await lists.reapply_all(mctx)
    added, lifted = await reconcile_discord_bans(mctx)
    log.info(
        "moderation.started lists=%s rules=%s applied=%s discord_added=%s discord_lifted=%s",
        len(mctx.state.list_rooms),
        len(mctx.state.policy),
        applied,
        added,
        lifted,
    )
