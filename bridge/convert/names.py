"""Names from Discord (nicknames, display names, role and channel names) made safe to
show on Matrix. Pure.

Discord lets people put characters in their names that change how the text around
them is drawn: bidi overrides and embeddings (U+202A..U+202E), isolates
(U+2066..U+2069) and marks (LRM, RLM, ALM) can reverse the ghost's name and the
``(Discord)`` suffix after it; zero-width characters, soft hyphens and controls
are invisible. They are dropped. Zero-width joiners are kept (emoji sequences like
family emoji and several scripts need them), and so are emoji tag characters (flags
of England, Scotland, Wales).

A name with nothing visible left (only zero-width characters, combining marks,
Hangul fillers, blank braille ...) is empty: callers fall back to the next name
(the username, then the ID).
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["MAX_NAME", "clean_name", "is_visible"]

# Discord allows 32 characters for user names and 100 for role and channel names.
MAX_NAME = 100
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ
# Letters and symbols drawn as blank space (often used on Discord for "invisible" names).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Mn", "Me", "Mc", "Zs", "Zl", "Zp"})


def _is_tag(ch: str) -> bool:
    return "\U000e0020" <= ch <= "\U000e007f"


def _keep(ch: str) -> str:
    """``ch`` itself, a space for control whitespace, or "" to drop it."""
    if ch in _JOINERS or _is_tag(ch):
        return ch
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Cs"):
        return " " if ch.isspace() else ""
    return ch


def is_visible(ch: str) -> bool:
    """Whether ``ch`` draws something on its own."""
    if ch in _BLANK or ch in _JOINERS or _is_tag(ch) or ch.isspace():
        return False
    if "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":  # variation selectors
        return False
    return unicodedata.category(ch) not in _INVISIBLE_CATEGORIES


def clean_name(name: str | None, limit: int = MAX_NAME) -> str:
    """``name`` without invisible and direction-changing characters, spaces squeezed,
    at most ``limit`` characters; "" when nothing visible is left."""
    if not name or not isinstance(name, str):
        return ""
    return _clean_name(name, limit)


@functools.lru_cache(maxsize=4096)  # pure, and called for every portal on every message
def _clean_name(name: str, limit: int) -> str:
    cleaned = " ".join("".join(_keep(ch) for ch in name).split())
    if not any(is_visible(ch) for ch in cleaned):
        return ""
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "\u2026"
    return cleaned
