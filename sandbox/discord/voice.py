"""Voice messages on Create Message and Execute Webhook (flag IS_VOICE_MESSAGE).

As Discord: a voice message has no content, embeds, stickers or poll (50159), exactly
one OGG audio attachment (50160) whose ``attachments`` entry gives ``duration_secs`` and
``waveform`` (base64, at most 400 characters) (50161); the stored attachment keeps
both. A channel message needs SEND_VOICE_MESSAGES (not ATTACH_FILES).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sandbox.discord import errors

IS_VOICE_MESSAGE = 1 << 13
SEND_VOICE_MESSAGES = 1 << 46
OGG_TYPES = ("audio/ogg", "audio/opus")
MAX_WAVEFORM = 400


def requested(payload: dict[str, Any]) -> bool:
    flags = payload.get("flags")
    return isinstance(flags, int) and not isinstance(flags, bool) and bool(flags & IS_VOICE_MESSAGE)


def check(payload: dict[str, Any], upload_types: list[str], upload_data: list[bytes]) -> None:
    """Refuse a voice message Discord would refuse."""
    if payload.get("content") or payload.get("embeds") or payload.get("sticker_ids"):
        raise errors.ApiError(400, 50159, "Voice messages do not support additional content.")
    if payload.get("poll"):
        raise errors.ApiError(400, 50159, "Voice messages do not support additional content.")
    if len(upload_types) != 1:
        raise errors.ApiError(400, 50160, "Voice messages must have a single audio attachment.")
    ctype = upload_types[0].split(";", 1)[0].strip().lower()
    if ctype not in OGG_TYPES or upload_data[0][:4] != b"OggS":
        raise errors.ApiError(400, 50160, "Voice messages must have a single audio attachment.")
    meta = next(
        (
            m
            for m in payload.get("attachments") or []
            if isinstance(m, dict) and str(m.get("id")) == "0"
        ),
        None,
    )
    if meta is None:
        raise errors.ApiError(400, 50161, "Voice messages must have supporting metadata.")
    duration, waveform = meta.get("duration_secs"), meta.get("waveform")
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration <= 0:
        raise errors.ApiError(400, 50161, "Voice messages must have supporting metadata.")
    if not isinstance(waveform, str) or not waveform or len(waveform) > MAX_WAVEFORM:
        raise errors.ApiError(400, 50161, "Voice messages must have supporting metadata.")
    try:
        base64.b64decode(waveform, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.ApiError(400, 50161, "Voice messages must have supporting metadata.") from exc


def stamp(attachments: list[dict[str, Any]], payload: dict[str, Any]) -> None:
    """Keep the voice message's length and waveform on its stored attachment."""
    meta = next(
        m for m in payload["attachments"] if isinstance(m, dict) and str(m.get("id")) == "0"
    )
    attachments[0]["duration_secs"] = float(meta["duration_secs"])
    attachments[0]["waveform"] = meta["waveform"]
