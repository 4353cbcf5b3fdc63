"""Discord roles -> Matrix power levels of ghosts. Pure: no I/O.

Two steps, kept apart so a guild's levels are computed once and applied to each of
its rooms (a guild may have hundreds):

- :func:`member_level`: a member's level from the configured rules
  (``bridge.role_power_levels``): the highest matching rule; the guild's owner counts
  as an administrator; no match is level 0 (no entry in the room's ``users``).
- :func:`merge_power_levels`: a room's ``m.room.power_levels`` content with the
  guild's ghost levels applied, or None when nothing changes.

What the merge touches, and what it never does:

- Ghost entries only are managed: a ghost that lost its level loses its entry; a
  level set by a human for a real Matrix user is never changed or removed.
- The bot keeps its level, and ghosts stay *below* it: a ghost's level is capped at
  the bot's level - 1 (99 when the bot has 100). In Matrix, nobody may change the
  level of a user whose level equals theirs, so a ghost at the bot's level could never
  be lowered again by the bridge. In rooms of version 12 and later that the bot
  created, creators have unlimited power (and no entry): then there is no cap below
  100, and an administrator's ghost gets 100.
- Creators of such rooms are never given an entry (the homeserver refuses it).
- Entries the bot may not change (a level >= its own) are left alone.
- Configured Matrix moderators (``moderation.moderators``) keep at least the room's
  ban level (as at start-up, :func:`moderation.startup.moderators_may_ban`), so the
  two writers of this event agree.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from bridge.config_guilds import PERMISSION_BITS, PowerRule
from bridge.ids import GhostNamer, UserID

ADMINISTRATOR = PERMISSION_BITS["administrator"]
_DEFAULT_BAN_LEVEL = 50  # spec defaults of m.room.power_levels
_DEFAULT_USERS_LEVEL = 0


def member_level(
    rules: Collection[PowerRule], role_ids: frozenset[int], permissions: int, is_owner: bool
) -> int:
    """The highest level of the rules a member matches (0: none). The owner of the
    guild has every permission on Discord, so counts as an administrator."""
    if is_owner:
        permissions |= ADMINISTRATOR
    return max((r.level for r in rules if r.matches(role_ids, permissions)), default=0)


def level_of(value: object, default: int) -> int:
    """A level from power-levels content (integers; older rooms allow numeric strings)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,16}", value.strip()):
        return int(value)
    return default


# Levels the rules give are 0..100: with unlimited power, the bot caps nobody.
UNLIMITED = 1 << 53


def ghost_cap(
    content: Mapping[str, Any], bot: UserID, creators: Collection[str] = frozenset()
) -> int:
    """The highest level the bridge gives a ghost in a room: the bot's level - 1."""
    if bot in creators:
        return UNLIMITED - 1
    users = content.get("users")
    default = level_of(content.get("users_default"), _DEFAULT_USERS_LEVEL)
    own = users.get(bot) if isinstance(users, Mapping) else None
    return level_of(own, default) - 1


def merge_power_levels(
    content: Mapping[str, Any],
    ghost_levels: Mapping[UserID, int],
    namer: GhostNamer,
    moderators: Collection[str] = (),
    creators: Collection[str] = frozenset(),
) -> dict[str, Any] | None:
    """``content`` with the ghosts' levels of ``ghost_levels`` (every ghost with a
    non-zero level in the room's guild; a ghost left out has no level), the cap and the
    moderators' floor applied; None when it is already so. ``creators``: the room's
    creators when they have unlimited power (room versions 12+)."""
    bot = namer.bot_mxid
    raw_users = content.get("users")
    current: dict[str, Any] = dict(raw_users) if isinstance(raw_users, Mapping) else {}
    default = level_of(content.get("users_default"), _DEFAULT_USERS_LEVEL)
    bot_level = UNLIMITED if bot in creators else level_of(current.get(bot), default)
    cap = bot_level - 1
    users = dict(current)

    def may_change(user: str) -> bool:
        if user == bot or user in creators:
            return False
        return level_of(users.get(user), default) < bot_level

    # Ghosts that no longer have a level (or a level not above the default) lose it.
    for user in list(users):
        if namer.parse_ghost(user) is None or not may_change(user):
            continue
        if min(ghost_levels.get(UserID(user), default), cap) <= default:
            del users[user]
    for ghost, wanted in ghost_levels.items():
        if namer.parse_ghost(ghost) is None or not may_change(ghost):
            continue  # not a ghost (never touched), or the bot or above it
        level = min(wanted, cap)
        if level > default:
            users[ghost] = level
        else:
            users.pop(ghost, None)
    ban = min(level_of(content.get("ban"), _DEFAULT_BAN_LEVEL), cap)
    for moderator in moderators:
        if namer.parse_ghost(moderator) is not None or not may_change(moderator):
            continue
        if level_of(users.get(moderator), default) < ban:
            users[moderator] = ban
    if users == current:
        return None
    return {**content, "users": users}
