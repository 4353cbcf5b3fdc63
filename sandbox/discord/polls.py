"""Polls: the ``poll`` of a message create request, the poll object in message payloads,
the voters and expire routes, and votes cast in the Discord client (a test control:
bots cannot vote through the API).

Per Discord's documentation: a question (text up to 300 characters), 1 to 10 answers
(text up to 55) numbered ``answer_id`` 1..N, ``duration`` in hours (1 to 768, default
24), ``allow_multiselect``, ``layout_type`` 1 (the only one). ``results`` counts each
answer's votes, ``me_voted`` as the viewer sees it; ``is_finalized`` once the poll is
over. Votes are dispatched as MESSAGE_POLL_VOTE_ADD / _REMOVE to sessions with the
GUILD_MESSAGE_POLLS intent (DIRECT_MESSAGE_POLLS in a DM).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    channel_for,
    ctx_of,
    current_user,
    json_reply,
    snowflake_param,
)
from sandbox.discord.gateway import GUILD_MESSAGE_POLLS, GUILD_MESSAGES
from sandbox.discord.snowflake import iso

log = logging.getLogger(__name__)

QUESTION_MAX = 300
ANSWER_MAX = 55
ANSWERS_MAX = 10
DURATION_MAX_HOURS = 768  # 32 days
DEFAULT_DURATION_HOURS = 24
LAYOUT_DEFAULT = 1
POLL_RESULT = 46  # the message type of the system message posted when a poll ends


def _media_text(media: Any, field: str, limit: int) -> str:
    if not isinstance(media, dict):
        raise errors.invalid_form(field, "DICT_TYPE_CONVERT", "Only dictionaries may be used")
    text = media.get("text")
    if not isinstance(text, str) or not text.strip():
        raise errors.invalid_form(f"{field}.text", "BASE_TYPE_REQUIRED", "This field is required")
    if len(text) > limit:
        raise errors.invalid_form(
            f"{field}.text", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {limit} in length."
        )
    return text


def check_poll(payload: dict[str, Any], created: datetime) -> dict[str, Any] | None:
    """Validate a create request's ``poll`` (PollCreateRequest); the message's poll object."""
    poll = payload.get("poll")
    if poll is None:
        return None
    if not isinstance(poll, dict):
        raise errors.invalid_form("poll", "DICT_TYPE_CONVERT", "Only dictionaries may be used")
    question = _media_text(poll.get("question"), "poll.question", QUESTION_MAX)
    answers = poll.get("answers")
    if not isinstance(answers, list) or not 1 <= len(answers) <= ANSWERS_MAX:
        raise errors.invalid_form(
            "poll.answers",
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {ANSWERS_MAX} in length.",
        )
    texts = []
    for i, answer in enumerate(answers):
        if not isinstance(answer, dict):
            raise errors.invalid_form(
                f"poll.answers.{i}", "DICT_TYPE_CONVERT", "Only dictionaries may be used"
            )
        texts.append(
            _media_text(answer.get("poll_media"), f"poll.answers.{i}.poll_media", ANSWER_MAX)
        )
    multiselect = poll.get("allow_multiselect")
    if multiselect is not None and not isinstance(multiselect, bool):
        raise errors.invalid_form(
            "poll.allow_multiselect", "BASE_TYPE_BAD_TYPE", "Must be a boolean."
        )
    layout = poll.get("layout_type")
    if layout is not None and layout != LAYOUT_DEFAULT:
        raise errors.invalid_form("poll.layout_type", "ENUM_TYPE_COERCE", "Not a valid layout.")
    duration = poll.get("duration")
    if duration is None:
        duration = DEFAULT_DURATION_HOURS
    # discord.py sends hours as a float (1.0): Discord takes a whole number either way.
    if isinstance(duration, float) and duration.is_integer():
        duration = int(duration)
    if not isinstance(duration, int) or isinstance(duration, bool):
        raise errors.invalid_form("poll.duration", "NUMBER_TYPE_COERCE", "Value is not int.")
    if not 1 <= duration <= DURATION_MAX_HOURS:
        raise errors.invalid_form(
            "poll.duration",
            "NUMBER_TYPE_MAX",
            f"int value should be between 1 and {DURATION_MAX_HOURS}.",
        )
    return {
        "question": {"text": question},
        "answers": [
            {"answer_id": i + 1, "poll_media": {"text": text}} for i, text in enumerate(texts)
        ],
        "expiry": iso(created + timedelta(hours=duration)),
        "allow_multiselect": bool(multiselect),
        "layout_type": LAYOUT_DEFAULT,
        "results": {
            "answer_counts": [
                {"id": i + 1, "count": 0, "me_voted": False} for i in range(len(texts))
            ],
            "is_finalized": False,
        },
    }


def seen_by(ctx: Ctx, msg: dict[str, Any], viewer: str) -> dict[str, Any]:
    """The message with its poll's ``me_voted`` as ``viewer`` sees them."""
    poll = msg.get("poll")
    if not isinstance(poll, dict):
        return msg
    votes = ctx.state.poll_votes.get(msg["id"], {})
    counts = [
        {**c, "me_voted": viewer in votes.get(c["id"], [])}
        for c in poll["results"]["answer_counts"]
    ]
    results = {**poll["results"], "answer_counts": counts}
    return {**msg, "poll": {**poll, "results": results}}


