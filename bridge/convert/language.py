"""The language command, parsed: ``!bridge language fr|en|default`` (French:
``!bridge langue fr|en|defaut``; also ``!language`` / ``!langue`` in a direct chat
with the bridge's bot). Pure."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bridge.i18n import LANGUAGES

_WORDS = frozenset({"language", "langue"})
_CHOICES = {
    "fr": "fr",
    "francais": "fr",
    "french": "fr",
    "en": "en",
    "english": "en",
    "anglais": "en",
    "default": "",
    "defaut": "",
    "reset": "",
}


@dataclass(frozen=True)
class LanguageCommand:
    """``choice``: ``fr`` or ``en``; ``""`` to go back to the bridge's language; None
    to ask which language is in use. ``unknown`` holds what was typed when it is none
    of these."""

    choice: str | None
    unknown: str = ""


def _plain(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in folded if not unicodedata.combining(char))


def parse_language(body: str) -> LanguageCommand | None:
    """The language command in ``body``, None when it is not one."""
    words = body.split()
    if not words:
        return None
    first = _plain(words[0])
    if first == "!bridge" and len(words) > 1 and _plain(words[1]) in _WORDS:
        args = words[2:]
    elif first.startswith("!") and first[1:] in _WORDS:
        args = words[1:]
    else:
        return None
    if not args:
        return LanguageCommand(None)
    choice = _CHOICES.get(_plain(args[0]).strip(".!"))
    if choice is None:
        return LanguageCommand(None, unknown=args[0])
    assert choice == "" or choice in LANGUAGES
    return LanguageCommand(choice)
