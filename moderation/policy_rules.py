"""Matrix policy-list rules: the glob language, the rule model and event parsing.

Pure: no I/O. ``moderation.policy`` builds the rule set and the decisions on top
of this module and re-exports its public names.

Policy rules are state events (spec: ``m.policy.rule.user|server|room``, content
``{entity, recommendation, reason}``). Two older spellings of the same event
types are still found in long-lived lists and are read as their modern family:
``m.room.rule.*`` and ``org.matrix.mjolnir.rule.*``.

Two extensions that Draupnir and Meowlnir already read:

- MSC4204: the ``m.takedown`` recommendation (unstable ``org.matrix.msc4204.takedown``)
  is applied like ``m.ban`` (:attr:`PolicyRule.is_ban`); it is kept as ``m.takedown``.
- MSC4205: a rule may carry ``hashes`` (unstable ``org.matrix.msc4205.hashes``),
  ``{"sha256": "<base64 of sha256(entity)>"}``, instead of ``entity``. It matches a
  user ID or server name whose SHA-256 (UTF-8, base64, padding ignored) is that
  value (:func:`entity_hash`); a hashed rule is never a glob. A rule with both an
  entity and hashes is read by its entity.

Glob matching (:func:`glob_matches`)
------------------------------------
- ``*`` matches any sequence of characters, including the empty one and
  including ``:``, so ``@*:example.org`` and ``*:example.org`` both cover every
  user of ``example.org``.
- ``?`` matches exactly one character (any character, ``:`` included).
- Every other character is literal: ``.``, ``[``, ``(``, ``+``, ``\\`` ... carry
  no regex meaning. There is no escape for a literal ``*`` or ``?``.
- The whole string must match: ``example.org`` does not match
  ``sub.example.org`` and ``*.example.org`` does not match ``example.org``.
- Case-insensitive, both sides folded with :meth:`str.lower`. Why: server names
  are DNS names and DNS compares names case-insensitively (RFC 4343), so
  ``Evil.Example`` is the same server as ``evil.example``; Draupnir compares
  server rules case-insensitively too. User IDs must be lowercase for new
  accounts, but historical user IDs with capitals exist and servers fold case at
  registration, so a ban list written in one case should still catch the other.
  For a ban list, a miss costs more than an over-match. Matrix IDs are ASCII, so
  this is plain ASCII case folding in practice.
- A server name may carry a port (``example.org:8448``). Matching is against the
  whole server name, port included: the rule ``example.org`` does NOT match
  ``example.org:8448``; write ``example.org*`` (or ``example.org:*``) to cover
  ports. IPv6 literals (``[::1]:8448``) are ordinary characters: ``[`` and ``]``
  are literal.

Matching runs in O(len(pattern) * len(value)) whatever the pattern: globs are
compiled once (cached) into fixed-length segments between the ``*``, and the
segments are found left to right, so a hostile entity such as ``*a*a*a*a*b``
from a subscribed list cannot make the bridge backtrack exponentially.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "BAN",
    "LEGACY_BAN",
    "POLICY_EVENT_TYPES",
    "TAKEDOWN",
    "UNSTABLE_TAKEDOWN",
    "NotPolicyEvent",
    "PolicyKind",
    "PolicyRule",
    "PolicyRuleChange",
    "RuleKey",
    "RuleRejected",
    "RuleRemoval",
    "RuleUpsert",
    "entity_hash",
    "glob_matches",
    "is_wildcard",
    "normalise_recommendation",
    "parse_policy_event",
    "policy_kind",
]

PolicyKind: TypeAlias = Literal["user", "server", "room"]

BAN = "m.ban"
LEGACY_BAN = "org.matrix.mjolnir.ban"
TAKEDOWN = "m.takedown"  # MSC4204
UNSTABLE_TAKEDOWN = "org.matrix.msc4204.takedown"
_HASH_KEYS = ("hashes", "org.matrix.msc4205.hashes")  # MSC4205, stable then unstable

_KINDS: tuple[PolicyKind, ...] = ("user", "server", "room")
_TYPE_PREFIXES = ("m.policy.rule.", "m.room.rule.", "org.matrix.mjolnir.rule.")

POLICY_EVENT_TYPES: Mapping[str, PolicyKind] = {
    f"{prefix}{kind}": kind for prefix in _TYPE_PREFIXES for kind in _KINDS
}
"""Every state event type read as a policy rule, mapped to its family."""

_RECOMMENDATIONS: Mapping[str, str] = {
    BAN: BAN,
    LEGACY_BAN: BAN,
    TAKEDOWN: TAKEDOWN,
    UNSTABLE_TAKEDOWN: TAKEDOWN,
}
# Recommendations carried out as a ban (MSC4204: a takedown is at least a ban).
_BANNING = frozenset({BAN, TAKEDOWN})

_GLOB_CHARS = frozenset("*?")


# --------------------------------------------------------------------------- globs


def is_wildcard(entity: str) -> bool:
    """True when the entity contains a glob character (``*`` or ``?``)."""
    return not _GLOB_CHARS.isdisjoint(entity)


@dataclass(frozen=True)
class _Glob:
    """A glob split on ``*`` into fixed-length segments, each a compiled regex.

    ``segments[0]`` is anchored at the start and ``segments[-1]`` at the end;
    with no ``*`` there is a single segment that must cover the whole value.
    """

    segments: tuple[re.Pattern[str], ...]
    lengths: tuple[int, ...]

    def matches(self, value: str) -> bool:
        text = value.lower()
        if len(self.segments) == 1:
            return self.segments[0].fullmatch(text) is not None
        head, tail = self.segments[0], self.segments[-1]
        head_len, tail_len = self.lengths[0], self.lengths[-1]
        end = len(text) - tail_len
        if end < head_len:
            return False
        if head.fullmatch(text, 0, head_len) is None:
            return False
        if tail.fullmatch(text, end) is None:
            return False
        position = head_len
        for segment, length in zip(self.segments[1:-1], self.lengths[1:-1], strict=True):
            if length == 0:
                continue
            # Segments are fixed-length, so the leftmost occurrence always leaves
            # the most room for the rest: no backtracking is needed.
            found = segment.search(text, position, end)
            if found is None:
                return False
            position = found.end()
        return True


def _segment_regex(segment: str) -> re.Pattern[str]:
    body = "".join("." if char == "?" else re.escape(char) for char in segment)
    return re.compile(body, re.DOTALL)


@functools.lru_cache(maxsize=65536)
def _compile_glob(pattern: str) -> _Glob:
    pieces = pattern.lower().split("*")
    return _Glob(
        segments=tuple(_segment_regex(piece) for piece in pieces),
        lengths=tuple(len(piece) for piece in pieces),
    )


def glob_matches(pattern: str, value: str) -> bool:
    """Whole-string, case-insensitive glob match; see the module docstring."""
    return _compile_glob(pattern).matches(value)


@functools.lru_cache(maxsize=65536)
def entity_hash(value: str) -> str:
    """MSC4205: base64 (standard alphabet, no padding) of SHA-256 of the UTF-8 value."""
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii").rstrip("=")


def _normalise_hash(value: object) -> str | None:
    """A published sha256 (padded or not, standard or URL-safe base64) in the form
    :func:`entity_hash` gives; None when it is not 32 bytes of base64."""
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("=").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32:
        return None
    return base64.b64encode(raw).decode("ascii").rstrip("=")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, order=True)
class RuleKey:
    """Identity of a rule: the room state slot it lives in.

    The event type is reduced to its family (``user``/``server``/``room``), so a
    legacy ``m.room.rule.user`` event and an ``m.policy.rule.user`` event with
    the same state key in the same room address the same rule.
    """

    source_room: str
    kind: PolicyKind
    state_key: str


@dataclass(frozen=True)
class PolicyRule:
    """One rule of one policy list, recommendation already normalised."""

    kind: PolicyKind
    entity: str
    recommendation: str
    reason: str
    state_key: str
    source_room: str
    event_id: str | None = None
    # MSC4205: the rule names its entity by hash only (``entity`` is then "").
    sha256: str | None = None

    @property
    def key(self) -> RuleKey:
        return RuleKey(self.source_room, self.kind, self.state_key)

    @property
    def is_ban(self) -> bool:
        """``m.ban`` and ``m.takedown`` (any spelling) ban; other recommendations are inert."""
        return self.recommendation in _BANNING

    @property
    def is_wildcard(self) -> bool:
        return self.sha256 is None and is_wildcard(self.entity)

    @property
    def label(self) -> str:
        """What names the rule in the log and in the bans it causes: the entity, or
        ``sha256:<hash>`` for a hashed rule (the entity itself is not known)."""
        return self.entity if self.sha256 is None else f"sha256:{self.sha256}"

    def matches(self, value: str) -> bool:
        if self.sha256 is not None:
            return self.sha256 in (entity_hash(value), entity_hash(value.lower()))
        return glob_matches(self.entity, value)


@dataclass(frozen=True)
class RuleUpsert:
    """A valid rule now occupies ``rule.key``: add it or replace what was there."""

    rule: PolicyRule

    @property
    def key(self) -> RuleKey:
        return self.rule.key


@dataclass(frozen=True)
class RuleRemoval:
    """The state slot was blanked (empty content, redaction, no entity): drop the rule."""

    key: RuleKey
    event_id: str | None = None


@dataclass(frozen=True)
class RuleRejected:
    """A policy event whose content is not a usable rule.

    When ``key`` is known the room's current state in that slot is no longer a
    rule, so applying this change drops any rule held for the slot: keeping it
    would enforce something the list no longer says. ``key`` is ``None`` when the
    event cannot even be placed (no state key, no room).
    """

    key: RuleKey | None
    reason: str
    event_id: str | None = None


@dataclass(frozen=True)
class NotPolicyEvent:
    """Not a policy rule type at all; callers may feed every state event through."""

    event_type: str


PolicyRuleChange: TypeAlias = RuleUpsert | RuleRemoval | RuleRejected | NotPolicyEvent


# --------------------------------------------------------------------------- parsing


def policy_kind(event_type: str) -> PolicyKind | None:
    """The family of a policy event type (modern or legacy spelling), else ``None``."""
    return POLICY_EVENT_TYPES.get(event_type)


def normalise_recommendation(recommendation: str) -> str:
    """``org.matrix.mjolnir.ban`` -> ``m.ban``, ``org.matrix.msc4204.takedown`` ->
    ``m.takedown``; anything else is returned unchanged."""
    return _RECOMMENDATIONS.get(recommendation, recommendation)


def parse_policy_event(
    event: Mapping[str, object], *, room_id: str | None = None
) -> PolicyRuleChange:
    """Read one state event as a change to a policy list. Never raises on bad input.

    ``room_id`` names the source room for events that do not carry one (events
    from a room's ``/sync`` timeline have no ``room_id``); when given it takes
    precedence over the event's own ``room_id``.

    - Not a policy type -> :class:`NotPolicyEvent`.
    - Empty content, or no/empty ``entity`` -> :class:`RuleRemoval` (this is how
      Mjolnir and Draupnir delete rules, and what a redaction leaves behind).
    - ``entity`` present but content otherwise unusable -> :class:`RuleRejected`.
    - A missing ``reason`` is read as ``""`` (the spec requires it, but tools omit it).
    - Unknown recommendations are kept as they are; they never ban.
    """
    event_type = event.get("type")
    if not isinstance(event_type, str):
        return RuleRejected(None, "the event has no string 'type'", _event_id(event))
    kind = policy_kind(event_type)
    if kind is None:
        return NotPolicyEvent(event_type)
    event_id = _event_id(event)

    source_room = room_id if room_id is not None else event.get("room_id")
    if not isinstance(source_room, str) or not source_room:
        return RuleRejected(None, "the event names no source room", event_id)
    state_key = event.get("state_key")
    if not isinstance(state_key, str):
        return RuleRejected(None, "a policy rule must be a state event with a state key", event_id)
    key = RuleKey(source_room, kind, state_key)

    if "content" not in event:
        return RuleRejected(key, "the event has no content", event_id)
    content = event["content"]
    if not isinstance(content, Mapping):
        return RuleRejected(key, "the content is not a JSON object", event_id)
    entity = content.get("entity")
    hashes = next((content[k] for k in _HASH_KEYS if content.get(k)), None)
    if (entity is None or entity == "") and hashes is None:
        return RuleRemoval(key, event_id)
    sha256 = None
    if entity is None or entity == "":
        if not isinstance(hashes, Mapping) or "sha256" not in hashes:
            return RuleRejected(key, "the rule's 'hashes' has no 'sha256'", event_id)
        sha256 = _normalise_hash(hashes["sha256"])
        if sha256 is None:
            return RuleRejected(key, "'sha256' must be the base64 of a SHA-256 hash", event_id)
        entity = ""
    return _parse_content(key, content, entity, event_id, sha256)


def _parse_content(
    key: RuleKey,
    content: Mapping[str, object],
    entity: object,
    event_id: str | None,
    sha256: str | None = None,
) -> RuleUpsert | RuleRejected:
    if not isinstance(entity, str):
        return RuleRejected(key, "'entity' must be a string", event_id)
    recommendation = content.get("recommendation")
    if recommendation is None:
        return RuleRejected(key, f"the rule for {entity!r} has no 'recommendation'", event_id)
    if not isinstance(recommendation, str) or not recommendation:
        return RuleRejected(key, "'recommendation' must be a non-empty string", event_id)
    reason = content.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        return RuleRejected(key, "'reason' must be a string", event_id)
    rule = PolicyRule(
        kind=key.kind,
        entity=entity,
        recommendation=normalise_recommendation(recommendation),
        reason=reason,
        state_key=key.state_key,
        source_room=key.source_room,
        event_id=event_id,
        sha256=sha256,
    )
    return RuleUpsert(rule)


def _event_id(event: Mapping[str, object]) -> str | None:
    event_id = event.get("event_id")
    return event_id if isinstance(event_id, str) and event_id else None
