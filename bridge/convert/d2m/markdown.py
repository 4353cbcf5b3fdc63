"""Discord markdown -> Matrix ``body`` + ``org.matrix.custom.html`` ``formatted_body``.

Parsing (:mod:`bridge.convert.d2m.markdown_parse`) follows the way Discord's
client reads a message; this module renders the syntax tree
(:mod:`bridge.convert.d2m.markdown_tree`) it builds.

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
from urllib.parse import quote

from babel.dates import format_datetime

from bridge.convert.d2m.markdown_parse import parse_discord_markdown
from bridge.convert.d2m.markdown_tree import (
    BLOCKS,
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
    # Language of dates written from Discord timestamps (bridge.language).
    language: str = "en"


@dataclass(frozen=True)
class MatrixFormatted:
    body: str
    formatted_body: str | None
    mentioned_user_ids: tuple[str, ...] = ()
    mentions_room: bool = False


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


# Babel (CLDR) patterns of the same styles, for the other languages.
_CLDR_FORMATS = {
    "t": "HH:mm 'UTC'",
    "T": "HH:mm:ss 'UTC'",
    "d": "yyyy-MM-dd",
    "D": "d MMMM y",
    "f": "d MMMM y HH:mm 'UTC'",
    "F": "EEEE d MMMM y HH:mm 'UTC'",
    "R": "EEEE d MMMM y HH:mm 'UTC'",
}


def format_timestamp(seconds: int, style: str, language: str = "en") -> str | None:
    """Readable UTC text for ``<t:seconds:style>``; None when out of range. English
    keeps its historic wording; other languages are written by Babel
    (``20 avril 2021 21:20 UTC``)."""
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if language != "en":
        pattern = _CLDR_FORMATS.get(style, _CLDR_FORMATS["f"])
        return str(format_datetime(when, pattern, tzinfo=UTC, locale=language))
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
            return format_timestamp(node.seconds, node.style, self.ctx.language) or node.raw
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
