"""Discord markdown -> syntax tree (:mod:`bridge.convert.d2m.markdown_tree`). Pure.

The parser follows the way Discord's client reads a message: at each position
the first matching rule wins (emphasis rules compete on match length, as in the
``simple-markdown`` library Discord's renderer derives from). Block rules
(quotes, headings, ``-#`` subtext, lists) apply only at the start of a line and
not inside inline formatting; code blocks may start anywhere in block context.
"""

from __future__ import annotations

import re
from typing import Literal, TypeAlias

from bridge.convert.d2m.markdown_tree import (
    MAX_DEPTH,
    AutoLink,
    CodeBlock,
    Emoji,
    Heading,
    InlineCode,
    Link,
    ListBlock,
    Mention,
    Node,
    Quote,
    Style,
    Styled,
    Subtext,
    Text,
    Timestamp,
)

Mode = Literal["block", "quote", "inline", "link_text"]

_ESCAPE = re.compile(r"\\([^0-9A-Za-z\s])")
_CODE_BLOCK = re.compile(r"```(?:([a-z0-9_+\-.#]+?)\n)?\n*([^\n][\s\S]*?)\n*```\n?", re.I)
_INLINE_CODE = re.compile(r"(`+)([\s\S]*?[^`])\1(?!`)")
_QUOTE_ALL = re.compile(r">>> ([\s\S]*)")
_QUOTE_LINES = re.compile(r"(?:> [^\n]*(?:\n|$))+")
_HEADING = re.compile(r"(#{1,3}) +(\S[^\n]*?)[ \t]*(?:\n|$)")
_SUBTEXT = re.compile(r"-# +(\S[^\n]*?)[ \t]*(?=\n|$)")
_LIST_ITEM = re.compile(r"( *)([-*]|\d{1,9}\.) +(\S[^\n]*?)[ \t]*(?:\n|$)")
_USER = re.compile(r"<@!?(\d{1,20})>")
_ROLE = re.compile(r"<@&(\d{1,20})>")
_CHANNEL = re.compile(r"<#(\d{1,20})>")
_EMOJI = re.compile(r"<(a?):(\w{1,32}):(\d{1,20})>")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFR]))?>")
_COMMAND = re.compile(r"</([-_\w]{1,32}(?: [-_\w]{1,32}){0,2}):(\d{1,20})>")
_ANGLE_URL = re.compile(r"<(https?://[^\s<>]+)>")
_MASKED = re.compile(
    r"\[((?:\\[\s\S]|[^\[\]\\\n])+)\]\((?:<(https?://[^\s<>]+)>|(https?://(?:[^\s()\\<>]|\([^\s()]*\))+))\)"
)
_URL = re.compile(r"https?://[^\s<]+")
_EVERYONE = re.compile(r"@(everyone|here)\b")
_STRONG = re.compile(r"\*\*([\s\S]+?)\*\*(?!\*)")
_UNDERLINE = re.compile(r"__([\s\S]+?)__(?!_)")
_EM_STAR = re.compile(
    r"\*(?=\S)((?:\*\*|\\[\s\S]|\s+(?:\\[\s\S]|[^\s*\\]|\*\*)|[^\s*\\])+?)\*(?!\*)"
)
_EM_UNDER = re.compile(r"(?<!\w)_((?:__|\\[\s\S]|[^\\_])+?)_(?!\w)")
_STRIKE = re.compile(r"~~([\s\S]+?)~~(?!~)")
_SPOILER = re.compile(r"\|\|([\s\S]+?)\|\|")
_TEXT = re.compile(r"[^\\`<\[*_~|@h\n]+|[\s\S]")
_URL_TRAILING = ".,:;\"'!?"


