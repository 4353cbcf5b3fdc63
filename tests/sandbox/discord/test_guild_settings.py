"""Guild settings: seeded icons on the CDN, ``PATCH /guilds/{id}`` (name, description, icon
as image data) validated against the OpenAPI spec, GUILD_UPDATE, the ``update_guild``
control, and a discord.py client reading the new icon."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.png import SIGNATURE, colour_for, solid_png
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_moderation import collect, next_of
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import (
    ALICE,
    BOB,
    BOT,
    GUILD,
    GUILD2,
    TOKENS,
    make_seed,
    with_second_guild,
)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(with_second_guild(make_seed()), validate_responses=True)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.contract_violations == []


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


async def fetch(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


async def test_seeded_icon_and_patch_guild(api: Api, contract: Contract, emu: Emulator) -> None:
    second = await call(api, contract, "GET", f"/guilds/{GUILD2}")
    icon = second["icon"]
    assert isinstance(icon, str) and len(icon) == 32
    listed = await call(api, contract, "GET", "/users/@me/guilds")
    assert {g["id"]: g["icon"] for g in listed} == {GUILD: None, GUILD2: icon}
    status, body, ctype = await fetch(f"{emu.cdn_url}/icons/{GUILD2}/{icon}.png?size=1024")
    assert (status, ctype) == (200, "image/png") and body.startswith(SIGNATURE)
    assert (await fetch(f"{emu.cdn_url}/icons/{GUILD2}/{icon}.webp"))[0] == 200
    assert (await fetch(f"{emu.cdn_url}/icons/{GUILD2}/{'0' * 32}.png"))[0] == 404
    assert (await fetch(f"{emu.cdn_url}/icons/{GUILD}/{icon}.png"))[0] == 404

    path = f"/guilds/{GUILD}"
    status, err, _ = await api.call("PATCH", path, TOKENS[BOB], json={"name": "Mine"})
    assert (status, err["code"]) == (403, 50013)
    for bad in ({"name": "x"}, {"description": "d" * 301}, {"icon": "data:image/png;base64,!"}):
        err = await call(api, contract, "PATCH", path, json=bad, expect=400)
        assert err["code"] == 50035 and next(iter(err["errors"])) in bad
    err = await call(
        api, contract, "PATCH", path, json={"icon": data_uri(b"not a picture")}, expect=400
    )
    assert err["errors"]["icon"]["_errors"][0]["message"].startswith("IMAGE_INVALID")
    picture = solid_png(colour_for("test"), size=32)
    patched = await call(
        api,
        contract,
        "PATCH",
        path,
        json={
            "name": "Campaign HQ (new)",
            "description": "Where it happens",
            "icon": data_uri(picture),
        },
    )
    assert patched["name"] == "Campaign HQ (new)" and patched["description"] == "Where it happens"
    new_icon = patched["icon"]
    assert len(new_icon) == 32
    status, body, ctype = await fetch(f"{emu.cdn_url}/icons/{GUILD}/{new_icon}.png")
    assert (status, body, ctype) == (200, picture, "image/png")
    assert (await call(api, contract, "GET", path))["icon"] == new_icon
    [entry] = [e for e in emu.audit_log(GUILD) if e["action_type"] == 1]
    assert entry["target_id"] == GUILD and entry["user_id"] == BOT
    assert entry["changes"] == [
        {"key": "name", "old_value": "Campaign HQ", "new_value": "Campaign HQ (new)"},
        {"key": "description", "new_value": "Where it happens"},
        {"key": "icon_hash", "new_value": new_icon},
    ]
    cleared = await call(api, contract, "PATCH", path, json={"icon": None, "description": None})
    assert cleared["icon"] is None and cleared["description"] is None
    assert (await fetch(f"{emu.cdn_url}/icons/{GUILD}/{new_icon}.png"))[0] == 404


async def test_discordpy_sees_guild_updates(emu: Emulator, start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(TOKENS[ALICE])
    events = collect(bot.client, "on_guild_update")
    guild = bot.client.get_guild(int(GUILD2))
    assert guild is not None and guild.icon is not None
    seeded = await guild.icon.read()  # Asset.BASE is the emulator's /cdn
    assert seeded.startswith(SIGNATURE)
    # In the Discord client (the control) ...
    emu.update_guild(GUILD2, name="Second Front (renamed)", new_icon=True)
    before, after = await next_of(events["on_guild_update"])
    assert (before.name, after.name) == ("Second Front", "Second Front (renamed)")
    assert after.icon is not None and after.icon.key != before.icon.key
    drawn = await after.icon.read()
    assert drawn.startswith(SIGNATURE) and drawn != seeded
    emu.update_guild(GUILD2, description="Now with a description")
    _, after = await next_of(events["on_guild_update"])
    assert after.description == "Now with a description"
    emu.update_guild(GUILD2, name="Second Front (renamed)")  # unchanged: no GUILD_UPDATE
    # ... and with discord.py's Guild.edit (the owner, alice).
    owned = alice.client.get_guild(int(GUILD2))
    assert owned is not None
    picture = solid_png(colour_for("edit"), size=16)
    await owned.edit(name="Second Front HQ", icon=picture)
    _, after = await next_of(events["on_guild_update"])
    assert after.name == "Second Front HQ" and after.icon is not None
    assert await after.icon.read() == picture
