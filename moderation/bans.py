"""Shared bans: one moderation truth for both networks, per guild.

A ban is recorded per guild it holds in (``mod_ban``: side + target + guild; which
guilds: :mod:`moderation.scope`) and carried to the other side, then, when it holds
in every bridged guild, written to the bridge's own policy list. Which way it came
decides nothing about the result:

- a **Discord user** banned (on Discord, from Element by banning their ghost, by
  command or by a policy rule naming their ghost) is banned from the Discord server
  of each guild of the ban and their ghost from those guilds' portal rooms;
- a **Matrix user** banned (in a portal room, by command or by a rule) is banned
  from the portal rooms of each guild of the ban when ``moderation.guild_wide_bans``
  is on (else only where it happened), and nothing of theirs is relayed to those
  guilds' channels any more.

A Discord user's linked Matrix account is banned with them, in the same guilds, and
freed with them. Unbans reverse exactly that, in the guilds the unban applies in.
Kicks map to kicks and leave no record. Every step lands in the moderation log
(:mod:`moderation.audit`), one line per guild. Protected, whatever the source: the
bridge bot and the ghosts' namespace as a whole, and the configured moderators (a
ban of one of them stays where it was made and is logged as refused).
"""

from __future__ import annotations

import logging

from bridge.db import BanOrigin, BanRow, Side
from bridge.ids import DiscordUserID, GuildID, RoomID, UserID
from moderation import audit
from moderation.context import ModerationContext
from moderation.gate import protected
from moderation.scope import (
    RULE_USER,
    ban_in_rooms,
    banned_everywhere,
    guild_of_room,
    remove_rule,
    rule_state_key,
    scope,
    unban_in_rooms,
    write_rule,
)

__all__ = [
    "RULE_USER",
    "ban_discord_user",
    "ban_matrix_user",
    "enforce_on_join",
    "is_protected",
    "on_discord_ban",
    "on_discord_unban",
    "on_matrix_membership",
    "rule_state_key",
    "unban_discord_user",
    "unban_matrix_user",
]

log = logging.getLogger(__name__)

Guilds = tuple[GuildID, ...]


def is_protected(mctx: ModerationContext, mxid: str) -> bool:
    return protected(mctx.bridge, mxid)


def _sides(mctx: ModerationContext, matrix: str, discord: str) -> str:
    """An audit line's outcome: each side's result (clauses already translated)."""
    return mctx.tr._("Matrix: {matrix}. Discord: {discord}.", matrix=matrix, discord=discord)


def _room_reason(mctx: ModerationContext, verb: str, reason: str) -> str:
    """What the bot gives a portal room as the reason: ``Banned: spam`` or ``Banned``
    (``verb``: "ban" or "unban"), in the configured language."""
    tr = mctx.tr
    if verb == "ban":
        return tr._("Banned: {reason}", reason=reason) if reason else tr._("Banned")
    return tr._("Unbanned: {reason}", reason=reason) if reason else tr._("Unbanned")


def _discord_reason(actor: str, reason: str) -> str:
    """What the bridge writes in Discord's audit log: who acted, and why."""
    return f"{actor}: {reason}" if reason else actor


def _origin_in(guild: GuildID, where: GuildID | None, origin: BanOrigin) -> BanOrigin:
    """A Discord ban carried to another guild (ban_scope party) is recorded there as
    'party': start-up never lifts it for want of a Discord ban in that guild (the
    bridge may lack Ban Members there)."""
    if where is not None and guild != where and origin in ("discord", "startup"):
        return "party"
    return origin


async def _store_ban(
    mctx: ModerationContext,
    side: Side,
    target: str,
    guild: GuildID,
    reason: str,
    actor: str,
    origin: BanOrigin,
    rule: tuple[str, str] | None,
) -> bool:
    """Record the ban in ``guild`` (``rule``: the causing (list room, entity), if any);
    False when a copy would replace a ban made in that guild (kept)."""
    if origin == "party" and await mctx.stores.bans.get(side, target, guild) is not None:
        return False
    rule_room, rule_entity = rule if rule else (None, None)
    row = BanRow(
        side,
        target,
        reason,
        actor,
        origin,
        rule_room=rule_room,
        rule_entity=rule_entity,
        guild_id=guild,
    )
    await mctx.stores.bans.put(row)
    return True


