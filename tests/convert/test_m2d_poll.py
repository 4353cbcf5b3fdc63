"""Matrix poll starts -> Discord webhook sends: limits, truncation, the text fallback,
and the raw events' parsing (unstable MSC3381 names and stable ones)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.convert.m2d.poll import (
    ANSWER_MAX,
    QUESTION_MAX,
    fit,
    matrix_poll_to_discord,
)
from bridge.ids import EventID, RoomID, UserID
from bridge.model import DiscordPollCreate, MatrixPollEnd, MatrixPollStart
from bridge.transport.matrix_events import parse_event

ROOM, ALICE = RoomID("!room:example.org"), UserID("@alice:example.org")


def start(question: str, answers: list[str], max_selections: int = 1) -> MatrixPollStart:
    return MatrixPollStart(
        ROOM,
        EventID("$poll"),
        ALICE,
        question,
        tuple((f"id-{n}", text) for n, text in enumerate(answers)),
        max_selections,
    )


def test_a_poll_becomes_a_discord_poll_under_the_senders_name() -> None:
    [send] = matrix_poll_to_discord(
        start("Where next?", ["Cave", "Tower"]), "Alice (Matrix)", "https://a/av.png"
    )
    assert (send.username, send.avatar_url, send.content) == (
        "Alice (Matrix)",
        "https://a/av.png",
        "",
    )
    assert send.poll == DiscordPollCreate("Where next?", ("Cave", "Tower"), 24, False)


def test_several_selections_make_a_multiselect_poll() -> None:
    [send] = matrix_poll_to_discord(start("Q", ["a", "b", "c"], 2), "A")
    assert send.poll is not None and send.poll.allow_multiselect


@pytest.mark.parametrize(("hours", "sent"), [(1, 1), (0, 1), (72, 72), (768, 768), (9999, 768)])
def test_duration_kept_within_discords_range(hours: int, sent: int) -> None:
    [send] = matrix_poll_to_discord(start("Q", ["a"]), "A", None, hours)
    assert send.poll is not None and send.poll.duration_hours == sent


def test_over_long_texts_are_cut_with_an_ellipsis() -> None:
    question, answer = "q" * (QUESTION_MAX + 1), "a" * (ANSWER_MAX + 20)
    [send] = matrix_poll_to_discord(start(question, [answer, "short"]), "A")
    assert send.poll is not None
    assert send.poll.question == "q" * (QUESTION_MAX - 1) + "\u2026"
    assert send.poll.answers == ("a" * (ANSWER_MAX - 1) + "\u2026", "short")
    assert len(send.poll.question) == QUESTION_MAX
    assert len(send.poll.answers[0]) == ANSWER_MAX


def test_texts_at_the_limit_are_kept_and_lines_joined() -> None:
    assert fit("x" * ANSWER_MAX, ANSWER_MAX) == "x" * ANSWER_MAX
    assert fit("two\nlines  here", ANSWER_MAX) == "two lines here"


def test_ten_answers_is_still_a_poll() -> None:
    [send] = matrix_poll_to_discord(start("Q", [str(n) for n in range(10)]), "A")
    assert send.poll is not None and len(send.poll.answers) == 10


def test_more_than_ten_answers_become_a_text_listing() -> None:
    sends = matrix_poll_to_discord(start("Best *number*?", [f"n{n}" for n in range(11)], 3), "A")
    assert [s.poll for s in sends] == [None]
    text = sends[0].content
    assert text.splitlines()[0] == "\U0001f4ca **Best \\*number\\*?**"
    assert "1. n0" in text and "11. n10" in text
    assert "up to 3 answers" in text and "more than 10 answers" in text
    assert sends[0].username == "A"


def test_a_long_text_listing_is_split_within_discords_limit() -> None:
    sends = matrix_poll_to_discord(start("Q", ["word " * 60 for _ in range(12)]), "A")
    assert len(sends) > 1 and all(len(s.content) <= 2000 for s in sends)


def raw_start(content: dict[str, Any], kind: str = "org.matrix.msc3381.poll.start") -> Any:
    return parse_event(
        {
            "type": kind,
            "room_id": ROOM,
            "event_id": "$poll",
            "sender": ALICE,
            "origin_server_ts": 5,
            "content": content,
        }
    )


def test_parse_element_poll_start() -> None:
    content = {
        "org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": "Where next?", "body": "Where next?"},
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 2,
            "answers": [
                {"id": "a1", "org.matrix.msc1767.text": "Cave"},
                {"id": "a2", "org.matrix.msc1767.text": "Tower"},
                {"id": "bad"},  # no text: left out
            ],
        },
        "org.matrix.msc1767.text": "Where next?\n1. Cave\n2. Tower",
    }
    assert raw_start(content) == MatrixPollStart(
        ROOM, EventID("$poll"), ALICE, "Where next?", (("a1", "Cave"), ("a2", "Tower")), 2, 5
    )


def test_parse_stable_poll_start() -> None:
    content = {
        "m.poll": {
            "question": {"m.text": [{"body": "Lunch?"}]},
            "answers": [
                {
                    "m.id": "y",
                    "m.text": [{"mimetype": "text/html", "body": "<b>Yes</b>"}, {"body": "Yes"}],
                }
            ],
        }
    }
    parsed = raw_start(content, "m.poll.start")
    assert isinstance(parsed, MatrixPollStart)
    assert (parsed.question, parsed.answers, parsed.max_selections) == (
        "Lunch?",
        (("y", "Yes"),),
        1,
    )


@pytest.mark.parametrize(
    "content",
    [
        {},
        {"org.matrix.msc3381.poll.start": {"question": {}, "answers": []}},
        {"org.matrix.msc3381.poll.start": {"question": {"org.matrix.msc1767.text": "Q"}}},
        {"org.matrix.msc3381.poll.start": "nonsense"},
        {  # an edit (Element edits polls nobody voted on yet): Discord's cannot be
            "org.matrix.msc3381.poll.start": {
                "question": {"org.matrix.msc1767.text": "Q"},
                "answers": [{"id": "a", "org.matrix.msc1767.text": "A"}],
            },
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
        },
    ],
)
def test_unusable_poll_starts_are_dropped(content: dict[str, Any]) -> None:
    assert raw_start(content) is None


@pytest.mark.parametrize("kind", ["org.matrix.msc3381.poll.end", "m.poll.end"])
def test_parse_poll_end(kind: str) -> None:
    raw = {
        "type": kind,
        "room_id": ROOM,
        "event_id": "$end",
        "sender": ALICE,
        "content": {"m.relates_to": {"rel_type": "m.reference", "event_id": "$poll"}},
    }
    assert parse_event(raw) == MatrixPollEnd(ROOM, EventID("$end"), ALICE, EventID("$poll"))
    raw["content"] = {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$poll"}}
    assert parse_event(raw) is None
