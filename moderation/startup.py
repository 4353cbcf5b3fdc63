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


async def adopt_legacy_bans(mctx: ModerationContext) -> int:
    """Bans recorded before they were per guild (migration 0013) get their guilds: a
    Discord user's to the first configured guild (the only one the bridge banned in
    then), a Matrix user's to every guild (they were banned from every portal room)."""
    guilds = mctx.bridge.config.discord.guild_ids
    adopted = await mctx.stores.bans.adopt_legacy(guilds[:1], guilds)
    if adopted:
        log.info("moderation.legacy-bans-adopted rows=%s first_guild=%s", adopted, guilds[0])
    return adopted


async def reconcile_discord_bans(mctx: ModerationContext) -> tuple[int, int]:
    """Apply the Discord bans the bridge missed, guild by guild, and lift those lifted
    meanwhile; each as if it had just happened in that guild (so ``ban_scope`` decides
    where it applies).

    Only bans that came from that guild's Discord are lifted here: a ban of a ghost
    made on Matrix while ``ban_on_discord`` is off has no Discord ban to compare with,
    and neither has a ban carried from another guild (origin 'party') where the bridge
    may lack Ban Members. A guild whose bans Discord would not list is skipped.
    """
    added = lifted = 0
    for guild in mctx.bridge.config.discord.guild_ids:
        listed = await mctx.discord.bans(guild)
        if listed is None:
            log.warning("moderation.reconcile-skipped guild=%s reason=bans-unavailable", guild)
            continue
        current = {ban.user_id: ban for ban in listed}
        recorded = {
            DiscordUserID(int(row.target)): row
            for row in await mctx.stores.bans.all("discord", guild)
        }
        for user_id, ban in current.items():
            if user_id in recorded:
                continue
            if await mctx.stores.bans.get("discord", str(user_id), guild) is not None:
                continue  # recorded meanwhile, by an earlier guild's catch-up (party)
            await ban_discord_user(
                mctx,
                user_id,
                reason=ban.reason or "",
                actor=mctx.tr._("a Discord moderator (while the bridge was down)"),
                origin="startup",
                source="startup",
                where=guild,
                on_discord=False,
            )
            added += 1
        for user_id, row in recorded.items():
            if user_id in current or row.origin not in ("discord", "startup"):
                continue
            if await mctx.stores.bans.get("discord", str(user_id), guild) is None:
                continue  # lifted meanwhile, by an earlier guild's catch-up (party)
            lifted += await unban_discord_user(
                mctx,
                user_id,
                reason=mctx.tr._("unbanned on Discord while the bridge was down"),
                actor=mctx.tr._("a Discord moderator"),
                source="startup",
                where=guild,
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
    await adopt_legacy_bans(mctx)
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
