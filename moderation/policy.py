"""Pure moderation decisions: policy-list rule sets, ban matching, who may moderate.

No I/O and no asyncio: every fact (rules, permissions, power levels, configured
moderators) is passed in. ``moderation.bans`` turns these answers into actions.

The glob language, the rule model and event parsing live in
``moderation.policy_rules`` and are re-exported here; read that module's
docstring for the matching rules (``*``/``?``, whole string, case-insensitive,
ports part of the server name).

How a user is matched (:meth:`PolicySet.is_banned_user`): user rules against the
full MXID, then server rules against the MXID's server part (everything after
the first ``:``, port included; localparts cannot contain ``:``). Only ``m.ban``
and ``m.takedown`` (MSC4204) rules ban. Hashed rules (MSC4205) match when the
SHA-256 of the MXID (or of its server) is the rule's. A rule that names a ghost's
exact MXID bans that Discord user (:func:`ghost_discord_id`); wildcard rules are
evaluated per ghost through :meth:`PolicySet.is_banned_user`, never turned into
Discord IDs.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from bridge.i18n import N_
from bridge.ids import DiscordUserID
from moderation.policy_rules import (
    BAN,
    LEGACY_BAN,
    POLICY_EVENT_TYPES,
    TAKEDOWN,
    NotPolicyEvent,
    PolicyKind,
    PolicyRule,
    PolicyRuleChange,
    RuleKey,
    RuleRejected,
    RuleRemoval,
    RuleUpsert,
    entity_hash,
    glob_matches,
    is_wildcard,
    normalise_recommendation,
    parse_policy_event,
    policy_kind,
)

__all__ = [
    "ADMINISTRATOR",
    "BAN",
    "BAN_MEMBERS",
    "LEGACY_BAN",
    "POLICY_EVENT_TYPES",
    "TAKEDOWN",
    "NotPolicyEvent",
    "PolicyKind",
    "PolicyMatch",
    "PolicyRule",
    "PolicyRuleChange",
    "PolicySet",
    "Refusal",
    "RefusalCode",
    "RuleKey",
    "RuleRejected",
    "RuleRemoval",
    "RuleUpsert",
    "ban_level",
    "bridge_namespace",
    "check_new_rule",
    "discord_may_moderate",
    "entity_hash",
    "ghost_discord_id",
    "glob_covers",
    "glob_matches",
    "is_wildcard",
    "matrix_may_moderate",
    "mxid_server",
    "normalise_recommendation",
    "parse_policy_event",
    "policy_kind",
    "user_power_level",
]

BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3

_DEFAULT_BAN_LEVEL = 50  # spec default for "ban" in m.room.power_levels
_DEFAULT_USER_LEVEL = 0  # spec default for "users_default"


# --------------------------------------------------------------------------- rule sets


def mxid_server(mxid: str) -> str | None:
    """Server part of ``@local:server[:port]`` (port kept), or ``None`` if not an MXID."""
    if not mxid.startswith("@"):
        return None
    _, colon, server = mxid.partition(":")
    return server if colon and server else None


@dataclass(frozen=True)
class PolicyMatch:
    """Why someone is banned: the rule, and whether it matched the MXID or its server."""

    rule: PolicyRule
    via: Literal["user", "server"]
    subject: str


class PolicySet:
    """The rules of every subscribed policy list, keyed by :class:`RuleKey`.

    Immutable: :meth:`apply` returns a new set. Exact (glob-free) entities are
    indexed by their lowercased text, so a lookup costs one dict probe plus a scan
    of the wildcard rules of that kind. Iteration and matches are ordered
    deterministically: exact rules before wildcard rules, then by key.
    """

    __slots__ = ("_by_key", "_exact", "_hashed", "_wildcards")

    def __init__(self, rules: Iterable[PolicyRule] = ()) -> None:
        """Later rules replace earlier ones that share their key."""
        self._by_key: dict[RuleKey, PolicyRule] = {rule.key: rule for rule in rules}
        exact: dict[tuple[PolicyKind, str], list[PolicyRule]] = {}
        wildcards: dict[PolicyKind, list[PolicyRule]] = {}
        hashed: dict[tuple[PolicyKind, str], list[PolicyRule]] = {}
        for key in sorted(self._by_key):
            rule = self._by_key[key]
            if rule.sha256 is not None:
                hashed.setdefault((rule.kind, rule.sha256), []).append(rule)
            elif rule.is_wildcard:
                wildcards.setdefault(rule.kind, []).append(rule)
            else:
                exact.setdefault((rule.kind, rule.entity.lower()), []).append(rule)
        self._exact = {index: tuple(found) for index, found in exact.items()}
        self._wildcards = {kind: tuple(found) for kind, found in wildcards.items()}
        self._hashed = {index: tuple(found) for index, found in hashed.items()}

    # -- container protocol

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[PolicyRule]:
        return iter(self.rules)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicySet) and self._by_key == other._by_key

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PolicySet({len(self)} rules from {len(self.lists)} lists)"

    @property
    def rules(self) -> tuple[PolicyRule, ...]:
        return tuple(self._by_key[key] for key in sorted(self._by_key))

    @property
    def lists(self) -> frozenset[str]:
        """Source rooms that contribute at least one rule."""
        return frozenset(key.source_room for key in self._by_key)

    def get(self, key: RuleKey) -> PolicyRule | None:
        return self._by_key.get(key)

    # -- changes

    def apply(self, change: PolicyRuleChange) -> PolicySet:
        """Add/replace (:class:`RuleUpsert`) or drop (removal, rejection with a key)."""
        return self.apply_all((change,))

    def apply_all(self, changes: Iterable[PolicyRuleChange]) -> PolicySet:
        """Apply changes in order, copying the set once (use for a list's initial state)."""
        by_key = dict(self._by_key)
        touched = False
        for change in changes:
            if isinstance(change, RuleUpsert):
                by_key[change.key] = change.rule
                touched = True
            elif isinstance(change, RuleRemoval | RuleRejected) and change.key is not None:
                touched = by_key.pop(change.key, None) is not None or touched
        return PolicySet(by_key.values()) if touched else self

    def without_list(self, source_room: str) -> PolicySet:
        """The set after unsubscribing from one list."""
        return PolicySet(r for r in self._by_key.values() if r.source_room != source_room)

    # -- queries

    def _matching(self, kind: PolicyKind, value: str) -> tuple[PolicyRule, ...]:
        exact = self._exact.get((kind, value.lower()), ())
        wild = tuple(rule for rule in self._wildcards.get(kind, ()) if rule.matches(value))
        hashed: tuple[PolicyRule, ...] = ()
        if self._hashed:  # MSC4205: the value's hash (as written, then lowercased)
            for digest in dict.fromkeys((entity_hash(value), entity_hash(value.lower()))):
                hashed += self._hashed.get((kind, digest), ())
        return exact + wild + hashed

    def rules_for_user(self, mxid: str) -> tuple[PolicyRule, ...]:
        """User rules (any recommendation) whose entity matches the full MXID."""
        return self._matching("user", mxid)

    def rules_for_server(self, server_name: str) -> tuple[PolicyRule, ...]:
        """Server rules (any recommendation) matching the server name, port included."""
        return self._matching("server", server_name)

    def rules_for_room(self, room: str) -> tuple[PolicyRule, ...]:
        """Room rules (any recommendation) matching a room ID or alias."""
        return self._matching("room", room)

    def is_banned_user(self, mxid: str) -> PolicyMatch | None:
        """The first ``m.ban`` rule matching the MXID, else one matching its server."""
        for rule in self.rules_for_user(mxid):
            if rule.is_ban:
                return PolicyMatch(rule, "user", mxid)
        server = mxid_server(mxid)
        return self.is_banned_server(server) if server is not None else None

    def is_banned_server(self, server_name: str) -> PolicyMatch | None:
        for rule in self.rules_for_server(server_name):
            if rule.is_ban:
                return PolicyMatch(rule, "server", server_name)
        return None


# --------------------------------------------------------------------------- ghosts


def bridge_namespace(user_prefix: str, server_name: str) -> str:
    """The glob of every ghost MXID, e.g. ``@_discord_*:example.org``.

    Pass it (with the bot MXID) as ``bridge_ids`` to :func:`check_new_rule`.
    """
    return f"@{user_prefix}*:{server_name}"


def ghost_discord_id(mxid: str, user_prefix: str, server_name: str) -> DiscordUserID | None:
    """The Discord user behind a ghost MXID (``@{prefix}{snowflake}:{server}``).

    Compared case-insensitively, like every policy match. Only the canonical
    spelling of a snowflake is accepted (no leading zero, below 2**64), so one
    Discord user has exactly one ghost MXID. Returns ``None`` for anything else,
    wildcard entities included: those are evaluated per ghost with
    :meth:`PolicySet.is_banned_user`.
    """
    pattern = rf"@{re.escape(user_prefix)}([0-9]{{1,20}}):{re.escape(server_name)}"
    found = re.fullmatch(pattern, mxid, re.IGNORECASE)
    if found is None:
        return None
    digits = found.group(1)
    snowflake = int(digits)
    if str(snowflake) != digits or not 0 < snowflake < 2**64:
        return None
    return DiscordUserID(snowflake)


# --------------------------------------------------------------------------- new rules

RefusalCode: TypeAlias = Literal[
    "malformed", "empty", "absurd", "own_server", "bridge", "moderator", "wildcard"
]


@dataclass(frozen=True)
class Refusal:
    """Why a moderator's new rule is not written: ``template`` (an untranslated sentence
    with ``{placeholders}``, marked for the catalogs) filled with ``values``. Show them
    ``tr._(refusal.template, **refusal.values)``; ``message`` is the English text."""

    code: RefusalCode
    template: str
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template.format(**self.values)


# Characters that say nothing about *which* entity is meant: sigils and separators.
_SHAPELESS = frozenset("*?@#!:.")


def _glob_tokens(glob: str) -> tuple[str, ...]:
    """Lowercased tokens; each run of wildcards rewritten as its ``?`` then one ``*``.

    ``*?`` and ``?*`` denote the same strings; the canonical order lets
    :func:`glob_covers` see that.
    """
    tokens: list[str] = []
    singles, star = 0, False
    for char in glob.lower() + "\0":
        if char == "?":
            singles += 1
        elif char == "*":
            star = True
        else:
            tokens.extend("?" * singles)
            if star:
                tokens.append("*")
            singles, star = 0, False
            tokens.append(char)
    return tuple(tokens[:-1])


def glob_covers(outer: str, inner: str) -> bool:
    """True when every string matched by glob ``inner`` is also matched by ``outer``.

    Sound (a True is always right); exotic pattern pairs may get a conservative
    False. Case-insensitive like :func:`glob_matches`.
    """
    out, inn = _glob_tokens(outer), _glob_tokens(inner)
    width = len(inn) + 1
    # covers[i * width + j]: out[i:] covers inn[j:]
    covers = [False] * ((len(out) + 1) * width)
    covers[len(out) * width + len(inn)] = True
    for i in range(len(out) - 1, -1, -1):
        token = out[i]
        for j in range(len(inn), -1, -1):
            if token == "*":
                result = covers[(i + 1) * width + j] or (j < len(inn) and covers[i * width + j + 1])
            elif j == len(inn):
                result = False
            elif token == "?":
                result = inn[j] != "*" and covers[(i + 1) * width + j + 1]
            else:
                result = inn[j] == token and covers[(i + 1) * width + j + 1]
            covers[i * width + j] = result
    return covers[0]


def _shape_problem(kind: str, entity: str) -> str | None:
    if any(char.isspace() or not char.isprintable() for char in entity):
        return N_("{entity} contains spaces or control characters.")
    first = entity[0]
    if kind == "user" and first not in "@*?":
        return N_("{entity} is not a Matrix user ID: user rules look like @name:server.")
    if kind == "server" and first in "@#!":
        return N_("{entity} is not a server name: server rules look like example.org.")
    if kind == "room" and first not in "#!*?":
        return N_("{entity} is not a room ID or alias: room rules look like #room:server.")
    return None


def check_new_rule(
    kind: str,
    entity: str,
    *,
    own_server: str,
    bridge_ids: Collection[str],
    moderators: Collection[str],
    force: bool = False,
) -> Refusal | None:
    """Whether a moderator may publish this rule; ``None`` means yes.

    ``bridge_ids`` holds the bot MXID and the ghost namespace glob (see
    :func:`bridge_namespace`): a user rule is refused if it matches the bot or
    covers the whole namespace. Rules naming single ghosts stay allowed, that is
    how a Discord user gets banned. ``force`` only lifts the wildcard refusal;
    rules that would lock out this homeserver, the bridge or a moderator, and
    rules that would match (nearly) everything, are refused regardless.
    """
    if kind not in ("user", "server", "room"):
        return Refusal(
            "malformed",
            N_("Unknown rule kind {kind}: use user, server or room."),
            {"kind": repr(kind)},
        )
    if not entity.strip():
        return Refusal("empty", N_("The rule names nothing: give a user, server or room."))
    if not set(entity) - _SHAPELESS:
        return Refusal(
            "absurd",
            N_("{entity} names nothing in particular and would match (nearly) everything."),
            {"entity": repr(entity)},
        )
    problem = _shape_problem(kind, entity)
    if problem is not None:
        return Refusal("malformed", problem, {"entity": repr(entity)})
    refusal = _protects_self(kind, entity, own_server, bridge_ids, moderators)
    if refusal is not None:
        return refusal
    if is_wildcard(entity) and not force:
        return Refusal(
            "wildcard",
            N_(
                "{entity} contains * or ? and may match more than you mean; "
                "repeat with force to publish it anyway."
            ),
            {"entity": repr(entity)},
        )
    return None


def _protects_self(
    kind: str,
    entity: str,
    own_server: str,
    bridge_ids: Collection[str],
    moderators: Collection[str],
) -> Refusal | None:
    if kind == "server":
        if glob_matches(entity, own_server):
            return Refusal(
                "own_server",
                N_("{entity} would ban this homeserver ({server}) itself."),
                {"entity": repr(entity), "server": own_server},
            )
        for moderator in moderators:
            server = mxid_server(moderator)
            if server is not None and glob_matches(entity, server):
                return Refusal(
                    "moderator",
                    N_("{entity} would ban the server of moderator {moderator}."),
                    {"entity": repr(entity), "moderator": moderator},
                )
    if kind == "user":
        for bridge_id in bridge_ids:
            hit = (
                glob_covers(entity, bridge_id)
                if is_wildcard(bridge_id)
                else glob_matches(entity, bridge_id)
            )
            if hit:
                return Refusal(
                    "bridge",
                    N_("{entity} would ban the bridge itself ({bridge_id})."),
                    {"entity": repr(entity), "bridge_id": bridge_id},
                )
        for moderator in moderators:
            if glob_matches(entity, moderator):
                return Refusal(
                    "moderator",
                    N_("{entity} would ban moderator {moderator}."),
                    {"entity": repr(entity), "moderator": moderator},
                )
    return None


# --------------------------------------------------------------------------- who may moderate


def discord_may_moderate(permissions: int, *, is_owner: bool = False) -> bool:
    """Discord: the guild owner, or computed permissions with BAN_MEMBERS or ADMINISTRATOR."""
    if is_owner:
        return True
    return permissions >= 0 and bool(permissions & (BAN_MEMBERS | ADMINISTRATOR))


def matrix_may_moderate(
    mxid: str, *, power_level: int, ban_level: int, moderators: Collection[str]
) -> bool:
    """Matrix: power level at least the room's ban level, or a configured moderator.

    The moderator list is compared exactly (case-sensitive): a grant of privilege
    is never widened by case folding, unlike ban matching.
    """
    return power_level >= ban_level or mxid in moderators


def _level(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,16}", value.strip()):
        return int(value)  # older room versions allow numeric strings
    return default


def ban_level(power_levels: Mapping[str, object]) -> int:
    """The ``ban`` level of ``m.room.power_levels`` content (spec default 50)."""
    return _level(power_levels.get("ban"), _DEFAULT_BAN_LEVEL)


def user_power_level(power_levels: Mapping[str, object], mxid: str) -> int:
    """A user's level from ``m.room.power_levels`` content: ``users`` then ``users_default``."""
    default = _level(power_levels.get("users_default"), _DEFAULT_USER_LEVEL)
    users = power_levels.get("users")
    if isinstance(users, Mapping) and mxid in users:
        return _level(users[mxid], default)
    return default
