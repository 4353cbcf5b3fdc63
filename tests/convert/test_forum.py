"""Forum and media posts: the root of a post's Matrix thread (title, tags, starter
text) and the title of a post created from Matrix. Fed with a captured THREAD_CREATE
of a forum post and the forum's channel payload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.convert.d2m.forum import PostHeader, applied, post_root
from bridge.convert.m2d.forum import TITLE_MAX, post_title
from bridge.i18n import translator
from bridge.ids import UserID
from bridge.model import ForumTag, MatrixText

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def tags_of(channel: dict[str, Any]) -> tuple[ForumTag, ...]:
    """As the transport shows them: unicode emoji as is; a custom one without a name
    (Discord sends emoji_name null with an emoji_id) shows no emoji."""
    return tuple(
        ForumTag(int(t["id"]), t["name"], t["emoji_name"] if not t["emoji_id"] else None)
        for t in channel["available_tags"]
    )


def header_of(thread: dict[str, Any], channel: dict[str, Any]) -> PostHeader:
    ids = [int(t) for t in thread.get("applied_tags", [])]
    return PostHeader(thread["name"], applied(ids, tags_of(channel)))


def test_captured_forum_post_root() -> None:
    thread, channel = load("thread_create_forum_post.json"), load("channel_forum.json")
    assert thread["parent_id"] == channel["id"] and thread["type"] == 11
    text = MatrixText(
        body="Half price for students",
        formatted_body="Half price for <strong>students</strong>",
        mentioned_user_ids=(UserID("@discord_1:example.org"),),
    )
    root = post_root(header_of(thread, channel), text)
    assert root.body == (
        "Cheaper buses for students\nTags: Transports, 🏠 Logement\n\nHalf price for students"
    )
    assert root.formatted_body == (
        "<p><strong>Cheaper buses for students</strong><br><em>Tags: Transports, 🏠 Logement"
        "</em></p>Half price for <strong>students</strong>"
    )
    assert root.mentioned_user_ids == text.mentioned_user_ids
    assert root.reply_to is None and root.thread_root is None


TAGS = (ForumTag(1, "Housing", "🏠"), ForumTag(2, "Transport"), ForumTag(3, "Urgent", ":fire:"))


@pytest.mark.parametrize(
    ("title", "tag_ids", "text", "body", "html"),
    [
        # no tags, no text (a media post whose starter is only a file)
        ("Poster", [], None, "Poster", "<p><strong>Poster</strong></p>"),
        # tags in the order applied; unknown (deleted) tags left out; duplicates once
        (
            "Idea",
            [3, 99, 1, 3],
            None,
            "Idea\nTags: :fire: Urgent, 🏠 Housing",
            "<p><strong>Idea</strong><br><em>Tags: :fire: Urgent, 🏠 Housing</em></p>",
        ),
        # plain text without HTML: escaped, line breaks kept
        (
            "<b>x</b>",
            [2],
            MatrixText(body="a < b\nc"),
            "<b>x</b>\nTags: Transport\n\na < b\nc",
            "<p><strong>&lt;b&gt;x&lt;/b&gt;</strong><br><em>Tags: Transport</em></p>a &lt; b<br>c",
        ),
        # a blank title (nothing visible) still reads as a post
        ("  ", [], None, "Untitled post", "<p><strong>Untitled post</strong></p>"),
    ],
)
def test_post_root(
    title: str, tag_ids: list[int], text: MatrixText | None, body: str, html: str
) -> None:
    root = post_root(PostHeader(title, applied(tag_ids, TAGS)), text)
    assert (root.body, root.formatted_body, root.msgtype) == (body, html, "m.text")


def test_tag_change_changes_the_root() -> None:
    text = MatrixText(body="same text")
    before = post_root(PostHeader("T", applied([1], TAGS)), text)
    after = post_root(PostHeader("T", applied([1, 2], TAGS)), text)
    renamed = post_root(PostHeader("T2", applied([1], TAGS)), text)
    assert len({before.body, after.body, renamed.body}) == 3


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("Free buses on Sundays\nHere is why...", "Free buses on Sundays"),
        ("\n\n   \n  second line wins  ", "second line wins"),
        ("# **Big** idea", "Big idea"),
        ("> <@alice:example.org> quoted\n\nmy answer", "my answer"),  # reply fallback
        ("- `code` and ~~strike~~", "code and strike"),
        ("tabs\tand   spaces", "tabs and spaces"),
        ("", "Post from Matrix"),
        ("   \n  ", "Post from Matrix"),
    ],
)
def test_post_title(body: str, title: str) -> None:
    assert post_title(body) == title


def test_long_titles_are_cut_at_100() -> None:
    words = "word " * 40
    title = post_title(words)
    assert len(title) <= TITLE_MAX and title.endswith("…") and not title.endswith(" …")
    unbroken = "x" * 150
    assert post_title(unbroken) == "x" * (TITLE_MAX - 1) + "…"
    assert post_title("y" * TITLE_MAX) == "y" * TITLE_MAX


def test_post_labels_follow_the_language() -> None:
    fr = translator("fr")
    root = post_root(PostHeader("Idée", applied([1], TAGS)), MatrixText(body="texte"), fr)
    assert root.body.splitlines()[1] == "Étiquettes : " + TAGS[0].label
    untitled = post_root(PostHeader("  "), None, fr)
    assert untitled.body == "Publication sans titre"
    assert post_title("", fr) == "Publication depuis Matrix"
