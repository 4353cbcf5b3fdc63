"""Discord attachments, stickers and embeds -> Matrix content, from captured payloads."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from bridge.convert.d2m.media import (
    TOO_LARGE_TO_COPY,
    attachment_link_text,
    attachment_to_matrix,
    embeds_to_matrix,
    image_dimensions,
    msgtype_for,
    sticker_fallback,
    sticker_is_image,
    sticker_to_matrix,
    visible_embeds,
)
from bridge.i18n import translator
from bridge.model import DiscordAttachment, DiscordEmbed, DiscordEmbedField, DiscordSticker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


# The same field mapping as bridge.transport.discord_media, from raw JSON.
def attachment(raw: dict[str, Any]) -> DiscordAttachment:
    return DiscordAttachment(
        id=int(raw["id"]),
        filename=raw["filename"],
        url=raw["url"],
        content_type=raw.get("content_type"),
        size=raw["size"],
        width=raw.get("width"),
        height=raw.get("height"),
        duration_secs=raw.get("duration_secs"),
        description=raw.get("description"),
    )


def embed(raw: dict[str, Any]) -> DiscordEmbed:
    return DiscordEmbed(
        type=raw.get("type", "rich"),
        title=raw.get("title"),
        url=raw.get("url"),
        description=raw.get("description"),
        author_name=(raw.get("author") or {}).get("name"),
        author_url=(raw.get("author") or {}).get("url"),
        provider_name=(raw.get("provider") or {}).get("name"),
        fields=tuple(
            DiscordEmbedField(f["name"], f["value"], f.get("inline", False))
            for f in raw.get("fields", [])
        ),
        footer_text=(raw.get("footer") or {}).get("text"),
        image_url=(raw.get("image") or {}).get("url"),
        thumbnail_url=(raw.get("thumbnail") or {}).get("url"),
    )


def sticker(raw: dict[str, Any]) -> DiscordSticker:
    return DiscordSticker(int(raw["id"]), raw["name"], raw["format_type"])


ATTACHMENTS = [attachment(a) for a in load("message_create_attachments.json")["attachments"]]


def test_image_attachment_becomes_m_image_with_info() -> None:
    media = attachment_to_matrix(ATTACHMENTS[0], "mxc://hs/flyer")
    assert media.to_content() == {
        "msgtype": "m.image",
        "body": "flyer.png",
        "filename": "flyer.png",
        "url": "mxc://hs/flyer",
        "info": {"mimetype": "image/png", "size": 482113, "w": 1080, "h": 1350},
        "m.mentions": {},
    }
    assert media.event_type == "m.room.message"


@pytest.mark.parametrize(
    ("index", "msgtype", "info"),
    [
        (1, "m.file", {"mimetype": "application/pdf", "size": 73311}),
        (2, "m.audio", {"mimetype": "audio/ogg", "size": 19342, "duration": 4280}),
        (3, "m.video", {"mimetype": "video/mp4", "size": 1204311, "w": 640, "h": 360}),
    ],
)
def test_attachment_kinds(index: int, msgtype: str, info: dict[str, Any]) -> None:
    content = attachment_to_matrix(ATTACHMENTS[index], "mxc://hs/x").to_content()
    assert content["msgtype"] == msgtype
    assert content["info"] == info


def test_spoiler_attachment_is_marked_and_named_without_prefix() -> None:
    content = attachment_to_matrix(ATTACHMENTS[3], "mxc://hs/x").to_content()
    assert content["filename"] == "ending.mp4"
    assert content["body"] == "Spoiler: ending.mp4"
    assert content["town.robin.msc3725.content_warning"] == {
        "type": "town.robin.msc3725.spoiler",
        "description": "how it ends",
    }
    assert content["page.codeberg.everypizza.msc4193.spoiler"] is True


def test_measured_size_and_dimensions_win() -> None:
    bare = DiscordAttachment(id=1, filename="photo.jpg", url="https://cdn/x", size=0)
    media = attachment_to_matrix(bare, "mxc://hs/p", size=1234, dimensions=(10, 20))
    assert media.mimetype == "image/jpeg" and media.msgtype == "m.image"
    assert (media.size, media.width, media.height) == (1234, 10, 20)


def test_content_type_parameters_are_dropped() -> None:
    text = DiscordAttachment(1, "notes.txt", "https://cdn/x", "text/plain; charset=utf-8", 5)
    media = attachment_to_matrix(text, "mxc://hs/t")
    assert (media.msgtype, media.mimetype) == ("m.file", "text/plain")
    assert media.width is None


@pytest.mark.parametrize(
    ("mime", "msgtype"),
    [
        ("image/gif", "m.image"),
        ("video/webm", "m.video"),
        ("audio/mpeg", "m.audio"),
        ("application/zip", "m.file"),
        ("text/plain", "m.file"),
    ],
)
def test_msgtype_for(mime: str, msgtype: str) -> None:
    assert msgtype_for(mime) == msgtype


def test_link_fallback_names_the_file_and_links_discord() -> None:
    text = attachment_link_text(ATTACHMENTS[1], "too large to copy")
    assert text.msgtype == "m.notice"
    assert text.body.startswith("📎 agenda.pdf (71.6 KiB, too large to copy): https://cdn.")
    assert (
        text.formatted_body is not None
        and 'href="https://cdn.discordapp.com/' in text.formatted_body
    )


STICKER_MSG = load("message_create_sticker_embeds.json")
STICKERS = [sticker(s) for s in STICKER_MSG["sticker_items"]]


def test_png_sticker_becomes_m_sticker() -> None:
    assert sticker_is_image(STICKERS[0])
    media = sticker_to_matrix(STICKERS[0], "mxc://hs/wave", size=4000)
    assert media.event_type == "m.sticker"
    assert media.to_content() == {
        "body": "Wave",
        "url": "mxc://hs/wave",
        "info": {"mimetype": "image/png", "size": 4000, "w": 320, "h": 320},
        "m.mentions": {},
    }


def test_lottie_sticker_is_text() -> None:
    assert not sticker_is_image(STICKERS[1])
    text = sticker_fallback(STICKERS[1])
    assert text.body == "[sticker: Party Parrot]"


def test_rich_embeds_render_readably_and_safely() -> None:
    embeds = [embed(e) for e in STICKER_MSG["embeds"]]
    text = embeds_to_matrix(embeds, STICKER_MSG["content"])
    assert text is not None and text.msgtype == "m.notice"
    assert text.body.splitlines()[:6] == [
        "> Campaign Bot",
        "> Meeting <Saturday> (https://example.org/meetings/42)",
        "> Agenda:",
        "> 1. Flyers",
        "> 2. Canvassing",
        "> Where: Town hall",
    ]
    assert "> Reply to RSVP" in text.body
    html = text.formatted_body or ""
    assert (
        '<strong><a href="https://example.org/meetings/42">Meeting &lt;Saturday&gt;</a></strong>'
        in html
    )
    assert "Agenda:<br>1. Flyers<br>2. Canvassing" in html
    assert "<strong>Where</strong><br>Town hall" in html
    assert '<a href="https://example.org/map.png">Image</a>' in html
    assert "<sub>Reply to RSVP</sub>" in html
    # No script, no javascript: link.
    assert "<script>" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in html
    assert html.count("<blockquote>") == 2


def test_link_preview_of_a_url_in_the_text_is_skipped() -> None:
    payload = load("message_create_attachments.json")
    embeds = [embed(e) for e in payload["embeds"]]
    assert visible_embeds(embeds, payload["content"]) == []
    assert embeds_to_matrix(embeds, payload["content"]) is None
    # The same preview without its URL in the text is shown.
    shown = embeds_to_matrix(embeds, "see the flyer")
    assert (
        shown is not None and "Campaign launch (https://example.org/campaign/launch)" in shown.body
    )


def _png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(header))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def test_image_dimensions() -> None:
    assert image_dimensions(_png(64, 32)) == (64, 32)
    assert image_dimensions(b"GIF89a" + struct.pack("<HH", 7, 9) + b"\0" * 10) == (7, 9)
    jpeg = (
        b"\xff\xd8\xff\xe0"
        + struct.pack(">H", 4)
        + b"JF"
        + b"\xff\xc0"
        + struct.pack(">HBHH", 11, 8, 480, 640)
        + b"\x03"
        + b"\0" * 8
    )
    assert image_dimensions(jpeg) == (640, 480)
    webp = (
        b"RIFF"
        + b"\0" * 4
        + b"WEBPVP8X"
        + b"\0" * 8
        + (99).to_bytes(3, "little")
        + (49).to_bytes(3, "little")
    )
    assert image_dimensions(webp) == (100, 50)
    assert image_dimensions(b"%PDF-1.7") is None


def test_labels_follow_the_language() -> None:
    fr = translator("fr")
    spoiler = attachment_to_matrix(ATTACHMENTS[3], "mxc://hs/x", tr=fr).to_content()
    assert spoiler["body"] == "Spoiler : ending.mp4"
    link = attachment_link_text(ATTACHMENTS[1], TOO_LARGE_TO_COPY, fr)
    assert link.body.startswith("📎 agenda.pdf (71.6 KiB, trop gros pour être copié): https://")
    assert sticker_fallback(STICKERS[1], fr).body == "[autocollant : Party Parrot]"
    shown = embeds_to_matrix([DiscordEmbed(title="t", image_url="https://x.org/a.png")], "", fr)
    assert shown is not None and "> Image : https://x.org/a.png" in shown.body.splitlines()
    video = embeds_to_matrix([DiscordEmbed(title="t", video_url="https://x.org/v.mp4")], "", fr)
    assert video is not None and "> Vidéo : https://x.org/v.mp4" in video.body.splitlines()
