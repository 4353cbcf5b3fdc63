"""Discord markdown -> Matrix ``body`` + ``org.matrix.custom.html`` ``formatted_body``.

The parser follows the way Discord's client reads a message: at each position
the first matching rule wins (emphasis rules compete on match length, as in the
``simple-markdown`` library Discord's renderer derives from). Block rules
(quotes, headings, ``-#`` subtext, lists) apply only at the start of a line and
not inside inline formatting; code blocks may start anywhere in block context.

Output shape, which ``bridge.convert.m2d.html`` reads back (see the round-trip
tests for the normal forms):

* ``**b**`` ``<strong>``, ``*i*``/``_i_`` ``<em>``, ``__u__`` ``<u>``,
  ``~~s~~`` ``<del>``, ``||x||`` ``<span data-mx-spoiler>``, `` `c` `` ``<code>``,
  fenced code ``<pre><code class="language-x">``;
* ``# ``..``### `` ``<h1>``..``<h3>``, ``-# x`` ``<sub>x</sub>``, ``> ``/``>>> ``
  ``<blockquote>``, ``- ``/``* ``/``1. `` ``<ul>``/``<ol start>`` (nested by indent);
* every newline is ``<br>`` except the one ending a block element (the block
  already ends the line);
* ``[t](url)`` and bare or ``<url>`` links ``<a href>``; ``<@id>`` a matrix.to pill
  when the user maps to a Matrix ID, else ``@Name`` (else left as written);
  ``<@&id>`` ``@Role``; ``<#id>`` a matrix.to room link for bridged channels,
  else ``#name``; ``<:n:id>`` an ``data-mx-emoticon`` image when its mxc URI is
  known, else ``:n:``; ``</cmd:id>`` ``/cmd``; ``@everyone``/``@here`` stay text
  and set ``mentions_room``.
* ``<t:unix:style>`` becomes UTC text (no clock is read, so ``R`` is absolute):
  ``t`` ``16:20 UTC``, ``T`` ``16:20:30 UTC``, ``d`` ``2021-04-20``,
  ``D`` ``20 April 2021``, ``f`` (default) ``20 April 2021 16:20 UTC``,
  ``F`` and ``R`` ``Tuesday, 20 April 2021 16:20 UTC``.

``formatted_body`` is None when nothing needs HTML (bare links, text mentions,
timestamps and escapes do not), so plain messages stay plain. ``body`` keeps
Discord-style markers (like Element's own bodies) with mentions, emoji and
timestamps resolved and backslash escapes removed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeAlias
from urllib.parse import quote

__all__ = [
    "D2MContext",
    "MatrixFormatted",
    "discord_markdown_to_matrix",
    "format_timestamp",
    "parse_discord_markdown",
]


@dataclass(frozen=True)
class D2MContext:
    """Lookups the caller resolves beforehand; the converter does no I/O."""

    user_mxid: Mapping[int, str] = field(default_factory=dict)
    user_names: Mapping[int, str] = field(default_factory=dict)
    role_names: Mapping[int, str] = field(default_factory=dict)
    channel_rooms: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    channel_names: Mapping[int, str] = field(default_factory=dict)
    custom_emoji_mxc: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MatrixFormatted:
    body: str
    formatted_body: str | None
    mentioned_user_ids: tuple[str, ...] = ()
    mentions_room: bool = False


# --- syntax tree -----------------------------------------------------------------

Style = Literal["bold", "italic", "underline", "strike", "spoiler"]


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Styled:
    style: Style
    children: tuple[Node, ...]


@dataclass(frozen=True)
class InlineCode:
    code: str


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


@dataclass(frozen=True)
class Link:
    url: str
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AutoLink:
    url: str


@dataclass(frozen=True)
class Mention:
    kind: Literal["user", "role", "channel", "everyone", "here", "command"]
    id: int
    raw: str
    name: str = ""


@dataclass(frozen=True)
class Emoji:
    name: str
    id: int
    animated: bool


@dataclass(frozen=True)
class Timestamp:
    seconds: int
    style: str
    raw: str


@dataclass(frozen=True)
class Heading:
    level: int
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Subtext:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Quote:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    start: int
    items: tuple[tuple[Node, ...], ...]


Node: TypeAlias = (
    Text
    | Styled
    | InlineCode
    | CodeBlock
    | Link
    | AutoLink
    | Mention
    | Emoji
    | Timestamp
    | Heading
    | Subtext
    | Quote
    | ListBlock
)
BLOCKS = (CodeBlock, Heading, Quote, ListBlock)
MAX_DEPTH = 16

# --- parser ----------------------------------------------------------------------

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


# --- rendering -------------------------------------------------------------------

_MARKERS: dict[Style, str] = {
    "bold": "**",
    "italic": "*",
    "underline": "__",
    "strike": "~~",
    "spoiler": "||",
}
_TAGS: dict[Style, tuple[str, str]] = {
    "bold": ("<strong>", "</strong>"),
    "italic": ("<em>", "</em>"),
    "underline": ("<u>", "</u>"),
    "strike": ("<del>", "</del>"),
    "spoiler": ("<span data-mx-spoiler>", "</span>"),
}
_TIME_FORMATS = {
    "t": "%H:%M UTC",
    "T": "%H:%M:%S UTC",
    "d": "%Y-%m-%d",
    "D": "{day} %B %Y",
    "f": "{day} %B %Y %H:%M UTC",
    "F": "%A, {day} %B %Y %H:%M UTC",
    "R": "%A, {day} %B %Y %H:%M UTC",
}


def format_timestamp(seconds: int, style: str) -> str | None:
    """Readable UTC text for ``<t:seconds:style>``; None when out of range."""
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    pattern = _TIME_FORMATS.get(style, _TIME_FORMATS["f"]).replace("{day}", str(when.day))
    # strftime's %A/%B follow the C locale, which is English unless someone changed it.
    return when.strftime(pattern)


def matrix_to_url(identifier: str) -> str:
    return "https://matrix.to/#/" + quote(identifier, safe="@:!$._-=~")


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _fence_for(code: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * (longest + 1)


class _Renderer:
    def __init__(self, ctx: D2MContext) -> None:
        self.ctx = ctx
        self.formatted = False
        self.mentioned: list[str] = []
        self.mentions_room = False

    # formatted_body -------------------------------------------------------------

    def html(self, nodes: Sequence[Node]) -> str:
        return "".join(self.html_node(node) for node in nodes)

    def html_node(self, node: Node) -> str:
        if isinstance(node, Text):
            return _esc(node.text).replace("\n", "<br>")
        if isinstance(node, Styled):
            self.formatted = True
            opening, closing = _TAGS[node.style]
            return opening + self.html(node.children) + closing
        if isinstance(node, InlineCode):
            self.formatted = True
            return f"<code>{_esc(node.code)}</code>"
        if isinstance(node, CodeBlock):
            self.formatted = True
            cls = f' class="language-{_attr(node.language)}"' if node.language else ""
            return f"<pre><code{cls}>{_esc(node.code)}</code></pre>"
        if isinstance(node, Link):
            self.formatted = True
            return f'<a href="{_attr(node.url)}">{self.html(node.children)}</a>'
        if isinstance(node, AutoLink):
            return f'<a href="{_attr(node.url)}">{_esc(node.url)}</a>'
        if isinstance(node, Heading):
            self.formatted = True
            return f"<h{node.level}>{self.html(node.children)}</h{node.level}>"
        if isinstance(node, Subtext):
            self.formatted = True
            return f"<sub>{self.html(node.children)}</sub>"
        if isinstance(node, Quote):
            self.formatted = True
            return f"<blockquote>{self.html(node.children)}</blockquote>"
        if isinstance(node, ListBlock):
            self.formatted = True
            tag = "ol" if node.ordered else "ul"
            start = f' start="{node.start}"' if node.ordered and node.start != 1 else ""
            items = "".join(f"<li>{self.html(item)}</li>" for item in node.items)
            return f"<{tag}{start}>{items}</{tag}>"
        if isinstance(node, Emoji):
            mxc = self.ctx.custom_emoji_mxc.get(node.id)
            if mxc is None:
                return _esc(f":{node.name}:")
            self.formatted = True
            alt = _attr(f":{node.name}:")
            return (
                f'<img data-mx-emoticon src="{_attr(mxc)}" alt="{alt}" title="{alt}" height="32">'
            )
        if isinstance(node, Mention):
            return self.html_mention(node)
        return _esc(self.text_node(node))

    def html_mention(self, node: Mention) -> str:
        if node.kind == "user":
            mxid = self.ctx.user_mxid.get(node.id)
            if mxid is not None:
                self.formatted = True
                if mxid not in self.mentioned:
                    self.mentioned.append(mxid)
                name = self.ctx.user_names.get(node.id) or mxid
                return f'<a href="{_attr(matrix_to_url(mxid))}">{_esc(name)}</a>'
        elif node.kind == "channel":
            room = self.ctx.channel_rooms.get(node.id)
            if room is not None:
                self.formatted = True
                name, room_ref = room
                return f'<a href="{_attr(matrix_to_url(room_ref))}">#{_esc(name)}</a>'
        return _esc(self.text_node(node))

    # body -------------------------------------------------------------------------

    def text(self, nodes: Sequence[Node]) -> str:
        out = ""
        for index, node in enumerate(nodes):
            is_block = isinstance(node, BLOCKS)
            if is_block and out and not out.endswith("\n"):
                out += "\n"
            out += self.text_node(node)
            if is_block and index + 1 < len(nodes):
                out += "\n"
        return out

    def text_node(self, node: Node) -> str:
        if isinstance(node, Text):
            return node.text
        if isinstance(node, Styled):
            marker = _MARKERS[node.style]
            return marker + self.text(node.children) + marker
        if isinstance(node, InlineCode):
            fence = _fence_for(node.code)
            lead = " " if node.code.lstrip(" ").startswith("`") else ""
            trail = " " if node.code.rstrip(" ").endswith("`") else ""
            return f"{fence}{lead}{node.code}{trail}{fence}"
        if isinstance(node, CodeBlock):
            return f"```{node.language}\n{node.code}\n```"
        if isinstance(node, Link):
            return f"[{self.text(node.children)}]({node.url})"
        if isinstance(node, AutoLink):
            return node.url
        if isinstance(node, Heading):
            return "#" * node.level + " " + self.text(node.children)
        if isinstance(node, Subtext):
            return "-# " + self.text(node.children)
        if isinstance(node, Quote):
            return "\n".join("> " + line for line in self.text(node.children).split("\n"))
        if isinstance(node, ListBlock):
            return self.text_list(node, "")
        if isinstance(node, Emoji):
            return f":{node.name}:"
        if isinstance(node, Timestamp):
            return format_timestamp(node.seconds, node.style) or node.raw
        return self.text_mention(node)

    def text_list(self, node: ListBlock, indent: str) -> str:
        lines: list[str] = []
        for number, item in enumerate(node.items, start=node.start):
            marker = f"{number}. " if node.ordered else "- "
            inline = [child for child in item if not isinstance(child, ListBlock)]
            lines.append(indent + marker + self.text(inline))
            for child in item:
                if isinstance(child, ListBlock):
                    lines.append(self.text_list(child, indent + "  "))
        return "\n".join(lines)

    def text_mention(self, node: Mention) -> str:
        ctx = self.ctx
        if node.kind == "user":
            name = ctx.user_names.get(node.id)
            return f"@{name}" if name else node.raw
        if node.kind == "role":
            role = ctx.role_names.get(node.id)
            return f"@{role}" if role else node.raw
        if node.kind == "channel":
            room = ctx.channel_rooms.get(node.id)
            name = room[0] if room else ctx.channel_names.get(node.id)
            return f"#{name}" if name else node.raw
        if node.kind == "command":
            return f"/{node.name}"
        self.mentions_room = True
        return node.raw


def discord_markdown_to_matrix(content: str, ctx: D2MContext) -> MatrixFormatted:
    """Convert Discord message text into Matrix ``body``/``formatted_body`` and mentions."""
    nodes = parse_discord_markdown(content)
    renderer = _Renderer(ctx)
    body = renderer.text(nodes)
    formatted = renderer.html(nodes)
    return MatrixFormatted(
        body=body,
        formatted_body=formatted if renderer.formatted else None,
        mentioned_user_ids=tuple(renderer.mentioned),
        mentions_room=renderer.mentions_room,
    )
