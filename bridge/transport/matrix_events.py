"""Matrix side, pure: raw appservice room events -> the dataclasses the actions take.

No I/O here; :class:`bridge.transport.matrix.MatrixTransport` exposes these as its
``parse_*`` methods.
"""

from __future__ import annotations

import math
from typing import Any

from bridge.ids import EventID, RoomID, UserID
from bridge.model import (
    MatrixEdit,
    MatrixMessage,
    MatrixPins,
    MatrixPollEnd,
    MatrixPollStart,
    MatrixReaction,
    MatrixRedaction,
)
from bridge.transport.matrix_polls import (
    POLL_END_TYPES,
    POLL_START_TYPES,
    parse_poll_end,
    parse_poll_start,
)

MatrixEvent = MatrixMessage | MatrixEdit | MatrixRedaction | MatrixReaction


def thread_root_of(relates: Any) -> EventID | None:
    """The root of an ``m.thread`` relation (``{"rel_type": "m.thread", "event_id": ...}``)."""
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.thread":
        return None
    root = relates.get("event_id")
    return EventID(root) if isinstance(root, str) and root else None


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def voice_fields(content: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """An Element voice message (MSC3245): its duration (ms) and MSC1767 waveform."""
    if content.get("msgtype") != "m.audio" or "org.matrix.msc3245.voice" not in content:
        return {}
    audio = content.get("org.matrix.msc1767.audio")
    audio = audio if isinstance(audio, dict) else {}
    duration = audio.get("duration", info.get("duration"))
    waveform = audio.get("waveform")
    samples = tuple(
        min(max(int(v), 0), 1024)
        for v in (waveform if isinstance(waveform, list) else [])[:1000]
        if _finite(v)
    )
    valid = isinstance(duration, int | float) and _finite(duration) and 0 < duration < 2**31
    return {
        "voice": True,
        "duration_ms": int(duration) if valid and duration is not None else None,
        "waveform": samples,
    }


def media_fields(content: dict[str, Any]) -> dict[str, Any]:
    """url, filename, mimetype, size and spoiler of a media event's content."""
    url = content.get("url")
    if not isinstance(url, str) or not url.startswith("mxc://"):
        return {}
    info = content.get("info") if isinstance(content.get("info"), dict) else {}
    assert isinstance(info, dict)
    filename, mimetype, size = content.get("filename"), info.get("mimetype"), info.get("size")
    spoiler = bool(content.get("page.codeberg.everypizza.msc4193.spoiler")) or isinstance(
        content.get("town.robin.msc3725.content_warning"), dict
    )
    return {
        **voice_fields(content, info),
        "url": url,
        "filename": filename if isinstance(filename, str) and filename else None,
        "mimetype": mimetype if isinstance(mimetype, str) else None,
        "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "spoiler": spoiler,
    }


def parse_event(
    raw: dict[str, Any],
) -> MatrixEvent | MatrixPins | MatrixPollStart | MatrixPollEnd | None:
    """Translate a raw room event into the dataclass the actions take, if relayed."""
    if raw.get("type") in POLL_START_TYPES:
        return parse_poll_start(raw)
    if raw.get("type") in POLL_END_TYPES:
        return parse_poll_end(raw)
    if raw.get("type") == "m.room.redaction":
        return parse_redaction(raw)
    if raw.get("type") == "m.reaction":
        return parse_reaction(raw)
    if raw.get("type") == "m.room.pinned_events":
        return parse_pins(raw)
    message = parse_message(raw)
    if message is None:
        return None
    content = raw["content"]
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        new = content.get("m.new_content")
        target = relates.get("event_id")
        if not isinstance(new, dict) or not isinstance(target, str):
            return None
        new_message = parse_message({**raw, "content": new})
        if new_message is None:
            return None
        return MatrixEdit(
            message.room_id, message.event_id, message.sender, EventID(target), new_message
        )
    return message


def parse_message(raw: dict[str, Any]) -> MatrixMessage | None:
    """Translate a raw ``m.room.message`` into our dataclass; None if unusable."""
    if raw.get("type") not in ("m.room.message", "m.sticker") or "state_key" in raw:
        return None
    content = raw.get("content")
    if not isinstance(content, dict):
        return None
    if raw.get("type") == "m.sticker":  # stickers have no msgtype; relay them as media
        content = {**content, "msgtype": "m.sticker"}
    body, msgtype = content.get("body"), content.get("msgtype")
    room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
    if not all(isinstance(v, str) for v in (body, msgtype, room_id, event_id, sender)):
        return None
    formatted = content.get("formatted_body")
    ts = raw.get("origin_server_ts")
    relates = content.get("m.relates_to")
    in_reply_to = relates.get("m.in_reply_to") if isinstance(relates, dict) else None
    reply_to = in_reply_to.get("event_id") if isinstance(in_reply_to, dict) else None
    thread_root = thread_root_of(relates)
    if isinstance(relates, dict) and thread_root and relates.get("is_falling_back") is True:
        reply_to = None  # only the fallback for clients without threads
    mentions = content.get("m.mentions")
    mentions = mentions if isinstance(mentions, dict) else {}
    user_ids = mentions.get("user_ids")
    user_ids = user_ids if isinstance(user_ids, list) else []
    return MatrixMessage(
        room_id=RoomID(str(room_id)),
        event_id=EventID(str(event_id)),
        sender=UserID(str(sender)),
        msgtype=str(msgtype),
        body=str(body),
        formatted_body=formatted if isinstance(formatted, str) else None,
        timestamp_ms=ts if isinstance(ts, int) else 0,
        reply_to=EventID(reply_to) if isinstance(reply_to, str) else None,
        thread_root=thread_root,
        mentioned_user_ids=tuple(UserID(u) for u in user_ids if isinstance(u, str)),
        mentions_room=mentions.get("room") is True,
        **media_fields(content),
    )


def parse_reaction(raw: dict[str, Any]) -> MatrixReaction | None:
    """An ``m.reaction`` annotating an event with a key; None if malformed."""
    if "state_key" in raw:
        return None
    content = raw.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
        return None
    target, key = relates.get("event_id"), relates.get("key")
    room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
    if not all(isinstance(v, str) and v for v in (target, key, room_id, event_id, sender)):
        return None
    return MatrixReaction(
        room_id=RoomID(str(room_id)),
        event_id=EventID(str(event_id)),
        sender=UserID(str(sender)),
        target=EventID(str(target)),
        key=str(key),
    )


def parse_redaction(raw: dict[str, Any]) -> MatrixRedaction | None:
    content = raw.get("content") if isinstance(raw.get("content"), dict) else {}
    assert isinstance(content, dict)
    redacts = raw.get("redacts") or content.get("redacts")  # room v11 moved it to content
    room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
    if not all(isinstance(v, str) for v in (redacts, room_id, event_id, sender)):
        return None
    reason = content.get("reason")
    return MatrixRedaction(
        room_id=RoomID(str(room_id)),
        event_id=EventID(str(event_id)),
        sender=UserID(str(sender)),
        redacts=EventID(str(redacts)),
        reason=reason if isinstance(reason, str) else None,
    )


def parse_pins(raw: dict[str, Any]) -> MatrixPins | None:
    content, room_id, sender = raw.get("content"), raw.get("room_id"), raw.get("sender")
    if raw.get("state_key") != "" or not isinstance(content, dict):
        return None
    pinned = content.get("pinned")
    if not isinstance(room_id, str) or not isinstance(sender, str):
        return None
    events = pinned if isinstance(pinned, list) else []
    return MatrixPins(
        RoomID(room_id), UserID(sender), tuple(EventID(e) for e in events if isinstance(e, str))
    )
