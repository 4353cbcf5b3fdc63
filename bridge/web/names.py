"""Matrix usernames for new accounts: suggested from the Discord name, and checked.

Pure. A name is refused when Matrix does not allow it (the historical localpart
grammar: ``a-z 0-9 . _ = - /``), when it is too short or too long, or when it is the
bridge's: the ghost namespace (``appservice.user_prefix``), the bot, and anything
starting with ``_`` (reserved for bridges by convention).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

MIN_LENGTH = 3
MAX_LENGTH = 32
_ALLOWED = re.compile(r"^[a-z0-9._=/-]+$")
_RESERVED = frozenset({"admin", "administrator", "root", "support", "moderator", "matrix"})

Refusal = Literal["too_short", "too_long", "bad_characters", "reserved"]


def refusal(localpart: str, ghost_prefix: str, bot_localpart: str) -> Refusal | None:
    """Why ``localpart`` cannot be a member's new account, or None when it can."""
    if len(localpart) < MIN_LENGTH:
        return "too_short"
    if len(localpart) > MAX_LENGTH:
        return "too_long"
    if not _ALLOWED.match(localpart):
        return "bad_characters"
    if (
        localpart.startswith((ghost_prefix, "_"))
        or localpart == bot_localpart
        or localpart in _RESERVED
    ):
        return "reserved"
    return None


def suggest(username: str, global_name: str | None, ghost_prefix: str, bot_localpart: str) -> str:
    """A valid username from the Discord display name (accents dropped), else the
    Discord username; ``membre`` plus digits of nothing else works."""
    for name in (global_name or "", username):
        text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        text = re.sub(r"[^a-z0-9._-]+", ".", text).strip("._-")
        text = re.sub(r"\.{2,}", ".", text)[:MAX_LENGTH].strip("._-")
        if refusal(text, ghost_prefix, bot_localpart) is None:
            return text
        if (
            len(text) < MIN_LENGTH
            and text
            and refusal(f"{text}.m", ghost_prefix, bot_localpart) is None
        ):
            return f"{text}.m"
    return "membre"
