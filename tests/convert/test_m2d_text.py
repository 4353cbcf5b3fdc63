"""Matrix m.room.message -> Discord webhook sends, fed with captured events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.convert.m2d.html import M2DContext
from bridge.convert.m2d.text import (
    DISCORD_MESSAGE_LIMIT,
    ReplyQuote,
    matrix_to_discord_text,
    reply_line,
    webhook_username,
)
from bridge.ids import DiscordUserID, UserID
from bridge.model import MatrixMessage
from bridge.transport.matrix import MatrixTransport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "matrix"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_text_event_becomes_one_send() -> None:
    message = MatrixTransport.parse_message(load("m_room_message_text.json"))
    assert message is not None
    sends = matrix_to_discord_text(message, "Alice Liddell")
    assert len(sends) == 1
    assert sends[0].content == "Hello from Element"
    assert sends[0].username == "Alice Liddell"
    assert sends[0].allowed_mention_users == ()


def test_emote_is_italic_with_name() -> None:
    message = MatrixTransport.parse_message(load("m_room_message_emote.json"))
    assert message is not None
    (send,) = matrix_to_discord_text(message, None)
    assert send.content == "\\* alice waves"
    assert send.username == "alice"


def test_unusable_events_are_not_messages() -> None:
    event = load("m_room_message_text.json")
    assert MatrixTransport.parse_message({**event, "content": "nope"}) is None
    assert MatrixTransport.parse_message({**event, "type": "m.reaction"}) is None
    bad = {**event, "content": {"msgtype": "m.text"}}
    assert MatrixTransport.parse_message(bad) is None


@pytest.mark.parametrize(
    ("displayname", "expected"),
    [
        ("Alice", "Alice"),
        ("Discord Staff", "D\u02cciscord Staff"),
        ("clyde", "c\u02cclyde"),
        ("everyone", "alice"),
        ("  ", "alice"),
        ("a\u200bb\u202ec", "abc"),
        ("x" * 100, "x" * 80),
        ("@admin", "\uff20admin"),
    ],
)
def test_webhook_username_is_acceptable_to_discord(displayname: str, expected: str) -> None:
    assert webhook_username(displayname, "@alice:example.org") == expected


GHOST_PREFIX = "@_discord_"


def ghost_id(mxid: str) -> int | None:
    if mxid.startswith(GHOST_PREFIX) and mxid.endswith(":example.org"):
        return int(mxid[len(GHOST_PREFIX) : -len(":example.org")])
    return None


def msg(body: str, html: str | None = None, **extra: object) -> MatrixMessage:
    return MatrixMessage(
        room_id="!r:example.org",  # type: ignore[arg-type]
        event_id="$e",  # type: ignore[arg-type]
        sender=UserID("@alice:example.org"),
        msgtype="m.text",
        body=body,
        formatted_body=html,
        **extra,  # type: ignore[arg-type]
    )


def test_formatted_body_becomes_discord_markdown() -> None:
    (send,) = matrix_to_discord_text(
        msg("**bold** and `code`", "<strong>bold</strong> and <code>code</code>"), "Alice"
    )
    assert send.content == "**bold** and `code`"


def test_ghost_pill_pings_only_that_user() -> None:
    html = '<a href="https://matrix.to/#/@_discord_42:example.org">Bob</a> look'
    ctx = M2DContext(ghost_discord_id=ghost_id)
    (send,) = matrix_to_discord_text(msg("Bob look", html), "Alice", ctx)
    assert send.content == "<@42> look"
    assert send.allowed_mention_users == (DiscordUserID(42),)
    assert send.mention_everyone is False


def test_room_mention_needs_power() -> None:
    (weak,) = matrix_to_discord_text(msg("@room hi"), "Alice", M2DContext())
    assert "@everyone" not in weak.content and weak.mention_everyone is False
    (strong,) = matrix_to_discord_text(msg("@room hi"), "Alice", M2DContext(may_mention_room=True))
    assert strong.content == "@everyone hi" and strong.mention_everyone is True
    (sneaky,) = matrix_to_discord_text(msg("@everyone hi"), "Alice", M2DContext())
    assert sneaky.content != "@everyone hi" and sneaky.mention_everyone is False


def test_reply_starts_with_a_quote_line_and_pings_when_mentioned() -> None:
    quote = ReplyQuote(
        author_name="Bob (Discord)",
        excerpt="the *original* message",
        jump_url="https://discord.com/channels/1/2/3",
        author_discord_id=42,
        ping=True,
    )
    (send,) = matrix_to_discord_text(msg("my answer"), "Alice", M2DContext(), quote)
    first, second = send.content.split("\n")
    assert first == reply_line(quote)
    assert first.startswith("> \u21aa <@42>: the \\*original\\* message")
    assert first.endswith("(<https://discord.com/channels/1/2/3>)")
    assert second == "my answer"
    assert send.allowed_mention_users == (DiscordUserID(42),)
    quiet = ReplyQuote("Carol", "x" * 300, "https://discord.com/channels/1/2/4")
    (send,) = matrix_to_discord_text(msg("ok"), "Alice", M2DContext(), quiet)
    assert send.content.startswith("> \u21aa **Carol**: " + "x" * 99 + "\u2026")
    assert send.allowed_mention_users == ()


def test_reply_fallback_is_dropped() -> None:
    body = "> <@bob:example.org> original\n\nthe answer"
    html = "<mx-reply><blockquote>original</blockquote></mx-reply>the answer"
    (plain,) = matrix_to_discord_text(msg(body), "Alice")
    (formatted,) = matrix_to_discord_text(msg(body, html), "Alice")
    assert plain.content == formatted.content == "the answer"


def test_long_message_is_split_within_the_limit() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(60)]
    sends = matrix_to_discord_text(msg("\n".join(lines)), "Alice")
    assert len(sends) > 1
    assert all(len(s.content) <= DISCORD_MESSAGE_LIMIT for s in sends)
    assert "\n".join(s.content for s in sends) == "\n".join(lines)


def test_code_block_is_reopened_across_the_split() -> None:
    code = "\n".join(f"print({i})" for i in range(400))
    html = f'<pre><code class="language-python">{code}</code></pre>'
    sends = matrix_to_discord_text(msg(code, html), "Alice")
    assert len(sends) > 1
    for send in sends:
        assert send.content.startswith("```python\n") and send.content.endswith("```")


@pytest.mark.parametrize(
    ("displayname", "template", "expected"),
    [
        ("Alice", "{name} (Matrix)", "Alice (Matrix)"),
        ("Bob (Discord)", "{name} (Matrix)", "Bob (D\u02cciscord) (Matrix)"),
        ("x" * 100, "{name} (Matrix)", "x" * 71 + " (Matrix)"),
        ("Alice", "[M] {name} on discord", "[M] Alice on d\u02cciscord"),
        ("\u202eAlice", "{name}", "Alice"),
    ],
)
def test_webhook_name_template_marks_matrix_users(
    displayname: str, template: str, expected: str
) -> None:
    name = webhook_username(displayname, "@alice:example.org", template)
    assert name == expected
    assert len(name) <= 80


@pytest.mark.parametrize(
    ("displayname", "expected"),
    [
        ("\u3164\u3164", "alice (Matrix)"),  # Hangul fillers: blank, the localpart instead
        ("\u0301\u0301", "alice (Matrix)"),  # combining marks alone draw nothing
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧 (Matrix)"),  # a ZWJ family stays one emoji
        ("Eve\u202e(Matrix)", "Eve(Matrix) (Matrix)"),  # no right-to-left override
    ],
)
def test_webhook_username_invisible_and_joined_names(displayname: str, expected: str) -> None:
    assert webhook_username(displayname, "@alice:example.org", "{name} (Matrix)") == expected


def test_webhook_username_disambiguated_with_the_matrix_id() -> None:
    plain = webhook_username("alice", "@alice:example.org", "{name} (Matrix)")
    named = webhook_username("alice", "@alice:example.org", "{name} (Matrix)", disambiguate=True)
    assert plain == "alice (Matrix)"
    # "@" is always shown fullwidth in webhook names (no mention can be made of it).
    assert named == "alice (\uff20alice:example.org) (Matrix)"
    other = webhook_username("alice", "@alice2:example.org", "{name} (Matrix)", disambiguate=True)
    assert other != named and "alice2:example.org" in other


def test_webhook_username_disambiguated_keeps_the_id_whole() -> None:
    long_name = "A" * 100
    mxid = "@someone:matrix.example.org"
    name = webhook_username(long_name, mxid, "{name} (Matrix)", disambiguate=True)
    assert len(name) <= 80
    assert name.endswith("(\uff20someone:matrix.example.org) (Matrix)")
    # An ID too long to leave room for the name: its localpart alone.
    huge = "@bob:" + "x" * 70 + ".org"
    short = webhook_username("bob", huge, "{name} (Matrix)", disambiguate=True)
    assert short == "bob (\uff20bob) (Matrix)"
