"""Matrix side, pure: raw poll start and end events (MSC3381) -> our dataclasses.

Element sends the unstable names (``org.matrix.msc3381.poll.*``, texts under
``org.matrix.msc1767.text``); the stable ones (``m.poll.*``, texts as ``m.text``
lists of ``{"body": ...}``) are read too. No I/O.
"""

from __future__ import annotations

from typing import Any

from bridge.ids import EventID, RoomID, UserID
from bridge.model import MatrixPollEnd, MatrixPollStart

POLL_START_TYPES = frozenset({"org.matrix.msc3381.poll.start", "m.poll.start"})
POLL_END_TYPES = frozenset({"org.matrix.msc3381.poll.end", "m.poll.end"})
_UNSTABLE_TEXT = "org.matrix.msc1767.text"


def _text(block: Any) -> str | None:
    """The plain text of an extensible-events text block, unstable or stable form."""
    if not isinstance(block, dict):
        return None
    unstable = block.get(_UNSTABLE_TEXT)
    if isinstance(unstable, str):
        return unstable
    stable = block.get("m.text")
    if isinstance(stable, list):
        for part in stable:
            if isinstance(part, dict) and isinstance(part.get("body"), str):
                if part.get("mimetype", "text/plain") == "text/plain":
                    return str(part["body"])
    return None


def _ids(raw: dict[str, Any]) -> tuple[RoomID, EventID, UserID] | None:
    room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
    if not all(isinstance(v, str) and v for v in (room_id, event_id, sender)):
        return None
    return RoomID(str(room_id)), EventID(str(event_id)), UserID(str(sender))


def parse_poll_start(raw: dict[str, Any]) -> MatrixPollStart | None:
    """A poll start; None when malformed (no question, no usable answer) or an edit."""
    if raw.get("type") not in POLL_START_TYPES or "state_key" in raw:
        return None
    ids, content = _ids(raw), raw.get("content")
    if ids is None or not isinstance(content, dict):
        return None
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        return None  # an edit of a poll: Discord polls cannot be edited
    poll = content.get("org.matrix.msc3381.poll.start")
    if not isinstance(poll, dict):
        poll = content.get("m.poll")
    if not isinstance(poll, dict):
        return None
    question = _text(poll.get("question"))
    answers: list[tuple[str, str]] = []
    raw_answers = poll.get("answers")
    for answer in raw_answers if isinstance(raw_answers, list) else []:
        if not isinstance(answer, dict):
            continue
        answer_id = answer.get("id", answer.get("m.id"))
        text = _text(answer)
        if isinstance(answer_id, str) and answer_id and text is not None and text.strip():
            answers.append((answer_id, text))
    if question is None or not question.strip() or not answers:
        return None
    max_selections = poll.get("max_selections", 1)
    if not isinstance(max_selections, int) or isinstance(max_selections, bool):
        max_selections = 1
    ts = raw.get("origin_server_ts")
    return MatrixPollStart(
        *ids,
        question=question,
        answers=tuple(answers),
        max_selections=max(1, max_selections),
        timestamp_ms=ts if isinstance(ts, int) else 0,
    )


def parse_poll_end(raw: dict[str, Any]) -> MatrixPollEnd | None:
    """A poll end referencing its start (``m.reference``); None when malformed."""
    if raw.get("type") not in POLL_END_TYPES or "state_key" in raw:
        return None
    ids, content = _ids(raw), raw.get("content")
    if ids is None or not isinstance(content, dict):
        return None
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.reference":
        return None
    start = relates.get("event_id")
    if not isinstance(start, str) or not start:
        return None
    return MatrixPollEnd(*ids, start=EventID(start))
