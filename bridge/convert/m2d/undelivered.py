"""The notice a Matrix sender gets when their event could not reach Discord.

Pure: what failed (the event's kind) and why (Discord's HTTP status and error
code, or none for a failure inside the bridge) in, a plain-words ``m.notice``
out, replying to the event and mentioning its sender. Members are not
technical: no status codes, no stack traces, and a hint of who can help.
"""

from __future__ import annotations

from typing import Any, Literal

from bridge.i18n import N_, Translator, translator
from bridge.ids import EventID, RoomID, UserID
from bridge.model import MatrixText

Kind = Literal["message", "edit", "deletion"]

# Whole sentences, translated when the notice is written (see bridge.i18n).
_WHAT: dict[Kind, str] = {
    "message": N_("{sender}: your message was not delivered to Discord."),
    "edit": N_("{sender}: your edit did not reach Discord."),
    "deletion": N_("{sender}: your deletion did not reach Discord."),
}
_SO: dict[Kind, str] = {
    "message": "",
    "edit": N_("Discord still shows the message as it was."),
    "deletion": N_("The message is still visible on Discord."),
}

# Discord JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
_BY_CODE: dict[int, str] = {
    10003: N_("The Discord channel no longer exists."),
    10008: N_("The message no longer exists on Discord."),
    10015: N_("The bridge's webhook in this channel was removed and could not be made again."),
    30007: N_("The Discord channel has too many webhooks for the bridge to add its own."),
    40005: N_("The file is too large for Discord."),
    50001: N_("The bridge cannot see this Discord channel."),
    50006: N_("Discord does not accept an empty message."),
    50013: N_("The bridge is not allowed to post in this Discord channel."),
    50035: N_("Discord refused it as invalid."),
    40067: N_(
        "This Discord forum requires tags on new posts, which Matrix cannot add:"
        " reply in a post's thread instead."
    ),
    50083: N_("The Discord thread is archived."),
    160005: N_("The Discord thread is locked."),
}
_BY_STATUS: dict[int, str] = {
    400: N_("Discord refused it as invalid."),
    403: N_("The bridge is not allowed to post in this Discord channel."),
    404: N_("The Discord channel or message no longer exists."),
    413: N_("The file is too large for Discord."),
}
_IN_BRIDGE = N_("An error in the bridge stopped it.")
_FROM_HOMESERVER = N_("The bridge could not fetch it from the Matrix server.")
_REFUSED = N_("Discord refused it.")
_HELP = N_("A moderator or the bridge's administrator can look into it.")


def event_kind(raw: dict[str, Any]) -> Kind | None:
    """Which events get a notice: messages, edits and deletions (not reactions, pins...)."""
    kind = raw.get("type")
    if kind == "m.room.redaction":
        return "deletion"
    if kind not in ("m.room.message", "m.sticker"):
        return None
    content = raw.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        return "edit"
    return "message"


def reason(origin: Literal["discord", "homeserver", "bridge"], status: int, code: int) -> str:
    """Why, one sentence in plain words (untranslated: :func:`undelivered_notice`
    translates it), from where the failure came and Discord's status and code."""
    if origin == "homeserver":
        return _FROM_HOMESERVER
    if origin == "bridge":
        return _IN_BRIDGE
    return _BY_CODE.get(code) or _BY_STATUS.get(status) or _REFUSED


def undelivered_notice(
    raw: dict[str, Any], why: str, tr: Translator | None = None
) -> tuple[RoomID, MatrixText] | None:
    """The notice for ``raw`` (a stored homeserver event) in ``tr``'s language (default
    English), or None when none is due. ``why`` is a sentence from :func:`reason`."""
    kind = event_kind(raw)
    room_id, sender, event_id = raw.get("room_id"), raw.get("sender"), raw.get("event_id")
    if kind is None or not all(isinstance(v, str) for v in (room_id, sender, event_id)):
        return None
    tr = tr or translator()
    sentences = [tr._(_WHAT[kind], sender=sender), tr._(why)]
    if _SO[kind]:
        sentences.append(tr._(_SO[kind]))
    body = " ".join([*sentences, tr._(_HELP)])
    return RoomID(str(room_id)), MatrixText(
        body=body,
        msgtype="m.notice",
        mentioned_user_ids=(UserID(str(sender)),),
        reply_to=EventID(str(event_id)),
    )
