"""REST semantics: auth, permissions, validation errors, history paging, mentions,
replies, fault injection and rate limits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import discord
import pytest

from sandbox.discord.server import Emulator
from sandbox.discord.snowflake import snowflake_time
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.world import (
    ALICE,
    BOB,
    BOT,
    CAMPAIGN,
    CAROL,
    DAVE,
    GUILD,
    MEMBERS,
    MOD_ROLE,
    TOKENS,
    VOICE,
)

MSGS = f"/channels/{CAMPAIGN}/messages"


async def post(api: Api, who: str, body: dict[str, Any], path: str = MSGS) -> dict[str, Any]:
    status, data, _ = await api.call("POST", path, TOKENS[who], json=body)
    assert status == 200, data
    return data  # type: ignore[no-any-return]


async def expect_error(
    api: Api, method: str, path: str, who: str | None, status: int, code: int, **kw: Any
) -> dict[str, Any]:
    got, body, headers = await api.call(method, path, TOKENS.get(who or "", who), **kw)
    assert (got, body["code"]) == (status, code), body
    assert headers["Content-Type"] == "application/json"
    return body  # type: ignore[no-any-return]


async def test_auth(api: Api) -> None:
    body = await expect_error(api, "GET", "/users/@me", "wrong-token", 401, 0)
    assert body == {"code": 0, "message": "401: Unauthorized"}
    await expect_error(api, "GET", "/users/@me", None, 401, 0)
    status, me, _ = await api.call("GET", "/users/@me", TOKENS[ALICE], bare=True)
    assert status == 200 and me["id"] == ALICE


async def test_unknown_route_and_method(api: Api) -> None:
    body = await expect_error(api, "GET", "/nothing/here", BOT, 404, 0)
    assert body["message"] == "404: Not Found"
    await expect_error(api, "PUT", "/users/@me", BOT, 405, 0)


async def test_permission_errors(api: Api) -> None:
    await expect_error(
        api, "POST", f"/channels/{MEMBERS}/messages", BOB, 403, 50001, json={"content": "x"}
    )
    await expect_error(api, "GET", f"/channels/{CAMPAIGN}", DAVE, 404, 10003)
    await expect_error(api, "GET", f"/guilds/{GUILD}", DAVE, 404, 10004)
    await expect_error(
        api, "POST", f"/channels/{CAMPAIGN}/webhooks", BOB, 403, 50013, json={"name": "h"}
    )
    await expect_error(api, "POST", f"/channels/{VOICE}/typing", DAVE, 404, 10003)
    mine = await post(api, ALICE, {"content": "alice's"})
    await expect_error(
        api, "PATCH", f"{MSGS}/{mine['id']}", BOB, 403, 50005, json={"content": "hack"}
    )
    await expect_error(api, "DELETE", f"{MSGS}/{mine['id']}", BOB, 403, 50013)
    status, _, _ = await api.call("DELETE", f"{MSGS}/{mine['id']}", TOKENS[CAROL])  # moderator
    assert status == 204
    await expect_error(api, "GET", f"{MSGS}/{mine['id']}", BOT, 404, 10008)
    await expect_error(api, "GET", f"/webhooks/{mine['id']}", BOT, 404, 10015)
    await expect_error(api, "GET", f"/guilds/{GUILD}/members/{DAVE}", BOT, 404, 10007)
    await expect_error(api, "GET", "/users/123", BOT, 404, 10013)


async def test_validation_errors(api: Api) -> None:
    await expect_error(api, "POST", MSGS, ALICE, 400, 50006, json={"content": ""})
    body = await expect_error(api, "POST", MSGS, ALICE, 400, 50035, json={"content": "x" * 2001})
    assert body["message"] == "Invalid Form Body"
    assert "BASE_TYPE_MAX_LENGTH" in body["errors"]["content"]["_errors"][0]["message"]
    await expect_error(api, "GET", MSGS, ALICE, 400, 50035, params={"limit": "101"})
    await expect_error(api, "GET", "/channels/abc", ALICE, 400, 50035)
    form = aiohttp.FormData()
    form.add_field("files[0]", b"\0" * (10 * 1024 * 1024 + 1), filename="big.bin")
    await expect_error(api, "POST", MSGS, ALICE, 413, 40005, data=form)
    hook = await post(api, BOT, {"name": "h"}, f"/channels/{CAMPAIGN}/webhooks")
    await expect_error(
        api,
        "POST",
        f"/webhooks/{hook['id']}/{hook['token']}",
        None,
        400,
        50035,
        json={"content": "x", "username": "discord admin"},
    )


async def test_history_paging(api: Api) -> None:
    sent = [await post(api, ALICE, {"content": str(i)}) for i in range(7)]
    ids = [m["id"] for m in sent]
    assert ids == sorted(ids, key=int)

    async def page(**params: str) -> list[str]:
        status, body, _ = await api.call("GET", MSGS, TOKENS[BOT], params=params)
        assert status == 200
        return [m["content"] for m in body]

    assert await page() == ["6", "5", "4", "3", "2", "1", "0"]
    assert await page(limit="2") == ["6", "5"]
    assert await page(before=ids[3], limit="2") == ["2", "1"]
    assert await page(after=ids[3], limit="2") == ["5", "4"]
    assert await page(after=ids[3]) == ["6", "5", "4"]
    assert await page(around=ids[3], limit="3") == ["4", "3", "2"]
    created = snowflake_time(ids[0])
    assert sent[0]["timestamp"].endswith("+00:00")
    assert abs(created.timestamp() - time.time()) < 60


async def test_allowed_mentions(api: Api) -> None:
    text = f"<@{BOB}> <@!{ALICE}> <@&{MOD_ROLE}> @everyone"
    full = await post(api, ALICE, {"content": text})
    assert [u["id"] for u in full["mentions"]] == [BOB, ALICE]
    assert full["mention_roles"] == [MOD_ROLE] and full["mention_everyone"] is True
    none = await post(api, ALICE, {"content": text, "allowed_mentions": {"parse": []}})
    assert (none["mentions"], none["mention_roles"], none["mention_everyone"]) == ([], [], False)
    some = await post(api, ALICE, {"content": text, "allowed_mentions": {"users": [BOB]}})
    assert [u["id"] for u in some["mentions"]] == [BOB] and some["mention_everyone"] is False
    await expect_error(
        api,
        "POST",
        MSGS,
        ALICE,
        400,
        50035,
        json={"content": text, "allowed_mentions": {"parse": ["users"], "users": [BOB]}},
    )


async def test_reply_references_and_mentions_the_author(api: Api) -> None:
    original = await post(api, BOB, {"content": "question"})
    reply = await post(
        api, ALICE, {"content": "answer", "message_reference": {"message_id": original["id"]}}
    )
    assert reply["type"] == 19
    assert reply["message_reference"]["message_id"] == original["id"]
    assert reply["referenced_message"]["content"] == "question"
    assert [u["id"] for u in reply["mentions"]] == [BOB]
    await expect_error(
        api,
        "POST",
        MSGS,
        ALICE,
        400,
        50035,
        json={"content": "x", "message_reference": {"message_id": "1"}},
    )


async def test_fault_injection(api: Api, emu: Emulator) -> None:
    emu.faults.fail_next(2, status=500, path_prefix="/channels")
    status, body, _ = await api.call("GET", "/users/@me", TOKENS[BOT])  # not matching
    assert status == 200
    for _ in range(2):
        status, body, headers = await api.call("GET", f"/channels/{CAMPAIGN}", TOKENS[BOT])
        assert status == 500 and body["code"] == 0
    assert (await api.call("GET", f"/channels/{CAMPAIGN}", TOKENS[BOT]))[0] == 200
    emu.faults.fail_next(1, status=429, retry_after=2.5)
    status, body, headers = await api.call("GET", "/users/@me", TOKENS[BOT])
    assert status == 429 and body["retry_after"] == 2.5 and body["global"] is False
    assert headers["Retry-After"] == "3" and headers["Via"]
    assert "X-RateLimit-Global" not in headers
    emu.faults.fail_next(1, status=429, is_global=True)
    status, body, headers = await api.call("GET", "/users/@me", TOKENS[BOT])
    assert status == 429 and body["global"] is True and headers["X-RateLimit-Global"] == "true"
    assert [s for _, _, s in emu.faults.injected] == [500, 500, 429, 429]
    with pytest.raises(ValueError):
        emu.faults.fail_next(1, status=404)


async def test_discordpy_retries_through_a_429(emu: Emulator, start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    channel = bot.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    emu.faults.fail_next(1, status=429, retry_after=0.05, path_prefix=f"/channels/{CAMPAIGN}")
    sent = await asyncio.wait_for(channel.send("after a 429"), 5)
    assert emu.faults.injected and sent.content == "after a 429"
    assert [m["content"] for m in emu.state.messages_in(CAMPAIGN)] == ["after a 429"]


async def test_rate_limit_headers_everywhere(api: Api) -> None:
    status, _, headers = await api.call("GET", "/users/@me", TOKENS[BOT])
    for name in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
        assert headers[f"X-RateLimit-{name}"]
    status, _, headers = await api.call("GET", "/users/@me", "bad")
    assert status == 401 and headers["X-RateLimit-Bucket"]


async def test_enforced_rate_limits_answer_429() -> None:
    from tests.sandbox.discord.world import make_seed

    async with Emulator(make_seed(), validate_responses=True, rate_limits=True) as emu:
        async with aiohttp.ClientSession() as session:
            api = Api(session, emu.api_base)
            results = []
            for i in range(6):
                status, body, headers = await api.call(
                    "POST", MSGS, TOKENS[ALICE], json={"content": str(i)}
                )
                results.append((status, headers["X-RateLimit-Remaining"]))
            assert [s for s, _ in results] == [200] * 5 + [429]
            assert [r for _, r in results[:5]] == ["4", "3", "2", "1", "0"]
            assert body["retry_after"] > 0 and headers["Retry-After"]
            assert headers["X-RateLimit-Limit"] == "5"
            # Another channel is another bucket.
            status, _, _ = await api.call(
                "POST", f"/channels/{MEMBERS}/messages", TOKENS[ALICE], json={"content": "m"}
            )
            assert status == 200
        assert emu.contract_violations == []
