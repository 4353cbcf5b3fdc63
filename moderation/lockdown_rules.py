"""Lockdown decisions: pure, no I/O (every fact and the clock are passed in).

- :class:`JoinWave` counts joins in a sliding window: N joins within T seconds on
  either side is a raid starting, and turns lockdown on.
- :func:`locked_join_rule`: what a portal room's join rule becomes during a lockdown
  (``knock`` when the room version has knocking, else ``invite``), or ``None`` when
  the room is already closed (members-only rooms are invite-only: nothing to do).
- :func:`is_new_account`: who counts as new while a lockdown holds: a Discord
  account younger than ``new_account_days`` (its ID says when it was made), or anyone
  whose first join (Discord server, or any bridged Matrix room) is more recent than
  ``new_member_minutes``.
- :func:`parse_duration`: ``30m``, ``2h``, ``1d``/``1j``, ``90s``, or a plain number of
  minutes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

DISCORD_EPOCH_MS = 1420070400000

# Join rules that let anyone (or any member of a space) walk in: closed in a lockdown.
OPEN_JOIN_RULES = frozenset({"public", "restricted", "knock_restricted"})
# Room versions (the numbered ones) that have the ``knock`` join rule (since v7).
_FIRST_KNOCK_VERSION = 7
# Discord verification levels: 0 none, 1 low, 2 medium, 3 high, 4 very high.
MAX_VERIFICATION_LEVEL = 4
MAX_SLOWMODE_SECONDS = 21600  # Discord's own limit for rate_limit_per_user


@dataclass
class LockdownState:
    """The lockdown in force (kept in memory, persisted in the ``lockdown`` table)."""

    active: bool = False
    since_ms: int = 0
    until_ms: int | None = None  # None: until a moderator lifts it
    actor: str = ""
    reason: str = ""
    # Authors already told that their messages wait ((side, user id)); cleared on lift.
    told: set[tuple[str, str]] = field(default_factory=set)
    # Tells an author once that their message waits: (side, user id, room or channel).
    tell: Callable[[str, str, str], Awaitable[None]] | None = None
    # Whether ("side:user id") is a newcomer of a join wave that is building (no
    # lockdown yet): :meth:`JoinWave.suspect` on the service's clock; None: never.
    suspect: Callable[[str], bool] | None = None

    def expired(self, now_ms: int) -> bool:
        return self.active and self.until_ms is not None and now_ms >= self.until_ms


class JoinWave:
    """Who joined in the last ``seconds``; :meth:`add` says when ``joins`` are reached.

    Joins are counted per person (a side and a user ID): one member joining ten
    bridged rooms is one join, not a wave. The window slides: a join older than
    ``seconds`` no longer counts. After a wave is reported the count starts again from
    zero, so one raid reports once per ``joins`` joins, not at every join past it.
    """

    def __init__(self, joins: int, seconds: float, alert: int = 0) -> None:
        if joins < 1 or seconds <= 0:
            raise ValueError("a join wave needs at least one join and a positive window")
        self.joins = joins
        self.seconds = seconds
        # From this many joins in the window (0: never) the wave is suspected: the
        # newcomers who made it wait (see :meth:`suspect`) before it turns lockdown on.
        self.alert = alert if 0 < alert < joins else 0
        self._last: dict[str, float] = {}  # who -> when they last joined (oldest first)

    def _expire(self, now: float) -> None:
        for who, moment in list(self._last.items()):
            if now - moment <= self.seconds:
                break
            del self._last[who]

    def add(self, now: float, who: str | None = None) -> bool:
        """One join at ``now`` (seconds, any monotonic clock) by ``who`` (None: someone
        new each time); True when it makes a wave."""
        self._expire(now)
        key = who if who is not None else f"#{len(self._last)}@{now}"
        self._last.pop(key, None)
        self._last[key] = now
        if len(self._last) >= self.joins:
            self._last.clear()
            return True
        return False

    def count(self, now: float) -> int:
        """People who joined inside the window at ``now``."""
        return sum(1 for moment in self._last.values() if now - moment <= self.seconds)

    def alerting(self, now: float) -> bool:
        """Whether joins are high enough at ``now`` to suspect a wave is building."""
        return self.alert > 0 and self.count(now) >= self.alert

    def suspect(self, now: float, who: str) -> bool:
        """Whether ``who`` is one of the newcomers of a wave that is building: joins in
        the window have reached the alert level and ``who`` joined inside it. Their
        messages wait, so a raid's first accounts do not get through in the seconds
        before the wave is complete and lockdown starts."""
        moment = self._last.get(who)
        if moment is None or now - moment > self.seconds:
            return False
        return self.alerting(now)


def room_version_has_knock(version: str) -> bool:
    """Numbered room versions 7 and later have ``knock``; unknown ones are assumed not to."""
    return version.isdigit() and int(version) >= _FIRST_KNOCK_VERSION


def locked_join_rule(current: str, room_version: str) -> str | None:
    """The join rule during a lockdown, or None when the room is already closed."""
    if current not in OPEN_JOIN_RULES:
        return None  # invite, knock, private: nobody walks in already
    return "knock" if room_version_has_knock(room_version) else "invite"


def discord_account_created_ms(user_id: int) -> int:
    """When a Discord account was made, from its ID (a snowflake)."""
    return (int(user_id) >> 22) + DISCORD_EPOCH_MS


def is_new_account(
    *,
    now_ms: int,
    first_join_ms: int | None,
    new_member_minutes: int,
    discord_user_id: int | None = None,
    new_account_days: int = 0,
) -> bool:
    """New: a Discord account younger than ``new_account_days``, or a first join (on
    this side) less than ``new_member_minutes`` ago. Nobody seen joining is not new
    by that measure (they were there before the bridge counted)."""
    if discord_user_id is not None and new_account_days > 0:
        age_ms = now_ms - discord_account_created_ms(discord_user_id)
        # An ID from the future (a clock off, a made-up ID) says nothing either way.
        if 0 <= age_ms < new_account_days * 86_400_000:
            return True
    if first_join_ms is not None and new_member_minutes > 0:
        return now_ms - first_join_ms < new_member_minutes * 60_000
    return False


_DURATION = re.compile(r"([0-9]{1,6})\s*(s|sec|secs|m|min|mins|h|d|j)?", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "secs": 1, "m": 60, "min": 60, "mins": 60, "h": 3600}


def parse_duration(text: str) -> int | None:
    """Seconds for ``30m``, ``2h``, ``1d`` (``1j`` in French), ``90s`` or ``45`` (minutes);
    None when it is not a duration (or is zero)."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        return None
    number, unit = int(found.group(1)), (found.group(2) or "m").lower()
    seconds = number * (86_400 if unit in ("d", "j") else _UNITS[unit])
    return seconds or None
