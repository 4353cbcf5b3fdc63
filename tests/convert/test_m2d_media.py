"""Matrix media events -> Discord uploads or links, from captured Element events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.convert.m2d.media import discord_filename, link_send, plan_upload, upload_send
from bridge.i18n import translator
from bridge.model import MatrixMessage
from bridge.transport.matrix import MatrixTransport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "matrix"
MiB = 1024 * 1024


def parse(raw: dict[str, Any]) -> MatrixMessage:
    message = MatrixTransport.parse_message(raw)
    assert message is not None
    return message


IMAGE = parse(json.loads((FIXTURES / "m_room_message_image.json").read_text()))
VARIANTS = {
    raw["event_id"]: parse(raw)
    for raw in json.loads((FIXTURES / "m_room_message_media_variants.json").read_text())
}


def test_parse_message_reads_media_fields() -> None:
    assert IMAGE.msgtype == "m.image"
    assert IMAGE.url == "mxc://example.org/JWEIFJgwEIhweiWJE"
    assert (IMAGE.filename, IMAGE.mimetype, IMAGE.size) == ("flyer.png", "image/png", 482113)
    sticker = VARIANTS["$sticker:example.org"]
    assert sticker.msgtype == "m.sticker" and sticker.url == "mxc://example.org/StickerThumbs"
    assert VARIANTS["$spoiler:example.org"].spoiler


def test_image_becomes_an_upload() -> None:
    upload = plan_upload(IMAGE, 10 * MiB)
    assert upload is not None
    assert (upload.filename, upload.too_large, upload.caption) == ("flyer.png", False, "")
    send = upload_send(upload, b"PNGDATA", "Alice")
    assert send.files == (("flyer.png", b"PNGDATA", False),)
    assert send.content == "" and send.username == "Alice"


def test_file_with_caption_keeps_filename_and_caption() -> None:
    upload = plan_upload(VARIANTS["$file:example.org"], 10 * MiB)
    assert upload is not None
    assert upload.filename == "budget 2025.xlsx"
    assert upload.caption == "Here is the budget, please check"
    assert upload_send(upload, b"x", "Alice").content == "Here is the budget, please check"


def test_voice_message_keeps_its_name() -> None:
    upload = plan_upload(VARIANTS["$voice:example.org"], 10 * MiB)
    assert upload is not None and upload.filename == "Voice message.ogg"
    assert upload.caption == ""


def test_over_limit_video_becomes_a_link() -> None:
    upload = plan_upload(VARIANTS["$video:example.org"], 10 * MiB)
    assert upload is not None and upload.too_large and upload.declared_size == 73400320
    assert plan_upload(VARIANTS["$video:example.org"], 100 * MiB).too_large is False  # type: ignore[union-attr]
    link = "https://bridge.example.org/_passerelle/media/example.org/RallyVideo/sig/rally.mp4"
    send = link_send(upload, "Alice", link, size=None, reason="too large for Discord")
    assert send.files == ()
    assert send.content == f"📎 rally.mp4 (70.0 MiB, too large for Discord): <{link}>"


def test_link_without_public_media_url_names_the_file() -> None:
    upload = plan_upload(VARIANTS["$video:example.org"], MiB)
    assert upload is not None
    send = link_send(upload, "Alice", None, size=None, reason="too large for Discord")
    assert send.content == "📎 rally.mp4 (70.0 MiB, too large for Discord): open it on Matrix"
    french = link_send(
        upload, "Alice", None, size=None, reason="too large for Discord", tr=translator("fr")
    )
    assert french.content == "📎 rally.mp4 (70.0 MiB, trop gros pour Discord): ouvrez-le sur Matrix"


def test_sticker_is_uploaded_as_png_without_caption() -> None:
    upload = plan_upload(VARIANTS["$sticker:example.org"], 10 * MiB)
    assert upload is not None
    assert (upload.filename, upload.caption) == ("Thumbs up.png", "")


def test_spoiler_upload_and_link() -> None:
    upload = plan_upload(VARIANTS["$spoiler:example.org"], 10 * MiB)
    assert upload is not None and upload.spoiler
    assert upload_send(upload, b"x", "A").files == (("ending.png", b"x", True),)
    link = link_send(upload, "A", "https://b.example.org/x", size=2 * MiB, reason="r")
    assert link.content == "📎 ||ending.png|| (2.0 MiB, r): ||<https://b.example.org/x>||"


def test_not_media_or_bad_url_is_not_planned() -> None:
    text = MatrixMessage(IMAGE.room_id, IMAGE.event_id, IMAGE.sender, "m.text", "hi")
    assert plan_upload(text, MiB) is None
    bad = MatrixMessage(
        IMAGE.room_id, IMAGE.event_id, IMAGE.sender, "m.image", "x.png", url="mxc://bad"
    )
    assert plan_upload(bad, MiB) is None
    raw = json.loads((FIXTURES / "m_room_message_image.json").read_text())
    raw["content"]["url"] = "https://example.org/x.png"  # not an mxc: not media for us
    assert parse(raw).url is None


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("../../etc/passwd", None, "passwd"),
        ("photo", "image/png", "photo.png"),
        ("", "image/jpeg", "image-abc.jpg"),
        ("SPOILER_x.png", None, "x.png"),
        ("a" * 300 + ".txt", None, "a" * 196 + ".txt"),
    ],
)
def test_discord_filename(name: str, mime: str | None, expected: str) -> None:
    assert discord_filename(name, mime, "image-abc") == expected
