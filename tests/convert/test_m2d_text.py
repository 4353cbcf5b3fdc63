"""Matrix m.room.message -> Discord webhook sends, fed with captured events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.convert.m2d.text import (
    DISCORD_MESSAGE_LIMIT,
    matrix_to_discord_text,
    split_message,
    webhook_username,
)
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
    assert send.content == "_alice waves_"
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


def test_long_message_is_split_at_line_breaks() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(60)]
    text = "\n".join(lines)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= DISCORD_MESSAGE_LIMIT for p in parts)
    assert "\n".join(parts) == text  # nothing lost, only re-joined at the cut lines


def test_word_without_breaks_is_hard_split() -> None:
    text = "y" * (DISCORD_MESSAGE_LIMIT * 2 + 5)
    parts = split_message(text)
    assert [len(p) for p in parts] == [DISCORD_MESSAGE_LIMIT, DISCORD_MESSAGE_LIMIT, 5]
    assert "".join(parts) == text
