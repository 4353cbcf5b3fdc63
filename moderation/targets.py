"""Who a moderator command names: classifying its target and looking names up. Pure: no I/O.

:func:`classify_target` reads a target as a Discord user (``<@123>``, ``<@!123>``
or a bare 17-20 digit snowflake), a Matrix ID (``@local:server``) or a name to
look up. :func:`resolve_name` looks a name up among candidates the caller
gathered (members of the guild and of the bridged rooms): exact, case-insensitive
match on any of their names; several matches are refused and listed with their
IDs so the moderator can repeat the command with the right one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from bridge.i18n import Translator, translator
from bridge.ids import DiscordUserID, UserID

__all__ = [
    "MXID_RE",
    "Ambiguous",
    "Candidate",
    "DiscordId",
    "Mxid",
    "Name",
    "NotFound",
    "Resolution",
    "Resolved",
    "TargetRef",
    "classify_target",
    "resolve_name",
]

MAX_LISTED = 5  # candidates shown when a name is ambiguous


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class DiscordId:
    """A Discord user, from ``<@123>``, ``<@!123>`` or a bare snowflake."""

    user_id: DiscordUserID


@dataclass(frozen=True)
class Mxid:
    """A syntactically valid Matrix user ID."""

    mxid: UserID


@dataclass(frozen=True)
class Name:
    """Anything else: a display name, username or nickname to look up."""

    name: str


TargetRef: TypeAlias = DiscordId | Mxid | Name

# Historical user IDs allow any printable ASCII but ':' in the localpart; '*' and
# '?' are left out so that a glob is never taken for one user. The server name
# is a DNS name, an IPv4 address or a bracketed IPv6 literal, with an optional port.
MXID_RE = re.compile(
    r"@[\x21-\x29\x2b-\x39\x3b-\x3e\x40-\x7e]+"
    r":(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::[0-9]{1,5})?"
)
_MENTION = re.compile(r"<@!?([0-9]{1,20})>")
_SNOWFLAKE = re.compile(r"[1-9][0-9]{16,19}")


def _discord_id(digits: str) -> DiscordId | None:
    value = int(digits)
    if str(value) != digits or not 0 < value < 2**64:
        return None
    return DiscordId(DiscordUserID(value))


def classify_target(raw: str) -> TargetRef:
    """What a command's target names. Short numbers are names (usernames can be digits)."""
    text = raw.strip()
    found = _MENTION.fullmatch(text) or _SNOWFLAKE.fullmatch(text)
    if found is not None:
        digits = found.group(1) if found.re is _MENTION else found.group(0)
        discord = _discord_id(digits)
        if discord is not None:
            return discord
    if len(text) <= 255 and MXID_RE.fullmatch(text):
        return Mxid(UserID(text))
    return Name(" ".join(text.split()))


# --------------------------------------------------------------------------- name lookup


@dataclass(frozen=True)
class Candidate:
    """Someone a name may designate. ``id``: the Discord snowflake (int) or the Matrix ID.

    ``names``: every name they go by (display name, username, server nickname ...);
    the first is the one shown when listing them.
    """

    kind: Literal["discord", "matrix"]
    id: int | str
    names: tuple[str, ...]

    def describe(self, tr: Translator | None = None) -> str:
        tr = tr or translator()
        shown = self.names[0] if self.names else str(self.id)
        if self.kind == "discord":
            return tr._("{name} (Discord, ID {id})", name=shown, id=self.id)
        return tr._("{name} (Matrix, {id})", name=shown, id=self.id)


@dataclass(frozen=True)
class Resolved:
    candidate: Candidate


@dataclass(frozen=True)
class NotFound:
    message: str


@dataclass(frozen=True)
class Ambiguous:
    """More than one person goes by the name; ``message`` lists up to five of them."""

    message: str
    candidates: tuple[Candidate, ...]


Resolution: TypeAlias = Resolved | NotFound | Ambiguous


def _fold(name: str) -> str:
    """Case- and spacing-insensitive form; Discord's ``#0`` discriminator is dropped."""
    return " ".join(name.removesuffix("#0").split()).casefold()


def resolve_name(
    name: str, candidates: Sequence[Candidate], tr: Translator | None = None
) -> Resolution:
    """The one candidate going by ``name`` (exact, case-insensitive), or why there is none.

    ``@alice`` (typed on Discord) also finds ``alice`` when nobody is called ``@alice``.
    The same (kind, id) listed twice counts once.
    """
    wanted = _fold(name)
    matches = _matching(wanted, candidates)
    if not matches and wanted.startswith("@"):
        matches = _matching(wanted[1:], candidates)
    shown = " ".join(name.split())
    tr = tr or translator()
    if not matches:
        return NotFound(
            tr._(
                "Nobody called '{name}' was found. Check the spelling, or use their ID: "
                "@name:server for a Matrix user, or the Discord user ID.",
                name=shown,
            )
        )
    if len(matches) == 1:
        return Resolved(matches[0])
    listed = [f"- {candidate.describe(tr)}" for candidate in matches[:MAX_LISTED]]
    if len(matches) > MAX_LISTED:
        listed.append(tr.ngettext("- and {n} more", "- and {n} more", len(matches) - MAX_LISTED))
    intro = tr.ngettext(
        "{n} person is called '{name}', so nothing was done.",
        "{n} people are called '{name}', so nothing was done.",
        len(matches),
        name=shown,
    )
    message = (
        intro
        + " "
        + tr._("Repeat the command with the ID of the one you mean:")
        + "\n"
        + "\n".join(listed)
    )
    return Ambiguous(message, tuple(matches))


def _matching(wanted: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    if not wanted:
        return []
    found: dict[tuple[str, int | str], Candidate] = {}
    for candidate in candidates:
        if any(_fold(alias) == wanted for alias in candidate.names):
            found.setdefault((candidate.kind, candidate.id), candidate)
    return list(found.values())
