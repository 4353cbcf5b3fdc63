"""Shared bans: one moderation truth for both networks.

A ban is recorded once (``mod_ban``: side + target) and carried to the other
side, then written to the bridge's own policy list. Which way it came decides
nothing about the result:

- a **Discord user** banned (on Discord, from Element by banning their ghost, by
  command or by a policy rule naming their ghost) is banned from the guild and
  their ghost from every portal room;
- a **Matrix user** banned (in a portal room, by command or by a rule) is banned
  from every portal room when ``moderation.guild_wide_bans`` is on (else only
  where it happened), and nothing of theirs is relayed to Discord any more.

Unbans reverse exactly that. Kicks map to kicks and leave no record. Every step
lands in the moderation log (:mod:`moderation.audit`). Protected, whatever the
source: the bridge bot and the ghosts' namespace as a whole, and the configured
moderators (a ban of one of them stays where it was made and is logged as
refused).
"""

from __future__ import annotations

import logging

from bridge.db import BanOrigin, BanRow, Side
from bridge.ids import DiscordUserID, RoomID, UserID
from moderation import audit
from moderation.context import ModerationContext
from moderation.gate import protected
from moderation.policy import RuleKey
from moderation.rule_set import mirror_own_write

log = logging.getLogger(__name__)

RULE_USER = "m.policy.rule.user"
BAN = "m.ban"


def rule_state_key(entity: str) -> str:
    """State key of the bridge's rule for ``entity`` (Draupnir's ``rule:`` spelling)."""
    return f"rule:{entity}"


def is_protected(mctx: ModerationContext, mxid: str) -> bool:
    return protected(mctx.bridge, mxid)


async def portal_rooms(mctx: ModerationContext) -> list[RoomID]:
    return [p.room_id for p in await mctx.stores.portals.all()]


async def _set_banned_in_rooms(
    mctx: ModerationContext, user: UserID, reason: str, skip: RoomID | None, *, banned: bool
) -> int:
    """The bot (un)bans ``user`` in every portal room but ``skip`` where they are not
    so already, room by room; returns how many changed."""
    change = mctx.matrix.ban if banned else mctx.matrix.unban
    changed = 0
    for room_id in await portal_rooms(mctx):
        if room_id == skip or (await mctx.matrix.membership(room_id, user) == "ban") == banned:
            continue
        changed += await change(room_id, user, reason)
    return changed


async def ban_in_rooms(
    mctx: ModerationContext, user: UserID, reason: str, skip: RoomID | None = None
) -> int:
    """The bot bans ``user`` from every portal room; returns how many changed."""
    return await _set_banned_in_rooms(mctx, user, reason, skip, banned=True)


async def unban_in_rooms(
    mctx: ModerationContext, user: UserID, reason: str, skip: RoomID | None = None
) -> int:
    return await _set_banned_in_rooms(mctx, user, reason, skip, banned=False)


async def write_rule(
    mctx: ModerationContext, entity: str, reason: str, rule: tuple[str, str] | None = None
) -> None:
    """Publish ``entity`` as banned in the bridge's policy list (unless the ban comes
    from a rule there already: ``rule`` is the causing (list room, entity))."""
    room = mctx.state.policy_room
    if room is None or (rule is not None and rule == (room, entity)):
        return
    content = {"entity": entity, "recommendation": BAN, "reason": reason}
    key = rule_state_key(entity)
    event_id = await mctx.matrix.set_state(room, RULE_USER, key, content)
    await mirror_own_write(mctx, room, RULE_USER, key, content, event_id)


async def remove_rule(mctx: ModerationContext, entity: str) -> None:
    """Blank the bridge's rule for ``entity`` (how Draupnir and Mjolnir remove rules)."""
    room = mctx.state.policy_room
    key = rule_state_key(entity)
    if room is None or mctx.state.policy.get(RuleKey(room, "user", key)) is None:
        return
    event_id = await mctx.matrix.set_state(room, RULE_USER, key, {})
    await mirror_own_write(mctx, room, RULE_USER, key, {}, event_id)


def _sides(matrix: str, discord: str) -> str:
    return f"Matrix: {matrix}. Discord: {discord}."


def _room_reason(verb: str, reason: str) -> str:
    """What the bot gives a portal room as the reason: ``Banned: spam`` or ``Banned``."""
    return f"{verb}: {reason}" if reason else verb


def _discord_reason(actor: str, reason: str) -> str:
    """What the bridge writes in Discord's audit log: who acted, and why."""
    return f"{actor}: {reason}" if reason else actor


async def _store_ban(
    mctx: ModerationContext,
    side: Side,
    target: str,
    reason: str,
    actor: str,
    origin: BanOrigin,
    rule: tuple[str, str] | None,
) -> BanRow:
    """Record the shared ban (``rule``: the causing (list room, entity), if any)."""
    rule_room, rule_entity = rule if rule else (None, None)
    row = BanRow(side, target, reason, actor, origin, rule_room=rule_room, rule_entity=rule_entity)
    await mctx.stores.bans.put(row)
    return row


