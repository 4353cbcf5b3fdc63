"""Members-only filter, pure decisions (issue 5): no I/O, no clock, no randomness of its own.

Three families of functions:

- **Channel classification and visibility** from Discord permissions, following
  Discord's documented algorithm ("Permissions" topic, *Permission Overwrites*
  and *Permission Hierarchy*:
  https://discord.com/developers/docs/topics/permissions#permission-overwrites).
  In that order:

  1. base permissions: the guild owner has every permission; otherwise the
     @everyone role's permissions OR the permissions of each of the member's
     roles; ADMINISTRATOR among them grants every permission;
  2. the channel's @everyone overwrite (the role overwrite whose id is the
     guild's): clear its ``deny`` bits, then set its ``allow`` bits;
  3. the role overwrites of every role the member holds, combined: clear the
     OR of their ``deny`` bits, then set the OR of their ``allow`` bits;
  4. the member's own overwrite (type 1): clear ``deny``, then set ``allow``.

  Without VIEW_CHANNEL after all that, Discord treats every other permission
  in the channel as denied ("Implicit Permissions").

- **Verified members and access**: whether a Matrix user may read a channel's
  room, from its access class and what is known of their linked Discord account.

- **Link codes**: the one-time codes a Matrix user and a Discord account
  exchange to prove they belong to the same person.

Everything fails closed: missing or malformed data never makes a channel public
and never grants access.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Access = Literal["public", "members_only"]

ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
# Every permission bit Discord defines today (up to bit 50 at the time of writing).
ALL_PERMISSIONS = (1 << 51) - 1

OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1


@dataclass(frozen=True)
class Overwrite:
    """One channel permission overwrite as Discord sends it (ids and bitfields as ints).

    ``type`` 0 is a role overwrite (the @everyone role's id is the guild's),
    1 a member overwrite. Anything else is unknown, and makes the computations
    below fail closed.
    """

    id: int
    type: int
    allow: int
    deny: int

    @classmethod
    def from_wire(cls, data: Mapping[str, object]) -> Overwrite | None:
        """Parse ``{"id", "type", "allow", "deny"}`` (strings or ints); None when malformed."""
        try:
            values = [data["id"], data["type"], data["allow"], data["deny"]]
        except (KeyError, TypeError):
            return None
        parsed: list[int] = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | str):
                return None
            try:
                number = int(value)
            except ValueError:
                return None
            if number < 0:
                return None
            parsed.append(number)
        return cls(*parsed)


class Undecidable(ValueError):
    """The permission data is incomplete or malformed: callers fail closed."""


def _checked(overwrites: Iterable[Overwrite] | None) -> list[Overwrite]:
    if overwrites is None:
        raise Undecidable("no overwrite data")
    out: list[Overwrite] = []
    for ow in overwrites:
        if not isinstance(ow, Overwrite):
            raise Undecidable(f"not an overwrite: {ow!r}")
        if ow.type not in (OVERWRITE_ROLE, OVERWRITE_MEMBER):
            raise Undecidable(f"unknown overwrite type {ow.type!r}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in _fields(ow)):
            raise Undecidable(f"malformed overwrite {ow!r}")
        if ow.allow < 0 or ow.deny < 0:
            raise Undecidable(f"malformed overwrite {ow!r}")
        out.append(ow)
    return out


def _fields(ow: Overwrite) -> tuple[object, ...]:
    return (ow.id, ow.type, ow.allow, ow.deny)


def _perm_value(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Undecidable(f"malformed permissions {value!r}")
    return value


def compute_base_permissions(
    *,
    everyone_id: int,
    member_role_ids: Iterable[int],
    roles: Mapping[int, int],
    is_owner: bool = False,
) -> int:
    """Guild-level permissions (step 1 of Discord's algorithm, ``compute_base_permissions``).

    ``roles`` maps role id -> permission bitfield and must contain the
    @everyone role (``everyone_id``, the guild's id), else :class:`Undecidable`.
    A member role missing from ``roles`` adds nothing (it can only under-grant).
    """
    if is_owner:
        return ALL_PERMISSIONS
    if everyone_id not in roles:
        raise Undecidable("the @everyone role's permissions are unknown")
    perms = _perm_value(roles[everyone_id])
    for role_id in member_role_ids:
        if role_id in roles:
            perms |= _perm_value(roles[role_id])
    if perms & ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def compute_overwrites(
    base: int,
    *,
    everyone_id: int,
    member_id: int | None,
    member_role_ids: Iterable[int],
    overwrites: Iterable[Overwrite] | None,
) -> int:
    """Apply a channel's overwrites to guild-level permissions (steps 2-4,
    Discord's ``compute_overwrites``). ``member_id`` None computes for a bare
    @everyone (only the @everyone overwrite applies). Missing overwrite data or
    unknown overwrite types raise :class:`Undecidable`."""
    checked = _checked(overwrites)
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    perms = base
    for ow in checked:
        if ow.type == OVERWRITE_ROLE and ow.id == everyone_id:
            perms = (perms & ~ow.deny) | ow.allow
    held = set(member_role_ids) - {everyone_id}
    allow = deny = 0
    for ow in checked:
        if ow.type == OVERWRITE_ROLE and ow.id in held:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    if member_id is not None:
        for ow in checked:
            if ow.type == OVERWRITE_MEMBER and ow.id == member_id:
                perms = (perms & ~ow.deny) | ow.allow
    return perms


def channel_visibility(
    everyone_role_id: int | None,
    everyone_permissions: int | None,
    overwrites: Sequence[Overwrite] | None,
    *,
    guild_owner: bool = False,
) -> Access:
    """``"public"`` when @everyone can VIEW_CHANNEL after the channel's overwrites,
    else ``"members_only"``.

    For @everyone alone, Discord's algorithm reduces to: the @everyone role's
    permissions (everything if they include ADMINISTRATOR), then the @everyone
    overwrite's deny and allow. Role and member overwrites do not apply to
    someone holding no role, but an unknown overwrite type anywhere still makes
    the answer undecidable. Missing or malformed data (``None``, negative or
    non-integer bitfields, unknown overwrite types) gives ``"members_only"``.

    ``guild_owner`` is accepted for symmetry with :func:`member_can_view` but
    never widens the result: the owner sees every channel, so their view says
    nothing about who else can.

    For a thread pass its parent's overwrites; a private thread is never public
    (callers should not classify one as public at all).
    """
    del guild_owner  # see the docstring: the owner's view cannot make a channel public
    if everyone_role_id is None or everyone_permissions is None:
        return "members_only"
    try:
        base = compute_base_permissions(
            everyone_id=everyone_role_id,
            member_role_ids=(),
            roles={everyone_role_id: everyone_permissions},
        )
        perms = compute_overwrites(
            base,
            everyone_id=everyone_role_id,
            member_id=None,
            member_role_ids=(),
            overwrites=overwrites,
        )
    except Undecidable:
        return "members_only"
    return "public" if perms & VIEW_CHANNEL else "members_only"


def member_can_view(
    member_role_ids: Iterable[int] | None,
    member_id: int | None,
    roles: Mapping[int, int] | None,
    everyone_id: int | None,
    overwrites: Sequence[Overwrite] | None,
    is_owner: bool = False,
) -> bool:
    """Whether a guild member can VIEW_CHANNEL, by Discord's full algorithm.

    Used for "Discord users who cannot view a members-only channel are not
    added to its room". ``roles`` maps every role id of the guild to its
    permissions (it must contain @everyone, ``everyone_id``); ``member_role_ids``
    are the member's roles (without @everyone). The owner sees everything.
    Any missing or malformed input gives False.
    """
    if is_owner:
        return True
    if member_role_ids is None or member_id is None or roles is None or everyone_id is None:
        return False
    try:
        held = list(member_role_ids)
        base = compute_base_permissions(everyone_id=everyone_id, member_role_ids=held, roles=roles)
        perms = compute_overwrites(
            base,
            everyone_id=everyone_id,
            member_id=member_id,
            member_role_ids=held,
            overwrites=overwrites,
        )
    except Undecidable:
        return False
    return bool(perms & VIEW_CHANNEL)


def effective_access(configured: str | None, derived: str | None) -> Access:
    """The access class of a bridged channel: the stricter of the configured and the
    Discord-derived class. Public only when both agree it is public; anything
    unknown (``None``, a typo) is members-only."""
    if configured == "public" and derived == "public":
        return "public"
    return "members_only"


# -- verified members --------------------------------------------------------


def is_verified_member(
    discord_roles: Collection[int] | None,
    member_role_ids: Collection[int] | None,
    allowlisted: bool,
) -> bool:
    """A verified party member: on the configured allowlist/roster, or holding one
    of the configured member roles on Discord. No configured role and no
    allowlist entry means nobody is (fail closed)."""
    if allowlisted is True:
        return True
    if not discord_roles or not member_role_ids:
        return False
    return not set(member_role_ids).isdisjoint(discord_roles)


@dataclass(frozen=True)
class AccessDecision:
    """Whether a Matrix user may be in a portal room, and why (for logs and notices)."""

    allowed: bool
    reason: Literal[
        "public",
        "allowlisted",
        "member_role",
        "not_linked",
        "not_in_guild",
        "no_member_role",
        "unknown_access",
    ]


def access_decision(
    access: str | None,
    *,
    linked_discord_id: int | None,
    discord_roles: Collection[int] | None,
    member_role_ids: Collection[int],
    allowlisted: bool = False,
) -> AccessDecision:
    """May this Matrix user read (be invited to, stay in) a room of this access class?

    - ``access``: the channel's class (:func:`effective_access`); anything other
      than ``"public"``/``"members_only"`` is refused.
    - ``linked_discord_id``: the Discord account linked to the Matrix user, if any.
    - ``discord_roles``: that account's roles in the guild; ``None`` when it is
      not a member (or the bridge does not know).
    - ``allowlisted``: the Matrix user is on the configured roster.
    """
    if access == "public":
        return AccessDecision(True, "public")
    if access != "members_only":
        return AccessDecision(False, "unknown_access")
    if allowlisted is True:
        return AccessDecision(True, "allowlisted")
    if linked_discord_id is None:
        return AccessDecision(False, "not_linked")
    if discord_roles is None:
        return AccessDecision(False, "not_in_guild")
    if is_verified_member(discord_roles, member_role_ids, False):
        return AccessDecision(True, "member_role")
    return AccessDecision(False, "no_member_role")


# -- link codes -----------------------------------------------------------------

# Crockford's base 32: digits and capitals without I, L, O, U (read back as 1, 1, 0, V).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 8 x 5 bits = 40 bits
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_CODE_COMMANDS = frozenset({"link", "code", "verify", "lier", "relier", "verifier", "vérifier"})


def new_link_code(rng: random.Random | None = None) -> str:
    """A fresh one-time code: 8 characters of Crockford base 32 (40 bits).

    ``rng`` defaults to the operating system's CSPRNG; tests pass a seeded
    :class:`random.Random`. Show it to people with :func:`display_code`."""
    source = rng if rng is not None else secrets.SystemRandom()
    return "".join(source.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """``ABCD1234`` -> ``ABCD-1234``, easier to read and type."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def normalise_code(text: str | None) -> str | None:
    """A code as typed (any case, spaces or hyphens, ``O``/``I``/``L`` for
    ``0``/``1``) -> its canonical form, or None when it is not a well-formed code."""
    if not isinstance(text, str):
        return None
    compact = _SEPARATORS.sub("", text.strip()).upper().translate(_CONFUSABLE)
    if len(compact) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in compact):
        return None
    return compact


def extract_code(text: str | None) -> str | None:
    """The link code in a message sent to the bot: the whole message (``"abcd-1234"``)
    or a code after one command word (``"link ABCD 1234"``, ``"!link abcd1234"``).
    None for anything else: words are never searched for something code-shaped."""
    if not isinstance(text, str):
        return None
    whole = normalise_code(text)
    if whole is not None:
        return whole
    command, _, rest = text.strip().partition(" ")
    if command.lower().lstrip("!/") in _CODE_COMMANDS:
        return normalise_code(rest)
    return None


def code_valid(created_ms: int, now_ms: int, ttl_ms: int) -> bool:
    """A code created at ``created_ms`` is still usable at ``now_ms`` (strictly before
    ``created_ms + ttl_ms``). A non-positive TTL or a creation time in the future
    is invalid."""
    if ttl_ms <= 0 or now_ms < created_ms:
        return False
    return now_ms - created_ms < ttl_ms
