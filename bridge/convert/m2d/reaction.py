"""Matrix reaction key -> the emoji the bridge bot adds on Discord. Pure."""

from __future__ import annotations

import unicodedata

KEYCAP = "\u20e3"
MAX_EMOJI_CHARS = 32
# Symbols, their modifiers/variation selectors, ZWJ and tag characters, keycap enclosure.
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Mn", "Me", "Cf"})


def is_unicode_emoji(key: str) -> bool:
    """A plausible unicode emoji (sequence): what Discord accepts as a reaction.

    Arbitrary text keys ("+1", "lol") are refused; ``#``, ``*`` and digits only
    as keycaps (``1️⃣``).
    """
    if not key or len(key) > MAX_EMOJI_CHARS:
        return False
    has_symbol = False
    for char in key:
        if char in "#*0123456789":
            if KEYCAP not in key:
                return False
            has_symbol = True
            continue
        category = unicodedata.category(char)
        if category not in _EMOJI_CATEGORIES:
            return False
        has_symbol = has_symbol or category == "So"
    return has_symbol


def discord_emoji_for_key(key: str, custom_emoji: str | None) -> str | None:
    """The Discord API form of the emoji for a Matrix reaction key, or None if none fits.

    ``custom_emoji`` is the ``name:id`` of the Discord custom emoji whose image
    the key (an mxc URI) is, when the caller found one.
    """
    if custom_emoji is not None:
        return custom_emoji
    if key.startswith("mxc://"):
        return None
    return key if is_unicode_emoji(key) else None
