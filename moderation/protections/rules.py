"""The four message protections, pure (time comes in as ``now``, in seconds).

- ``flooding``: too many messages from one person (token bucket, both directions);
- ``mentions``: one message naming many people, or pinging roles / everyone;
- ``newcomers``: links or files from an account or a member that is too new;
- ``repeats``: the same message posted in several channels or rooms in a short time.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from moderation.protections.core import MessageRef, Signals, Verdict

MAX_TRACKED = 4096  # past this many authors, the idle ones are forgotten


@dataclass
class Flooding:
    """At most ``burst`` messages at once, refilled over ``per_seconds``."""

    burst: int
    per_seconds: float
    actions: tuple[str, ...] = ("hold",)
    name: str = "flooding"
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.burst / self.per_seconds

    def check(self, signals: Signals, now: float) -> Verdict | None:
        key = signals.author
        if len(self._tokens) > MAX_TRACKED:
            self._forget_idle(now)
        tokens, at = self._tokens.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1:
            self._tokens[key] = (tokens - 1, now)
            return None
        self._tokens[key] = (tokens, now)
        figures = (("burst", self.burst), ("seconds", int(self.per_seconds)))
        return Verdict(self.name, self.actions, figures)

    def _forget_idle(self, now: float) -> None:
        full = [
            k for k, (tokens, at) in self._tokens.items()
            if tokens + (now - at) * self.rate >= self.burst
        ]  # fmt: skip
        for key in full:
            del self._tokens[key]

    def settings(self) -> tuple[tuple[str, int], ...]:
        return (("burst", self.burst), ("per_seconds", int(self.per_seconds)))

    def forget(self, author: str) -> None:
        self._tokens.pop(author, None)


@dataclass
class Mentions:
    """More than ``max_mentions`` distinct people, or more than ``max_mass_mentions``
    role pings and @everyone / @room in one message."""

    max_mentions: int
    max_mass_mentions: int
    actions: tuple[str, ...] = ("hold",)
    name: str = "mentions"

    def check(self, signals: Signals, now: float) -> Verdict | None:
        if (
            signals.user_mentions <= self.max_mentions
            and signals.mass_mentions <= self.max_mass_mentions
        ):
            return None
        figures = (
            ("mentions", signals.user_mentions),
            ("mass", signals.mass_mentions),
            ("max_mentions", self.max_mentions),
        )
        return Verdict(self.name, self.actions, figures)

    def settings(self) -> tuple[tuple[str, int], ...]:
        return (("max_mentions", self.max_mentions), ("max_mass_mentions", self.max_mass_mentions))

    def forget(self, author: str) -> None:
        return None


@dataclass
class Newcomers:
    """Links or files from an account younger than ``min_account_age_hours`` (Discord)
    or from someone who joined less than ``min_member_age_minutes`` ago (either side).
    ``wall_clock_ms`` is the time now in ms since the epoch (account and join times are
    dates, not durations)."""

    min_account_age_hours: int
    min_member_age_minutes: int
    wall_clock_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    actions: tuple[str, ...] = ("hold",)
    name: str = "newcomers"

    def check(self, signals: Signals, now: float) -> Verdict | None:
        if not signals.links and not signals.media:
            return None
        wall = self.wall_clock_ms()
        # A time in the future is no real account's or member's: not held for it.
        account_young = (
            signals.account_created_ms is not None
            and 0 <= wall - signals.account_created_ms < self.min_account_age_hours * 3_600_000
        )
        member_young = (
            signals.joined_ms is not None
            and 0 <= wall - signals.joined_ms < self.min_member_age_minutes * 60_000
        )
        if not account_young and not member_young:
            return None
        figures = (
            ("account", int(account_young)),
            ("hours", self.min_account_age_hours),
            ("minutes", self.min_member_age_minutes),
        )
        return Verdict(self.name, self.actions, figures)

    def settings(self) -> tuple[tuple[str, int], ...]:
        return (
            ("min_account_age_hours", self.min_account_age_hours),
            ("min_member_age_minutes", self.min_member_age_minutes),
        )

    def forget(self, author: str) -> None:
        return None


def normalized(text: str) -> str:
    """The text as compared between copies: case, accents and spacing ignored."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", plain).strip()


@dataclass
class Repeats:
    """The same text (at least ``min_length`` characters) from one author in
    ``max_places`` + 1 or more different channels or rooms within ``window_seconds``."""

    max_places: int
    window_seconds: int
    min_length: int = 10
    actions: tuple[str, ...] = ("hold", "redact")
    name: str = "repeats"
    _seen: dict[str, deque[tuple[float, str, MessageRef]]] = field(default_factory=dict)

    def check(self, signals: Signals, now: float) -> Verdict | None:
        text = normalized(signals.text)
        if len(text) < self.min_length:
            return None
        if len(self._seen) > MAX_TRACKED:
            self._forget_old(now)
        seen = self._seen.setdefault(signals.author, deque(maxlen=64))
        while seen and now - seen[0][0] > self.window_seconds:
            seen.popleft()
        seen.append((now, text, signals.ref))
        copies = [ref for _at, other, ref in seen if other == text]
        places = {(ref.side, ref.place) for ref in copies}
        if len(places) <= self.max_places:
            return None
        related = tuple(ref for ref in copies if ref != signals.ref)
        figures = (("places", len(places)), ("seconds", self.window_seconds))
        return Verdict(self.name, self.actions, figures, related)

    def _forget_old(self, now: float) -> None:
        for author in [
            a for a, seen in self._seen.items()
            if not seen or now - seen[-1][0] > self.window_seconds
        ]:  # fmt: skip
            del self._seen[author]

    def settings(self) -> tuple[tuple[str, int], ...]:
        return (("max_places", self.max_places), ("window_seconds", self.window_seconds))

    def forget(self, author: str) -> None:
        self._seen.pop(author, None)
