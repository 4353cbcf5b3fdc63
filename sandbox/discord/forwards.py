"""Forwards: ``message_reference`` with ``type`` 1 (FORWARD) on Create Message.

Like Discord, the new message has no content of its own: it carries a copy of the
original (``message_snapshots[0].message``: type, content, embeds, attachments,
timestamps, flags, mentions, stickers), ``message_reference`` pointing at the original
(``type`` 1, its channel, message and guild) and the flag HAS_SNAPSHOT. The forwarder
must be able to read the original (VIEW_CHANNEL and READ_MESSAGE_HISTORY in its
channel), else 50001 Missing Access; an unknown message is the 50035 Discord gives.
"""

from __future__ import annotations

from typing import Any

from sandbox.discord import errors, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import Ctx
from sandbox.discord.snowflake import now_iso
from sandbox.discord.state import Channel

FORWARD = 1
HAS_SNAPSHOT = 1 << 14
# What a snapshot keeps of the original (MinimalContentMessageResponse).
SNAPSHOT_KEYS = (
    "type",
    "content",
    "mentions",
    "mention_roles",
    "attachments",
    "embeds",
    "timestamp",
    "edited_timestamp",
    "flags",
    "components",
    "sticker_items",
)


def is_forward(payload: dict[str, Any]) -> bool:
    ref = payload.get("message_reference")
    return isinstance(ref, dict) and ref.get("type") == FORWARD


def _unknown() -> errors.ApiError:
    return errors.invalid_form(
        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
    )


def snapshot(original: dict[str, Any]) -> dict[str, Any]:
    copy = {k: original[k] for k in SNAPSHOT_KEYS if k in original}
    copy["type"] = 0 if original.get("type") in (0, 19) else original.get("type", 0)
    return {"message": copy}


def new_forward(
    ctx: Ctx, channel: Channel, payload: dict[str, Any], *, author: dict[str, Any], user_id: str
) -> dict[str, Any]:
    """Validate a forward request and build (not store) the forward message."""
    ref = payload["message_reference"]
    if payload.get("content") or payload.get("embeds") or payload.get("sticker_ids"):
        raise errors.invalid_form(
            "message_reference",
            "MESSAGE_REFERENCE_FORWARD_INVALID",
            "Forwards cannot have content.",
        )
    origin_id = str(ref.get("channel_id") or "")
    origin = ctx.state.channels.get(origin_id)
    original = ctx.state.messages.get(str(ref.get("message_id") or ""))
    if origin is None or original is None or original["channel_id"] != origin.id:
        raise _unknown()
    if ref.get("guild_id") is not None and str(ref["guild_id"]) != (origin.guild_id or ""):
        raise _unknown()
    if not ctx.state.can(origin.id, user_id, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY):
        raise errors.missing_access()
    reference: dict[str, Any] = {
        "type": FORWARD,
        "channel_id": origin.id,
        "message_id": original["id"],
    }
    if origin.guild_id:
        reference["guild_id"] = origin.guild_id
    msg = payloads.message(
        message_id=ctx.state.ids.next_str(),
        channel_id=channel.id,
        author=author,
        content="",
        timestamp=now_iso(),
        flags=HAS_SNAPSHOT,
    )
    msg["message_reference"] = reference
    msg["message_snapshots"] = [snapshot(original)]
    return msg