# -- Discord users -------------------------------------------------------------------


async def ban_discord_user(
    mctx: ModerationContext,
    user_id: DiscordUserID,
    *,
    reason: str,
    actor: str,
    origin: BanOrigin,
    source: str,
    where: GuildID | None = None,
    on_discord: bool = True,
    rule: tuple[str, str] | None = None,
    guilds: Guilds | None = None,
) -> Guilds:
    """Record the ban in each guild of its scope (made in ``where``; None: in no guild;
    ``guilds`` when given), ban on each of their Discord servers (but ``where``'s when
    it came from there: ``on_discord`` False) and the ghost in their rooms. Returns
    the guilds banned in."""
    ghost = mctx.namer.ghost_mxid(user_id)
    guilds = guilds if guilds is not None else scope(mctx, where)
    stored: list[GuildID] = []
    for guild in guilds:
        if await _store_ban(
            mctx,
            "discord",
            str(user_id),
            guild,
            reason,
            actor,
            _origin_in(guild, where, origin),
            rule,
        ):
            stored.append(guild)
    for guild in guilds:
        rooms = await ban_in_rooms(mctx, ghost, _room_reason(mctx, "ban", reason), (guild,))
        if guild not in stored:
            continue  # banned there already by a ban of that guild's own
        tr = mctx.tr
        discord_result = tr._("banned on Discord already")
        if on_discord or guild != where:
            if not mctx.config.ban_on_discord and origin in ("matrix", "policy"):
                discord_result = tr._("not banned (ban_on_discord is off)")
            elif await mctx.discord.ban(guild, user_id, _discord_reason(actor, reason), 0):
                discord_result = tr._("banned from the server")
            else:
                discord_result = tr._(
                    "could not ban (the bridge lacks Ban Members, or they rank higher)"
                )
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="ban",
            target=tr._("{ghost} (Discord user {id})", ghost=ghost, id=user_id),
            reason=reason,
            outcome=_sides(
                mctx,
                tr.ngettext(
                    "ghost banned from {n} more room", "ghost banned from {n} more rooms", rooms
                ),
                discord_result,
            ),
            guild=guild,
        )
    if await banned_everywhere(mctx, "discord", str(user_id)):
        await write_rule(mctx, ghost, reason, rule)
    # The same person's linked Matrix account is banned with them, in the same guilds.
    link = await mctx.stores.links.by_discord(user_id)
    if link is not None:
        missing = tuple(
            [g for g in guilds if await mctx.stores.bans.get("matrix", link.mxid, g) is None]
        )
        if missing:
            await ban_matrix_user(
                mctx,
                UserID(link.mxid),
                reason=reason,
                actor=actor,
                origin=origin,
                source=source,
                guilds=missing,
                rule=rule,
            )
    return tuple(stored)


async def unban_discord_user(
    mctx: ModerationContext,
    user_id: DiscordUserID,
    *,
    reason: str,
    actor: str,
    source: str,
    where: GuildID | None = None,
    on_discord: bool = True,
    guilds: Guilds | None = None,
) -> bool:
    """Lift a Discord user's shared ban in each guild of the unban's scope (``guilds``
    when given); False when none was recorded there."""
    ghost = mctx.namer.ghost_mxid(user_id)
    guilds = guilds if guilds is not None else scope(mctx, where)
    lifted: dict[GuildID, BanRow] = {}
    for guild in guilds:
        row = await mctx.stores.bans.remove("discord", str(user_id), guild)
        if row is not None:
            lifted[guild] = row
    if lifted:
        # The rule first (it no longer holds in every guild), as for Matrix users.
        await remove_rule(mctx, ghost)
    for guild in guilds:
        rooms = await unban_in_rooms(mctx, ghost, _room_reason(mctx, "unban", reason), (guild,))
        if guild not in lifted:
            continue  # e.g. the echo of our own unban: nothing recorded, nothing to log
        tr = mctx.tr
        discord_result = tr._("unbanned already")
        if on_discord or guild != where:
            ok = await mctx.discord.unban(guild, user_id, _discord_reason(actor, reason))
            discord_result = tr._("unbanned") if ok else tr._("could not unban")
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="unban",
            target=tr._("{ghost} (Discord user {id})", ghost=ghost, id=user_id),
            reason=reason,
            outcome=_sides(
                mctx,
                tr.ngettext("ghost unbanned in {n} room", "ghost unbanned in {n} rooms", rooms),
                discord_result,
            ),
            guild=guild,
        )
    if not lifted:
        return False
    link = await mctx.stores.links.by_discord(user_id)
    if link is not None:
        # Freed with them where the linked account's ban came with theirs.
        follow = []
        for guild, row in lifted.items():
            linked = await mctx.stores.bans.get("matrix", link.mxid, guild)
            if linked is not None and linked.moderator == row.moderator:
                follow.append(guild)
        if follow:
            await unban_matrix_user(
                mctx,
                UserID(link.mxid),
                reason=reason,
                actor=actor,
                source=source,
                guilds=tuple(follow),
            )
    return True


