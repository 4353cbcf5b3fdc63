"""Keep Matrix content built from Discord under the homeserver's event size limit. Pure.

Matrix refuses events whose canonical JSON is over 64 KiB (Synapse answers
``M_TOO_LARGE``), and a refused event is a message lost. Discord text is at most
4,000 characters, but mentions, channel links and timestamps expand (a 22-character
``<#id>`` becomes a link plus a channel name of up to 100 characters, in both
``body`` and ``formatted_body``), and an edit carries its content twice (the
fallback and ``m.new_content``). So content is measured as it will be sent and,
when too big, made smaller in steps that lose as little as possible: first the HTML
(every word is still in ``body``), then the expansions (the text as written on
Discord), and only for input Discord itself would never deliver, the end of the
text.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from bridge.model import MatrixText

__all__ = [
    "EDITABLE_CONTENT_MAX",
    "EVENT_CONTENT_MAX",
    "content_size",
    "fit_content",
    "valid_unicode",
]

# Bytes of content JSON: leaves room for the rest of the PDU (IDs, hashes, signatures,
# prev/auth events) under Synapse's 65,536.
EVENT_CONTENT_MAX = 60_000
# Content that may later be edited: the edit event holds it twice.
EDITABLE_CONTENT_MAX = 30_000
TRUNCATED = "\u2026 [truncated]"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (which JSON's ``\\u`` escapes can carry but UTF-8
    cannot: sending them fails every time) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def content_size(text: MatrixText) -> int:
    """Bytes of the content's JSON as a homeserver measures it (UTF-8, not ASCII-escaped)."""
    content = text.to_content()
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def _longest_fitting(text: MatrixText, limit: int) -> MatrixText:
    """``text`` with its body cut (and marked) so that the content fits ``limit``."""
    mentions = text.mentioned_user_ids
    bare = replace(text, body=TRUNCATED, mentioned_user_ids=())
    while mentions and content_size(replace(bare, mentioned_user_ids=mentions)) > limit:
        mentions = mentions[: len(mentions) // 2]
    text = replace(text, mentioned_user_ids=mentions)
    low, high = 0, len(text.body)
    while low < high:
        middle = (low + high + 1) // 2
        if content_size(replace(text, body=text.body[:middle] + TRUNCATED)) <= limit:
            low = middle
        else:
            high = middle - 1
    return replace(text, body=text.body[:low].rstrip() + TRUNCATED)


def fit_content(
    text: MatrixText, written: str | None = None, limit: int = EVENT_CONTENT_MAX
) -> MatrixText:
    """``text`` if its content fits ``limit`` bytes, else a smaller version of it.

    ``written`` is the text as written on Discord (before mentions, channels and
    timestamps were expanded), used as the body when the expanded one is too big.
    Lone surrogates become U+FFFD first.
    """
    if _LONE_SURROGATE.search(text.body + (text.formatted_body or "")):
        text = replace(
            text,
            body=valid_unicode(text.body),
            formatted_body=(
                valid_unicode(text.formatted_body) if text.formatted_body is not None else None
            ),
        )
    if written is not None:
        written = valid_unicode(written)
    if content_size(text) <= limit:
        return text
    plain = replace(text, formatted_body=None)
    if content_size(plain) <= limit:
        return plain
    if written is not None and written.strip():
        raw = replace(plain, body=written)
        if content_size(raw) <= limit:
            return raw
        plain = raw if len(written) < len(plain.body) else plain
    return _longest_fitting(plain, limit)
