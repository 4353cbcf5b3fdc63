"""Moderators' commands written in Element: user pills (links to matrix.to or
``matrix:u/``) read as the Matrix IDs they point at, whatever text they show."""

from __future__ import annotations

from html.parser import HTMLParser

from mautrix.types import MatrixURI

from moderation.targets import MXID_RE


class PillText(HTMLParser):
    """Text of a formatted body with user pills replaced by their Matrix IDs."""

    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "blockquote", "pre", "h1", "h2", "h3"})
    _DROPPED = frozenset({"mx-reply", "script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pills: set[str] = set()
        self._dropped = 0
        self._pill_depth = 0  # > 0 inside a user pill: its text is replaced

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._DROPPED:
            self._dropped += 1
            return
        if self._pill_depth:
            self._pill_depth += tag == "a"
            return
        if tag in self._BREAKS:
            self.parts.append("\n")
        if tag == "a" and not self._dropped:
            href = (dict(attrs).get("href") or "").strip()
            uri = MatrixURI.try_parse(href) if href else None
            if uri is not None and uri.user_id and MXID_RE.fullmatch(uri.user_id):
                self.pills.add(uri.user_id)
                self.parts.append(f" {uri.user_id} ")
                self._pill_depth = 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS and not self._dropped and not self._pill_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._DROPPED:
            self._dropped = max(0, self._dropped - 1)
        elif self._pill_depth:
            self._pill_depth -= tag == "a"
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropped and not self._pill_depth:
            self.parts.append(data)


def html_with_pills(formatted_body: str) -> tuple[str, frozenset[str]]:
    """The text of a formatted body, each user pill written as its Matrix ID, and
    the IDs of those pills."""
    parser = PillText()
    parser.feed(formatted_body)
    parser.close()
    return "".join(parser.parts), frozenset(parser.pills)
