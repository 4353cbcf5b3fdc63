"""Forwards and voice messages through the relay actions (fake networks, real SQLite map)."""

from __future__ import annotations

import base64
from pathlib import Path

from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.portals import ensure_portal
from bridge.convert.d2m.voice import IS_VOICE_MESSAGE
from bridge.ids import ChannelID, EventID, GuildID, MessageID, UserID
from bridge.model import DiscordAttachment, DiscordChannel, DiscordForward, MatrixMessage
from sandbox.discord.png import solid_png
from tests.actions.fakes import CHANNEL, GUILD, fake_context
from tests.actions.test_relay_actions import discord_msg

PNG = solid_png((9, 8, 7), size=12)
PLAN = DiscordAttachment(21, "plan.png", "https://cdn.test/plan.png", "image/png", len(PNG))
MEMBERS = ChannelID(4000000000000000002)  # bridged, members-only (tests.actions.fakes)
OGG = b"OggS" + b"\x00" * 60


def forward(channel: ChannelID, message: int | None, **kw: object) -> DiscordForward:
    fields: dict[str, object] = {
        "channel_id": channel,
        "guild_id": GUILD,
        "message_id": MessageID(message) if message is not None else None,
        "content": "Meeting moved to **Thursday**",
        "attachments": (PLAN,),
    }
    fields.update(kw)
    return DiscordForward(**fields)  # type: ignore[arg-type]


