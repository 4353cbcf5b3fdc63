"""Voice messages both ways, pure parts: waveform scaling, the Discord send, and the
MSC3245/MSC1767 keys read from an Element event."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bridge.convert.d2m.voice import matrix_waveform, resample
from bridge.convert.m2d.voice import discord_waveform, voice_send
from bridge.i18n import translator
from bridge.model import DiscordSend, MatrixMessage
from bridge.transport.matrix_events import parse_event

OGG = b"OggS" + b"\x01" * 20


def test_waveform_scaling_and_resampling() -> None:
    assert matrix_waveform(bytes([0, 255, 51])) == (0, 1024, 205)
    assert matrix_waveform(None) == () and matrix_waveform(b"") == ()
    long = matrix_waveform(bytes(range(256)) * 3)
    assert len(long) == 256 and max(long) == 1024
    assert resample([1, 9, 2, 3], 2) == [9, 3]  # the loudest of each span
    assert resample([1, 2], 5) == [1, 2]


def test_discord_waveform_from_element_and_made_up() -> None:
    assert base64.b64decode(discord_waveform((0, 1024, 4096), 1000)) == bytes([0, 255, 255])
    flat = base64.b64decode(discord_waveform((), 3200))
    assert flat == bytes([64] * 32)  # 10 samples a second when Element sent none
    assert len(base64.b64decode(discord_waveform((), 600_000))) == 256
    assert len(discord_waveform(tuple(range(1000)), 1000)) <= 400  # Discord's maximum


def element(**kw: Any) -> MatrixMessage:
    fields: dict[str, Any] = {
        "room_id": "!r:x",
        "event_id": "$v",
        "sender": "@a:x",
        "msgtype": "m.audio",
        "body": "Voice message",
        "url": "mxc://x/v",
        "filename": "Voice message.ogg",
        "mimetype": "audio/ogg",
        "voice": True,
        "duration_ms": 1800,
        "waveform": (512,),
    }
    fields.update(kw)
    return MatrixMessage(**fields)


def upload(
    name: str = "Voice message.ogg", data: bytes = OGG, spoiler: bool = False
) -> DiscordSend:
    return DiscordSend(content="", username="Alice", files=((name, data, spoiler),))


def test_voice_send_and_its_fallbacks() -> None:
    sent = voice_send(upload(), element())
    assert sent.voice is not None and sent.voice.duration_secs == 1.8 and sent.content == ""
    # A name without .ogg gets it (Discord derives the type from it).
    assert voice_send(upload("voice"), element()).files[0][0] == "voice.ogg"
    # Not OGG inside, unknown length, or a spoiler: an audio file under a line.
    for send, message in (
        (upload(data=b"ID3\x03"), element()),
        (upload(), element(duration_ms=None)),
        (upload(spoiler=True), element()),
    ):
        fallback = voice_send(send, message, translator("fr"))
        assert fallback.voice is None and fallback.content == "🎤 Message vocal"
        assert fallback.files == send.files
    # Not a voice message: untouched.
    plain = upload()
    assert voice_send(plain, element(voice=False)) is plain


def raw_audio(content: dict[str, Any]) -> dict[str, Any]:
    base = {
        "msgtype": "m.audio",
        "body": "Voice message.ogg",
        "url": "mxc://x/v",
        "info": {"mimetype": "audio/ogg", "size": 10, "duration": 2300},
    }
    return {
        "type": "m.room.message",
        "room_id": "!r:x",
        "event_id": "$e",
        "sender": "@a:x",
        "origin_server_ts": 1,
        "content": {**base, **content},
    }


def test_element_voice_event_is_read() -> None:
    event = parse_event(
        raw_audio(
            {
                "org.matrix.msc1767.audio": {"duration": 2310, "waveform": [0, 300, 1024]},
                "org.matrix.msc3245.voice": {},
            }
        )
    )
    assert isinstance(event, MatrixMessage)
    assert (event.voice, event.duration_ms, event.waveform) == (True, 2310, (0, 300, 1024))
    plain = parse_event(raw_audio({}))
    assert isinstance(plain, MatrixMessage) and not plain.voice


@pytest.mark.parametrize(
    "audio",
    [
        {"duration": float("inf"), "waveform": [float("nan"), "x", True, -5, 5000]},
        {"duration": "long", "waveform": "loud"},
        "not a dict",
        {"duration": -4, "waveform": None},
    ],
)
def test_odd_voice_keys_do_not_break_parsing(audio: Any) -> None:
    event = parse_event(
        raw_audio({"org.matrix.msc1767.audio": audio, "org.matrix.msc3245.voice": {}})
    )
    assert isinstance(event, MatrixMessage) and event.voice
    assert event.duration_ms in (None, 2300)
    assert all(0 <= v <= 1024 for v in event.waveform)
