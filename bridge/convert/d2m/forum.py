"""A forum or media post -> the root of its Matrix thread. Pure.

Each post of a bridged forum (or media) channel is a Matrix thread in the forum's
room. Its root, sent by the author's ghost, is the starter message with a header:
the post's title in bold, then its tags (with their emoji) on a line of their own:

    Cheaper buses
    Tags: 🏠 Housing, Transport

    The starter message's text ...

The same function rebuilds the root when the title, the tags or the starter's text
change (an ``m.replace`` of the root), so an edit looks like the original.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bridge.i18n import N_, Translator, translator
from bridge.model import ForumTag, MatrixText

TAGS_LINE = N_("Tags: {tags}")
UNNAMED = N_("Untitled post")


@dataclass(frozen=True)
class PostHeader:
    """What a post root shows above the starter message: title and tags, in order."""

    title: str
    tags: tuple[ForumTag, ...] = ()


def applied(tag_ids: Iterable[int], available: Sequence[ForumTag]) -> tuple[ForumTag, ...]:
    """The post's tags in the order Discord applied them; IDs the forum no longer
    has (a tag deleted since) are left out."""
    by_id = {tag.id: tag for tag in available}
    return tuple(by_id[t] for t in dict.fromkeys(tag_ids) if t in by_id)


def post_root(
    header: PostHeader, text: MatrixText | None, tr: Translator | None = None
) -> MatrixText:
    """The root event's content: title, tags, then the starter's text (if any).

    Mentions of the starter are kept (``m.mentions``); the root is never a reply.
    The "Tags:" label and an untitled post's title are in ``tr``'s language
    (default English)."""
    tr = tr or translator()
    title = header.title.strip() or tr._(UNNAMED)
    tags = ", ".join(tag.label for tag in header.tags)
    tags_line = tr._(TAGS_LINE, tags=tags) if tags else ""
    lines = [title] + ([tags_line] if tags else [])
    head_html = f"<strong>{html.escape(title)}</strong>"
    if tags:
        head_html += f"<br><em>{html.escape(tags_line)}</em>"
    head_html = f"<p>{head_html}</p>"
    if text is None:
        return MatrixText(body="\n".join(lines), formatted_body=head_html)
    body_html = text.formatted_body
    if body_html is None:
        body_html = html.escape(text.body).replace("\n", "<br>")
    return MatrixText(
        body="\n".join(lines) + "\n\n" + text.body,
        formatted_body=head_html + body_html,
        msgtype=text.msgtype,
        mentioned_user_ids=text.mentioned_user_ids,
        mentions_room=text.mentions_room,
    )
