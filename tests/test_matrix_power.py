"""Which room creators hold unlimited power (room versions 12+), from m.room.create."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.transport.matrix_power import creators_of

BOT = "@passerelle:example.org"


@pytest.mark.parametrize(
    ("event", "creators"),
    [
        ({"sender": BOT, "content": {"room_version": "12"}}, {BOT}),
        ({"sender": BOT, "content": {"room_version": "13"}}, {BOT}),
        ({"sender": BOT, "content": {"room_version": "org.matrix.hydra.11"}}, {BOT}),
        (
            {"sender": BOT, "content": {"room_version": "12", "additional_creators": ["@a:x"]}},
            {BOT, "@a:x"},
        ),
        ({"sender": BOT, "content": {"room_version": "10"}}, set()),
        ({"sender": BOT, "content": {"room_version": "11", "creator": BOT}}, set()),
        ({"sender": BOT, "content": {}}, set()),  # no version: version 1
        ({"sender": BOT, "content": {"room_version": "12", "additional_creators": "x"}}, {BOT}),
        ({}, set()),
    ],
)
def test_creators_of(event: dict[str, Any], creators: set[str]) -> None:
    assert creators_of(event) == frozenset(creators)
