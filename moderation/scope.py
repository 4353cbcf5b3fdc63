"""Where a moderation action applies (``moderation.ban_scope``), and the room-level and
policy-list steps every ban and unban shares.

- ``guild`` (the default): an action made *in* a guild (a Discord ban there, a ban in
  Element in one of its portal rooms, a command in its moderators' channel) applies
  in that guild only: its Discord server and its portal rooms. An action made in no
  guild in particular (a command in the Matrix moderators' room, whose moderators are
  the party's, or a rule of a followed policy list) applies in every bridged guild.
- ``party``: every action, from anywhere, applies in every bridged guild.

Only bans that hold in every bridged guild are published in the bridge's own policy
list: other servers following it (Draupnir, Mjolnir) would otherwise apply a ban of
one federation to the whole party.
"""

from __future__ import annotations

from bridge.db import Side
from bridge.ids import GuildID, RoomID, UserID
from moderation.context import ModerationContext
from moderation.policy import RuleKey
from moderation.rule_set import mirror_own_write

RULE_USER = "m.policy.rule.user"
BAN = "m.ban"


def all_guilds(mctx: ModerationContext) -> tuple[GuildID, ...]:
    return mctx.bridge.config.discord.guild_ids


def scope(mctx: ModerationContext, where: GuildID | None) -> tuple[GuildID, ...]:
    """The guilds an action made in ``where`` (None: in no guild) applies in, ``where``
    first."""
    if where is not None and mctx.config.ban_scope == "guild":
        return (where,)
    others = tuple(g for g in all_guilds(mctx) if g != where)
    return ((where,) if where is not None else ()) + others


async def unbanned_guilds(mctx: ModerationContext, side: Side, target: str) -> tuple[GuildID, ...]:
    """The bridged guilds where ``target`` has no ban."""
    banned = {row.guild_id for row in await mctx.stores.bans.of(side, target)}
    return tuple(g for g in all_guilds(mctx) if g not in banned)


async def banned_everywhere(mctx: ModerationContext, side: Side, target: str) -> bool:
    return not await unbanned_guilds(mctx, side, target)


async def guild_of_room(mctx: ModerationContext, room_id: RoomID) -> GuildID | None:
    portal = await mctx.stores.portals.by_room(room_id)
    return portal.guild_id if portal is not None else None


async def portal_rooms(
    mctx: ModerationContext, guilds: tuple[GuildID, ...] | None = None
) -> list[RoomID]:
    """The portal rooms of ``guilds`` (None: of every guild)."""
    return [
        p.room_id for p in await mctx.stores.portals.all() if guilds is None or p.guild_id in guilds
    ]


async def _set_banned_in_rooms(
    mctx: ModerationContext,
    user: UserID,
    reason: str,
    guilds: tuple[GuildID, ...] | None,
    skip: RoomID | None,
    *,
    banned: bool,
) -> int:
    """The bot (un)bans ``user`` in the portal rooms of ``guilds`` but ``skip`` where they
    are not so already, room by room; returns how many changed."""
    change = mctx.matrix.ban if banned else mctx.matrix.unban
    changed = 0
    for room_id in await portal_rooms(mctx, guilds):
        if room_id == skip or (await mctx.matrix.membership(room_id, user) == "ban") == banned:
            continue
        changed += await change(room_id, user, reason)
    return changed


async def ban_in_rooms(
    mctx: ModerationContext,
    user: UserID,
    reason: str,
    guilds: tuple[GuildID, ...] | None = None,
    skip: RoomID | None = None,
) -> int:
    """The bot bans ``user`` from the portal rooms of ``guilds`` (None: every portal
    room); returns how many changed."""
    return await _set_banned_in_rooms(mctx, user, reason, guilds, skip, banned=True)


async def unban_in_rooms(
    mctx: ModerationContext,
    user: UserID,
    reason: str,
    guilds: tuple[GuildID, ...] | None = None,
    skip: RoomID | None = None,
) -> int:
    return await _set_banned_in_rooms(mctx, user, reason, guilds, skip, banned=False)


def rule_state_key(entity: str) -> str:
    """State key of the bridge's rule for ``entity`` (Draupnir's ``rule:`` spelling)."""
    return f"rule:{entity}"


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
