"""Discord polls -> MSC3381 poll events (pure converter)."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.poll import (
    DISCLOSED,
    POLL_END,
    POLL_RESPONSE,
    POLL_START,
    TEXT,
    VOTE_ON_DISCORD,
    poll_end_content,
    poll_end_text,
    poll_response_content,
    poll_start_content,
)
from bridge.ids import EventID
from bridge.model import DiscordPoll, DiscordPollAnswer

START = EventID("$start")


def poll(multi: bool = False, counts: tuple[int, int, int] = (0, 0, 0)) -> DiscordPoll:
    texts = ("Cave", "Tower", "Swamp")
    return DiscordPoll(
        "Where next?",
        tuple(
            DiscordPollAnswer(i + 1, t, c)
            for i, (t, c) in enumerate(zip(texts, counts, strict=True))
        ),
        allow_multiselect=multi,
    )


def test_start_single_choice() -> None:
    content = poll_start_content(poll())
    assert content[POLL_START] == {
        "question": {TEXT: "Where next?"},
        "kind": DISCLOSED,
        "max_selections": 1,
        "answers": [
            {"id": "1", TEXT: "Cave"},
            {"id": "2", TEXT: "Tower"},
            {"id": "3", TEXT: "Swamp"},
        ],
    }
    assert content[TEXT] == "Where next?\n1. Cave\n2. Tower\n3. Swamp\n" + VOTE_ON_DISCORD
    assert "m.relates_to" not in content
    assert "not counted" in VOTE_ON_DISCORD  # Matrix users learn their votes do not cross


def test_start_multiselect_and_in_a_thread() -> None:
    relation = {"rel_type": "m.thread", "event_id": "$root"}
    content = poll_start_content(poll(multi=True), relation)
    assert content[POLL_START]["max_selections"] == 3
    assert "several answers" in content[TEXT]
    assert content["m.relates_to"] == relation


@pytest.mark.parametrize(
    ("answers", "expected"),
    [([2], ["2"]), ([3, 1, 3], ["1", "3"]), ([], [])],
)
def test_response_is_the_whole_current_set(answers: list[int], expected: list[str]) -> None:
    content = poll_response_content(START, answers)
    assert content == {
        "m.relates_to": {"rel_type": "m.reference", "event_id": START},
        POLL_RESPONSE: {"answers": expected},
    }


def test_end_gives_final_counts() -> None:
    ended = poll(counts=(2, 1, 0))
    content = poll_end_content(START, ended)
    assert content["m.relates_to"] == {"rel_type": "m.reference", "event_id": START}
    assert content[POLL_END] == {}
    assert content[TEXT] == (
        "The poll has ended: Where next?\nCave: 2 votes\nTower: 1 vote\nSwamp: 0 votes\n"
        "Winner: Cave"
    )


@pytest.mark.parametrize(
    ("counts", "last_line"),
    [((1, 1, 0), "Tie: Cave, Tower"), ((0, 0, 0), "No votes.")],
)
def test_end_ties_and_no_votes(counts: tuple[int, int, int], last_line: str) -> None:
    assert poll_end_text(poll(counts=counts)).splitlines()[-1] == last_line
