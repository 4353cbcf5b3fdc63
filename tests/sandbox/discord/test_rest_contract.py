"""Every REST endpoint over real HTTP, each response checked against Discord's OpenAPI spec.

(The ``emu`` fixture also validates every response it sends and fails the test
at teardown on any violation.)
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox.discord import payloads
from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api
from tests.sandbox.discord.world import (
    ALICE,
    ANIMATED_EMOJI,
    BOB,
    BOT,
    CAMPAIGN,
    EMOJI,
    GUILD,
    MEMBER_ROLE,
    MEMBERS,
    TOKENS,
)

BOT_TOKEN = TOKENS[BOT]
ALICE_TOKEN = TOKENS[ALICE]
BOB_TOKEN = TOKENS[BOB]


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


async def call(
    api: Api,
    contract: Contract,
    method: str,
    path: str,
    token: str | None = BOT_TOKEN,
    expect: int = 200,
    **kwargs: Any,
) -> Any:
    status, body, headers = await api.call(method, path, token, **kwargs)
    assert status == expect, (method, path, status, body)
    assert contract.errors(method, path.split("?")[0], status, body) == []
    assert headers.get("X-RateLimit-Bucket")
    if body is not None:
        assert headers["Content-Type"] == "application/json"
    return body


async def test_gateway_users_and_application(api: Api, contract: Contract, emu: Emulator) -> None:
    assert (await call(api, contract, "GET", "/gateway", None))["url"].startswith("ws://")
    gw = await call(api, contract, "GET", "/gateway/bot")
    assert gw["shards"] == 1
    me = await call(api, contract, "GET", "/users/@me")
    assert me["id"] == BOT and me["bot"] is True
    alice = await call(api, contract, "GET", f"/users/{ALICE}")
    assert alice["avatar"] and alice["global_name"] == "Alice"
    await call(api, contract, "GET", "/users/42", expect=404)
    app = await call(api, contract, "GET", "/oauth2/applications/@me")
    assert app["id"] == BOT and app["bot"]["id"] == BOT
    # Every user token can log in with discord.py, which also asks for the application.
    assert (await call(api, contract, "GET", "/oauth2/applications/@me", ALICE_TOKEN))[
        "id"
    ] == ALICE
    guilds = await call(api, contract, "GET", "/users/@me/guilds", ALICE_TOKEN)
    assert [g["id"] for g in guilds] == [GUILD] and guilds[0]["owner"] is True


async def test_guild_endpoints(api: Api, contract: Contract) -> None:
    guild = await call(api, contract, "GET", f"/guilds/{GUILD}")
    assert guild["name"] == "Campaign HQ" and guild["approximate_member_count"] == 4
    channels = await call(api, contract, "GET", f"/guilds/{GUILD}/channels")
    assert [c["name"] for c in channels] == ["campaign", "members", "Lounge"]
    roles = await call(api, contract, "GET", f"/guilds/{GUILD}/roles")
    assert roles[0]["id"] == GUILD and roles[0]["name"] == "@everyone"
    members = await call(api, contract, "GET", f"/guilds/{GUILD}/members", params={"limit": "2"})
    assert [m["user"]["id"] for m in members] == [BOT, ALICE]
    rest = await call(
        api, contract, "GET", f"/guilds/{GUILD}/members", params={"limit": "10", "after": ALICE}
    )
    assert [m["user"]["id"] for m in rest] == [BOB, "2000000000000000003"]
    alice = await call(api, contract, "GET", f"/guilds/{GUILD}/members/{ALICE}")
    assert alice["nick"] == "Alice (HQ)" and alice["roles"] == [MEMBER_ROLE]
    await call(api, contract, "GET", f"/guilds/{GUILD}/members/2000000000000000004", expect=404)
    await call(api, contract, "GET", "/guilds/1", expect=404)
    channel = await call(api, contract, "GET", f"/channels/{MEMBERS}")
    assert channel["permission_overwrites"][0]["deny"] == "1024"
    await call(api, contract, "GET", "/channels/1", expect=404)


async def test_message_endpoints(api: Api, contract: Contract, emu: Emulator) -> None:
    base = f"/channels/{CAMPAIGN}/messages"
    first = await call(api, contract, "POST", base, ALICE_TOKEN, json={"content": "one"})
    assert first["author"]["id"] == ALICE and first["content"] == "one"
    second = await call(
        api, contract, "POST", base, json={"content": "two", "nonce": "n-1", "tts": False}
    )
    assert second["nonce"] == "n-1" and int(second["id"]) > int(first["id"])
    history = await call(api, contract, "GET", base)
    assert [m["content"] for m in history] == ["two", "one"]  # newest first
    got = await call(api, contract, "GET", f"{base}/{first['id']}")
    assert got == first
    edited = await call(
        api, contract, "PATCH", f"{base}/{first['id']}", ALICE_TOKEN, json={"content": "uno"}
    )
    assert edited["content"] == "uno" and edited["edited_timestamp"]
    await call(api, contract, "DELETE", f"{base}/{first['id']}", ALICE_TOKEN, expect=204)
    await call(api, contract, "GET", f"{base}/{first['id']}", expect=404)
    third = await call(api, contract, "POST", base, json={"content": "three"})
    await call(
        api,
        contract,
        "POST",
        f"{base}/bulk-delete",
        json={"messages": [second["id"], third["id"]]},
        expect=204,
    )
    assert emu.state.messages_in(CAMPAIGN) == []
    await call(api, contract, "POST", f"/channels/{CAMPAIGN}/typing", expect=204)


async def test_multipart_message_with_attachment(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(
        "payload_json",
        '{"content": "a file", "attachments": [{"id": 0, "description": "notes"}]}',
        content_type="application/json",
    )
    form.add_field("files[0]", b"hello attachment", filename="notes.txt", content_type="text/plain")
    msg = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/messages", data=form)
    att = msg["attachments"][0]
    assert att["filename"] == "notes.txt" and att["size"] == 16
    assert att["description"] == "notes"
    async with aiohttp.ClientSession() as session, session.get(att["url"]) as resp:
        assert resp.status == 200
        assert await resp.read() == b"hello attachment"
        assert resp.headers["Content-Type"].startswith("text/plain")


async def test_reactions(api: Api, contract: Contract) -> None:
    msg = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/messages", json={"content": "r"})
    path = f"/channels/{CAMPAIGN}/messages/{msg['id']}/reactions/%F0%9F%91%8D"
    await call(api, contract, "PUT", f"{path}/@me", ALICE_TOKEN, expect=204)
    users = await call(api, contract, "GET", path)
    assert [u["id"] for u in users] == [ALICE]
    seen = await call(
        api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{msg['id']}", ALICE_TOKEN
    )
    assert seen["reactions"][0]["emoji"] == {"id": None, "name": "\N{THUMBS UP SIGN}"}
    assert seen["reactions"][0]["me"] is True and seen["reactions"][0]["count"] == 1
    await call(api, contract, "DELETE", f"{path}/{ALICE}", expect=204)
    await call(api, contract, "DELETE", f"{path}/@me", ALICE_TOKEN, expect=204)


async def test_reactors_are_listed_by_user_id_and_paged(api: Api, contract: Contract) -> None:
    msg = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/messages", json={"content": "p"})
    path = f"/channels/{CAMPAIGN}/messages/{msg['id']}/reactions/%F0%9F%91%8D"
    for token in (BOB_TOKEN, BOT_TOKEN, ALICE_TOKEN):  # not in ID order
        await call(api, contract, "PUT", f"{path}/@me", token, expect=204)

    async def ids(**params: str) -> list[str]:
        users = await call(api, contract, "GET", path, params=params)
        return [u["id"] for u in users]

    assert await ids() == [BOT, ALICE, BOB]  # ascending user ID, as discord.py pages them
    assert await ids(limit="2") == [BOT, ALICE]
    assert await ids(limit="2", after=ALICE) == [BOB]
    assert await ids(after=BOB) == []
    assert await ids(type="0") == [BOT, ALICE, BOB]
    assert await ids(type="1") == []  # super reactions: none in the emulator
    for bad in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"type": "2"}):
        refused = await call(api, contract, "GET", path, params=bad, expect=400)
        assert refused["code"] == 50035
    # Without READ_MESSAGE_HISTORY (65536) nobody's reactions are listed.
    await call(
        api,
        contract,
        "PUT",
        f"/channels/{CAMPAIGN}/permissions/{BOB}",
        json={"type": 1, "allow": "0", "deny": "65536"},
        expect=204,
    )
    assert (await call(api, contract, "GET", path, BOB_TOKEN, expect=403))["code"] == 50001
    await call(api, contract, "DELETE", f"/channels/{CAMPAIGN}/permissions/{BOB}", expect=204)
    assert len(await call(api, contract, "GET", path, BOB_TOKEN)) == 3
    # The message's summary counts them all, ``me`` as the viewer sees it.
    seen = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{msg['id']}")
    (summary,) = seen["reactions"]
    assert summary["count"] == 3 and summary["count_details"] == {"burst": 0, "normal": 3}
    assert summary["me"] is True


async def test_custom_emoji_reactions_and_cdn(api: Api, contract: Contract, emu: Emulator) -> None:
    guild = await call(api, contract, "GET", f"/guilds/{GUILD}")
    assert [(e["id"], e["name"], e["animated"]) for e in guild["emojis"]] == [
        (EMOJI, "passerelle", False),
        (ANIMATED_EMOJI, "wave_anim", True),
    ]
    listed = await call(api, contract, "GET", f"/guilds/{GUILD}/emojis")
    assert [e["id"] for e in listed] == [EMOJI, ANIMATED_EMOJI]
    msg = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/messages", json={"content": "c"})
    base = f"/channels/{CAMPAIGN}/messages/{msg['id']}/reactions"
    await call(api, contract, "PUT", f"{base}/wave_anim:{ANIMATED_EMOJI}/@me", expect=204)
    # Custom emoji are keyed by id: another name for the same id is the same reaction.
    await call(
        api, contract, "PUT", f"{base}/renamed:{ANIMATED_EMOJI}/@me", ALICE_TOKEN, expect=204
    )
    users = await call(api, contract, "GET", f"{base}/wave_anim:{ANIMATED_EMOJI}")
    assert [u["id"] for u in users] == [BOT, ALICE]
    seen = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{msg['id']}")
    assert seen["reactions"][0]["emoji"] == {
        "id": ANIMATED_EMOJI,
        "name": "wave_anim",
        "animated": True,
    }
    unknown = await call(api, contract, "PUT", f"{base}/nope:42/@me", expect=400)
    assert unknown["code"] == 10014
    # Clearing one emoji, then all (MANAGE_MESSAGES: the bot is an administrator).
    await call(api, contract, "PUT", f"{base}/%F0%9F%91%8D/@me", expect=204)
    await call(api, contract, "DELETE", f"{base}/wave_anim:{ANIMATED_EMOJI}", BOB_TOKEN, expect=403)
    await call(api, contract, "DELETE", f"{base}/wave_anim:{ANIMATED_EMOJI}", expect=204)
    assert await call(api, contract, "GET", f"{base}/wave_anim:{ANIMATED_EMOJI}") == []
    await call(api, contract, "DELETE", base, expect=204)
    seen = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{msg['id']}")
    assert "reactions" not in seen or seen["reactions"] == []
    async with aiohttp.ClientSession() as session:
        for name in (f"{EMOJI}.png", f"{ANIMATED_EMOJI}.gif", f"{EMOJI}.webp"):
            async with session.get(f"{emu.cdn_url}/emojis/{name}") as resp:
                assert resp.status == 200
                assert (await resp.read()).startswith(b"\x89PNG")
        async with session.get(f"{emu.cdn_url}/emojis/42.png") as resp:
            assert resp.status == 404


async def test_webhook_endpoints(api: Api, contract: Contract, emu: Emulator) -> None:
    hook = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/webhooks", json={"name": "Passerelle"}
    )
    assert hook["type"] == 1 and hook["token"] and hook["application_id"] == BOT
    assert hook["user"]["id"] == BOT
    hid, tok = hook["id"], hook["token"]
    assert [
        h["id"] for h in await call(api, contract, "GET", f"/channels/{CAMPAIGN}/webhooks")
    ] == [hid]
    assert [h["id"] for h in await call(api, contract, "GET", f"/guilds/{GUILD}/webhooks")] == [hid]
    assert (await call(api, contract, "GET", f"/webhooks/{hid}"))["token"] == tok
    public = await call(api, contract, "GET", f"/webhooks/{hid}/{tok}", None)
    assert "token" not in public and "user" not in public
    await call(api, contract, "GET", f"/webhooks/{hid}/wrong", None, expect=401)
    renamed = await call(api, contract, "PATCH", f"/webhooks/{hid}", json={"name": "Relay"})
    assert renamed["name"] == "Relay"
    sent = await call(
        api,
        contract,
        "POST",
        f"/webhooks/{hid}/{tok}?wait=true",
        None,
        json={
            "content": "from matrix",
            "username": "Alice Liddell",
            "avatar_url": "http://example.org/a.png",
            "embeds": [{"title": "t", "fields": [{"name": "n", "value": "v"}]}],
        },
    )
    assert sent["webhook_id"] == hid and sent["application_id"] == BOT
    assert sent["author"] == payloads.webhook_author(hid, "Alice Liddell")
    assert sent["embeds"][0]["type"] == "rich"
    assert emu.state.webhook_avatar_urls[sent["id"]] == "http://example.org/a.png"
    await call(
        api, contract, "POST", f"/webhooks/{hid}/{tok}", None, json={"content": "x"}, expect=204
    )
    mpath = f"/webhooks/{hid}/{tok}/messages/{sent['id']}"
    assert (await call(api, contract, "GET", mpath, None))["content"] == "from matrix"
    edited = await call(api, contract, "PATCH", mpath, None, json={"content": "edited"})
    assert edited["content"] == "edited"
    await call(api, contract, "DELETE", mpath, None, expect=204)
    await call(api, contract, "GET", mpath, None, expect=404)
    await call(api, contract, "DELETE", f"/webhooks/{hid}", expect=204)
    await call(api, contract, "GET", f"/webhooks/{hid}", expect=404)
    other = await call(api, contract, "POST", f"/channels/{CAMPAIGN}/webhooks", json={"name": "B"})
    await call(
        api,
        contract,
        "PATCH",
        f"/webhooks/{other['id']}/{other['token']}",
        None,
        json={"name": "C"},
    )
    await call(
        api, contract, "DELETE", f"/webhooks/{other['id']}/{other['token']}", None, expect=204
    )


async def test_member_channel_and_ban_changes(api: Api, contract: Contract, emu: Emulator) -> None:
    member = await call(
        api,
        contract,
        "PATCH",
        f"/guilds/{GUILD}/members/{BOB}",
        json={"nick": "Bobby", "roles": [MEMBER_ROLE]},
    )
    assert member["nick"] == "Bobby" and member["roles"] == [MEMBER_ROLE]
    await call(
        api, contract, "DELETE", f"/guilds/{GUILD}/members/{BOB}/roles/{MEMBER_ROLE}", expect=204
    )
    await call(
        api, contract, "PUT", f"/guilds/{GUILD}/members/{BOB}/roles/{MEMBER_ROLE}", expect=204
    )
    assert emu.state.member(GUILD, BOB).roles == [MEMBER_ROLE]  # type: ignore[union-attr]
    channel = await call(
        api, contract, "PATCH", f"/channels/{CAMPAIGN}", json={"topic": "New topic"}
    )
    assert channel["topic"] == "New topic"
    await call(
        api,
        contract,
        "PUT",
        f"/channels/{CAMPAIGN}/permissions/{BOB}",
        json={"type": 1, "allow": "0", "deny": "2048"},
        expect=204,
    )
    status, body, _ = await api.call(
        "POST", f"/channels/{CAMPAIGN}/messages", TOKENS[BOB], json={"content": "x"}
    )
    assert (status, body["code"]) == (403, 50013)
    await call(api, contract, "DELETE", f"/channels/{CAMPAIGN}/permissions/{BOB}", expect=204)
    await call(api, contract, "PUT", f"/guilds/{GUILD}/bans/{BOB}", expect=204)
    bans = await call(api, contract, "GET", f"/guilds/{GUILD}/bans")
    assert [b["user"]["id"] for b in bans] == [BOB]
    assert (await call(api, contract, "GET", f"/guilds/{GUILD}/bans/{BOB}"))["user"]["id"] == BOB
    assert emu.state.member(GUILD, BOB) is None
    await call(api, contract, "DELETE", f"/guilds/{GUILD}/bans/{BOB}", expect=204)
    await call(api, contract, "GET", f"/guilds/{GUILD}/bans/{BOB}", expect=404)
    # Carol's Moderator role is above the bot's Bridge role: only the owner may kick her.
    refused = await call(
        api, contract, "DELETE", f"/guilds/{GUILD}/members/2000000000000000003", expect=403
    )
    assert refused["code"] == 50013
    await call(
        api,
        contract,
        "DELETE",
        f"/guilds/{GUILD}/members/2000000000000000003",
        ALICE_TOKEN,
        expect=204,
    )


async def test_cdn_serves_real_pngs(api: Api, emu: Emulator) -> None:
    alice = emu.state.users[ALICE]
    async with aiohttp.ClientSession() as session:
        for ext in ("png", "webp"):
            url = f"{emu.cdn_url}/avatars/{ALICE}/{alice.avatar}.{ext}?size=1024"
            async with session.get(url) as resp:
                assert resp.status == 200
                data = await resp.read()
                assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
        async with session.get(f"{emu.cdn_url}/embed/avatars/3.png") as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")
        async with session.get(f"{emu.cdn_url}/avatars/{BOB}/abc.png") as resp:
            assert resp.status == 404


async def test_emulator_records_its_own_contract_violations(
    api: Api, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With validate_responses=True a wrong payload is caught (so the e2e check means something)."""
    real = payloads.user_pii

    def broken(user: Any) -> dict[str, Any]:
        data = real(user)
        del data["discriminator"]
        return data

    monkeypatch.setattr(payloads, "user_pii", broken)
    status, _, _ = await api.call("GET", "/users/@me", BOT_TOKEN)
    assert status == 200
    assert len(emu.contract_violations) == 1
    assert "'discriminator' is a required property" in emu.contract_violations[0]
    emu.contract_violations.clear()
