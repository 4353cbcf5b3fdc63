"""Discord attachments, stickers and embeds -> Matrix content. Pure: no I/O.

The caller downloads the bytes from Discord's CDN, uploads them to the
homeserver and passes the resulting ``mxc://`` URI (and, when Discord did not
say, the measured size and dimensions) in; these functions only decide what
the Matrix event looks like.
"""

from __future__ import annotations

import html
import mimetypes
import struct
from collections.abc import Iterable

from bridge.convert.d2m.limits import EVENT_CONTENT_MAX, fit_content
from bridge.convert.names import clean_name
from bridge.i18n import N_, Translator, translator
from bridge.model import DiscordAttachment, DiscordEmbed, DiscordSticker, MatrixMedia, MatrixText

SPOILER_PREFIX = "SPOILER_"
# Discord sticker format types.
STICKER_PNG, STICKER_APNG, STICKER_LOTTIE, STICKER_GIF = 1, 2, 3, 4
STICKER_IMAGE_FORMATS = {
    STICKER_PNG: "image/png",
    STICKER_APNG: "image/png",
    STICKER_GIF: "image/gif",
}
STICKER_SIZE = 320  # Discord renders stickers at 320x320
# Embed types Discord makes itself when it unfurls a URL in the message text.
LINK_PREVIEW_TYPES = frozenset({"link", "article", "image", "video", "gifv"})


def guess_mimetype(filename: str, content_type: str | None) -> str:
    """Discord's content type without parameters, else a guess from the name."""
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() or "application/octet-stream"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def msgtype_for(mimetype: str) -> str:
    major = mimetype.split("/", 1)[0]
    return {"image": "m.image", "video": "m.video", "audio": "m.audio"}.get(major, "m.file")


# Longest file name shown on Matrix (most file systems allow 255).
MAX_FILENAME = 255


def display_filename(filename: str) -> str:
    """The name without Discord's ``SPOILER_`` marker, bidi overrides and invisible
    characters (``invoice\u202egpj.exe`` would otherwise show as ``invoiceexe.jpg``)."""
    stripped = filename[len(SPOILER_PREFIX) :] if filename.startswith(SPOILER_PREFIX) else filename
    return clean_name(stripped, MAX_FILENAME) or clean_name(filename, MAX_FILENAME) or "file"


def attachment_to_matrix(
    attachment: DiscordAttachment,
    mxc: str,
    *,
    size: int | None = None,
    dimensions: tuple[int, int] | None = None,
    tr: Translator | None = None,
) -> MatrixMedia:
    """One Discord attachment as a Matrix media event (a spoiler's label in ``tr``'s
    language, default English).

    ``size`` and ``dimensions`` are what the caller measured on the downloaded
    bytes; they win over Discord's own figures (which webhooks may omit).
    """
    mimetype = guess_mimetype(attachment.filename, attachment.content_type)
    msgtype = msgtype_for(mimetype)
    name = display_filename(attachment.filename)
    width, height = attachment.width, attachment.height
    if dimensions is not None:
        width, height = dimensions
    if msgtype not in ("m.image", "m.video"):
        width = height = None
    duration_ms = None
    if attachment.duration_secs is not None and msgtype in ("m.audio", "m.video"):
        duration_ms = round(attachment.duration_secs * 1000)
    body = name
    if attachment.spoiler:
        body = (tr or translator())._("Spoiler: {name}", name=name)
    return MatrixMedia(
        msgtype=msgtype,
        body=body,
        url=mxc,
        filename=name,
        mimetype=mimetype,
        size=attachment.size if size is None else size,
        width=width,
        height=height,
        duration_ms=duration_ms,
        spoiler=attachment.spoiler,
        spoiler_reason=attachment.description if attachment.spoiler else None,
    )


# Why a Discord file is linked instead of copied (``reason`` of attachment_link_text).
NOT_COPIED = N_("could not be copied")
TOO_LARGE_TO_COPY = N_("too large to copy")
TOO_LARGE_FOR_HOMESERVER = N_("too large for this homeserver")


def attachment_link_text(
    attachment: DiscordAttachment, reason: str, tr: Translator | None = None
) -> MatrixText:
    """Fallback when the file could not be re-uploaded: its name and the Discord URL.
    ``reason`` (one of the constants above) is shown in ``tr``'s language."""
    reason = (tr or translator())._(reason)
    name = display_filename(attachment.filename)
    size = human_size(attachment.size)
    body = f"{name} ({size}, {reason}): {attachment.url}"
    formatted = (
        f'📎 <a href="{html.escape(attachment.url)}">{html.escape(name)}</a>'
        f" ({html.escape(size)}, {html.escape(reason)})"
    )
    return MatrixText(body=f"📎 {body}", formatted_body=formatted, msgtype="m.notice")


def sticker_is_image(sticker: DiscordSticker) -> bool:
    return sticker.format_type in STICKER_IMAGE_FORMATS