async def test_forward_from_a_public_channel_links_the_matrix_event(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[PLAN.url] = (PNG, "image/png")
        original = await relay_discord_message(ctx, discord_msg(1, "Meeting moved"))
        assert original is not None
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        sent = await relay_discord_message(
            ctx, discord_msg(2, "", forward=forward(CHANNEL, 1, channel_name="campaign"))
        )
        assert sent is not None
        text = matrix.sent[-1][2]
        assert text.body.startswith("↪️ Forwarded from #campaign (https://matrix.to/#/")
        assert f"{portal.room_id}/{original}" in text.body
        assert "> Meeting moved to **Thursday**" in text.body
        assert text.formatted_body is not None
        assert "<blockquote>Meeting moved to <strong>Thursday</strong></blockquote>" in (
            text.formatted_body
        )
        # The forwarded picture follows, recorded as part 1 of the forward.
        media = [m for _, _, m, _ in matrix.media_sent]
        assert [(m.msgtype, m.filename) for m in media] == [("m.image", "plan.png")]
        rows = await ctx.stores.messages.by_discord(MessageID(2))
        assert [(r.part, r.attachment_id) for r in rows] == [(0, None), (1, 21)]


async def test_forward_from_the_members_only_channel_shows_nothing_of_it(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.channels[MEMBERS] = DiscordChannel(MEMBERS, GUILD, "members", "", "members_only")
        matrix.web[PLAN.url] = (PNG, "image/png")
        members = await ensure_portal(ctx, MEMBERS)
        assert members is not None and members.access == "members_only"
        await relay_discord_message(ctx, discord_msg(1, "secret plan", channel_id=MEMBERS))
        await relay_discord_message(
            ctx, discord_msg(2, "", forward=forward(MEMBERS, 1, content="secret plan"))
        )
        text = matrix.sent[-1][2]
        assert text.body == "↪️ A forwarded message from a members-only channel"
        assert "secret" not in (text.formatted_body or "") and "members" not in text.body[:12]
        assert "4000000000000000002" not in text.body + (text.formatted_body or "")
        assert matrix.media_sent == []  # nor its files
        # Forwarded into the members-only room itself, it is shown.
        await relay_discord_message(
            ctx,
            discord_msg(
                3, "", channel_id=MEMBERS, forward=forward(MEMBERS, 1, content="secret plan")
            ),
        )
        assert "> secret plan" in matrix.sent[-1][2].body
        assert len(matrix.media_sent) == 1


async def test_forward_from_an_unbridged_channel(tmp_path: Path) -> None:
    elsewhere = ChannelID(4100000000000000009)
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(
            ctx,
            discord_msg(
                5,
                "",
                forward=forward(
                    elsewhere, 77, guild_id=GuildID(3100000000000000001), attachments=()
                ),
            ),
        )
        text = matrix.sent[-1][2]
        # Not bridged, not known to be hidden: shown, with Discord's jump link.
        assert text.body.startswith(
            "↪️ Forwarded message (https://discord.com/channels/3100000000000000001/"
            "4100000000000000009/77)"
        )
        assert "> Meeting moved" in text.body
        # A channel of the guild @everyone cannot see: nothing of it.
        await relay_discord_message(
            ctx, discord_msg(6, "", forward=forward(elsewhere, 78, origin_hidden=True))
        )
        assert matrix.sent[-1][2].body == "↪️ A forwarded message from a members-only channel"


WAVE = bytes([0, 128, 255, 64])


async def test_discord_voice_message_becomes_an_element_voice_message(tmp_path: Path) -> None:
    voice = DiscordAttachment(
        31,
        "voice-message.ogg",
        "https://cdn.test/voice.ogg",
        "audio/ogg",
        len(OGG),
        duration_secs=4.32,
        waveform=WAVE,
    )
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[voice.url] = (OGG, "audio/ogg")
        await relay_discord_message(
            ctx, discord_msg(7, "", attachments=(voice,), flags=IS_VOICE_MESSAGE)
        )
        media = matrix.media_sent[-1][2]
        content = media.to_content()
        assert content["msgtype"] == "m.audio"
        assert content["info"] == {"mimetype": "audio/ogg", "size": len(OGG), "duration": 4320}
        assert content["org.matrix.msc3245.voice"] == {}
        assert content["org.matrix.msc1767.audio"] == {
            "duration": 4320,
            "waveform": [0, 514, 1024, 257],
        }
        # The same file without the flag is an ordinary audio file.
        await relay_discord_message(ctx, discord_msg(8, "", attachments=(voice,)))
        assert "org.matrix.msc3245.voice" not in matrix.media_sent[-1][2].to_content()


def voice_event(event: str, portal_room: str, mimetype: str = "audio/ogg") -> MatrixMessage:
    return MatrixMessage(
        room_id=portal_room,  # type: ignore[arg-type]
        event_id=EventID(event),
        sender=UserID("@alice:example.org"),
        msgtype="m.audio",
        body="Voice message",
        url="mxc://example.org/voice",
        filename="Voice message.ogg",
        mimetype=mimetype,
        voice=True,
        duration_ms=2500,
        waveform=(0, 512, 1024),
    )


async def test_element_voice_message_reaches_discord_as_one(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        matrix.media["mxc://example.org/voice"] = OGG
        assert await relay_matrix_message(ctx, voice_event("$v", portal.room_id))
        send = discord.executed[-1][1]
        assert send.content == "" and send.files == (("Voice message.ogg", OGG, False),)
        assert send.voice is not None and send.voice.duration_secs == 2.5
        assert base64.b64decode(send.voice.waveform) == bytes([0, 128, 255])
        # Not OGG (Discord would refuse it as a voice message): the file and a line.
        matrix.media["mxc://example.org/voice"] = b"\x00\x00\x00\x18ftypM4A "
        await relay_matrix_message(ctx, voice_event("$m", portal.room_id, "audio/mp4"))
        send = discord.executed[-1][1]
        assert send.voice is None and send.content == "🎤 Voice message"
        assert len(send.files) == 1


async def test_an_update_of_a_forward_removes_nothing(tmp_path: Path) -> None:
    from dataclasses import replace

    from bridge.actions.d2m_edit import relay_discord_edit

    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[PLAN.url] = (PNG, "image/png")
        fwd = discord_msg(9, "", forward=forward(CHANNEL, None, channel_name="campaign"))
        await relay_discord_message(ctx, fwd)
        assert len(await ctx.stores.messages.by_discord(MessageID(9))) == 2
        # Even marked edited, the forward's own (empty) text and files are not its copy's.
        assert await relay_discord_edit(ctx, replace(fwd, edited_ms=1_700_000_100_000)) is None
        assert matrix.redactions == []


async def test_forward_from_a_thread_or_an_unopened_members_only_channel(tmp_path: Path) -> None:
    thread = ChannelID(4000000000000000777)
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.channels[MEMBERS] = DiscordChannel(MEMBERS, GUILD, "members", "", "members_only")
        # #members is configured members-only but has no portal yet: hidden all the same.
        assert await ctx.stores.portals.by_channel(MEMBERS) is None
        await relay_discord_message(
            ctx, discord_msg(10, "", forward=forward(MEMBERS, 1, content="secret"))
        )
        assert matrix.sent[-1][2].body == "↪️ A forwarded message from a members-only channel"
        # From a thread of it (Discord did not say it is hidden): its channel decides.
        await ensure_portal(ctx, MEMBERS)
        await relay_discord_message(
            ctx,
            discord_msg(
                11,
                "",
                forward=forward(thread, 2, content="secret", origin_parent_id=MEMBERS),
            ),
        )
        assert matrix.sent[-1][2].body == "↪️ A forwarded message from a members-only channel"
        assert matrix.media_sent == []
        # A thread of the public channel: shown.
        await relay_discord_message(
            ctx,
            discord_msg(
                12,
                "",
                forward=forward(
                    thread, 3, content="open", origin_parent_id=CHANNEL, attachments=()
                ),
            ),
        )
        assert "> open" in matrix.sent[-1][2].body
