"""The gateway protocol driven by hand: plain JSON and zlib-stream transports,
opcodes, close codes, RESUME, member chunks and the REST-triggered dispatches."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api
from tests.sandbox.discord.world import (
    ALICE,
    BOB,
    BOT,
    CAMPAIGN,
    GUILD,
    MEMBER_ROLE,
    TOKENS,
    make_seed,
)

ALL_INTENTS = (1 << 26) - 1
ZLIB_SUFFIX = b"\x00\x00\xff\xff"


class RawGateway:
    """A bare websocket client: JSON text frames, or zlib-stream when ``compress``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.compress = compress
        self.inflate = zlib.decompressobj()
        self.frames: list[bytes] = []

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type is aiohttp.WSMsgType.TEXT:
            assert not self.compress, "expected binary zlib frames"
            return json.loads(msg.data)
        if msg.type is aiohttp.WSMsgType.BINARY:
            assert self.compress, "expected text frames"
            self.frames.append(msg.data)
            assert msg.data.endswith(ZLIB_SUFFIX)
            return json.loads(self.inflate.decompress(msg.data))
        raise ConnectionError(f"socket closed: {msg.type} code={self.ws.close_code}")

    async def recv_event(self, name: str, timeout: float = 5) -> dict[str, Any]:
        while True:
            payload = await self.recv(timeout)
            if payload.get("t") == name:
                return payload

    async def send(self, op: int, d: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": d}))

    async def identify(self, token: str, intents: int = ALL_INTENTS) -> dict[str, Any]:
        hello = await self.recv()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await self.send(2, {"token": token, "intents": intents, "properties": {}})
        return await self.recv()

    async def closed_with(self) -> int | None:
        while True:
            msg = await self.ws.receive(timeout=5)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return self.ws.close_code


class Connector:
    def __init__(self, emu: Emulator, session: aiohttp.ClientSession) -> None:
        self.emu = emu
        self.session = session

    async def __call__(self, compress: bool = False) -> RawGateway:
        query = "?v=10&encoding=json" + ("&compress=zlib-stream" if compress else "")
        ws = await self.session.ws_connect(self.emu.gateway_url + query)
        return RawGateway(ws, compress)


@pytest.fixture
async def connect(emu: Emulator) -> AsyncIterator[Connector]:
    async with aiohttp.ClientSession() as session:
        yield Connector(emu, session)


@pytest.mark.parametrize("compress", [False, True], ids=["json", "zlib-stream"])
async def test_identify_ready_guild_create_and_message(
    connect: Connector, api: Api, compress: bool
) -> None:
    gw = await connect(compress)
    ready = await gw.identify(TOKENS[ALICE])
    assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
    d = ready["d"]
    assert d["v"] == 10 and d["user"]["id"] == ALICE
    assert d["guilds"] == [{"id": GUILD, "unavailable": True}]
    assert d["resume_gateway_url"].startswith("ws://") and d["session_id"]
    assert "application" not in d  # only bots get one
    create = await gw.recv()
    assert (create["t"], create["s"]) == ("GUILD_CREATE", 2)
    guild = create["d"]
    assert guild["id"] == GUILD and guild["member_count"] == 4 and guild["unavailable"] is False
    assert guild["joined_at"] and {c["id"] for c in guild["channels"]} >= {CAMPAIGN}
    assert all("user" in m for m in guild["members"])
    await gw.send(1, 2)
    assert (await gw.recv())["op"] == 11
    status, _, _ = await api.call(
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        TOKENS[BOB],
        json={"content": "hey <@" + ALICE + ">"},
    )
    assert status == 200
    event = await gw.recv_event("MESSAGE_CREATE")
    msg = event["d"]
    assert event["s"] == 3 and msg["guild_id"] == GUILD and msg["author"]["id"] == BOB
    assert "user" not in msg["member"] and msg["member"]["roles"] == []
    assert (
        msg["mentions"][0]["id"] == ALICE and msg["mentions"][0]["member"]["nick"] == "Alice (HQ)"
    )
    if compress:
        assert len(gw.frames) >= 4
    await gw.ws.close()


async def test_bot_ready_carries_application_and_shard(connect: Connector) -> None:
    gw = await connect()
    await gw.recv()
    await gw.send(2, {"token": "Bot " + TOKENS[BOT], "intents": ALL_INTENTS, "shard": [0, 1]})
    ready = (await gw.recv())["d"]
    assert ready["application"] == {"id": BOT, "flags": 0}
    assert ready["shard"] == [0, 1]
    await gw.ws.close()


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ({"op": 2, "d": {"token": "nope", "intents": 1}}, 4004),
        ({"op": 8, "d": {"guild_id": GUILD}}, 4003),
        ({"op": 2, "d": {"token": TOKENS[ALICE], "intents": 1, "shard": [1, 1]}}, 4010),
        ({"op": 2, "d": {"token": TOKENS[ALICE]}}, 4013),
        ("not json", 4002),
    ],
)
async def test_close_codes(connect: Connector, first: Any, code: int) -> None:
    gw = await connect()
    await gw.recv()
    await gw.ws.send_str(first if isinstance(first, str) else json.dumps(first))
    assert await gw.closed_with() == code


async def test_identify_twice_and_unknown_opcode(connect: Connector) -> None:
    gw = await connect()
    await gw.identify(TOKENS[ALICE])
    await gw.send(2, {"token": TOKENS[ALICE], "intents": 1})
    assert await gw.closed_with() == 4005
    gw = await connect()
    await gw.identify(TOKENS[ALICE])
    await gw.send(99, None)
    assert await gw.closed_with() == 4001


