"""Media relay decisions with fake networks and a real (SQLite) message map."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge.actions.d2m_delete import relay_discord_deletion
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.portals import ensure_portal
from bridge.ids import EventID, MessageID, RoomID, UserID
from bridge.media_links import media_link
from bridge.model import (
    DiscordAttachment,
    DiscordDeletion,
    DiscordSticker,
    MatrixMessage,
)
from sandbox.discord.png import solid_png
from tests.actions.fakes import CHANNEL, GUILD, fake_context
from tests.actions.test_relay_actions import discord_msg

PNG = solid_png((1, 2, 3), size=20)
IMAGE = DiscordAttachment(11, "pic.png", "https://cdn.test/pic.png", "image/png", len(PNG))
DOC = DiscordAttachment(12, "doc.pdf", "https://cdn.test/doc.pdf", "application/pdf", 4)
GONE = DiscordAttachment(13, "gone.zip", "https://cdn.test/gone.zip", "application/zip", 9)


async def test_d2m_text_then_each_attachment_as_its_own_part(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[IMAGE.url] = (PNG, "image/png")
        matrix.web[DOC.url] = (b"%PDF", "application/pdf")
        first = await relay_discord_message(
            ctx, discord_msg(1, "look", attachments=(IMAGE, DOC, GONE))
        )
        assert first == "$ev1"
        media = [m for _, _, m, _ in matrix.media_sent]
        assert [(m.msgtype, m.filename, m.size) for m in media] == [
            ("m.image", "pic.png", len(PNG)),
            ("m.file", "doc.pdf", 4),
        ]
        assert (media[0].width, media[0].height) == (20, 20)  # measured on the bytes
        assert matrix.media[media[0].url] == PNG
        # The attachment that could not be fetched is a link notice.
        assert matrix.sent[-1][2].msgtype == "m.notice" and "gone.zip" in matrix.sent[-1][2].body
        rows = await ctx.stores.messages.by_discord(MessageID(1))
        assert [r.part for r in rows] == [0, 1, 2, 3]
        assert len({r.event_id for r in rows}) == 4
        redacted = await relay_discord_deletion(
            ctx, DiscordDeletion(CHANNEL, GUILD, (MessageID(1),))
        )
        assert sorted(redacted) == sorted(r.event_id for r in rows)


async def test_d2m_upload_refused_by_the_homeserver_becomes_a_link(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[IMAGE.url] = (PNG, "image/png")
        matrix.web[DOC.url] = (b"%PDF", "application/pdf")
        matrix.upload_limit = 10  # the picture is bigger than that, the PDF is not
        await relay_discord_message(ctx, discord_msg(3, "two files", attachments=(IMAGE, DOC)))
        media = [m for _, _, m, _ in matrix.media_sent]
        assert [m.filename for m in media] == ["doc.pdf"]  # the rest still crosses
        notices = [t for _, _, t, _ in matrix.sent if t.msgtype == "m.notice"]
        assert len(notices) == 1 and "pic.png" in notices[0].body
        assert "too large for this homeserver" in notices[0].body
        rows = await ctx.stores.messages.by_discord(MessageID(3))
        assert [r.part for r in rows] == [0, 1, 2]


async def test_d2m_media_only_starts_at_part_one_and_stickers(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[IMAGE.url] = (PNG, "image/png")
        matrix.web["https://cdn.test/st.png"] = (PNG, "image/png")
        stickers = (
            DiscordSticker(5, "Wave", 1, "https://cdn.test/st.png"),
            DiscordSticker(6, "Parrot", 3, "https://cdn.test/st.json"),
        )
        await relay_discord_message(
            ctx, discord_msg(2, "", attachments=(IMAGE,), stickers=stickers)
        )
        assert [m.event_type for _, _, m, _ in matrix.media_sent] == ["m.room.message", "m.sticker"]
        assert [t.body for _, _, t, _ in matrix.sent] == ["[sticker: Parrot]"]
        rows = await ctx.stores.messages.by_discord(MessageID(2))
        assert [r.part for r in rows] == [1, 2, 3]
        # A replayed delivery is recognised.
        assert await relay_discord_message(ctx, discord_msg(2, "", attachments=(IMAGE,))) is None
        assert len(matrix.media_sent) == 2


def media_event(event: str, room: RoomID, **kw: object) -> MatrixMessage:
    fields: dict[str, object] = {
        "room_id": room,
        "event_id": EventID(event),
        "sender": UserID("@alice:example.org"),
        "msgtype": "m.image",
        "body": "photo.png",
        "url": "mxc://example.org/photo",
        "mimetype": "image/png",
    }
    fields.update(kw)
    return MatrixMessage(**fields)  # type: ignore[arg-type]


async def test_m2d_uploads_and_falls_back_to_links(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        matrix.media["mxc://example.org/photo"] = PNG
        created = await relay_matrix_message(ctx, media_event("$img", portal.room_id))
        assert len(created) == 1
        send = discord.executed[-1][1]
        assert send.files == (("photo.png", PNG, False),) and send.content == ""
        rows = await ctx.stores.messages.by_event(EventID("$img"))
        assert [r.discord_message_id for r in rows] == created
        # Declared too large: a link, nothing downloaded.
        big = media_event("$big", portal.room_id, msgtype="m.file", body="a.zip", size=11 << 20)
        await relay_matrix_message(ctx, big)
        assert discord.executed[-1][1].files == ()
        assert "a.zip (11.0 MiB, too large for Discord): open it on Matrix" in (
            discord.executed[-1][1].content
        )
        # Too large only once downloaded, with a public media URL configured.
        matrix.media["mxc://example.org/huge"] = b"x" * (2 << 20)
        ctx.config = dataclasses.replace(
            ctx.config,
            bridge=dataclasses.replace(
                ctx.config.bridge, discord_upload_limit_mb=1, public_media_url="https://hs.test"
            ),
        )
        huge = media_event("$huge", portal.room_id, body="h.bin", url="mxc://example.org/huge")
        await relay_matrix_message(ctx, huge)
        link = media_link("https://hs.test", ctx.media_key, "mxc://example.org/huge", "h.bin")
        assert link is not None and link.startswith("https://hs.test/_passerelle/media/")
        assert discord.executed[-1][1].content.endswith(f"<{link}>")
        # Missing on the homeserver: still a message naming the file.
        gone = media_event("$gone", portal.room_id, body="g.png", url="mxc://example.org/none")
        await relay_matrix_message(ctx, gone)
        assert "g.png (could not be copied)" in discord.executed[-1][1].content
