"""``!mod lockdown [on|off] [duration]``: parsing only (pure, no I/O).

English: ``lockdown on [30m]``, ``lockdown off``, ``lockdown`` (the state); also
``lock [30m]`` and ``unlock``. French: ``verrouillage [oui|non] [30m]``,
``verrouiller [30m]``, ``deverrouiller`` (accents optional, like every alias).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bridge.i18n import Translator
from moderation.lockdown_rules import parse_duration

LOCKDOWN_VERBS = ("lockdown", "lock", "unlock")
LOCKDOWN_ALIASES: dict[str, str] = {
    "verrouillage": "lockdown",
    "verrouiller": "lock",
    "deverrouiller": "unlock",
}
_ON = ("on", "oui", "marche", "start")
_OFF = ("off", "non", "arret", "arrêt", "stop")


@dataclass(frozen=True)
class Lockdown:
    """Turn lockdown on (for ``seconds``, None: the configured time), off, or show it."""

    action: Literal["on", "off", "status"]
    seconds: int | None = None


def parse_lockdown(verb: str, rest: str, prefix: str, tr: Translator) -> Lockdown | str:
    """The command, or a sentence for the moderator saying what is wrong."""
    words = rest.split()
    usage = tr._(
        "Write: {on}, {off}, or {status} to see the state.",
        on=f"{prefix} lockdown on [30m]",
        off=f"{prefix} lockdown off",
        status=f"{prefix} lockdown",
    )
    if verb == "lockdown":
        if not words:
            return Lockdown("status")
        switch, words = words[0].casefold(), words[1:]
        if switch in _OFF:
            action: Literal["on", "off"] = "off"
        elif switch in _ON:
            action = "on"
        else:
            return tr._("'{word}' is neither on nor off. {usage}", word=switch, usage=usage)
    else:
        action = "on" if verb == "lock" else "off"
    if action == "off":
        if words:
            return tr._("Lifting the lockdown takes nothing more. {usage}", usage=usage)
        return Lockdown("off")
    if not words:
        return Lockdown("on")
    seconds = parse_duration(" ".join(words)) if len(words) <= 2 else None
    if seconds is None or not re.match(r"[0-9]", words[0]):
        return tr._(
            "'{text}' is not a duration: write for example 30m, 2h or 1d. {usage}",
            text=" ".join(words),
            usage=usage,
        )
    return Lockdown("on", seconds)
