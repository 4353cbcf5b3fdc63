"""Test users on both networks, as real clients: a Matrix user (mautrix Client)
and a Discord user (an unmodified discord.py client logged in to the emulator).

Used by the sandbox demo, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import aiohttp
import discord
from mautrix.client import Client
from mautrix.types import EventID, EventType, RoomAlias, RoomID, UserID

from bridge.transport.discord_endpoints import use_api_base

log = logging.getLogger(__name__)

EventCheck = Callable[[dict[str, Any]], bool]


class MatrixUser:
    """A logged-in Matrix user that can send and wait for room events via /sync."""

    def __init__(self, homeserver: str, user_id: str, access_token: str) -> None:
        self.session = aiohttp.ClientSession()
        self.client = Client(
            UserID(user_id), base_url=homeserver, token=access_token, client_session=self.session
        )
        self.user_id = UserID(user_id)
        self._since: str | None = None
        self._backlog: list[tuple[float, dict[str, Any]]] = []
        self._ephemeral: list[dict[str, Any]] = []

    async def close(self) -> None:
        await self.session.close()

    async def prime(self) -> None:
        """Skip everything up to now, so waits only see new events.

        Synapse caches sync answers for two minutes per user, device and request: two
        clients of one account priming with the same request would get the same (old)
        position. A filter of our own makes this request unique."""
        unique = json.dumps({"account_data": {"not_types": [f"passerelle.prime.{uuid4()}"]}})
        data = await self.client.sync(since=self._since, timeout=0, filter_id=unique)  # type: ignore[arg-type]
        self._since = data["next_batch"]

    async def join(self, room: str) -> RoomID:
        target = RoomAlias(room) if room.startswith("#") else RoomID(room)
        return await self.client.join_room(target)

    async def send_text(self, room_id: str, text: str) -> str:
        return str(await self.client.send_text(RoomID(room_id), text))

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        """Send an ``m.reaction`` (annotation) on ``event_id``; returns its event ID."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return str(
            await self.client.send_message_event(RoomID(room_id), EventType.REACTION, content)
        )

    async def send_in_thread(
        self, room_id: str, root: str, text: str, latest: str | None = None
    ) -> str:
        """An ``m.text`` in the thread rooted at ``root``, as Element sends it (the reply
        fallback points at ``latest``, else the root)."""
        content = {
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": latest or root},
            },
        }
        return str(
            await self.client.send_message_event(RoomID(room_id), EventType.ROOM_MESSAGE, content)
        )

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> str:
        return str(await self.client.redact(RoomID(room_id), EventID(event_id), reason=reason))

    async def upload(self, data: bytes, mimetype: str, filename: str) -> str:
        """Upload to the homeserver's media repository; returns the mxc:// URI."""
        return str(await self.client.upload_media(data, mime_type=mimetype, filename=filename))

    async def send_content(self, room_id: str, content: dict[str, Any], kind: str = "") -> str:
        """Send raw event content (``m.room.message`` unless ``kind`` names another type)."""
        event_type = EventType.find(kind) if kind else EventType.ROOM_MESSAGE
        return str(await self.client.send_message_event(RoomID(room_id), event_type, content))

    async def download(self, mxc: str) -> tuple[bytes, str]:
        """(bytes, content type) of an mxc:// file, through authenticated media."""
        server, media_id = mxc.removeprefix("mxc://").split("/", 1)
        url = f"{self.client.api.base_url}/_matrix/client/v1/media/download/{server}/{media_id}"
        headers = {"Authorization": f"Bearer {self.client.api.token}"}
        async with self.session.get(url, headers=headers) as resp:
            resp.raise_for_status()
            return await resp.read(), resp.headers.get("Content-Type", "")

    async def invites(self) -> list[str]:
        data = await self.client.sync(since=None, timeout=0)
        return list(data.get("rooms", {}).get("invite", {}).keys())

    async def wait_for_event(
        self, room_id: str, check: EventCheck, timeout: float = 10
    ) -> tuple[dict[str, Any], float]:
        """The first new timeline event in the room passing ``check``, and when it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            for item in list(self._backlog):
                if item[1].get("room_id") == room_id and check(item[1]):
                    self._backlog.remove(item)
                    return item[1], item[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event in {room_id} within {timeout}s")
            await self._sync_once(remaining)

    async def _sync_once(self, remaining: float) -> None:
        data = await self.client.sync(since=self._since, timeout=int(min(remaining, 5) * 1000))
        arrived = time.perf_counter()
        self._since = data["next_batch"]
        for rid, room in data.get("rooms", {}).get("join", {}).items():
            for event in room.get("timeline", {}).get("events", []):
                self._backlog.append((arrived, {**event, "room_id": rid}))
            for event in room.get("ephemeral", {}).get("events", []):
                self._ephemeral.append({**event, "room_id": rid})

    async def wait_for_ephemeral(
        self, room_id: str, check: EventCheck, timeout: float = 10
    ) -> dict[str, Any]:
        """The first new ephemeral event (typing, receipts) in the room passing ``check``."""
        deadline = time.monotonic() + timeout
        while True:
            for event in list(self._ephemeral):
                if event.get("room_id") == room_id and check(event):
                    self._ephemeral.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching ephemeral event in {room_id} within {timeout}s")
            await self._sync_once(remaining)


class DiscordUser:
    """An ordinary discord.py client logged in with a user token from the seed."""

    def __init__(self, api_base: str, token: str) -> None:
        use_api_base(api_base)
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = True
        self.client = discord.Client(intents=intents, chunk_guilds_at_startup=False)
        self._token = token
        self._task: asyncio.Task[None] | None = None
        self.messages: asyncio.Queue[tuple[float, discord.Message]] = asyncio.Queue()

        @self.client.event
        async def on_message(message: discord.Message) -> None:
            await self.messages.put((time.perf_counter(), message))

    async def start(self) -> None:
        ready = asyncio.Event()

        @self.client.event
        async def on_ready() -> None:
            ready.set()

        self._task = asyncio.create_task(self.client.start(self._token))
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {waiter, self._task}, timeout=30, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if self._task in done:
                self._task.result()
            raise TimeoutError("discord test client did not become ready")

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10)

    async def send(self, channel_id: int, text: str) -> discord.Message:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            fetched = await self.client.fetch_channel(channel_id)
            assert isinstance(fetched, discord.TextChannel)
            channel = fetched
        assert isinstance(channel, discord.TextChannel | discord.VoiceChannel)
        return await channel.send(text)

    async def send_files(
        self,
        channel_id: int,
        text: str | None,
        files: list[tuple[str, bytes]] | None = None,
        **options: Any,
    ) -> discord.Message:
        """Post a message with attachments (multipart), stickers or embeds (``options``)."""
        channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        uploads = [discord.File(io.BytesIO(data), filename=name) for name, data in files or []]
        return await channel.send(text, files=uploads or discord.utils.MISSING, **options)

    async def start_thread(self, message: discord.Message, name: str) -> discord.Thread:
        """Start a public thread from ``message`` (the thread gets the message's ID)."""
        return await message.create_thread(name=name)

    async def send_in_thread(self, thread_id: int, text: str) -> discord.Message:
        thread = self.client.get_channel(thread_id) or await self.client.fetch_channel(thread_id)
        assert isinstance(thread, discord.Thread)
        return await thread.send(text)

    async def react(self, channel_id: int, message_id: int, emoji: str) -> None:
        """React as this user; ``emoji`` is a unicode emoji or ``name:id``."""
        await self.client.http.add_reaction(channel_id, message_id, emoji)

    async def unreact(self, channel_id: int, message_id: int, emoji: str) -> None:
        await self.client.http.remove_own_reaction(channel_id, message_id, emoji)

    async def reactors(self, channel_id: int, message_id: int, emoji: str) -> list[int]:
        """IDs of the users reacting with ``emoji`` (GET .../reactions/{emoji})."""
        users = await self.client.http.get_reaction_users(channel_id, message_id, emoji, 100)
        return [int(u["id"]) for u in users]

    async def wait_for_message(
        self, check: Callable[[discord.Message], bool], timeout: float = 10
    ) -> tuple[discord.Message, float]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching Discord message within {timeout}s")
            try:
                arrived, message = await asyncio.wait_for(self.messages.get(), remaining)
            except TimeoutError:
                continue
            if check(message):
                return message, arrived

    async def ban(
        self,
        guild_id: int,
        user_id: int,
        reason: str | None = None,
        delete_message_seconds: int = 0,
    ) -> None:
        """Ban as this user (needs BAN_MEMBERS and a higher role), like the Discord ban button."""
        guild = self.client.get_guild(guild_id) or await self.client.fetch_guild(guild_id)
        await guild.ban(
            discord.Object(user_id), reason=reason, delete_message_seconds=delete_message_seconds
        )

    async def unban(self, guild_id: int, user_id: int, reason: str | None = None) -> None:
        guild = self.client.get_guild(guild_id) or await self.client.fetch_guild(guild_id)
        await guild.unban(discord.Object(user_id), reason=reason)

    async def kick(self, guild_id: int, user_id: int, reason: str | None = None) -> None:
        guild = self.client.get_guild(guild_id) or await self.client.fetch_guild(guild_id)
        await guild.kick(discord.Object(user_id), reason=reason)
