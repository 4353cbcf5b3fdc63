"""Matrix ``org.matrix.custom.html`` (or plain ``body``) -> Discord markdown.

Formatting maps onto Discord markdown: ``b``/``strong`` ``**``, ``i``/``em``
``*``, ``u``/``ins`` ``__``, ``del``/``s``/``strike`` ``~~``,
``span data-mx-spoiler`` ``||``, ``code`` backticks (runs of backticks inside get
zero-width spaces so the fence stays under three, which would open a code block),
``pre`` fenced blocks keeping a ``language-x`` class (a ````` ``` ````` inside the
code gets a zero-width space), ``blockquote``
``> `` lines (nested quotes are flattened: Discord has one level), ``h1``-``h3``
``#``-``###``, ``h4``-``h6`` bold lines, lists ``- ``/``N. `` nested by two
spaces, ``a`` masked links (bare URL when the text is the URL), ``hr`` ``---``,
``img data-mx-emoticon`` its ``:alt:`` text (the Discord emoji when it is one of the
guild's, see ``M2DContext.custom_emoji``), a ``sub`` filling a whole line
``-# ``. Matrix pills: a user the bridge knows on Discord becomes ``<@id>``
(and is listed in ``mentioned_user_ids``), anyone else their display name as
text; a link to a bridged room becomes ``<#id>``. ``mx-reply`` fallbacks are
dropped (and so is a plain-body reply fallback).

Escaping: text that is not markup is escaped so it shows on Discord exactly as
typed in Element: ``\\`` (before punctuation), ``*``, ``[`` and backticks always;
``_`` unless between two letters/digits (``snake_case`` stays readable); ``~`` and ``|`` when
doubled or at the edge of a text run; ``]`` inside link text; a ``<`` that would
start a Discord mention, emoji, timestamp or ``<url>`` is broken after the ``<``
(``<\\@1>``, or a zero-width space before a letter: a backslash in front of it
would be swallowed by a URL running into it); ``>``, ``#``, ``-``, ``1.`` at
the start of a line when they would start a quote, heading, subtext or list.
URLs are never escaped. ``@everyone``/``@here`` always get a zero-width space
after the ``@``; ``@room`` becomes ``@everyone`` (and ``mention_everyone``) only
when the sender may mention the room, otherwise it is left as text (it means
nothing on Discord).

Plain bodies (no ``formatted_body``) are escaped the same way: Element sends a
``formatted_body`` whenever its markdown produced formatting, so characters in a
plain body were meant literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from mautrix.types import MatrixURI

from bridge.convert.emoji_pack import split_shortcodes

__all__ = [
    "DiscordFormatted",
    "M2DContext",
    "escape_discord",
    "matrix_to_discord_markdown",
    "strip_reply_fallback",
]


@dataclass(frozen=True)
class M2DContext:
    """Lookups resolved by the caller: ``ghost_discord_id`` maps a Matrix user ID to the
    Discord user it stands for (ghosts and linked users), ``room_channel`` a room ID or
    alias to its bridged channel, ``display_name`` other users' names for pills."""

    ghost_discord_id: Callable[[str], int | None] = lambda _mxid: None
    room_channel: Mapping[str, int] = field(default_factory=dict)
    display_name: Mapping[str, str] = field(default_factory=dict)
    may_mention_room: bool = False
    # mxc -> ``<:name:id>``: custom emoji (``img data-mx-emoticon``) that are the guild's
    # own Discord emoji (bridge.convert.emoji_pack); others are written as ``:name:``.
    custom_emoji: Mapping[str, str] = field(default_factory=dict)
    # name -> ``<:name:id>``: the guild's emoji typed as ``:name:`` in text (not in code
    # or links) become the emoji, as in the Discord client.
    emoji_shortcodes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DiscordFormatted:
    content: str
    mentioned_user_ids: tuple[int, ...] = ()
    mention_everyone: bool = False


# --- HTML tree -------------------------------------------------------------------

