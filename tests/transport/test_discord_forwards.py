"""Captured forward and voice-message payloads through discord.py and message_from,
then the pure converters (bridge.convert.d2m.forward, bridge.convert.d2m.voice)."""

from __future__ import annotations

import base64
from typing import Any

from bridge.convert.d2m.forward import ForwardOrigin, forward_to_matrix, jump_url
from bridge.convert.d2m.media import attachment_to_matrix
from bridge.convert.d2m.text import discord_to_matrix_text, mention_context
from bridge.convert.d2m.voice import as_voice, is_voice_message
from bridge.i18n import translator
from bridge.transport.discord import message_from
from tests.transport.test_discord_bad_input import FIXTURES, Gateway, load, thread_payload

FORWARD = FIXTURES / "message_create_forward.json"
VOICE = FIXTURES / "message_create_voice.json"


def parsed(gateway: Gateway, data: dict[str, Any]) -> Any:
    return message_from(gateway.feed("MESSAGE_CREATE", data))


def test_forward_payload_translates_to_a_forward() -> None:
    gateway = Gateway()
    message = parsed(gateway, load(FORWARD))
    forward = message.forward
    assert forward is not None and message.content == ""
    assert (forward.channel_id, forward.guild_id, forward.message_id) == (
        4000000000000000002,
        3000000000000000001,
        1378990512331821126,
    )
    assert forward.content == "Meeting moved to **Thursday 18:00**, room B. See the plan below."
    assert [(a.filename, a.content_type, a.width) for a in forward.attachments] == [
        ("plan.png", "image/png", 800)
    ]
    # The origin is the demo guild's "members" channel: named, and hidden from @everyone.
    assert forward.channel_name == "members" and forward.origin_hidden is True
    assert jump_url(forward) == (
        "https://discord.com/channels/3000000000000000001/4000000000000000002/1378990512331821126"
    )


def test_forward_from_a_public_channel_is_not_hidden() -> None:
    gateway = Gateway()
    data = load(FORWARD)
    data["message_reference"]["channel_id"] = "4000000000000000001"
    forward = parsed(gateway, data).forward
    assert forward.channel_name == "campaign" and forward.origin_hidden is False


def test_forward_from_an_unknown_channel_is_not_named() -> None:
    gateway = Gateway()
    data = load(FORWARD)
    data["message_reference"].update(channel_id="4100000000000000009", guild_id="31")
    forward = parsed(gateway, data).forward
    assert forward.channel_name is None and forward.origin_hidden is False


def test_a_reply_is_not_a_forward() -> None:
    gateway = Gateway()
    data = load(FORWARD)
    data["message_reference"]["type"] = 0
    assert parsed(gateway, data).forward is None


def test_forward_quote_in_english_and_french() -> None:
    message = parsed(Gateway(), load(FORWARD))
    forward = message.forward
    copy = discord_to_matrix_text(
        type(message)(**{**message.__dict__, "content": forward.content, "forward": None}),
        mention_context(message, lambda u: f"@_discord_{u}:x", {}, set()),
        None,
    )
    origin = ForwardOrigin("members", "https://matrix.to/#/!r:x/$e")
    text = forward_to_matrix(copy, origin)
    assert text.body.splitlines() == [
        "↪️ Forwarded from #members (https://matrix.to/#/!r:x/$e)",
        "> Meeting moved to **Thursday 18:00**, room B. See the plan below.",
    ]
    assert text.formatted_body == (
        '<p>↪️ <em>Forwarded from <a href="https://matrix.to/#/!r:x/$e">#members</a></em></p>'
        "<blockquote>Meeting moved to <strong>Thursday 18:00</strong>, room B. "
        "See the plan below.</blockquote>"
    )
    french = forward_to_matrix(copy, origin, translator("fr"))
    assert french.body.startswith("↪️ Transféré depuis #members")
    hidden = forward_to_matrix(copy, None, translator("fr"))
    assert hidden.body == "↪️ Un message transféré depuis un salon réservé aux membres"
    assert "Meeting" not in (hidden.formatted_body or "")


def test_voice_message_payload_translates_to_an_element_voice_message() -> None:
    message = parsed(Gateway(), load(VOICE))
    assert is_voice_message(message.flags)
    (attachment,) = message.attachments
    raw = base64.b64decode(load(VOICE)["attachments"][0]["waveform"])
    assert attachment.waveform == raw and attachment.duration_secs == 4.3199997
    media = as_voice(attachment_to_matrix(attachment, "mxc://x/v", size=27714), attachment)
    content = media.to_content()
    assert content["msgtype"] == "m.audio" and content["org.matrix.msc3245.voice"] == {}
    audio = content["org.matrix.msc1767.audio"]
    assert isinstance(audio, dict) and audio["duration"] == 4320
    assert content["info"] == {"mimetype": "audio/ogg", "size": 27714, "duration": 4320}
    waveform = audio["waveform"]
    assert isinstance(waveform, list) and len(waveform) == len(raw) == 43
    assert all(0 <= v <= 1024 for v in waveform)
    assert waveform == [round(b * 1024 / 255) for b in raw]


def test_an_ordinary_audio_file_is_not_a_voice_message() -> None:
    data = load(VOICE)
    data["flags"] = 0
    message = parsed(Gateway(), data)
    assert not is_voice_message(message.flags)


def test_forward_from_a_thread_names_its_channel() -> None:
    gateway = Gateway()
    gateway.feed(
        "THREAD_CREATE", thread_payload("4000000000000000555", "4000000000000000002", "plans")
    )
    data = load(FORWARD)
    data["message_reference"]["channel_id"] = "4000000000000000555"
    forward = parsed(gateway, data).forward
    assert forward.channel_name == "plans" and forward.origin_parent_id == 4000000000000000002
    assert forward.origin_hidden is True  # the thread of a channel @everyone cannot see
