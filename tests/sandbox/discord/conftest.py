"""Fixtures for the Discord emulator's own tests: a seeded emulator validating
every response against Discord's OpenAPI spec, an HTTP helper, and real
discord.py clients pointed at the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.asset
import discord.gateway
import discord.http
import pytest

from bridge.transport.discord_endpoints import current_endpoints, restore_endpoints, use_api_base
from sandbox.discord.server import Emulator
from tests.sandbox.discord.world import make_seed


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A fresh emulator per test; it validates every REST response against the spec."""
    emulator = Emulator(make_seed(), validate_responses=True)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.contract_violations == []


@dataclass
class Api:
    """Raw HTTP calls as a given user, returning (status, decoded JSON or None, headers)."""

    session: aiohttp.ClientSession
    base: str

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, str] | None = None,
        bare: bool = False,
    ) -> tuple[int, Any, Any]:
        headers = {}
        if token is not None:
            headers["Authorization"] = token if bare else f"Bot {token}"
        async with self.session.request(
            method, self.base + path, json=json, data=data, params=params, headers=headers
        ) as resp:
            raw = await resp.read()
            body = None
            if raw and resp.headers.get("Content-Type") == "application/json":
                import json as _json

                body = _json.loads(raw)
            return resp.status, body, resp.headers


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu.api_base)


@contextlib.contextmanager
def pointed_at(emu: Emulator) -> Any:
    """Point discord.py at the emulator, restoring the previous endpoints afterwards."""
    saved = current_endpoints()
    use_api_base(emu.api_base)
    try:
        yield
    finally:
        restore_endpoints(saved)


@dataclass
class Bot:
    """A started discord.py client and what it has received."""

    client: discord.Client
    task: asyncio.Task[None]
    messages: asyncio.Queue[discord.Message] = field(default_factory=asyncio.Queue)
    edits: asyncio.Queue[discord.RawMessageUpdateEvent] = field(default_factory=asyncio.Queue)
    deletes: asyncio.Queue[discord.RawMessageDeleteEvent] = field(default_factory=asyncio.Queue)
    resumed: asyncio.Event = field(default_factory=asyncio.Event)

    async def next_message(self, timeout: float = 5) -> discord.Message:
        return await asyncio.wait_for(self.messages.get(), timeout)


StartClient = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def start_client(emu: Emulator) -> AsyncIterator[StartClient]:
    """``await start_client(token, intents=...)``: a ready discord.py client, closed at teardown."""
    started: list[Bot] = []
    with pointed_at(emu):

        async def start(token: str, intents: discord.Intents | None = None, **options: Any) -> Bot:
            options.setdefault("guild_ready_timeout", 0.1)
            client = discord.Client(intents=intents or discord.Intents.all(), **options)
            ready = asyncio.Event()
            bot = Bot(client, asyncio.create_task(asyncio.sleep(0)))

            @client.event
            async def on_ready() -> None:
                ready.set()

            @client.event
            async def on_message(message: discord.Message) -> None:
                bot.messages.put_nowait(message)

            @client.event
            async def on_raw_message_edit(event: discord.RawMessageUpdateEvent) -> None:
                bot.edits.put_nowait(event)

            @client.event
            async def on_raw_message_delete(event: discord.RawMessageDeleteEvent) -> None:
                bot.deletes.put_nowait(event)

            @client.event
            async def on_resumed() -> None:
                bot.resumed.set()

            bot.task = asyncio.create_task(client.start(token))
            started.append(bot)
            waiter = asyncio.create_task(ready.wait())
            done, _ = await asyncio.wait(
                {waiter, bot.task}, timeout=15, return_when="FIRST_COMPLETED"
            )
            if waiter not in done:
                waiter.cancel()
                if bot.task.done():
                    bot.task.result()
                raise TimeoutError("discord.py client did not become ready")
            return bot

        try:
            yield start
        finally:
            for bot in started:
                await bot.client.close()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(bot.task, 5)
