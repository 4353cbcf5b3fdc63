"""Attachments (bot, user and webhook uploads), stickers and embeds on the emulator,
every response checked against Discord's OpenAPI spec."""

from __future__ import annotations

import io
import json

import aiohttp
import discord
import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.png import solid_png
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import ALICE_TOKEN, call
from tests.sandbox.discord.world import BOT, CAMPAIGN, GUILD, LOTTIE_STICKER, STICKER, TOKENS


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def image_form(
    payload: dict[str, object], data: bytes, filename: str, ctype: str
) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    form.add_field("files[0]", data, filename=filename, content_type=ctype)
    return form


async def fetch(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


async def test_image_attachment_has_dimensions_and_is_served(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    png = solid_png((10, 200, 30), size=48)
    form = image_form({"content": "pic"}, png, "pic.png", "application/octet-stream")
    msg = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/messages", data=form)
    att = msg["attachments"][0]
    assert (att["width"], att["height"], att["size"]) == (48, 48, len(png))
    assert att["content_type"] == "image/png"  # guessed from the name, as Discord does
    status, body, ctype = await fetch(att["url"])
    assert (status, body, ctype) == (200, png, "image/png")


async def test_webhook_execute_with_file(api: Api, contract: Contract, emu: Emulator) -> None:
    hook = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/webhooks", json={"name": "Relay"}
    )
    form = image_form({"username": "Alice"}, b"%PDF-1.7 tiny", "doc.pdf", "application/pdf")
    msg = await call(
        api, contract, "POST", f"/webhooks/{hook['id']}/{hook['token']}?wait=true", None, data=form
    )
    att = msg["attachments"][0]
    assert msg["content"] == "" and msg["author"]["username"] == "Alice"
    assert att["filename"] == "doc.pdf" and "width" not in att
    assert await fetch(att["url"]) == (200, b"%PDF-1.7 tiny", "application/pdf")


async def test_stickers(api: Api, contract: Contract, emu: Emulator) -> None:
    guild = await call(api, contract, "GET", f"/guilds/{GUILD}")
    assert [s["name"] for s in guild["stickers"]] == ["Wave", "Party Parrot"]
    msg = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        json={"sticker_ids": [STICKER, LOTTIE_STICKER]},
    )
    assert msg["sticker_items"] == [
        {"id": STICKER, "name": "Wave", "format_type": 1},
        {"id": LOTTIE_STICKER, "name": "Party Parrot", "format_type": 3},
    ]
    await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        json={"sticker_ids": ["42"]},
        expect=400,
    )
    status, body, ctype = await fetch(f"{emu.cdn_url}/stickers/{STICKER}.png")
    assert status == 200 and ctype == "image/png" and body.startswith(b"\x89PNG")
    status, body, ctype = await fetch(f"{emu.cdn_url}/stickers/{LOTTIE_STICKER}.json")
    assert status == 200 and ctype == "application/json" and json.loads(body)["w"] == 320
    assert (await fetch(f"{emu.cdn_url}/stickers/{LOTTIE_STICKER}.png"))[0] == 404


async def test_embeds_pass_through(api: Api, contract: Contract) -> None:
    embed = {
        "title": "Meeting",
        "url": "https://example.org/m",
        "description": "Agenda",
        "fields": [{"name": "Where", "value": "Hall", "inline": True}],
        "footer": {"text": "RSVP"},
        "image": {"url": "https://example.org/map.png"},
    }
    msg = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/messages", json={"embeds": [embed]}
    )
    got = msg["embeds"][0]
    assert got["type"] == "rich" and got["title"] == "Meeting"
    assert got["fields"] == [{"name": "Where", "value": "Hall", "inline": True}]
    assert (
        got["footer"] == {"text": "RSVP"} and got["image"]["url"] == "https://example.org/map.png"
    )


async def test_discordpy_sees_attachments_and_stickers(
    emu: Emulator, start_client: StartClient
) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(ALICE_TOKEN)
    channel = alice.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    png = solid_png((1, 2, 3), size=16)
    await channel.send(
        "hi",
        file=discord.File(io.BytesIO(png), "p.png"),
        stickers=[discord.Object(int(STICKER))],  # type: ignore[list-item]
    )
    seen = await bot.next_message()
    assert [(a.filename, a.width, a.height, a.content_type) for a in seen.attachments] == [
        ("p.png", 16, 16, "image/png")
    ]
    assert await seen.attachments[0].read() == png
    assert [(s.name, s.format) for s in seen.stickers] == [("Wave", discord.StickerFormatType.png)]
    assert str(seen.stickers[0].url) == f"{emu.cdn_url}/stickers/{STICKER}.png"
