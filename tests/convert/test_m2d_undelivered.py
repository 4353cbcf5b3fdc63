"""The notice a Matrix sender gets when Discord refused their event for good (pure)."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from mautrix.errors import MNotFound

from bridge.convert.m2d.undelivered import event_kind, reason, undelivered_notice
from bridge.retry import failure_origin

ALICE = "@alice:example.org"


def raw(kind: str = "m.room.message", **content: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "room_id": "!room:example.org",
        "sender": ALICE,
        "event_id": "$ev",
        "content": {"msgtype": "m.text", "body": "hello", **content},
    }


def test_which_events_get_a_notice() -> None:
    assert event_kind(raw()) == "message"
    assert event_kind(raw("m.sticker")) == "message"
    assert event_kind(raw(**{"m.relates_to": {"rel_type": "m.replace"}})) == "edit"
    assert event_kind(raw("m.room.redaction")) == "deletion"
    # A reaction or a pin that failed is not worth a notice in the room.
    assert event_kind(raw("m.reaction")) is None
    assert event_kind(raw("m.room.pinned_events")) is None
    assert event_kind({"type": "m.room.message", "content": "not an object"}) == "message"


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, 50013, "The bridge is not allowed to post in this Discord channel."),
        (404, 10003, "The Discord channel no longer exists."),
        (400, 50083, "The Discord thread is archived."),
        (400, 160005, "The Discord thread is locked."),
        (
            400,
            40067,
            "This Discord forum requires tags on new posts, which Matrix cannot add:"
            " reply in a post's thread instead.",
        ),
        (413, 40005, "The file is too large for Discord."),
        (413, 0, "The file is too large for Discord."),
        (403, 99999, "The bridge is not allowed to post in this Discord channel."),
        (418, 0, "Discord refused it."),
    ],
)
def test_discord_refusals_in_plain_words(status: int, code: int, expected: str) -> None:
    assert reason("discord", status, code) == expected


def test_the_notice_replies_mentions_and_explains() -> None:
    notice = undelivered_notice(raw(), reason("discord", 403, 50013))
    assert notice is not None
    room, text = notice
    assert room == "!room:example.org"
    assert text.msgtype == "m.notice"
    assert text.reply_to == "$ev" and text.mentioned_user_ids == (ALICE,)
    assert text.body == (
        f"{ALICE}: your message was not delivered to Discord. The bridge is not allowed to"
        " post in this Discord channel. A moderator or the bridge's administrator can look"
        " into it."
    )
    content = text.to_content()
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$ev"}}


def test_edits_deletions_and_bridge_errors_say_what_it_means() -> None:
    edit = raw(**{"m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}})
    notice = undelivered_notice(edit, reason("discord", 404, 10008))
    assert notice is not None
    assert notice[1].body == (
        f"{ALICE}: your edit did not reach Discord. The message no longer exists on Discord."
        " Discord still shows the message as it was. A moderator or the bridge's"
        " administrator can look into it."
    )
    notice = undelivered_notice(raw("m.room.redaction"), reason("bridge", 0, 0))
    assert notice is not None
    assert notice[1].body == (
        f"{ALICE}: your deletion did not reach Discord. An error in the bridge stopped it."
        " The message is still visible on Discord. A moderator or the bridge's"
        " administrator can look into it."
    )


def test_no_notice_for_reactions_or_events_missing_their_ids() -> None:
    assert undelivered_notice(raw("m.reaction"), "x") is None
    broken = raw()
    del broken["sender"]
    assert undelivered_notice(broken, "x") is None


class _Response:
    status = 403
    reason = "Forbidden"


def test_failure_origin_reads_discords_status_and_code() -> None:
    forbidden = discord.Forbidden(
        _Response(),  # type: ignore[arg-type]
        {"code": 50013, "message": "Missing Permissions"},
    )
    assert failure_origin(forbidden) == ("discord", 403, 50013)
    assert failure_origin(MNotFound(404, "not found")) == ("homeserver", 404, 0)
    assert failure_origin(ValueError("bug")) == ("bridge", 0, 0)