async def test_resume_replays_then_resumed(connect: Connector, api: Api) -> None:
    gw = await connect()
    ready = (await gw.identify(TOKENS[ALICE]))["d"]
    await gw.recv_event("GUILD_CREATE")
    await gw.ws.close(code=4000)  # an abnormal close keeps the session
    await api.call(
        "POST", f"/channels/{CAMPAIGN}/messages", TOKENS[BOB], json={"content": "missed"}
    )
    again = await connect()
    await again.recv()
    await again.send(6, {"token": TOKENS[ALICE], "session_id": ready["session_id"], "seq": 2})
    replay = await again.recv()
    assert (replay["t"], replay["s"], replay["d"]["content"]) == ("MESSAGE_CREATE", 3, "missed")
    resumed = await again.recv()
    assert (resumed["t"], resumed["s"]) == ("RESUMED", 4)
    await again.ws.close()  # 1000: the session ends
    third = await connect()
    await third.recv()
    await third.send(6, {"token": TOKENS[ALICE], "session_id": ready["session_id"], "seq": 4})
    assert await third.recv() == {"op": 9, "s": None, "t": None, "d": False}
    await third.ws.close()


async def test_resume_of_unknown_session_is_invalid(connect: Connector) -> None:
    gw = await connect()
    await gw.recv()
    await gw.send(6, {"token": TOKENS[ALICE], "session_id": "nope", "seq": 1})
    assert (await gw.recv())["op"] == 9
    await gw.ws.close()


async def test_request_guild_members_with_nonce(connect: Connector) -> None:
    gw = await connect()
    await gw.identify(TOKENS[BOT])
    await gw.recv_event("GUILD_CREATE")
    await gw.send(8, {"guild_id": GUILD, "query": "", "limit": 0, "nonce": "n1"})
    chunk = (await gw.recv_event("GUILD_MEMBERS_CHUNK"))["d"]
    assert chunk["nonce"] == "n1" and (chunk["chunk_index"], chunk["chunk_count"]) == (0, 1)
    assert len(chunk["members"]) == 4
    await gw.send(8, {"guild_id": GUILD, "user_ids": [BOB, "42"], "nonce": "n2"})
    chunk = (await gw.recv_event("GUILD_MEMBERS_CHUNK"))["d"]
    assert [m["user"]["id"] for m in chunk["members"]] == [BOB] and chunk["not_found"] == ["42"]
    await gw.ws.close()


async def test_rest_changes_are_dispatched(connect: Connector, api: Api) -> None:
    gw = await connect()
    await gw.identify(TOKENS[BOT])
    await gw.recv_event("GUILD_CREATE")
    await api.call("PATCH", f"/guilds/{GUILD}/members/{BOB}", TOKENS[BOT], json={"nick": "B"})
    update = (await gw.recv_event("GUILD_MEMBER_UPDATE"))["d"]
    assert update["guild_id"] == GUILD and update["nick"] == "B" and update["user"]["id"] == BOB
    await api.call("PATCH", f"/channels/{CAMPAIGN}", TOKENS[BOT], json={"name": "renamed"})
    assert (await gw.recv_event("CHANNEL_UPDATE"))["d"]["name"] == "renamed"
    await api.call("POST", f"/channels/{CAMPAIGN}/webhooks", TOKENS[BOT], json={"name": "h"})
    assert (await gw.recv_event("WEBHOOKS_UPDATE"))["d"] == {
        "guild_id": GUILD,
        "channel_id": CAMPAIGN,
    }
    await api.call("PUT", f"/guilds/{GUILD}/members/{BOB}/roles/{MEMBER_ROLE}", TOKENS[BOT])
    assert (await gw.recv_event("GUILD_MEMBER_UPDATE"))["d"]["roles"] == [MEMBER_ROLE]
    await gw.ws.close()


async def test_intents_filter_message_events(connect: Connector, api: Api) -> None:
    gw = await connect()
    await gw.identify(TOKENS[BOB], intents=1)  # GUILDS only, no GUILD_MESSAGES
    await gw.recv_event("GUILD_CREATE")
    await api.call("POST", f"/channels/{CAMPAIGN}/messages", TOKENS[ALICE], json={"content": "x"})
    await api.call("PATCH", f"/channels/{CAMPAIGN}", TOKENS[BOT], json={"topic": "t"})
    assert (await gw.recv())["t"] == "CHANNEL_UPDATE"  # the message never came
    await gw.ws.close()


async def test_paused_gateway_holds_dispatches(connect: Connector, api: Api, emu: Emulator) -> None:
    gw = await connect()
    await gw.identify(TOKENS[BOB])
    await gw.recv_event("GUILD_CREATE")
    emu.pause_gateway()
    await api.call(
        "POST", f"/channels/{CAMPAIGN}/messages", TOKENS[ALICE], json={"content": "held"}
    )
    with pytest.raises(asyncio.TimeoutError):
        await gw.recv(timeout=0.3)
    emu.resume_gateway()
    assert (await gw.recv_event("MESSAGE_CREATE"))["d"]["content"] == "held"
    await gw.ws.close()


async def test_root_without_upgrade_is_a_banner(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as session, session.get(emu.url + "/") as resp:
        assert resp.status == 200 and "emulator" in await resp.text()


async def test_silent_connection_is_closed_as_zombie() -> None:
    async with Emulator(make_seed(), heartbeat_interval_ms=100) as emu:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(emu.gateway_url + "?v=10&encoding=json")
            gw = RawGateway(ws, compress=False)
            await gw.identify(TOKENS[ALICE])
            assert await gw.closed_with() == 4009