def sticker_to_matrix(
    sticker: DiscordSticker,
    mxc: str,
    *,
    size: int,
    dimensions: tuple[int, int] | None = None,
) -> MatrixMedia:
    """A PNG/APNG/GIF sticker as an ``m.sticker`` event."""
    mimetype = STICKER_IMAGE_FORMATS.get(sticker.format_type, "image/png")
    width, height = dimensions or (STICKER_SIZE, STICKER_SIZE)
    extension = "gif" if mimetype == "image/gif" else "png"
    return MatrixMedia(
        msgtype="m.sticker",
        body=sticker.name,
        url=mxc,
        filename=f"{sticker.name}.{extension}",
        mimetype=mimetype,
        size=size,
        width=width,
        height=height,
    )


def sticker_fallback(sticker: DiscordSticker, tr: Translator | None = None) -> MatrixText:
    """Lottie stickers (and any sticker that could not be fetched) as text."""
    label = (tr or translator())._("[sticker: {name}]", name=sticker.name)
    return MatrixText(body=label, formatted_body=f"<em>{html.escape(label)}</em>")


# -- embeds --------------------------------------------------------------------


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _link(text: str, url: str | None) -> str:
    safe = _safe_url(url)
    label = html.escape(text)
    return f'<a href="{html.escape(safe)}">{label}</a>' if safe else label


def _multiline(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def visible_embeds(embeds: Iterable[DiscordEmbed], message_text: str) -> list[DiscordEmbed]:
    """The embeds worth showing: link previews of URLs already in the text are dropped."""
    shown = []
    for embed in embeds:
        if embed.type in LINK_PREVIEW_TYPES and embed.url and embed.url in message_text:
            continue
        if not any(
            (
                embed.title,
                embed.description,
                embed.fields,
                embed.author_name,
                embed.footer_text,
                embed.image_url,
                embed.url,
            )
        ):
            continue
        shown.append(embed)
    return shown


IMAGE = N_("Image")
VIDEO = N_("Video")
IMAGE_LINE = N_("Image: {url}")
VIDEO_LINE = N_("Video: {url}")


def _embed_parts(embed: DiscordEmbed, tr: Translator) -> tuple[list[str], list[str]]:
    plain: list[str] = []
    rich: list[str] = []
    if embed.author_name:
        plain.append(embed.author_name)
        rich.append(f"<p>{_link(embed.author_name, embed.author_url)}</p>")
    if embed.title:
        target = _safe_url(embed.url)
        plain.append(f"{embed.title} ({target})" if target else embed.title)
        rich.append(f"<p><strong>{_link(embed.title, embed.url)}</strong></p>")
    elif _safe_url(embed.url):
        assert embed.url is not None
        plain.append(embed.url)
        rich.append(f"<p>{_link(embed.provider_name or embed.url, embed.url)}</p>")
    if embed.description:
        plain.extend(embed.description.splitlines() or [""])
        rich.append(f"<p>{_multiline(embed.description)}</p>")
    for item in embed.fields:
        plain.append(f"{item.name}: {item.value}")
        rich.append(f"<p><strong>{html.escape(item.name)}</strong><br>{_multiline(item.value)}</p>")
    for label, line, url in (
        (IMAGE, IMAGE_LINE, embed.image_url),
        (VIDEO, VIDEO_LINE, embed.video_url),
    ):
        if _safe_url(url):
            assert url is not None
            plain.append(tr._(line, url=url))
            rich.append(f"<p>{_link(tr._(label), url)}</p>")
    if embed.footer_text:
        plain.append(embed.footer_text)
        rich.append(f"<p><sub>{html.escape(embed.footer_text)}</sub></p>")
    return plain, rich


def embeds_to_matrix(
    embeds: Iterable[DiscordEmbed], message_text: str, tr: Translator | None = None
) -> MatrixText | None:
    """Rich and link embeds as one ``m.notice`` of quoted blocks; None if nothing to show.
    The "Image" and "Video" labels are in ``tr``'s language (default English)."""
    tr = tr or translator()
    shown = visible_embeds(embeds, message_text)
    if not shown:
        return None
    plain_blocks: list[str] = []
    rich_blocks: list[str] = []
    for embed in shown:
        plain, rich = _embed_parts(embed, tr)
        plain_blocks.append("\n".join(f"> {line}" if line else ">" for line in plain))
        rich_blocks.append(f"<blockquote>{''.join(rich)}</blockquote>")
    notice = MatrixText(
        body="\n\n".join(plain_blocks),
        formatted_body="".join(rich_blocks),
        msgtype="m.notice",
    )
    return fit_content(notice, limit=EVENT_CONTENT_MAX)


# -- measuring downloaded files -----------------------------------------------------


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF, JPEG or WebP header; None when unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_dimensions(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_dimensions(data)
    return None


def _webp_dimensions(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return None
