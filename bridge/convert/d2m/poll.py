"""Discord polls -> Matrix polls (MSC3381, the unstable names Element sends and renders).

A poll becomes an ``org.matrix.msc3381.poll.start`` whose answer IDs are Discord's
``answer_id``; each Discord vote change an ``org.matrix.msc3381.poll.response``
carrying the voter's whole current set (a later response replaces the earlier
one); the poll's end an ``org.matrix.msc3381.poll.end`` with the final counts.
Matrix users cannot vote on Discord (webhooks cannot vote): the start's text
says so. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bridge.i18n import N_, Translator, translator
from bridge.ids import EventID
from bridge.model import DiscordPoll

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
POLL_END = "org.matrix.msc3381.poll.end"
# A Matrix user's vote, under MSC3381's unstable name or its stable one.
MATRIX_VOTE_TYPES = frozenset({POLL_RESPONSE, "m.poll.response"})
TEXT = "org.matrix.msc1767.text"
DISCLOSED = "org.matrix.msc3381.poll.disclosed"

VOTE_ON_DISCORD = N_("Vote on Discord: votes made in Matrix are not counted there.")


def poll_start_content(
    poll: DiscordPoll, relates_to: dict[str, object] | None = None, tr: Translator | None = None
) -> dict[str, Any]:
    """The ``org.matrix.msc3381.poll.start`` content of a Discord poll; ``relates_to``
    places it (in a Matrix thread, for a poll posted in a Discord thread). The plain
    text fallback is in ``tr``'s language (default English)."""
    tr = tr or translator()
    answers = [{"id": str(a.id), TEXT: a.text} for a in poll.answers]
    lines = [poll.question, *(f"{n}. {a.text}" for n, a in enumerate(poll.answers, 1))]
    if poll.allow_multiselect:
        lines.append(tr._("(several answers may be chosen)"))
    lines.append(tr._(VOTE_ON_DISCORD))
    content: dict[str, Any] = {
        POLL_START: {
            "question": {TEXT: poll.question},
            "kind": DISCLOSED,
            "max_selections": len(answers) if poll.allow_multiselect else 1,
            "answers": answers,
        },
        TEXT: "\n".join(lines),
    }
    if relates_to is not None:
        content["m.relates_to"] = relates_to
    return content


def poll_response_content(
    start: EventID, answer_ids: Iterable[int], matrix_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """A voter's current answers (possibly none: every vote removed). ``matrix_ids``,
    for a poll started in Matrix, names Discord's answer_id 1, 2 ... as Matrix does;
    answers it does not name are left out."""
    ids = sorted(set(answer_ids))
    if matrix_ids is None:
        answers = [str(a) for a in ids]
    else:
        answers = [matrix_ids[a - 1] for a in ids if 1 <= a <= len(matrix_ids)]
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start},
        POLL_RESPONSE: {"answers": answers},
    }


def poll_end_text(poll: DiscordPoll, tr: Translator | None = None) -> str:
    """ "The poll has ended" with each answer's final count, the winners named."""
    tr = tr or translator()
    top = max((a.count for a in poll.answers), default=0)
    winners = [a.text for a in poll.answers if a.count == top and top > 0]
    lines = [tr._("The poll has ended: {question}", question=poll.question)]
    lines += [
        tr.ngettext("{answer}: {n} vote", "{answer}: {n} votes", a.count, answer=a.text)
        for a in poll.answers
    ]
    if len(winners) == 1:
        lines.append(tr._("Winner: {answer}", answer=winners[0]))
    elif winners:
        lines.append(tr._("Tie: {answers}", answers=", ".join(winners)))
    else:
        lines.append(tr._("No votes."))
    return "\n".join(lines)


def poll_end_content(
    start: EventID, poll: DiscordPoll, tr: Translator | None = None
) -> dict[str, Any]:
    """The ``org.matrix.msc3381.poll.end`` of a poll Discord has finalized."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start},
        POLL_END: {},
        TEXT: poll_end_text(poll, tr),
    }
