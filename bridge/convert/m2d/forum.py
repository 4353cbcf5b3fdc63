"""A top-level Matrix message in a forum's room -> the title of the post it creates.
Pure.

Discord takes no messages in a forum (or media) channel itself, only in its posts;
a Matrix message sent outside any thread therefore starts a new post through the
webhook (``thread_name``). Its title is the message's first line with text (the
reply fallback left out, whitespace collapsed), cut to Discord's 100 characters.
"""

from __future__ import annotations

import re

from bridge.convert.m2d.html import strip_reply_fallback
from bridge.i18n import N_, Translator, translator

TITLE_MAX = 100  # Discord's limit for a thread (post) name
WHITESPACE = re.compile(r"\s+")
ELLIPSIS = "…"
# Markdown a title does without: heading, quote and list markers, bold, strike, code.
LEADING = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*+]\s+)+")
INLINE = re.compile(r"\*\*|__|~~|`+")
UNTITLED = N_("Post from Matrix")


def post_title(body: str, tr: Translator | None = None) -> str:
    """The first line with text, without Markdown markers, at most 100 characters
    (cut at a word when one ends in the last 20, with an ellipsis); with none, a
    title in ``tr``'s language (default English)."""
    for line in strip_reply_fallback(body).splitlines():
        text = WHITESPACE.sub(" ", INLINE.sub("", LEADING.sub("", line.strip()))).strip()
        if text:
            break
    else:
        return (tr or translator())._(UNTITLED)
    if len(text) <= TITLE_MAX:
        return text
    cut = text[: TITLE_MAX - 1]
    space = cut.rfind(" ")
    if space >= TITLE_MAX - 20:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
