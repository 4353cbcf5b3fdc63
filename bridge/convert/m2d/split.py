"""Split Discord markdown longer than a message allows, keeping the markup intact.

Cuts prefer a paragraph break, then a line break, then a space, each only when
it falls in the second half of the window (so chunks stay reasonably full);
failing that, the latest break of any kind; failing that, a hard cut. The break
itself (the whitespace at the cut) is dropped. A cut never falls inside inline
code, a masked link, a bare URL or a ``<...>`` mention/emoji/timestamp unless
one of those alone exceeds the limit. A cut inside a fenced code block closes
the fence at the end of the chunk and reopens it, with the same language, at
the start of the next one; there the code's own line break is kept, so joining
the code of the pieces gives back the code. A ``>>> `` quote is reopened too.
Lengths are counted in code points. Inline formatting (``**``, ``||``...) that
spans a cut is not reopened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DISCORD_MESSAGE_LIMIT", "split_discord_markdown"]

DISCORD_MESSAGE_LIMIT = 2000

_FENCE_LANGUAGE = re.compile(r"([a-z0-9_+\-.#]+)\n", re.I)
_MASKED = re.compile(
    r"\[(?:\\[\s\S]|[^\[\]\\\n])+\]\((?:<[^\s<>]+>|(?:[^\s()\\<>]|\([^\s()]*\))+)\)"
)
_ANGLE = re.compile(
    r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::\w)?|/[-\w ]+:\d+|https?://[^\s<>]+)>"
)
_URL = re.compile(r"https?://[^\s<]+")
_BREAK = re.compile(r"[ \t]*(?:\n[ \t]*)*\n|[ \t]+")
_QUOTE_ALL = re.compile(r"(?m)^>>> ")
_CLOSE = "\n```"


@dataclass(frozen=True)
class _Code:
    content_start: int
    close_start: int
    language: str


@dataclass(frozen=True)
class _Layout:
    protected: list[tuple[int, int]]
    code: list[_Code]
    quote_all_from: int | None


def _scan(text: str, stop: int) -> _Layout:
    """Find code blocks and protected spans starting before ``stop``."""
    protected: list[tuple[int, int]] = []
    code: list[_Code] = []
    quote_all_from: int | None = None
    i = 0
    while i < min(len(text), stop):
        char = text[i]
        if text.startswith("```", i) and (close := text.find("```", i + 3)) != -1:
            lang = _FENCE_LANGUAGE.match(text, i + 3)
            content_start = lang.end() if lang else i + 3
            code.append(_Code(content_start, close, lang.group(1) if lang else ""))
            protected += [(i, content_start), (close, close + 3)]
            i = close + 3
            continue
        if char == "\\":
            i += 2
            continue
        if char == "`":
            run = len(text) - i - len(text[i:].lstrip("`"))
            end = re.compile(rf"(?<!`){'`' * run}(?!`)").search(text, i + run)
            if end is not None:
                protected.append((i, end.end()))
                i = end.end()
            else:
                i += run
            continue
        if char == ">" and quote_all_from is None and _QUOTE_ALL.match(text, i):
            if i == 0 or text[i - 1] == "\n":
                quote_all_from = i + 4
        match = None
        if char == "[":
            match = _MASKED.match(text, i)
        elif char == "<":
            match = _ANGLE.match(text, i)
        elif char == "h":
            match = _URL.match(text, i)
        if match is not None:
            protected.append((i, match.end()))
            i = match.end()
            continue
        i += 1
    return _Layout(protected, code, quote_all_from)


def _inside(spans: list[tuple[int, int]], pos: int) -> tuple[int, int] | None:
    for start, end in spans:
        if start < pos < end:
            return start, end
    return None


def _code_at(layout: _Layout, pos: int) -> _Code | None:
    for block in layout.code:
        if block.content_start < pos <= block.close_start:
            return block
    return None


def _choose_cut(text: str, layout: _Layout, limit: int) -> tuple[int, int]:
    """Where to cut: (end of this chunk, start of the rest)."""
    ranked: list[tuple[int, int, int]] = []  # (kind, cut, resume)
    for m in _BREAK.finditer(text, 1):
        cut, resume = m.start(), m.end()
        if cut > limit:
            break
        if cut == 0 or _inside(layout.protected, cut):
            continue
        block = _code_at(layout, cut)
        newlines = m.group(0).count("\n")
        if block is not None:
            if newlines:
                cut = text.index("\n", cut)
            if (
                not (
                    text[block.content_start : cut].strip()
                    and text[cut : block.close_start].strip()
                )
                or cut + len(_CLOSE) > limit
            ):
                continue
            ranked.append((2 if newlines else 1, cut, cut))
        elif cut <= limit:
            ranked.append((min(newlines, 2) + 1, cut, resume))
    for kind in (3, 2, 1):
        good = [(cut, resume) for k, cut, resume in ranked if k == kind and cut >= limit // 2]
        if good:
            return max(good)
    if ranked:
        _, cut, resume = max(ranked, key=lambda item: item[1])
        return cut, resume
    cut = limit - len(_CLOSE) if _code_at(layout, limit - len(_CLOSE)) else limit
    span = _inside(layout.protected, cut)
    if span is not None and span[0] > 0:
        cut = span[0]
    return cut, cut


def split_discord_markdown(text: str, limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters without breaking markup."""
    if limit < 16:
        raise ValueError("limit too small to split markdown")
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        layout = _scan(rest, limit + 1)
        cut, resume = _choose_cut(rest, layout, limit)
        chunk, prefix = rest[:cut], ""
        block = _code_at(layout, cut)
        if block is not None:
            chunk += "```" if chunk.endswith("\n") else _CLOSE
            prefix = "```" + block.language + ("" if rest[cut] == "\n" else "\n")
        if layout.quote_all_from is not None and cut > layout.quote_all_from:
            prefix = ">>> " + prefix
        remaining = prefix + rest[resume:]
        if len(remaining) >= len(rest):  # no room for the prefix: make progress regardless
            remaining = rest[resume:]
        if chunk.strip():
            chunks.append(chunk)
        rest = remaining
    if rest.strip():
        chunks.append(rest)
    return chunks
