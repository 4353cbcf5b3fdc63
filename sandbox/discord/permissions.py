"""Discord permission arithmetic, as documented ("Permissions" topic).

Pure functions over integers: no state, no I/O. The emulator computes what a
member may do in a channel with :func:`channel_permissions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
MODERATE_MEMBERS = 1 << 40  # time members out
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38

# Every permission bit Discord defines today (up to bit 50 at the time of writing).
ALL = (1 << 51) - 1

# What each participant may do in a DM channel (type 1); outsiders get nothing.
DM_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | ADD_REACTIONS
)

OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1


@dataclass(frozen=True)
class Overwrite:
    """One channel permission overwrite: ``type`` 0 = role, 1 = member."""

    id: int
    type: int
    allow: int
    deny: int


def base_permissions(
    *,
    guild_id: int,
    owner_id: int,
    user_id: int,
    member_roles: Iterable[int],
    role_permissions: Mapping[int, int],
) -> int:
    """Guild-level permissions of a member: @everyone | each of the member's roles.

    The guild owner and ADMINISTRATOR holders get every permission.
    """
    if user_id == owner_id:
        return ALL
    perms = role_permissions.get(guild_id, 0)  # the @everyone role has the guild's id
    for role_id in member_roles:
        perms |= role_permissions.get(role_id, 0)
    if perms & ADMINISTRATOR:
        return ALL
    return perms


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    user_id: int,
    member_roles: Iterable[int],
    overwrites: Iterable[Overwrite],
) -> int:
    """Apply a channel's overwrites to guild-level permissions, in Discord's order.

    @everyone overwrite first, then all role overwrites together (deny, then
    allow), then the member's own overwrite.
    """
    if base & ADMINISTRATOR:
        return ALL
    roles = set(member_roles)
    by_kind = list(overwrites)
    perms = base
    for ow in by_kind:
        if ow.type == OVERWRITE_ROLE and ow.id == guild_id:
            perms = (perms & ~ow.deny) | ow.allow
    allow = deny = 0
    for ow in by_kind:
        if ow.type == OVERWRITE_ROLE and ow.id != guild_id and ow.id in roles:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    for ow in by_kind:
        if ow.type == OVERWRITE_MEMBER and ow.id == user_id:
            perms = (perms & ~ow.deny) | ow.allow
    return perms


def channel_permissions(
    *,
    guild_id: int,
    owner_id: int,
    user_id: int,
    member_roles: Iterable[int],
    role_permissions: Mapping[int, int],
    overwrites: Iterable[Overwrite],
) -> int:
    """What a member may do in one channel (guild permissions, then overwrites).

    Like Discord, a member without VIEW_CHANNEL after overwrites has no
    permission in the channel at all.
    """
    roles = list(member_roles)
    base = base_permissions(
        guild_id=guild_id,
        owner_id=owner_id,
        user_id=user_id,
        member_roles=roles,
        role_permissions=role_permissions,
    )
    if base == ALL:
        return ALL
    perms = apply_overwrites(
        base, guild_id=guild_id, user_id=user_id, member_roles=roles, overwrites=overwrites
    )
    if not perms & VIEW_CHANNEL:
        return 0
    return perms


def has(perms: int, needed: int) -> bool:
    """True when every bit of ``needed`` is in ``perms``."""
    return perms & needed == needed
