"""The protection pipeline, pure: messages in, verdicts out (no I/O, clock injected).

A :class:`Signals` is what a protection needs to know about one incoming message,
whichever side it came from (built by :mod:`moderation.protections.signals`). Each
:class:`Protection` looks at it and answers ``None`` (fine) or a :class:`Verdict`
naming the actions to take. The :class:`Guard` holds the list, who is exempt, which
protections are switched on, and remembers whom it already told about a burst.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

Side = Literal["discord", "matrix"]
ACTIONS = ("hold", "redact", "timeout", "ban")
# A burst ends when the author has been quiet (nothing refused) for this long: the
# next refusal tells them, and the moderators, again.
BURST_QUIET_SECONDS = 120.0
# What an edit is checked by: what the new content carries, not how often one posts
# (an edit adding 30 mentions to a harmless message is caught, editing is no flood).
EDIT_CHECKED = frozenset({"mentions", "newcomers"})


@dataclass(frozen=True)
class MessageRef:
    """Where one message lives on its own side (to delete it later)."""

    side: Side
    place: str  # Discord channel ID or Matrix room ID
    id: str  # Discord message ID or Matrix event ID


@dataclass(frozen=True)
class Signals:
    """One incoming message, as the protections see it."""

    ref: MessageRef
    author: str  # "discord:<id>" or a Matrix user ID
    name: str = ""  # how people know the author (Discord: their name)
    text: str = ""
    user_mentions: int = 0  # distinct people mentioned
    mass_mentions: int = 0  # role pings, @everyone / @here / @room
    links: int = 0
    media: int = 0  # attachments, stickers, files, images
    account_created_ms: int | None = None  # Discord: from the user's snowflake ID
    joined_ms: int | None = None  # when the author joined the guild / the room
    guild: str | None = None  # the Discord guild it was sent in
    counts_for_flood_only: bool = False  # reactions, polls: only the flood counts
    is_edit: bool = False  # an edit: only what its content carries is checked

    @property
    def side(self) -> Side:
        return self.ref.side


@dataclass(frozen=True)
class Verdict:
    protection: str
    actions: tuple[str, ...]
    # The figures the sentences shown to people are made of (see .notices).
    figures: tuple[tuple[str, int], ...] = ()
    # Earlier messages of the same burst to delete too (the repeats' other copies).
    related: tuple[MessageRef, ...] = ()

    def figure(self, name: str) -> int:
        return dict(self.figures).get(name, 0)

    @property
    def holds(self) -> bool:
        """Not relayed: held, or deleted (a deleted message is never relayed)."""
        return "hold" in self.actions or "redact" in self.actions


class Protection(Protocol):
    name: str
    actions: tuple[str, ...]

    def check(self, signals: Signals, now: float) -> Verdict | None:
        """The verdict on one message (and remember it, for rules over time)."""
        ...

    def settings(self) -> tuple[tuple[str, int], ...]:
        """(setting, value) pairs shown by ``!mod protections``."""
        ...

    def forget(self, author: str) -> None:
        """Start ``author`` afresh (a moderator lifted a measure)."""
        ...


@dataclass
class Guard:
    """The list of protections, evaluated in order on every message."""

    protections: list[Protection]
    exempt: Callable[[str], bool] = lambda _author: False
    clock: Callable[[], float] = time.monotonic
    disabled: set[str] = field(default_factory=set)
    _last_refused: dict[tuple[str, str], float] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [p.name for p in self.protections]

    def get(self, name: str) -> Protection | None:
        return next((p for p in self.protections if p.name == name), None)

    def enabled(self, name: str) -> bool:
        return name not in self.disabled

    def switch(self, name: str, on: bool) -> bool:
        """Switch a protection on or off; False when no protection has that name."""
        if self.get(name) is None:
            return False
        if on:
            self.disabled.discard(name)
        else:
            self.disabled.add(name)
        return True

    def add(self, protection: Protection, *, first: bool = False) -> None:
        """One more protection (the lockdown's, for one): checked last, or first."""
        if first:
            self.protections.insert(0, protection)
        else:
            self.protections.append(protection)

    def check(self, signals: Signals) -> Verdict | None:
        """The first verdict of the protections switched on; None: relay it. Every
        protection sees the message (counting it), even after one has answered."""
        if self.exempt(signals.author):
            return None
        now = self.clock()
        found: Verdict | None = None
        for protection in self.protections:
            if protection.name in self.disabled:
                continue
            if signals.counts_for_flood_only and protection.name != "flooding":
                continue
            if signals.is_edit and protection.name not in EDIT_CHECKED:
                continue
            verdict = protection.check(signals, now)
            if verdict is not None and found is None:
                found = verdict
        return found

    def first_of_burst(self, author: str, protection: str) -> bool:
        """True for the first refusal of a burst: whether to tell the author and the
        moderators (once per burst, not once per message)."""
        now = self.clock()
        key = (author, protection)
        last = self._last_refused.get(key)
        self._last_refused[key] = now
        if len(self._last_refused) > 4096:
            self._last_refused = {
                k: t for k, t in self._last_refused.items() if now - t < BURST_QUIET_SECONDS
            }
        return last is None or now - last >= BURST_QUIET_SECONDS

    def forget(self, author: str) -> None:
        for protection in self.protections:
            protection.forget(author)
        for key in [k for k in self._last_refused if k[0] == author]:
            del self._last_refused[key]


def only_known(actions: Iterable[str]) -> tuple[str, ...]:
    """The actions in order, unknown ones dropped (the config refuses them earlier)."""
    return tuple(a for a in dict.fromkeys(actions) if a in ACTIONS)


def describe_settings(values: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name}={value}" for name, value in values)
