"""Matrix poll start (MSC3381) -> Discord webhook send with a ``poll``. Pure: no I/O.

Discord takes a question of up to 300 characters and 1 to 10 answers of up to 55:
longer texts are cut, ending with an ellipsis. A poll of more than 10 answers cannot
be a Discord poll: it is relayed as a text message listing the question and the
answers (no votes can then cross). Multi-select when the Matrix poll allows more
than one selection (Discord has no limit between 1 and all).
"""

from __future__ import annotations

from bridge.convert.m2d.html import escape_discord
from bridge.convert.m2d.split import split_discord_markdown
from bridge.model import DiscordPollCreate, DiscordSend, MatrixPollStart

QUESTION_MAX = 300
ANSWER_MAX = 55
ANSWERS_MAX = 10
DURATION_MIN_HOURS = 1
DURATION_MAX_HOURS = 768  # 32 days
DEFAULT_DURATION_HOURS = 24
ELLIPSIS = "\u2026"
TOO_MANY_NOTE = "(a poll of more than {max} answers: Discord cannot show it as a poll)"


def fit(text: str, limit: int) -> str:
    """``text`` on one line, spaces squeezed, cut to ``limit`` with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def matrix_poll_to_discord(
    poll: MatrixPollStart,
    username: str,
    avatar_url: str | None = None,
    duration_hours: int = DEFAULT_DURATION_HOURS,
) -> list[DiscordSend]:
    """One send carrying a Discord poll; for more than 10 answers, text sends instead."""
    if len(poll.answers) > ANSWERS_MAX:
        return poll_as_text(poll, username, avatar_url)
    duration = min(max(duration_hours, DURATION_MIN_HOURS), DURATION_MAX_HOURS)
    create = DiscordPollCreate(
        question=fit(poll.question, QUESTION_MAX),
        answers=tuple(fit(text, ANSWER_MAX) for _, text in poll.answers),
        duration_hours=duration,
        allow_multiselect=poll.max_selections > 1,
    )
    return [DiscordSend(content="", username=username, avatar_url=avatar_url, poll=create)]


def poll_as_text(poll: MatrixPollStart, username: str, avatar_url: str | None) -> list[DiscordSend]:
    """The question in bold and the numbered answers, as plain messages (split if long)."""
    lines = [f"\U0001f4ca **{escape_discord(' '.join(poll.question.split()))}**"]
    lines += [
        f"{n}. {escape_discord(' '.join(text.split()), line_start=False)}"
        for n, (_, text) in enumerate(poll.answers, 1)
    ]
    if poll.max_selections > 1:
        lines.append(f"(up to {poll.max_selections} answers may be chosen)")
    lines.append(TOO_MANY_NOTE.format(max=ANSWERS_MAX))
    return [
        DiscordSend(content=part, username=username, avatar_url=avatar_url)
        for part in split_discord_markdown("\n".join(lines))
    ]