async def _spread_ban(
    mctx: ModerationContext,
    user: UserID,
    reason: str,
    rule: tuple[str, str] | None,
    skip: RoomID | None = None,
) -> int:
    """Ban ``user`` from the portal rooms (but ``skip``), then publish the rule for them;
    returns in how many rooms the ban is new."""
    rooms = await ban_in_rooms(mctx, user, _room_reason("Banned", reason), skip=skip)
    await write_rule(mctx, user, reason, rule)
    return rooms


# -- Discord users -------------------------------------------------------------------


async def ban_discord_user(
    mctx: ModerationContext,
    user_id: DiscordUserID,
    *,
    reason: str,
    actor: str,
    origin: BanOrigin,
    source: str,
    on_discord: bool = True,
    rule: tuple[str, str] | None = None,
) -> BanRow:
    """Record the ban, ban on Discord (unless it came from there) and every room."""
    ghost = mctx.namer.ghost_mxid(user_id)
    row = await _store_ban(mctx, "discord", str(user_id), reason, actor, origin, rule)
    discord_result = "banned on Discord already"
    if on_discord:
        if not mctx.config.ban_on_discord and origin != "command":
            discord_result = "not banned (ban_on_discord is off)"
        elif await mctx.discord.ban(user_id, _discord_reason(actor, reason), 0):
            discord_result = "banned from the server"
        else:
            discord_result = "could not ban (the bridge lacks Ban Members, or they rank higher)"
    rooms = await _spread_ban(mctx, ghost, reason, rule)
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="ban",
        target=f"{ghost} (Discord user {user_id})",
        reason=reason,
        outcome=_sides(f"ghost banned from {rooms} more room(s)", discord_result),
    )
    # The same person's linked Matrix account is banned with them.
    link = await mctx.stores.links.by_discord(user_id)
    if link is not None and await mctx.stores.bans.get("matrix", link.mxid) is None:
        await ban_matrix_user(
            mctx,
            UserID(link.mxid),
            reason=reason,
            actor=actor,
            origin=origin,
            source=source,
            rule=rule,
        )
    return row


async def unban_discord_user(
    mctx: ModerationContext,
    user_id: DiscordUserID,
    *,
    reason: str,
    actor: str,
    source: str,
    on_discord: bool = True,
) -> bool:
    """Lift a Discord user's shared ban everywhere; False when none was recorded."""
    ghost = mctx.namer.ghost_mxid(user_id)
    row = await mctx.stores.bans.remove("discord", str(user_id))
    if row is not None:
        await remove_rule(mctx, ghost)  # first, as for Matrix users (unban_matrix_user)
    rooms = await unban_in_rooms(mctx, ghost, _room_reason("Unbanned", reason))
    if row is None:
        return False  # e.g. the echo of our own unban: nothing recorded, nothing to log
    discord_result = "unbanned already"
    if on_discord:
        ok = await mctx.discord.unban(user_id, _discord_reason(actor, reason))
        discord_result = "unbanned" if ok else "could not unban"
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="unban",
        target=f"{ghost} (Discord user {user_id})",
        reason=reason,
        outcome=_sides(f"ghost unbanned in {rooms} room(s)", discord_result),
    )
    link = await mctx.stores.links.by_discord(user_id)
    linked_ban = await mctx.stores.bans.get("matrix", link.mxid) if link is not None else None
    if link is not None and linked_ban is not None and linked_ban.moderator == row.moderator:
        await unban_matrix_user(mctx, UserID(link.mxid), reason=reason, actor=actor, source=source)
    return True


async def on_discord_ban(mctx: ModerationContext, user_id: DiscordUserID) -> None:
    """GUILD_BAN_ADD: a Discord moderator (or the bridge itself) banned someone."""
    if await mctx.stores.bans.get("discord", str(user_id)) is not None:
        # Our own ban's echo, or a repeat: only make sure no room was missed.
        await ban_in_rooms(mctx, mctx.namer.ghost_mxid(user_id), "Banned on Discord")
        return
    moderator, reason = await mctx.discord.ban_author(user_id)
    actor = f"discord:{moderator}" if moderator else "a Discord moderator"
    await ban_discord_user(
        mctx,
        user_id,
        reason=reason or "",
        actor=actor,
        origin="discord",
        source="discord",
        on_discord=False,
    )


async def on_discord_unban(mctx: ModerationContext, user_id: DiscordUserID) -> None:
    """GUILD_BAN_REMOVE."""
    await unban_discord_user(
        mctx,
        user_id,
        reason="unbanned on Discord",
        actor="a Discord moderator",
        source="discord",
        on_discord=False,
    )


# -- Matrix users --------------------------------------------------------------------