async def on_discord_ban(mctx: ModerationContext, guild: GuildID, user_id: DiscordUserID) -> None:
    """GUILD_BAN_ADD in ``guild``: a Discord moderator (or the bridge itself) banned someone."""
    if await mctx.stores.bans.get("discord", str(user_id), guild) is not None:
        # Our own ban's echo, or a repeat: only make sure no room was missed.
        echo = mctx.tr._("Banned on Discord")
        await ban_in_rooms(mctx, mctx.namer.ghost_mxid(user_id), echo, (guild,))
        return
    moderator, reason = await mctx.discord.ban_author(guild, user_id)
    actor = f"discord:{moderator}" if moderator else "a Discord moderator"
    await ban_discord_user(
        mctx,
        user_id,
        reason=reason or "",
        actor=actor,
        origin="discord",
        source="discord",
        where=guild,
        on_discord=False,
    )


async def on_discord_unban(mctx: ModerationContext, guild: GuildID, user_id: DiscordUserID) -> None:
    """GUILD_BAN_REMOVE in ``guild``."""
    await unban_discord_user(
        mctx,
        user_id,
        reason=mctx.tr._("unbanned on Discord"),
        actor=mctx.tr._("a Discord moderator"),
        source="discord",
        where=guild,
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
    where: GuildID | None = None,
    room: RoomID | None = None,
    guilds: Guilds | None = None,
    rule: tuple[str, str] | None = None,
) -> Guilds | None:
    """Stop relaying ``user`` to the channels of each guild of the ban's scope (made in
    ``where``, or ``guilds`` when given) and ban them from those guilds' portal rooms,
    or from ``room`` only (where an Element ban was made, with guild_wide_bans off).
    Returns the guilds banned in; None when ``user`` is protected (logged as refused)
    or the ban stays in ``room``."""
    if is_protected(mctx, user):
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="refused",
            target=user,
            reason=reason,
            outcome=mctx.tr._("Moderators and the bridge are never banned across the bridge."),
            guild=where,
        )
        return None
    if room is not None and not mctx.config.guild_wide_bans:
        # Only that room (the homeserver already applied it): nothing spreads, nothing
        # is recorded, so joining another room or relaying from it stays possible.
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="ban",
            target=user,
            reason=reason,
            outcome=_sides(
                mctx,
                mctx.tr._("banned in that room only (guild_wide_bans is off)"),
                mctx.tr._("unchanged"),
            ),
            guild=where,
        )
        return None
    guilds = guilds if guilds is not None else scope(mctx, where)
    for guild in guilds:
        origin_here = _origin_in(guild, where, origin)
        await _store_ban(mctx, "matrix", user, guild, reason, actor, origin_here, rule)
    for guild in guilds:
        rooms = await ban_in_rooms(mctx, user, _room_reason(mctx, "ban", reason), (guild,), room)
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="ban",
            target=user,
            reason=reason,
            outcome=_sides(
                mctx,
                mctx.tr.ngettext("banned from {n} more room", "banned from {n} more rooms", rooms),
                mctx.tr._("nothing of theirs is relayed"),
            ),
            guild=guild,
        )
    if await banned_everywhere(mctx, "matrix", user):
        await write_rule(mctx, user, reason, rule)
    return guilds