def _recount(ctx: Ctx, msg: dict[str, Any], *, finalized: bool | None = None) -> dict[str, Any]:
    """A copy of the stored message with the poll's counts (and state) brought up to date."""
    poll = msg["poll"]
    votes = ctx.state.poll_votes.get(msg["id"], {})
    results = {
        "answer_counts": [
            {"id": a["answer_id"], "count": len(votes.get(a["answer_id"], [])), "me_voted": False}
            for a in poll["answers"]
        ],
        "is_finalized": poll["results"]["is_finalized"] if finalized is None else finalized,
    }
    updated = {**msg, "poll": {**poll, "results": results}}
    ctx.state.messages[msg["id"]] = updated
    return updated


def _poll_message(request: web.Request, channel_id: str) -> dict[str, Any]:
    mid = snowflake_param(request, "message_id", errors.unknown_message())
    msg = ctx_of(request).state.messages.get(mid)
    if msg is None or msg["channel_id"] != channel_id or not isinstance(msg.get("poll"), dict):
        raise errors.unknown_message()
    return msg


async def get_answer_voters(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}/polls/{message_id}/answers/{answer_id}: who voted for an
    answer, by ascending user ID (``after``, ``limit`` 1..100, default 25)."""
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    if not ctx.state.can(channel.id, user.id, perms.READ_MESSAGE_HISTORY):
        raise errors.missing_access()
    msg = _poll_message(request, channel.id)
    raw_answer = request.match_info["answer_id"]
    ids = {a["answer_id"] for a in msg["poll"]["answers"]}
    if not raw_answer.isdigit() or int(raw_answer) not in ids:
        raise errors.not_found()  # the route does not exist for that answer
    q = request.query
    try:
        limit = int(q.get("limit", "25"))
        after = int(q["after"]) if "after" in q else 0
    except ValueError as exc:
        raise errors.invalid_form("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from exc
    if not 1 <= limit <= 100:
        raise errors.invalid_form(
            "limit", "NUMBER_TYPE_MAX", "int value should be between 1 and 100."
        )
    voters = sorted(ctx.state.poll_votes.get(msg["id"], {}).get(int(raw_answer), []), key=int)
    chosen = [v for v in voters if int(v) > after][:limit]
    return json_reply({"users": [payloads.user(ctx.state.users[v]) for v in chosen]})


def _dispatch_updated(ctx: Ctx, msg: dict[str, Any]) -> None:
    data = payloads.message_event(ctx.state, msg)
    ctx.hub.dispatch_channel("MESSAGE_UPDATE", data, msg["channel_id"], GUILD_MESSAGES)


async def expire_poll(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/polls/{message_id}/expire: the author ends the poll now.

    The poll is finalized (its expiry becomes now), MESSAGE_UPDATE carries the final
    results, then the POLL_RESULT system message is posted (MESSAGE_CREATE). Ending a poll
    already over changes nothing and dispatches nothing."""
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    msg = _poll_message(request, channel.id)
    if msg["author"]["id"] != user.id:
        raise errors.missing_permissions()
    if not msg["poll"]["results"]["is_finalized"]:
        msg = _recount(ctx, msg, finalized=True)
        msg["poll"]["expiry"] = iso(datetime.now(UTC))
        _dispatch_updated(ctx, msg)
        _post_result(ctx, msg)
    return json_reply(seen_by(ctx, msg, user.id))


