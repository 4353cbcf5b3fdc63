"""Guild custom emoji and stickers created, renamed and deleted: REST (validated against
the OpenAPI spec) with MANAGE_GUILD_EXPRESSIONS, audit entries, the test controls, and a
discord.py client following GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.png import solid_png
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_moderation import collect, next_of
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import BOB, BOT, EMOJI, GUILD, STICKER, TOKENS

EMOJIS = f"/guilds/{GUILD}/emojis"
STICKERS = f"/guilds/{GUILD}/stickers"
IMAGE = "data:image/png;base64," + base64.b64encode(solid_png((1, 2, 3), size=32)).decode()


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


async def test_emoji_rest(api: Api, contract: Contract, emu: Emulator) -> None:
    status, body, _ = await api.call(
        "POST", EMOJIS, TOKENS[BOB], json={"name": "nope", "image": IMAGE}
    )
    assert (status, body["code"]) == (403, 50013)
    status, body, _ = await api.call(
        "POST", EMOJIS, TOKENS[BOT], json={"name": "x", "image": IMAGE}
    )
    assert status == 400 and "name" in body["errors"]
    made = await call(
        api, contract, "POST", EMOJIS, json={"name": "solidarity", "image": IMAGE}, expect=201
    )
    assert made["name"] == "solidarity" and made["animated"] is False
    assert made["id"] in emu.state.guilds[GUILD].emojis
    got = await call(api, contract, "GET", f"{EMOJIS}/{made['id']}")
    assert got["name"] == "solidarity"
    renamed = await call(api, contract, "PATCH", f"{EMOJIS}/{made['id']}", json={"name": "unity"})
    assert renamed["name"] == "unity"
    # The CDN serves its image.
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.cdn_url}/emojis/{made['id']}.png") as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")
    await call(api, contract, "DELETE", f"{EMOJIS}/{made['id']}", expect=204)
    await call(api, contract, "GET", f"{EMOJIS}/{made['id']}", expect=404)
    assert [e["action_type"] for e in emu.audit_log(GUILD)][-3:] == [60, 61, 62]


async def test_sticker_rest(api: Api, contract: Contract, emu: Emulator) -> None:
    listed = await call(api, contract, "GET", STICKERS)
    assert STICKER in [s["id"] for s in listed]
    edited = await call(api, contract, "PATCH", f"{STICKERS}/{STICKER}", json={"name": "Big wave"})
    assert edited["name"] == "Big wave"
    assert (await call(api, contract, "GET", f"{STICKERS}/{STICKER}"))["name"] == "Big wave"
    await call(api, contract, "DELETE", f"{STICKERS}/{STICKER}", expect=204)
    await call(api, contract, "GET", f"{STICKERS}/{STICKER}", expect=404)


async def test_controls_reach_discord_py(emu: Emulator, start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    client = bot.client
    events = collect(client, "on_guild_emojis_update", "on_guild_stickers_update")
    guild = client.get_guild(int(GUILD))
    assert guild is not None and int(EMOJI) in [e.id for e in guild.emojis]
    new = emu.add_emoji(GUILD, "strike", animated=True)
    _, before, after = await next_of(events["on_guild_emojis_update"])
    added = {e.id: e for e in after}[int(new)]
    assert added.name == "strike" and added.animated and int(new) not in [e.id for e in before]
    emu.rename_emoji(GUILD, new, "general_strike")
    _, _, after = await next_of(events["on_guild_emojis_update"])
    assert {e.id: e.name for e in after}[int(new)] == "general_strike"
    emu.remove_emoji(GUILD, new)
    _, _, after = await next_of(events["on_guild_emojis_update"])
    assert int(new) not in [e.id for e in after]
    assert [e.id for e in client.get_guild(int(GUILD)).emojis] == [e.id for e in after]  # type: ignore[union-attr]
    sid = emu.add_sticker(GUILD, "Banner")
    _, _, stickers = await next_of(events["on_guild_stickers_update"])
    assert {s.id: s.name for s in stickers}[int(sid)] == "Banner"
    emu.remove_sticker(GUILD, sid)
    _, _, stickers = await next_of(events["on_guild_stickers_update"])
    assert int(sid) not in [s.id for s in stickers]