async def unban_matrix_user(
    mctx: ModerationContext,
    user: UserID,
    *,
    reason: str,
    actor: str,
    source: str,
    where: GuildID | None = None,
    room: RoomID | None = None,
    guilds: Guilds | None = None,
) -> bool:
    """Lift a Matrix user's ban in each guild of the unban's scope (``guilds`` when
    given; ``room``: where an Element unban was made, done already); False when none
    was recorded there."""
    guilds = guilds if guilds is not None else scope(mctx, where)
    lifted = [g for g in guilds if await mctx.stores.bans.remove("matrix", user, g) is not None]
    if not lifted:
        return False
    # The rule goes first: while it stands, the user's relay stays blocked and a rejoin
    # of a room already unbanned would be refused again (enforce_on_join).
    await remove_rule(mctx, user)
    for guild in lifted:
        rooms = await unban_in_rooms(mctx, user, reason or mctx.tr._("Unbanned"), (guild,), room)
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="unban",
            target=user,
            reason=reason,
            outcome=_sides(
                mctx,
                mctx.tr.ngettext("unbanned in {n} more room", "unbanned in {n} more rooms", rooms),
                mctx.tr._("relayed again"),
            ),
            guild=guild,
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
    (the homeserver already checked their power level), and joins of banned users.
    What a room moderator does applies in the room's guild (and, with ban_scope party,
    in every guild)."""
    if mctx.namer.is_bridge_owned(sender):
        return  # the bridge's own actions
    portal = await mctx.stores.portals.by_room(room_id)
    if portal is None:
        return
    guild = portal.guild_id
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
                where=guild,
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
                where=guild,
                room=room_id,
            )
    elif membership == "leave" and sender != target and previous == "ban":
        if ghost_of is not None:
            await unban_discord_user(
                mctx,
                ghost_of,
                reason=reason,
                actor=sender,
                source="matrix",
                where=guild,
                on_discord=True,
            )
        else:
            await unban_matrix_user(
                mctx,
                target,
                reason=reason,
                actor=sender,
                source="matrix",
                where=guild,
                room=room_id,
            )
    elif membership == "leave" and sender != target and previous == "join":
        await _kick(mctx, guild, sender, target, ghost_of, reason)


async def _kick(
    mctx: ModerationContext,
    guild: GuildID,
    sender: UserID,
    target: UserID,
    ghost_of: DiscordUserID | None,
    reason: str,
) -> None:
    """A kick of a ghost in a room of ``guild`` kicks the Discord user from that guild's
    server (kicks are not carried to other guilds, whatever the ban scope)."""
    tr = mctx.tr
    if ghost_of is None:
        outcome = _sides(mctx, tr._("kicked from the room"), tr._("nothing to do"))
    elif mctx.config.kick_on_discord:
        ok = await mctx.discord.kick(guild, ghost_of, _discord_reason(sender, reason))
        done = tr._("kicked from the server") if ok else tr._("could not kick")
        outcome = _sides(mctx, tr._("kicked"), done)
    else:
        outcome = _sides(mctx, tr._("kicked"), tr._("not kicked (kick_on_discord is off)"))
    await audit.record(
        mctx,
        source="matrix",
        actor=sender,
        action="kick",
        target=target,
        reason=reason,
        outcome=outcome,
        guild=guild,
    )


async def enforce_on_join(mctx: ModerationContext, room_id: RoomID, user: UserID) -> bool:
    """A Matrix user banned in the room's guild (recorded, or matching a policy rule)
    who joins one of its portal rooms is banned from it at once."""
    if is_protected(mctx, user):
        return False
    guild = await guild_of_room(mctx, room_id)
    row = await mctx.stores.bans.get("matrix", user, guild) if guild is not None else None
    match = mctx.state.policy.is_banned_user(user)
    if row is None and match is None:
        return False
    reason = row.reason if row is not None else (match.rule.reason if match else "")
    await mctx.matrix.ban(room_id, user, _room_reason(mctx, "ban", reason))
    log.info("moderation.join-refused room=%s user=%s", room_id, user)
    return True