def _post_result(ctx: Ctx, poll_msg: dict[str, Any]) -> None:
    """The POLL_RESULT system message (type 46) Discord posts when a poll ends: by the
    poll's author, referencing it, with one ``poll_result`` embed whose fields give the
    question, the winning answer's votes and the total (the winner's id and text only
    when one answer leads)."""
    poll = poll_msg["poll"]
    counts = {c["id"]: c["count"] for c in poll["results"]["answer_counts"]}
    top = max(counts.values(), default=0)
    leaders = [a for a in poll["answers"] if counts.get(a["answer_id"], 0) == top and top]
    fields = [
        ("poll_question_text", poll["question"]["text"]),
        ("victor_answer_votes", str(top)),
        ("total_votes", str(sum(counts.values()))),
    ]
    if len(leaders) == 1:
        fields += [
            ("victor_answer_id", str(leaders[0]["answer_id"])),
            ("victor_answer_text", leaders[0]["poll_media"]["text"]),
        ]
    channel = ctx.state.channels[poll_msg["channel_id"]]
    reference = {"type": 0, "message_id": poll_msg["id"], "channel_id": channel.id}
    if channel.guild_id:
        reference["guild_id"] = channel.guild_id
    result = payloads.message(
        message_id=ctx.state.ids.next_str(),
        channel_id=channel.id,
        author=poll_msg["author"],
        content="",
        timestamp=iso(datetime.now(UTC)),
        embeds=[
            {
                "type": "poll_result",
                "fields": [{"name": n, "value": v, "inline": False} for n, v in fields],
            }
        ],
        reference=reference,
        referenced=None,
    )
    result["type"] = POLL_RESULT
    ctx.state.add_message(result)
    data = payloads.message_event(ctx.state, result)
    ctx.hub.dispatch_channel("MESSAGE_CREATE", data, channel.id, GUILD_MESSAGES)


def vote(
    ctx: Ctx, user_id: str, channel_id: str, message_id: str, answer_id: int, add: bool
) -> bool:
    """``user_id`` adds (or removes) a vote in the Discord client; False when nothing
    changed (a vote already there, or not there). On a single-choice poll, a new vote
    first removes the user's other one, as the client does. Raises ``KeyError`` for an
    unknown message, a message without poll, an unknown answer or a user not in the
    guild, ``ValueError`` for a poll already over."""
    msg = ctx.state.messages[str(message_id)]
    channel = ctx.state.channels[str(channel_id)]
    poll = msg.get("poll")
    if msg["channel_id"] != channel.id or not isinstance(poll, dict):
        raise KeyError(f"no poll {message_id} in channel {channel_id}")
    if answer_id not in {a["answer_id"] for a in poll["answers"]}:
        raise KeyError(f"poll {message_id} has no answer {answer_id}")
    user_id = str(user_id)
    if channel.guild_id and ctx.state.member(channel.guild_id, user_id) is None:
        raise KeyError(f"user {user_id} is not a member of guild {channel.guild_id}")
    if poll["results"]["is_finalized"]:
        raise ValueError(f"poll {message_id} is over")
    votes = ctx.state.poll_votes.setdefault(msg["id"], {})
    voters = votes.setdefault(answer_id, [])
    if add == (user_id in voters):
        return False
    if add and not poll["allow_multiselect"]:
        for other, others in votes.items():
            if other != answer_id and user_id in others:
                others.remove(user_id)
                _dispatch_vote(ctx, "MESSAGE_POLL_VOTE_REMOVE", user_id, msg, other)
    if add:
        voters.append(user_id)
    else:
        voters.remove(user_id)
    _recount(ctx, msg)
    _dispatch_vote(
        ctx, "MESSAGE_POLL_VOTE_ADD" if add else "MESSAGE_POLL_VOTE_REMOVE", user_id, msg, answer_id
    )
    return True


def _dispatch_vote(ctx: Ctx, event: str, user_id: str, msg: dict[str, Any], answer_id: int) -> None:
    channel = ctx.state.channels[msg["channel_id"]]
    data: dict[str, Any] = {
        "user_id": user_id,
        "channel_id": channel.id,
        "message_id": msg["id"],
        "answer_id": answer_id,
    }
    if channel.guild_id:
        data["guild_id"] = channel.guild_id
    ctx.hub.dispatch_channel(event, data, channel.id, GUILD_MESSAGE_POLLS)
