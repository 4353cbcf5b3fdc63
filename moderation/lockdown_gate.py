"""Whether a message waits because of the lockdown: the check both relays make.

``is_paused``: a lockdown holds and the author is a new account
(:func:`moderation.lockdown_rules.is_new_account`: a Discord account younger than
``new_account_days``, or a first join less than ``new_member_minutes`` ago). The
message is then not relayed, and its author told once, in plain words. Bots,
webhooks, the bridge and the configured moderators never wait. Needs only the bridge
context, so the relay does not depend on the moderation layer's ports.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.db.common import now_ms
from bridge.db.lockdown import JoinSide
from bridge.model import DiscordMessage
from moderation.gate import protected
from moderation.lockdown_rules import LockdownState, is_new_account

log = logging.getLogger(__name__)


async def is_paused(ctx: BridgeContext, side: JoinSide, user_id: str, where: str) -> bool:
    """True when ``user_id``'s message (sent in room or channel ``where``) must wait."""
    state = ctx.moderation.lockdown
    if not state.active:
        return await _suspected(ctx, state, side, user_id, where)
    if side == "matrix" and (protected(ctx, user_id) or ctx.namer.is_bridge_owned(user_id)):
        return False
    cfg = ctx.config.moderation.lockdown
    first = await ctx.stores.lockdown.first_join(side, user_id)
    new = is_new_account(
        now_ms=now_ms(),
        first_join_ms=first,
        new_member_minutes=cfg.new_member_minutes,
        discord_user_id=int(user_id) if side == "discord" else None,
        new_account_days=cfg.new_account_days,
    )
    if not new:
        return False
    log.info("lockdown.held side=%s user=%s where=%s", side, user_id, where)
    await _tell_once(state, side, user_id, where)
    return True


async def _suspected(
    ctx: BridgeContext, state: LockdownState, side: JoinSide, user_id: str, where: str
) -> bool:
    """No lockdown yet, but a join wave is building and ``user_id`` is one of its
    newcomers (in memory: no database read while nothing is suspected)."""
    if state.suspect is None or not state.suspect(f"{side}:{user_id}"):
        return False
    if side == "matrix" and (protected(ctx, user_id) or ctx.namer.is_bridge_owned(user_id)):
        return False
    log.info("lockdown.held-join-alert side=%s user=%s where=%s", side, user_id, where)
    await _tell_once(state, side, user_id, where)
    return True


async def _tell_once(state: LockdownState, side: str, user_id: str, where: str) -> None:
    if (side, user_id) in state.told or state.tell is None:
        return
    state.told.add((side, user_id))
    try:
        await state.tell(side, user_id, where)
    except Exception:  # telling is a courtesy: holding the message is what matters
        log.exception("lockdown.tell-failed side=%s user=%s", side, user_id)


async def discord_message_paused(ctx: BridgeContext, message: DiscordMessage) -> bool:
    """:func:`is_paused` for a Discord message (bots and webhooks never wait)."""
    if message.author.bot or message.webhook_id is not None:
        return False
    return await is_paused(ctx, "discord", str(message.author.id), str(message.channel_id))
