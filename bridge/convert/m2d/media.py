"""Matrix media events -> Discord webhook uploads (or links). Pure: no I/O.

:func:`plan_upload` says what would be uploaded and whether it is known to be
over Discord's upload limit; the action downloads the bytes from the
homeserver and builds the send with :func:`upload_send`, or with
:func:`link_send` when the file is too large or could not be downloaded.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

from bridge.i18n import Translator, translator
from bridge.model import DiscordSend, MatrixMessage

MEDIA_MSGTYPES = frozenset({"m.image", "m.video", "m.audio", "m.file", "m.sticker"})
MXC_RE = re.compile(r"^mxc://([^/\s]+)/([A-Za-z0-9_-]+)$")
FILENAME_MAX = 200
SPOILER_PREFIX = "SPOILER_"
_UNSAFE_NAME = re.compile(r"[\\/\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class DiscordUpload:
    """What one Matrix media event becomes on Discord."""

    mxc: str
    filename: str
    declared_size: int | None  # from the event's info; the download is the truth
    too_large: bool  # known from ``info.size`` before downloading
    spoiler: bool
    caption: str  # the body when it is a caption (MSC2530), else ""


def parse_mxc(mxc: str) -> tuple[str, str] | None:
    match = MXC_RE.match(mxc)
    return (match.group(1), match.group(2)) if match else None


def discord_filename(name: str | None, mimetype: str | None, fallback: str) -> str:
    """A file name Discord accepts: no path parts, an extension matching the type."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = _UNSAFE_NAME.sub("_", base.strip()).strip(" .") or fallback
    if clean.startswith(SPOILER_PREFIX):
        clean = clean[len(SPOILER_PREFIX) :] or fallback
    if "." not in clean and mimetype:
        extension = mimetypes.guess_extension(mimetype.split(";", 1)[0].strip())
        if extension:
            clean += extension
    if len(clean) > FILENAME_MAX:
        stem, dot, extension = clean.rpartition(".")
        keep = FILENAME_MAX - len(extension) - 1
        clean = f"{stem[:keep]}.{extension}" if dot and keep > 0 else clean[:FILENAME_MAX]
    return clean


def plan_upload(message: MatrixMessage, limit_bytes: int) -> DiscordUpload | None:
    """None when the event is not media or has no usable ``mxc://`` URL."""
    if message.msgtype not in MEDIA_MSGTYPES or not message.url:
        return None
    parsed = parse_mxc(message.url)
    if parsed is None:
        return None
    fallback = f"{message.msgtype.removeprefix('m.')}-{parsed[1][:12]}"
    # MSC2530: with a distinct ``filename``, ``body`` is a caption.
    name = message.filename or message.body
    caption = ""
    if message.filename and message.body and message.body != message.filename:
        # Element names voice messages "Voice message" / "Voice message.ogg": not a caption.
        if message.body != message.filename.rsplit(".", 1)[0]:
            caption = message.body
    if message.msgtype == "m.sticker":
        caption = ""
        name = message.filename or f"{message.body or 'sticker'}"
    size = message.size if message.size is not None and message.size >= 0 else None
    return DiscordUpload(
        mxc=message.url,
        filename=discord_filename(name, message.mimetype, fallback),
        declared_size=size,
        too_large=size is not None and size > limit_bytes,
        spoiler=message.spoiler,
        caption=caption,
    )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _with_caption(caption: str, text: str) -> str:
    return f"{caption}\n{text}" if caption else text


def upload_send(upload: DiscordUpload, data: bytes, username: str) -> DiscordSend:
    """A webhook execution carrying the file as a multipart upload."""
    return DiscordSend(
        content=upload.caption,
        username=username,
        files=((upload.filename, data, upload.spoiler),),
    )


def link_send(
    upload: DiscordUpload,
    username: str,
    link: str | None,
    *,
    size: int | None,
    reason: str,
    tr: Translator | None = None,
) -> DiscordSend:
    """A text message naming the file, with ``link`` (see :mod:`bridge.media_links`) if any.
    ``reason`` (an untranslated phrase) and the fallback are in ``tr``'s language."""
    tr = tr or translator()
    reason = tr._(reason)
    on_matrix = tr._("open it on Matrix")
    known = size if size is not None else upload.declared_size
    detail = f"{human_size(known)}, {reason}" if known is not None else reason
    if upload.spoiler:
        label = f"📎 ||{upload.filename}|| ({detail})"
        target = f"||<{link}>||" if link else on_matrix
    else:
        label = f"📎 {upload.filename} ({detail})"
        target = f"<{link}>" if link else on_matrix
    return DiscordSend(
        content=_with_caption(upload.caption, f"{label}: {target}")[:2000], username=username
    )
