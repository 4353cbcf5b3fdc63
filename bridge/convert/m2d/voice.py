"""Element voice messages -> Discord voice messages. Pure: no I/O.

Discord shows a voice message for a message with the flag IS_VOICE_MESSAGE, no text,
and one OGG/Opus attachment carrying ``duration_secs`` and ``waveform`` (base64 of one
byte, 0-255, per sample; Discord's own clients send up to 256). Webhooks may send them
(the Execute Webhook flags accept IS_VOICE_MESSAGE). A voice message Discord would not
take as one (not OGG, unknown length) goes as an ordinary audio file with a line saying
it was a voice message.
"""

from __future__ import annotations

import base64
from dataclasses import replace

from bridge.convert.d2m.voice import DISCORD_MAX, MATRIX_MAX, MAX_SAMPLES, resample
from bridge.i18n import Translator, translator
from bridge.model import DiscordSend, DiscordVoice, MatrixMessage

OGG_TYPES = frozenset({"audio/ogg", "audio/opus", "application/ogg"})
OGG_MAGIC = b"OggS"
# Samples per second in a waveform made up when Element sent none (Discord needs one).
FLAT_RATE = 10
FLAT_LEVEL = 64


def discord_waveform(samples: tuple[int, ...], duration_ms: int) -> str:
    """MSC1767 0-1024 samples as Discord's base64 0-255 bytes (a flat line if none)."""
    if samples:
        scaled = [min(max(round(v * DISCORD_MAX / MATRIX_MAX), 0), DISCORD_MAX) for v in samples]
    else:
        count = min(max(duration_ms * FLAT_RATE // 1000, 1), MAX_SAMPLES)
        scaled = [FLAT_LEVEL] * count
    return base64.b64encode(bytes(resample(scaled, MAX_SAMPLES))).decode("ascii")


def is_ogg(message: MatrixMessage, data: bytes) -> bool:
    mimetype = (message.mimetype or "").split(";", 1)[0].strip().lower()
    return mimetype in OGG_TYPES and data[:4] == OGG_MAGIC


def voice_send(
    send: DiscordSend, message: MatrixMessage, tr: Translator | None = None
) -> DiscordSend:
    """``send`` (the voice message's file uploaded) as a Discord voice message, or as
    the audio file under a line saying it was one when Discord would refuse it."""
    if not message.voice or len(send.files) != 1:
        return send
    name, data, spoiler = send.files[0]
    if is_ogg(message, data) and message.duration_ms and not spoiler:
        if not name.lower().endswith(".ogg"):
            name = f"{name.rsplit('.', 1)[0] if '.' in name else name}.ogg"
        voice = DiscordVoice(
            duration_secs=round(message.duration_ms / 1000, 3),
            waveform=discord_waveform(message.waveform, message.duration_ms),
        )
        return replace(send, content="", files=((name, data, spoiler),), voice=voice)
    line = (tr or translator())._("🎤 Voice message")
    content = f"{line}\n{send.content}" if send.content else line
    return replace(send, content=content[:2000])
