"""Attachments, stickers and embeds both ways through Synapse + the emulator + the bridge."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import discord
import pytest

from bridge.ids import EventID, MessageID
from bridge.media_links import media_link
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.png import solid_png
from sandbox.stack import SandboxStack
from tests.e2e.test_relay_text import PUBLIC, portal_room, unique
from tests.e2e.waits import recorded

pytestmark = pytest.mark.e2e

STICKER = 6000000000000000001  # "Wave" in sandbox/discord/demo_seed.yaml


def is_message(check: Any) -> Any:
    return lambda e: e["type"] in ("m.room.message", "m.sticker") and check(e["content"])


def redacts(event: dict[str, Any]) -> str | None:
    if event["type"] != "m.room.redaction":
        return None
    return event.get("redacts") or event["content"].get("redacts")


async def rows_of_event(stack: SandboxStack, event_id: str) -> list[Any]:
    """The message-map rows of an event, once the bridge recorded them (after the send)."""
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    return await recorded(lambda: stores.messages.by_event(EventID(event_id)))


@contextmanager
def bridge_settings(stack: SandboxStack, **changes: Any) -> Iterator[None]:
    """Temporarily change ``bridge.*`` config keys of the running bridge."""
    ctx = stack.bridge.ctx  # type: ignore[union-attr]
    saved = ctx.config
    ctx.config = dataclasses.replace(saved, bridge=dataclasses.replace(saved.bridge, **changes))
    try:
        yield
    finally:
        ctx.config = saved


async def test_discord_attachments_reach_matrix_and_delete_redacts_all(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    text = unique("flyers attached")
    png = solid_png((200, 30, 60), size=96)
    notes = b"Saturday: 10:00 town hall\n" * 10
    message = await discord_bob.send_files(PUBLIC, text, [("flyer.png", png), ("notes.txt", notes)])
    ghost = stack.config.namer.ghost_mxid(discord_bob.client.user.id)  # type: ignore[union-attr]
    first, _ = await matrix_alice.wait_for_event(room, is_message(lambda c: c.get("body") == text))
    image, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("filename") == "flyer.png")
    )
    file, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("filename") == "notes.txt")
    )
    assert first["content"]["msgtype"] == "m.text"
    assert {first["sender"], image["sender"], file["sender"]} == {ghost}
    content = image["content"]
    assert content["msgtype"] == "m.image" and content["body"] == "flyer.png"
    assert content["info"] == {"mimetype": "image/png", "size": len(png), "w": 96, "h": 96}
    data, mime = await matrix_alice.download(content["url"])
    assert data == png and mime == "image/png"
    assert file["content"]["msgtype"] == "m.file"
    assert file["content"]["info"]["mimetype"] == "text/plain"
    assert (await matrix_alice.download(file["content"]["url"]))[0] == notes
    # Original timestamp kept on every part.
    ts = message.created_at.timestamp() * 1000
    assert all(abs(e["origin_server_ts"] - ts) < 1000 for e in (first, image, file))
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_discord(MessageID(message.id)), 3)
    assert [(r.part, r.event_id) for r in rows] == [
        (0, first["event_id"]),
        (1, image["event_id"]),
        (2, file["event_id"]),
    ]

    await message.delete()
    wanted = {first["event_id"], image["event_id"], file["event_id"]}
    while wanted:
        redaction, _ = await matrix_alice.wait_for_event(room, lambda e: redacts(e) in wanted)
        wanted.discard(redacts(redaction))  # type: ignore[arg-type]
    assert await stack.bridge.ctx.stores.messages.by_discord(MessageID(message.id)) == []  # type: ignore[union-attr]


async def test_discord_attachment_without_text_is_part_one(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    name = f"report-{uuid.uuid4().hex[:6]}.pdf"
    message = await discord_bob.send_files(PUBLIC, None, [(name, b"%PDF-1.4 tiny")])
    event, _ = await matrix_alice.wait_for_event(room, is_message(lambda c: c.get("body") == name))
    assert event["content"]["msgtype"] == "m.file"
    assert event["content"]["info"] == {"mimetype": "application/pdf", "size": 13}
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_discord(MessageID(message.id)))
    assert [(r.part, r.event_id) for r in rows] == [(1, event["event_id"])]


async def test_discord_sticker_and_embed(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    title = unique("Meeting")
    embed = discord.Embed(title=title, url="https://example.org/m", description="Agenda")
    embed.add_field(name="Where", value="Town hall")
    await discord_bob.send_files(PUBLIC, None, stickers=[discord.Object(STICKER)], embed=embed)
    sticker, _ = await matrix_alice.wait_for_event(room, lambda e: e["type"] == "m.sticker")
    assert sticker["content"]["body"] == "Wave"
    assert (
        sticker["content"]["info"]["w"] == 320
        and sticker["content"]["info"]["mimetype"] == "image/png"
    )
    data, _ = await matrix_alice.download(sticker["content"]["url"])
    assert data.startswith(b"\x89PNG")
    notice, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: title in c.get("body", ""))
    )
    assert notice["content"]["msgtype"] == "m.notice"
    assert '<a href="https://example.org/m">' in notice["content"]["formatted_body"]
    assert "Where: Town hall" in notice["content"]["body"]


async def test_matrix_image_reaches_discord_as_upload(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    png = solid_png((20, 120, 220), size=72)
    name = f"photo-{uuid.uuid4().hex[:6]}.png"
    mxc = await matrix_alice.upload(png, "image/png", name)
    event_id = await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.image",
            "body": name,
            "filename": name,
            "url": mxc,
            "info": {"mimetype": "image/png", "size": len(png), "w": 72, "h": 72},
        },
    )
    message, _ = await discord_bob.wait_for_message(
        lambda m: bool(m.attachments) and m.attachments[0].filename == name
    )
    assert message.webhook_id is not None and message.author.name == "Alice Liddell (Matrix)"
    att = message.attachments[0]
    assert (att.size, att.width, att.height, att.content_type) == (len(png), 72, 72, "image/png")
    assert await att.read() == png
    rows = await rows_of_event(stack, event_id)
    assert [(r.discord_message_id, r.origin) for r in rows] == [(message.id, "matrix")]


async def test_matrix_file_over_the_limit_becomes_a_link(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    big = os.urandom(1536 * 1024)  # 1.5 MiB, over a 1 MiB limit
    name = f"archive-{uuid.uuid4().hex[:6]}.zip"
    mxc = await matrix_alice.upload(big, "application/zip", name)
    with bridge_settings(
        stack, discord_upload_limit_mb=1, public_media_url="https://matrix.example.org"
    ):
        # No info.size: the bridge only learns the size while downloading (capped).
        event_id = await matrix_alice.send_content(
            room, {"msgtype": "m.file", "body": name, "url": mxc}
        )
        message, _ = await discord_bob.wait_for_message(lambda m: name in m.content)
    assert message.attachments == []
    link = media_link("https://matrix.example.org", stack.bridge.ctx.media_key, mxc, name)  # type: ignore[union-attr]
    assert message.content == f"📎 {name} (too large for Discord): <{link}>"
    # The link is the bridge's own signed media endpoint: fetch it through the bridge.
    path = link.removeprefix("https://matrix.example.org")  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        async with session.get(stack.config.appservice.public_url + path) as resp:  # type: ignore[union-attr]
            assert resp.status == 200 and await resp.read() == big
    rows = await rows_of_event(stack, event_id)
    assert [r.discord_message_id for r in rows] == [message.id]


async def test_discord_edit_removing_an_attachment_redacts_it_on_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """The author took a photo back: it goes from Matrix too, and the text is not
    marked edited; a later text edit still arrives as an m.replace."""
    room = await portal_room(stack, PUBLIC)
    text = unique("two photos")
    keep_png = solid_png((10, 120, 10), size=24)
    oops_png = solid_png((120, 10, 10), size=24)
    message = await discord_bob.send_files(
        PUBLIC, text, [("keep.png", keep_png), ("oops.png", oops_png)]
    )
    first, _ = await matrix_alice.wait_for_event(room, is_message(lambda c: c.get("body") == text))
    keep, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("filename") == "keep.png")
    )
    oops, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("filename") == "oops.png")
    )
    kept = next(a for a in message.attachments if a.filename == "keep.png")
    await message.edit(attachments=[kept])
    redaction, _ = await matrix_alice.wait_for_event(room, lambda e: redacts(e) == oops["event_id"])
    assert redaction["content"].get("reason") == "Attachment removed on Discord"
    await message.edit(content=f"{text} (updated)", attachments=[kept])

    def replaces_first(e: dict[str, Any]) -> bool:
        relates = e["content"].get("m.relates_to", {})
        return (
            relates.get("rel_type") == "m.replace" and relates.get("event_id") == first["event_id"]
        )

    # The first m.replace of the text is the real edit: none was sent for the removal.
    edit, _ = await matrix_alice.wait_for_event(room, replaces_first)
    assert edit["content"]["m.new_content"]["body"] == f"{text} (updated)"
    # Only the removed photo was redacted; the message map forgot it.
    assert not any(
        redacts(e) in (keep["event_id"], first["event_id"]) for _, e in matrix_alice._backlog
    )
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await stores.messages.by_discord(MessageID(message.id))
    assert [r.event_id for r in rows] == [first["event_id"], keep["event_id"]]