async def ban_matrix_user(
    mctx: ModerationContext,
    user: UserID,
    *,
    reason: str,
    actor: str,
    origin: BanOrigin,
    source: str,
    where: RoomID | None = None,
    rule: tuple[str, str] | None = None,
) -> BanRow | None:
    """Stop relaying ``user`` and ban them from every portal room (guild-wide bans) or
    from ``where`` only. None when ``user`` is protected (logged as refused)."""
    if is_protected(mctx, user):
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="refused",
            target=user,
            reason=reason,
            outcome="Moderators and the bridge are never banned across the bridge.",
        )
        return None
    if where is not None and not mctx.config.guild_wide_bans:
        # Only that room (the homeserver already applied it): nothing spreads, nothing
        # is recorded, so joining another room or relaying from it stays possible.
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="ban",
            target=user,
            reason=reason,
            outcome=_sides("banned in that room only (guild_wide_bans is off)", "unchanged"),
        )
        return None
    row = await _store_ban(mctx, "matrix", user, reason, actor, origin, rule)
    rooms = await _spread_ban(mctx, user, reason, rule, skip=where)
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="ban",
        target=user,
        reason=reason,
        outcome=_sides(f"banned from {rooms} more room(s)", "nothing of theirs is relayed"),
    )
    return row


async def unban_matrix_user(
    mctx: ModerationContext,
    user: UserID,
    *,
    reason: str,
    actor: str,
    source: str,
    where: RoomID | None = None,
) -> bool:
    row = await mctx.stores.bans.remove("matrix", user)
    if row is None:
        return False
    # The rule goes first: while it stands, the user's relay stays blocked and a rejoin
    # of a room already unbanned would be refused again (enforce_on_join).
    await remove_rule(mctx, user)
    rooms = await unban_in_rooms(mctx, user, reason or "Unbanned", skip=where)
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="unban",
        target=user,
        reason=reason,
        outcome=_sides(f"unbanned in {rooms} more room(s)", "relayed again"),
    )
    return True


# -- what Element users do -----------------------------------------------------------


async def on_matrix_membership(
    mctx: ModerationContext,
    room_id: RoomID,
    sender: UserID,
    target: UserID,
    membership: str,
    previous: str | None,
    reason: str,
) -> None:
    """A member event in a portal room: bans, unbans and kicks by room moderators
    (the homeserver already checked their power level), and joins of banned users."""
    if mctx.namer.is_bridge_owned(sender):
        return  # the bridge's own actions
    if await mctx.stores.portals.by_room(room_id) is None:
        return
    ghost_of = mctx.namer.parse_ghost(target)
    if membership == "join" and ghost_of is None:
        await enforce_on_join(mctx, room_id, target)
    elif membership == "ban" and previous != "ban":
        if ghost_of is not None:
            await ban_discord_user(
                mctx,
                ghost_of,
                reason=reason,
                actor=sender,
                origin="matrix",
                source="matrix",
                on_discord=True,
            )
        else:
            await ban_matrix_user(
                mctx,
                target,
                reason=reason,
                actor=sender,
                origin="matrix",
                source="matrix",
                where=room_id,
            )
    elif membership == "leave" and sender != target and previous == "ban":
        if ghost_of is not None:
            await unban_discord_user(
                mctx, ghost_of, reason=reason, actor=sender, source="matrix", on_discord=True
            )
        else:
            await unban_matrix_user(
                mctx, target, reason=reason, actor=sender, source="matrix", where=room_id
            )
    elif membership == "leave" and sender != target and previous == "join":
        await _kick(mctx, sender, target, ghost_of, reason)


async def _kick(
    mctx: ModerationContext,
    sender: UserID,
    target: UserID,
    ghost_of: DiscordUserID | None,
    reason: str,
) -> None:
    if ghost_of is None:
        outcome = _sides("kicked from the room", "nothing to do")
    elif mctx.config.kick_on_discord:
        ok = await mctx.discord.kick(ghost_of, _discord_reason(sender, reason))
        outcome = _sides("kicked", "kicked from the server" if ok else "could not kick")
    else:
        outcome = _sides("kicked", "not kicked (kick_on_discord is off)")
    await audit.record(
        mctx,
        source="matrix",
        actor=sender,
        action="kick",
        target=target,
        reason=reason,
        outcome=outcome,
    )


async def enforce_on_join(mctx: ModerationContext, room_id: RoomID, user: UserID) -> bool:
    """A banned Matrix user (recorded, or matching a policy rule) who joins a portal
    room is banned from it at once."""
    if is_protected(mctx, user):
        return False
    row = await mctx.stores.bans.get("matrix", user)
    match = mctx.state.policy.is_banned_user(user)
    if row is None and match is None:
        return False
    reason = row.reason if row is not None else (match.rule.reason if match else "")
    await mctx.matrix.ban(room_id, user, _room_reason("Banned", reason))
    log.info("moderation.join-refused room=%s user=%s", room_id, user)
    return True
