"""The syntax tree of a Discord message, as :mod:`bridge.convert.d2m.markdown_parse` builds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

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
