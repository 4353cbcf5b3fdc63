"""Forwards and voice messages on the emulator, as Discord does them, every response
checked against Discord's OpenAPI spec (and the bridge's voice send through discord.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import discord
import pytest

from bridge.model import DiscordSend, DiscordVoice
from bridge.transport.discord_voice import send_voice
from sandbox.discord.openapi import Contract
from sandbox.discord.png import solid_png
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, pointed_at
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import ALICE, BOB, CAMPAIGN, GUILD, MEMBERS, TOKENS

OGG = b"OggS\x00\x02" + b"\x00" * 40
WAVE = base64.b64encode(bytes([10, 200, 255, 30])).decode()


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def form(payload: dict[str, Any], data: bytes, filename: str, ctype: str) -> aiohttp.FormData:
    out = aiohttp.FormData(quote_fields=False)
    out.add_field("payload_json", json.dumps(payload), content_type="application/json")
    out.add_field("files[0]", data, filename=filename, content_type=ctype)
    return out


def forward_of(message: dict[str, Any], channel: str = MEMBERS) -> dict[str, Any]:
    return {
        "message_reference": {
            "type": 1,
            "message_id": message["id"],
            "channel_id": channel,
            "guild_id": GUILD,
        }
    }


async def test_forward_carries_a_snapshot(api: Api, contract: Contract, emu: Emulator) -> None:
    png = solid_png((1, 2, 3), size=16)
    original = await call(
        api,
        contract,
        "POST",
        f"/channels/{MEMBERS}/messages",
        TOKENS[ALICE],
        data=form({"content": "the **plan**"}, png, "plan.png", "image/png"),
    )
    fwd = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        TOKENS[ALICE],
        json=forward_of(original),
    )
    assert fwd["content"] == "" and fwd["type"] == 0 and fwd["flags"] & (1 << 14)
    assert fwd["message_reference"] == {
        "type": 1,
        "channel_id": MEMBERS,
        "message_id": original["id"],
        "guild_id": GUILD,
    }
    (snap,) = fwd["message_snapshots"]
    assert snap["message"]["content"] == "the **plan**"
    assert [a["filename"] for a in snap["message"]["attachments"]] == ["plan.png"]
    assert snap["message"]["timestamp"] == original["timestamp"]
    assert "author" not in snap["message"] and "id" not in snap["message"]
    got = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{fwd['id']}")
    assert got["message_snapshots"] == fwd["message_snapshots"]


async def test_forward_needs_to_see_the_original(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    original = await call(
        api,
        contract,
        "POST",
        f"/channels/{MEMBERS}/messages",
        TOKENS[ALICE],
        json={"content": "members only"},
    )
    # Bob cannot see #members: he cannot forward out of it.
    denied = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        TOKENS[BOB],
        expect=403,
        json=forward_of(original),
    )
    assert denied["code"] == 50001
    unknown = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        TOKENS[ALICE],
        expect=400,
        json=forward_of({"id": "1"}),
    )
    assert unknown["code"] == 50035
    wrong_channel = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        TOKENS[ALICE],
        expect=400,
        json=forward_of(original, CAMPAIGN),
    )
    assert wrong_channel["code"] == 50035


def voice_payload(**extra: Any) -> dict[str, Any]:
    meta = {"id": 0, "filename": "voice-message.ogg", "duration_secs": 2.5, "waveform": WAVE}
    return {"flags": 1 << 13, "attachments": [meta], **extra}


async def test_voice_message_is_validated_like_discord(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    path = f"/channels/{CAMPAIGN}/messages"
    ok = await call(
        api,
        contract,
        "POST",
        path,
        TOKENS[ALICE],
        data=form(voice_payload(), OGG, "voice-message.ogg", "application/octet-stream"),
    )
    assert ok["flags"] == 1 << 13 and ok["content"] == ""
    (att,) = ok["attachments"]
    assert (att["duration_secs"], att["waveform"], att["content_type"]) == (
        2.5,
        WAVE,
        "audio/ogg",
    )
    refused = [
        (voice_payload(content="hello"), OGG, "v.ogg", 50159),
        (voice_payload(), solid_png((1, 1, 1)), "v.png", 50160),
        (voice_payload(), b"ID3\x03" + b"\x00" * 20, "v.ogg", 50160),
        ({"flags": 1 << 13, "attachments": [{"id": 0}]}, OGG, "v.ogg", 50161),
        (
            voice_payload(attachments=[{"id": 0, "duration_secs": 2, "waveform": "!!"}]),
            OGG,
            "v.ogg",
            50161,
        ),
    ]
    for payload, data, name, code in refused:
        body = await call(
            api,
            contract,
            "POST",
            path,
            TOKENS[ALICE],
            expect=400,
            data=form(payload, data, name, "application/octet-stream"),
        )
        assert body["code"] == code, (payload, body)
    # Bob has no SEND_VOICE_MESSAGES in this guild.
    await call(
        api,
        contract,
        "POST",
        path,
        TOKENS[BOB],
        expect=403,
        data=form(voice_payload(), OGG, "v.ogg", "audio/ogg"),
    )
    edited = await call(
        api,
        contract,
        "PATCH",
        f"{path}/{ok['id']}",
        TOKENS[ALICE],
        expect=400,
        json={"content": "now with text"},
    )
    assert edited["code"] == 50162


async def test_bridge_sends_a_voice_message_through_a_webhook(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    hook = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/webhooks", json={"name": "Relay"}
    )
    send = DiscordSend(
        content="",
        username="Alice (Matrix)",
        files=(("Voice message.ogg", OGG, False),),
        voice=DiscordVoice(duration_secs=3.2, waveform=WAVE),
    )
    with pointed_at(emu):
        async with aiohttp.ClientSession() as session:
            webhook = discord.Webhook.partial(int(hook["id"]), hook["token"], session=session)
            message_id = await send_voice(webhook, send, None)
    got = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{message_id}")
    assert got["flags"] & (1 << 13) and got["author"]["username"] == "Alice (Matrix)"
    (att,) = got["attachments"]
    assert att["duration_secs"] == 3.2 and att["waveform"] == WAVE
    assert att["filename"] == "Voice message.ogg"
