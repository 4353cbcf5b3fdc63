"""Forwards and voice messages through Synapse + the emulator + the bridge (issue 15)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import discord
import pytest
from mautrix.types import PaginationDirection

from bridge.ids import MessageID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.png import solid_png
from sandbox.stack import SandboxStack
from tests.e2e.test_media import is_message
from tests.e2e.test_relay_text import MEMBERS, PUBLIC, portal_room, unique
from tests.e2e.waits import recorded

pytestmark = pytest.mark.e2e

# Long enough for the loaded shared machine.
WAIT = 30
# An OGG page header and some bytes: what the emulator (like Discord) checks of a voice file.
OGG = b"OggS\x00\x02" + bytes(range(200))
WAVE = bytes([0, 40, 120, 255, 200, 90, 10])


@pytest.fixture(scope="module")
async def discord_alice(stack: SandboxStack) -> AsyncIterator[DiscordUser]:
    """Alice on Discord: the guild owner (sees #members, may send voice messages)."""
    token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    user = DiscordUser(stack.emulator.api_base, token)  # type: ignore[union-attr]
    await user.start()
    yield user
    await user.close()


async def _channel(user: DiscordUser, channel_id: int) -> discord.TextChannel:
    channel = user.client.get_channel(channel_id) or await user.client.fetch_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_forward_from_a_public_channel_shows_text_image_and_origin(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    text = unique("Meeting moved to **Thursday**")
    png = solid_png((20, 120, 220), size=32)
    original = await discord_bob.send_files(PUBLIC, text, [("plan.png", png)])
    first, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("body") == text), WAIT
    )
    await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("filename") == "plan.png"), WAIT
    )
    forward = await original.forward(await _channel(discord_bob, PUBLIC))
    assert forward.message_snapshots  # discord.py read the emulator's snapshot
    quoted, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("body", "").startswith("↪️ Forwarded from #campaign")), WAIT
    )
    content = quoted["content"]
    link = (
        f"https://matrix.to/#/{quote(room, safe='!:')}/{quote(first['event_id'], safe='$:._-=~')}"
    )
    assert link in content["body"]
    assert f"> {text}" in content["body"]
    assert f'href="{link}"' in content["formatted_body"]
    assert "<strong>Thursday</strong>" in content["formatted_body"]
    image, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: c.get("filename") == "plan.png"), WAIT
    )
    assert (await matrix_alice.download(image["content"]["url"]))[0] == png
    ghost = stack.config.namer.ghost_mxid(discord_bob.client.user.id)  # type: ignore[union-attr]
    assert quoted["sender"] == image["sender"] == ghost
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_discord(MessageID(forward.id)), 2)
    assert [(r.part, r.event_id) for r in rows] == [
        (0, quoted["event_id"]),
        (1, image["event_id"]),
    ]


async def test_forward_out_of_the_members_only_channel_shows_no_content(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_alice: DiscordUser
) -> None:
    public_room = await portal_room(stack, PUBLIC)
    members_room = await portal_room(stack, MEMBERS)
    secret = unique("members-only plan")
    original = await discord_alice.send_files(
        MEMBERS, secret, [("secret.png", solid_png((1, 1, 1)))]
    )
    await matrix_alice.wait_for_event(
        members_room, is_message(lambda c: c.get("body") == secret), WAIT
    )
    forward = await original.forward(await _channel(discord_alice, PUBLIC))
    notice, _ = await matrix_alice.wait_for_event(
        public_room,
        is_message(lambda c: "forwarded message from a members-only channel" in c.get("body", "")),
        WAIT,
    )
    assert notice["content"]["body"] == "↪️ A forwarded message from a members-only channel"
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_discord(MessageID(forward.id)))
    assert [(r.part, r.event_id) for r in rows] == [(0, notice["event_id"])]  # no file
    # Nothing of it anywhere in the public room.
    history = await matrix_alice.client.get_messages(
        public_room, PaginationDirection.BACKWARD, limit=30
    )
    seen = json.dumps([e.serialize() for e in history.events])
    assert secret not in seen and "secret.png" not in seen and members_room not in seen


async def test_discord_voice_message_becomes_an_element_voice_message(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_alice: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    payload = {
        "flags": 1 << 13,
        "attachments": [
            {
                "id": 0,
                "filename": "voice-message.ogg",
                "duration_secs": 3.25,
                "waveform": base64.b64encode(WAVE).decode(),
            }
        ],
    }
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    form.add_field("files[0]", OGG, filename="voice-message.ogg", content_type="audio/ogg")
    api = stack.emulator.api_base  # type: ignore[union-attr]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{api}/channels/{PUBLIC}/messages", data=form, headers={"Authorization": token}
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
        posted = await resp.json()
    event, _ = await matrix_alice.wait_for_event(
        room, is_message(lambda c: "org.matrix.msc3245.voice" in c), WAIT
    )
    content: dict[str, Any] = event["content"]
    assert content["msgtype"] == "m.audio" and content["org.matrix.msc3245.voice"] == {}
    assert content["info"]["duration"] == 3250 and content["info"]["mimetype"] == "audio/ogg"
    assert content["org.matrix.msc1767.audio"] == {
        "duration": 3250,
        "waveform": [round(b * 1024 / 255) for b in WAVE],
    }
    assert (await matrix_alice.download(content["url"]))[0] == OGG
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_discord(MessageID(int(posted["id"]))))
    assert [r.event_id for r in rows] == [event["event_id"]]


async def test_element_voice_message_reaches_discord_as_a_voice_message(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    mxc = await matrix_alice.upload(OGG, "audio/ogg", "Voice message.ogg")
    # What Element sends for a voice message.
    await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.audio",
            "body": "Voice message",
            "url": mxc,
            "filename": "Voice message.ogg",
            "info": {"mimetype": "audio/ogg", "size": len(OGG), "duration": 2400},
            "org.matrix.msc1767.audio": {"duration": 2400, "waveform": [0, 256, 1024, 512]},
            "org.matrix.msc3245.voice": {},
            "org.matrix.msc1767.text": "Voice message",
        },
    )
    message, _ = await discord_bob.wait_for_message(
        lambda m: m.channel.id == PUBLIC and m.flags.voice and m.webhook_id is not None,
        WAIT,
    )
    assert message.content == "" and message.webhook_id is not None
    assert message.author.name == "Alice Liddell (Matrix)"
    (attachment,) = message.attachments
    assert attachment.filename == "Voice message.ogg"
    assert attachment.duration == 2.4
    assert attachment.waveform == bytes([0, 64, 255, 128])
    assert attachment.is_voice_message()
    assert await attachment.read() == OGG
