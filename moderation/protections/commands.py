"""The protections' moderator commands, parsed (pure):

    !mod protections                      list them, on or off, with their settings
    !mod protection <name> on|off         switch one (French: marche|arret too)
    !mod unmute <user>                    lift a timeout (Discord) or mute (Matrix)

:mod:`moderation.commands` calls :func:`parse` for these verbs and turns a returned
string into its ``CommandError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.i18n import Translator

VERBS = ("protections", "protection", "unmute")
# French aliases, read case- and accent-insensitively like the others.
ALIASES = {"demuter": "unmute", "untimeout": "unmute"}
_ON = {"on", "marche", "oui", "yes", "1", "true"}
_OFF = {"off", "arret", "non", "no", "0", "false"}


@dataclass(frozen=True)
class ListProtections:
    pass


@dataclass(frozen=True)
class SwitchProtection:
    name: str
    on: bool


@dataclass(frozen=True)
class Unmute:
    target: str
    reason: str = ""


ProtectionCommand = ListProtections | SwitchProtection | Unmute
TakeTarget = Callable[[str, str, Translator], "tuple[str, str] | object | None"]


def parse(
    verb: str, typed: str, rest: str, prefix: str, tr: Translator, take_target: TakeTarget
) -> ProtectionCommand | str | object:
    """The command, or a sentence saying what is wrong (or the error ``take_target``
    returned, passed through)."""
    words = rest.split()
    if verb == "protections":
        if words:
            return tr._(
                "'{command}' takes nothing after it. Try: {command}",
                command=f"{prefix} {typed.casefold()}",
            )
        return ListProtections()
    if verb == "protection":
        usage = f"{prefix} protection <name> on|off"
        if len(words) != 2:
            return tr._("Write: {usage}", usage=usage)
        state = _fold(words[1])
        if state not in _ON | _OFF:
            return tr._("Say on or off. Write: {usage}", usage=usage)
        return SwitchProtection(words[0].casefold(), state in _ON)
    usage = tr._("{command} <user>", command=f"{prefix} {typed.casefold()}")
    taken = take_target(rest, usage, tr)
    if taken is None:
        return tr._("Who should be able to write again? Write: {usage}", usage=usage)
    if not isinstance(taken, tuple):
        return taken  # the parser's own error
    target, remainder = taken
    return Unmute(str(target), " ".join(str(remainder).split()))


def _fold(word: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in folded if not unicodedata.combining(char))