_VOID = frozenset({"br", "hr", "img", "wbr", "input", "meta", "link", "source", "area", "col"})
_DROP = frozenset({"mx-reply", "script", "style", "head", "title", "template"})
_BLOCK = frozenset(
    {
        "p", "div", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "table", "thead", "tbody", "tfoot", "tr", "details", "summary",
    }
)  # fmt: skip


_MAX_DEPTH = 40


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[_Element | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """Lenient HTML -> element tree; closes ``p``/``li`` implicitly like browsers do."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("body", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.stack) > _MAX_DEPTH:
            return  # deeper nesting is flattened: bounded recursion later
        if tag == "li":
            self._close_to("li", stop=("ul", "ol"))
        if tag in _BLOCK and self.stack[-1].tag == "p":
            self.stack.pop()
        element = _Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.stack) <= _MAX_DEPTH:
            self.stack[-1].children.append(_Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._close_to(tag)

    def _close_to(self, tag: str, stop: tuple[str, ...] = ()) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag in stop:
                return
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        children = self.stack[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def _parse_html(data: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(data)
    builder.close()
    return builder.root


def _text_content(node: _Element | str) -> str:
    if isinstance(node, str):
        return node
    if node.tag == "br":
        return "\n"
    if node.tag in _DROP:
        return ""
    return "".join(_text_content(child) for child in node.children)


# --- escaping --------------------------------------------------------------------

_TOKENS = re.compile(r"https?://[^\s<]+|(?<!\w)@(?:room|everyone|here)(?!\w)")
_ANGLE_ENTITY = re.compile(
    r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::\w)?|/[-\w ]+:\d+|https?://[^\s<>]+)>"
)
# Where a line-start escape may be needed; resolved once the whole line is known.
_MARK = "\x00"
_LINE_MARKER = re.compile(r"( *)(>|#|-|\d+\.)")
_NEEDS_ESCAPE = re.compile(r"(?:>>> |> |#{1,3} +\S|-# +\S|- +\S|\d+\. +\S)")


@dataclass
class _Mentions:
    may_mention_room: bool
    users: list[int] = field(default_factory=list)
    everyone: bool = False


def _escape_range(text: str, start: int, end: int, in_link: bool) -> str:
    out: list[str] = []
    for i in range(start, end):
        ch = text[i]
        prev = text[i - 1] if i > 0 else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        escape = False
        if ch == "\\":
            escape = not (nxt.isalnum() or nxt.isspace())
        elif ch in "*`[":
            escape = True
        elif ch == "_":
            escape = not (prev.isalnum() and nxt.isalnum())
        elif ch in "~|":
            escape = prev == ch or nxt == ch or i in (0, len(text) - 1)
        elif ch == "]":
            escape = in_link
        elif ch == "<" and _ANGLE_ENTITY.match(text, i):
            # Break the entity after its "<": a backslash before it would be swallowed
            # by a URL running into it. Escape punctuation, else a zero-width space.
            out.append("<\\" if not nxt.isalnum() else "<\u200b")
            continue
        out.append("\\" + ch if escape else ch)
    return "".join(out)


def _escape(text: str, line_start: bool, mentions: _Mentions | None, in_link: bool) -> str:
    text = text.replace(_MARK, "")
    out: list[str] = []
    pos = 0
    for m in _TOKENS.finditer(text):
        out.append(_escape_range(text, pos, m.start(), in_link))
        token = m.group(0)
        if token.startswith("@"):
            if token == "@room" and mentions is not None and mentions.may_mention_room:
                mentions.everyone = True
                token = "@everyone"
            elif token != "@room":
                token = "@\u200b" + token[1:]
        out.append(token)
        pos = m.end()
    out.append(_escape_range(text, pos, len(text), in_link))
    result = "".join(out)
    if line_start and (marker := _LINE_MARKER.match(result)):
        result = result[: marker.start(2)] + _MARK + result[marker.start(2) :]
    return result


def _resolve_marks(text: str) -> str:
    """Escape the marked line starts that would really start a quote/heading/list."""
    if _MARK not in text:
        return text
    lines = []
    for line in text.split("\n"):
        at = line.find(_MARK)
        if at != -1:
            rest = line[at + 1 :]
            if _NEEDS_ESCAPE.match(rest):
                digits = len(rest) - len(rest.lstrip("0123456789"))
                rest = rest[:digits] + "\\" + rest[digits:]
            line = line[:at] + rest
        lines.append(line)
    return "\n".join(lines)


def escape_discord(
    text: str, line_start: bool = True, mentions: _Mentions | None = None, in_link: bool = False
) -> str:
    """Escape one line of text so Discord shows it literally."""
    return _resolve_marks(_escape(text, line_start, mentions, in_link))


# --- markdown writer -------------------------------------------------------------


class _Writer:
    """Accumulates Discord markdown, tracking line starts and pending line breaks."""

    def __init__(self, line_start: bool = True) -> None:
        self.out = ""
        self.pending = 0
        self.soft_space = False
        self.initial_line_start = line_start

    def at_line_start(self) -> bool:
        if self.pending and self.out:
            return True
        return self.out.endswith("\n") if self.out else self.initial_line_start

    def _flush(self) -> None:
        if self.pending and self.out:
            trailing = len(self.out) - len(self.out.rstrip("\n"))
            self.out += "\n" * max(0, self.pending - trailing)
            self.soft_space = False
        self.pending = 0
        if self.soft_space and not self.at_line_start():
            self.out += " "
        self.soft_space = False

    def raw(self, text: str) -> None:
        if text:
            self._flush()
            self.out += text

    def text(self, text: str, mentions: _Mentions, in_link: bool) -> None:
        pieces = re.split(r"\s*\n\s*", text)
        for index, piece in enumerate(pieces):
            if index:
                self.soft_space = True
            if piece:
                self._flush()
                self.out += _escape(piece, self.at_line_start(), mentions, in_link)

    def br(self) -> None:
        self.soft_space = False
        self._flush()
        self.out += "\n"

    def block(self, newlines: int = 1) -> None:
        self.soft_space = False
        if self.out:
            self.pending = max(self.pending, newlines)


_LANGUAGE = re.compile(r"[a-z0-9_+\-.#]+", re.I)
_INLINE_MARKERS = {
    "b": "**", "strong": "**", "i": "*", "em": "*", "u": "__", "ins": "__",
    "del": "~~", "s": "~~", "strike": "~~",
}  # fmt: skip


def _prefix_lines(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join(
        [first + lines[0]] + [rest + line if line or rest.strip() else "" for line in lines[1:]]
    )


class _Converter:
    def __init__(self, ctx: M2DContext) -> None:
        self.ctx = ctx
        self.mentions = _Mentions(ctx.may_mention_room)

    def render(self, element: _Element, line_start: bool = True, **flags: bool) -> str:
        writer = _Writer(line_start)
        self.children(element, writer, **flags)
        return writer.out if flags.get("keep_newlines") else writer.out.rstrip("\n")

    def children(self, element: _Element, w: _Writer, **flags: bool) -> None:
        for index, child in enumerate(element.children):
            if isinstance(child, str):
                self.text(child, w, flags.get("in_link", False))
            else:
                self.element(child, w, element.children[index + 1 :], **flags)

    def text(self, text: str, w: _Writer, in_link: bool) -> None:
        if in_link or not self.ctx.emoji_shortcodes:
            w.text(text, self.mentions, in_link)
            return
        for piece, markup in split_shortcodes(text, dict(self.ctx.emoji_shortcodes)):
            if markup is not None:
                w.raw(markup)
            else:
                w.text(piece, self.mentions, False)

    def plain_line(self, line: str) -> str:
        out = []
        for index, (piece, markup) in enumerate(
            split_shortcodes(line, dict(self.ctx.emoji_shortcodes))
        ):
            out.append(
                markup if markup is not None else escape_discord(piece, index == 0, self.mentions)
            )
        return "".join(out)

    def element(
        self, el: _Element, w: _Writer, following: list[_Element | str], **flags: bool
    ) -> None:
        tag = el.tag
        if tag in _DROP:
            return
        if tag in _INLINE_MARKERS or (tag == "span" and "data-mx-spoiler" in el.attrs):
            self.wrap(el, w, _INLINE_MARKERS.get(tag, "||"), **flags)
        elif tag == "br":
            w.br()
        elif tag == "code":
            self.inline_code(_text_content(el), w)
        elif tag == "pre":
            self.code_block(el, w)
        elif tag == "a":
            self.link(el, w, **flags)
        elif tag == "img":
            self.image(el, w, **flags)
        elif tag == "blockquote":
            self.blockquote(el, w, **flags)
        elif tag in ("ul", "ol"):
            self.list(el, w, **flags)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            inner = self.render(el, False, **flags).replace("\n", " ").strip()
            w.block()
            level = int(tag[1])
            w.raw(f"{'#' * level} {inner}" if level <= 3 else f"**{inner}**")
            w.block()
        elif tag == "hr":
            w.block()
            w.raw("---")
            w.block()
        elif tag == "sub" and w.at_line_start() and _ends_line(following):
            inner = self.render(el, False, **flags).replace("\n", " ").strip()
            w.raw(f"-# {inner}" if inner else "")
        elif tag in ("td", "th"):
            if w.out and not w.at_line_start():
                w.raw(" | ")
            self.children(el, w, **flags)
        elif tag in _BLOCK:
            newlines = 2 if tag == "p" else 1
            w.block(newlines)
            self.children(el, w, **flags)
            w.block(newlines)
        else:
            self.children(el, w, **flags)

    def wrap(self, el: _Element, w: _Writer, marker: str, **flags: bool) -> None:
        # Markers must hug the text: surrounding spaces and line breaks go outside.
        inner = self.render(el, False, **{**flags, "keep_newlines": True})
        core = inner.strip()
        _outer_whitespace(inner[: len(inner) - len(inner.lstrip())], w)
        if core:
            w.raw(marker + core + marker)
            _outer_whitespace(inner[len(inner.rstrip()) :], w)

    def inline_code(self, code: str, w: _Writer) -> None:
        if code:
            w.raw(inline_code(code))

    def code_block(self, el: _Element, w: _Writer) -> None:
        language = ""
        elements = [child for child in el.children if isinstance(child, _Element)]
        if len(elements) == 1 and elements[0].tag == "code":
            for cls in (elements[0].attrs.get("class") or "").split():
                if cls.startswith("language-") and _LANGUAGE.fullmatch(cls[9:]):
                    language = cls[9:]
        code = _text_content(el).removesuffix("\n").replace("```", "`\u200b``")
        w.block()
        w.raw(f"```{language}\n{code}\n```")
        w.block()

    def link(self, el: _Element, w: _Writer, **flags: bool) -> None:
        href = (el.attrs.get("href") or "").strip()
        uri = MatrixURI.try_parse(href) if href else None
        if uri is not None and uri.user_id:
            discord_id = self.ctx.ghost_discord_id(uri.user_id)
            if discord_id is not None:
                if discord_id not in self.mentions.users:
                    self.mentions.users.append(discord_id)
                w.raw(f"<@{discord_id}>")
                return
            name = self.ctx.display_name.get(uri.user_id) or _text_content(el).strip()
            name = name or uri.user_id
            w.text(name if name.startswith("@") else "@" + name, self.mentions, False)
            return
        if uri is not None and not uri.event_id:
            channel = self.ctx.room_channel.get(uri.room_id or uri.room_alias or "")
            if channel is not None:
                w.raw(f"<#{channel}>")
                return
        text = _text_content(el).strip()
        if not href.lower().startswith(("http://", "https://")) or flags.get("in_link"):
            self.children(el, w, **flags)  # no nested links; other schemes keep their text
            return
        inner = " ".join(self.render(el, False, in_link=True).split("\n")).strip()
        if not inner or text == href:
            w.raw(href if _safe_bare_url(href) else f"<{href}>")
            return
        target = href if _safe_masked_url(href) else f"<{href.replace(' ', '%20')}>"
        w.raw(f"[{inner}]({target})")

    def image(self, el: _Element, w: _Writer, **flags: bool) -> None:
        markup = self.ctx.custom_emoji.get((el.attrs.get("src") or "").strip())
        if "data-mx-emoticon" in el.attrs and markup is not None:
            w.raw(markup)
            return
        alt = (el.attrs.get("alt") or el.attrs.get("title") or "").strip()
        if "data-mx-emoticon" in el.attrs and alt and not alt.startswith(":"):
            alt = f":{alt}:"
        if alt:
            w.text(alt, self.mentions, flags.get("in_link", False))

    def blockquote(self, el: _Element, w: _Writer, **flags: bool) -> None:
        if flags.get("in_quote"):
            w.block()
            self.children(el, w, **flags)
            w.block()
            return
        inner = self.render(el, True, **{**flags, "in_quote": True}).strip("\n")
        if not inner.strip():
            return
        w.block()
        w.raw(_prefix_lines(inner, "> ", "> "))
        w.block()

    def list(self, el: _Element, w: _Writer, **flags: bool) -> None:
        ordered = el.tag == "ol"
        try:
            number = int(el.attrs.get("start") or 1)
        except ValueError:
            number = 1
        lines: list[str] = []
        for child in el.children:
            if not isinstance(child, _Element) or child.tag != "li":
                continue
            inner = self.render(child, True, **flags).strip("\n")
            marker = f"{number}. " if ordered else "- "
            number += 1
            lines.append(_prefix_lines(inner, marker, "  "))
        if lines:
            w.block()
            w.raw("\n".join(lines))
            w.block()


def inline_code(code: str) -> str:
    """Backtick-quote ``code``; runs of backticks inside are split with zero-width spaces
    so the fence stays below three backticks (which would open a code block)."""
    code = re.sub(r"`(?=`)", "`\u200b", code)
    fence = "``" if "`" in code else "`"
    lead = " " if code.lstrip(" ").startswith("`") else ""
    trail = " " if code.rstrip(" ").endswith("`") else ""
    return f"{fence}{lead}{code}{trail}{fence}"


def _outer_whitespace(space: str, w: _Writer) -> None:
    if "\n" in space:
        for _ in range(space.count("\n")):
            w.br()
    elif space:
        w.soft_space = True


def _ends_line(following: list[_Element | str]) -> bool:
    for node in following:
        if isinstance(node, str):
            if node.strip():
                return False
            continue
        return node.tag == "br" or node.tag in _BLOCK
    return True


def _safe_bare_url(url: str) -> bool:
    """True when Discord's autolinker would take exactly this URL."""
    if re.search(r"[\s<]", url):
        return False
    last = url[-1]
    if last in ".,:;\"'!?":
        return False
    return not (last in ")]" and url.count("(" if last == ")" else "[") < url.count(last))


def _safe_masked_url(url: str) -> bool:
    return re.fullmatch(r"https?://(?:[^\s()\\<>]|\([^\s()]*\))+", url) is not None


_REPLY_FALLBACK = re.compile(r"> (?:\* )?<@[^\s>]+:[^\s>]+>")


def strip_reply_fallback(body: str) -> str:
    lines = body.split("\n")
    if not _REPLY_FALLBACK.match(lines[0]):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])


def matrix_to_discord_markdown(
    body: str, formatted_body: str | None, ctx: M2DContext
) -> DiscordFormatted:
    """Convert a Matrix message's text into Discord content and the mentions it carries."""
    converter = _Converter(ctx)
    if formatted_body is not None:
        content = converter.render(_parse_html(formatted_body))
    else:
        text = strip_reply_fallback(body)
        content = "\n".join(converter.plain_line(line) for line in text.split("\n"))
    return DiscordFormatted(
        content=_resolve_marks(content.strip("\n").rstrip()),
        mentioned_user_ids=tuple(converter.mentions.users),
        mention_everyone=converter.mentions.everyone,
    )