def _trim_url(url: str) -> str:
    """Drop trailing punctuation, and closing brackets that were never opened."""
    opened = {")": url.count("("), "]": url.count("[")}
    closed = {")": url.count(")"), "]": url.count("]")}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _URL_TRAILING:
            end -= 1
        elif last in closed and opened[last] < closed[last]:
            closed[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def _inline_code_content(raw: str) -> str:
    # One space of padding next to a backtick at either end is syntax, not content.
    if raw.startswith(" ") and raw.lstrip(" ").startswith("`"):
        raw = raw[1:]
    if raw.endswith(" ") and raw.rstrip(" ").endswith("`"):
        raw = raw[:-1]
    return raw


def parse_discord_markdown(source: str, mode: Mode = "block", depth: int = 0) -> list[Node]:
    """Parse Discord message text into a syntax tree (adjacent text merged).

    Formatting nested deeper than ``MAX_DEPTH`` is kept as literal text.
    """
    if depth > MAX_DEPTH:
        return [Text(source)]
    nodes: list[Node] = []
    pos = 0
    while pos < len(source):
        node, end = _match_at(source, pos, mode, depth)
        pos = end
        if isinstance(node, Text) and nodes and isinstance(nodes[-1], Text):
            nodes[-1] = Text(nodes[-1].text + node.text)
        elif node is not None:
            nodes.append(node)
    return nodes


def _children(source: str, depth: int, mode: Mode = "inline") -> tuple[Node, ...]:
    return tuple(parse_discord_markdown(source, mode, depth + 1))


def _match_at(src: str, pos: int, mode: Mode, depth: int) -> tuple[Node | None, int]:
    line_start = pos == 0 or src[pos - 1] == "\n"
    if mode in ("block", "quote"):
        if line_start:
            block = _match_block(src, pos, mode, depth)
            if block is not None:
                return block
        # An unclosed fence never matches; the check spares a quadratic regex scan.
        if src.startswith("```", pos) and src.find("```", pos + 3) != -1:
            if m := _CODE_BLOCK.match(src, pos):
                return CodeBlock((m.group(1) or "").lower(), m.group(2)), m.end()
    char = src[pos]
    if char == "\\" and (m := _ESCAPE.match(src, pos)):
        return Text(m.group(1)), m.end()
    if char == "`" and (m := _INLINE_CODE.match(src, pos)):
        return InlineCode(_inline_code_content(m.group(2))), m.end()
    if char == "<":
        angle = _match_angle(src, pos, mode)
        if angle is not None:
            return angle
    if char == "[" and mode != "link_text" and (m := _MASKED.match(src, pos)):
        return Link(m.group(2) or m.group(3), _children(m.group(1), depth, "link_text")), m.end()
    if char == "h" and mode != "link_text" and (m := _URL.match(src, pos)):
        url = _trim_url(m.group(0))
        if len(url) > len("https://"):
            return AutoLink(url), pos + len(url)
    if char == "@" and (m := _EVERYONE.match(src, pos)):
        which = m.group(1)
        return Mention("everyone" if which == "everyone" else "here", 0, m.group(0)), m.end()
    if char in "*_":
        emphasis = _match_emphasis(src, pos, depth)
        if emphasis is not None:
            return emphasis
    if char == "~" and (m := _STRIKE.match(src, pos)):
        return Styled("strike", _children(m.group(1), depth)), m.end()
    if char == "|" and (m := _SPOILER.match(src, pos)):
        return Styled("spoiler", _children(m.group(1), depth)), m.end()
    m = _TEXT.match(src, pos)
    assert m is not None
    return Text(m.group(0)), m.end()


def _match_block(src: str, pos: int, mode: Mode, depth: int) -> tuple[Node, int] | None:
    if mode == "block":
        if m := _QUOTE_ALL.match(src, pos):
            return Quote(_children(m.group(1), depth, "quote")), m.end()
        if m := _QUOTE_LINES.match(src, pos):
            inner = "\n".join(line[2:] for line in m.group(0).rstrip("\n").split("\n"))
            return Quote(_children(inner, depth, "quote")), m.end()
    if m := _HEADING.match(src, pos):
        return Heading(len(m.group(1)), _children(m.group(2), depth)), m.end()
    if m := _SUBTEXT.match(src, pos):
        return Subtext(_children(m.group(1), depth)), m.end()
    if _LIST_ITEM.match(src, pos):
        return _match_list(src, pos, depth)
    return None


_ListLine: TypeAlias = tuple[int, bool, int, str, int]


def _match_list(src: str, pos: int, depth: int) -> tuple[Node, int]:
    lines: list[_ListLine] = []
    while m := _LIST_ITEM.match(src, pos):
        marker = m.group(2)
        ordered = marker[0].isdigit()
        lines.append(
            (len(m.group(1)), ordered, int(marker[:-1]) if ordered else 1, m.group(3), m.end())
        )
        pos = m.end()
    block, used = _build_list(lines, 0, depth)
    return block, lines[used - 1][4]


def _build_list(lines: list[_ListLine], index: int, depth: int) -> tuple[ListBlock, int]:
    indent, ordered, start, _, _ = lines[index]
    items: list[list[Node]] = []
    while index < len(lines):
        line_indent, line_ordered, _, content, _ = lines[index]
        if line_indent < indent or (line_indent == indent and line_ordered != ordered):
            break
        if line_indent > indent and items and depth < MAX_DEPTH:
            nested, index = _build_list(lines, index, depth + 1)
            items[-1].append(nested)
            continue
        items.append(list(_children(content, depth)))
        index += 1
    return ListBlock(ordered, start, tuple(tuple(item) for item in items)), index


def _match_angle(src: str, pos: int, mode: Mode) -> tuple[Node, int] | None:
    if m := _USER.match(src, pos):
        return Mention("user", int(m.group(1)), m.group(0)), m.end()
    if m := _ROLE.match(src, pos):
        return Mention("role", int(m.group(1)), m.group(0)), m.end()
    if m := _CHANNEL.match(src, pos):
        return Mention("channel", int(m.group(1)), m.group(0)), m.end()
    if m := _EMOJI.match(src, pos):
        return Emoji(m.group(2), int(m.group(3)), m.group(1) == "a"), m.end()
    if m := _TIMESTAMP.match(src, pos):
        return Timestamp(int(m.group(1)), m.group(2) or "f", m.group(0)), m.end()
    if m := _COMMAND.match(src, pos):
        return Mention("command", int(m.group(2)), m.group(0), m.group(1)), m.end()
    if mode != "link_text" and (m := _ANGLE_URL.match(src, pos)):
        return AutoLink(m.group(1)), m.end()
    return None


def _match_emphasis(src: str, pos: int, depth: int) -> tuple[Node, int] | None:
    # Like simple-markdown: the longest match wins, ties prefer em, then strong, then u.
    best: tuple[float, Style, re.Match[str]] | None = None
    candidates: tuple[tuple[re.Pattern[str], Style, float], ...] = (
        (_EM_STAR, "italic", 0.2),
        (_EM_UNDER, "italic", 0.2),
        (_STRONG, "bold", 0.1),
        (_UNDERLINE, "underline", 0.0),
    )
    for pattern, style, bonus in candidates:
        m = pattern.match(src, pos)
        if m and (best is None or m.end() - pos + bonus > best[0]):
            best = (m.end() - pos + bonus, style, m)
    if best is None:
        return None
    _, style, m = best
    return Styled(style, _children(m.group(1), depth)), m.end()
