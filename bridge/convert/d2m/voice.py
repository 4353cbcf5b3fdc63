"""Discord voice messages -> Element voice messages. Pure: no I/O.

Discord marks a voice message with the message flag IS_VOICE_MESSAGE; its one
attachment (OGG/Opus) carries ``duration_secs`` and ``waveform`` (base64 of one byte,
0-255, about every 100 ms). Element shows an ``m.audio`` as a voice message when it has
``org.matrix.msc3245.voice``, and draws ``org.matrix.msc1767.audio.waveform`` (integers
0-1024) with ``duration`` in milliseconds.
"""

from __future__ import annotations

from dataclasses import replace

from bridge.model import DiscordAttachment, MatrixMedia

IS_VOICE_MESSAGE = 1 << 13
DISCORD_MAX = 255
MATRIX_MAX = 1024
# Element draws voice messages from about this many samples; more are resampled.
MAX_SAMPLES = 256


def is_voice_message(flags: int) -> bool:
    return bool(flags & IS_VOICE_MESSAGE)


def resample(values: list[int], count: int) -> list[int]:
    """``values`` reduced to at most ``count`` samples (each the loudest of its span)."""
    if len(values) <= count:
        return values
    out = []
    for i in range(count):
        start = i * len(values) // count
        end = max((i + 1) * len(values) // count, start + 1)
        out.append(max(values[start:end]))
    return out


def matrix_waveform(raw: bytes | None) -> tuple[int, ...]:
    """Discord's 0-255 amplitudes as MSC1767's 0-1024 ones (at most MAX_SAMPLES)."""
    if not raw:
        return ()
    scaled = [round(b * MATRIX_MAX / DISCORD_MAX) for b in raw]
    return tuple(resample(scaled, MAX_SAMPLES))


def as_voice(media: MatrixMedia, attachment: DiscordAttachment) -> MatrixMedia:
    """An audio attachment of a voice message as an Element voice message."""
    if media.msgtype != "m.audio":
        return media
    duration = media.duration_ms
    if duration is None and attachment.duration_secs is not None:
        duration = round(attachment.duration_secs * 1000)
    return replace(
        media,
        voice=True,
        duration_ms=duration,
        waveform=matrix_waveform(attachment.waveform),
    )
