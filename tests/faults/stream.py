"""A steady two-way message stream, and the count of what arrived on the other side.

Messages are numbered; each side is read back from its own source of truth
(the homeserver's room timeline; the emulator's stored channel messages), so
a message counts as delivered only if it is really there, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from sandbox.discord.server import Emulator

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """What one direction of one run did."""

    direction: str
    sent: list[int] = field(default_factory=list)
    received: list[int] = field(default_factory=list)  # in arrival (timeline) order

    @property
    def delivered(self) -> int:
        return len(set(self.received) & set(self.sent))

    @property
    def duplicated(self) -> int:
        return len(self.received) - len(set(self.received))

    @property
    def lost(self) -> int:
        return len(set(self.sent) - set(self.received))

    @property
    def out_of_order(self) -> int:
        """Messages that arrived after a later-numbered one (first copies only)."""
        seen: list[int] = []
        for n in self.received:
            if n not in seen:
                seen.append(n)
        return sum(1 for a, b in itertools.pairwise(seen) if b < a)

    def problems(self) -> str:
        """Which numbers went wrong (for the failure message)."""
        dups = sorted({n for n in self.received if self.received.count(n) > 1})
        lost = sorted(set(self.sent) - set(self.received))
        firsts = list(dict.fromkeys(self.received))
        late = [(a, b) for a, b in itertools.pairwise(firsts) if b < a]
        return f"lost={lost} duplicated={dups} arrived-after={late}"

    def line(self, fault: str) -> str:
        return (
            f"{fault:<28} {self.direction:<4} sent={len(self.sent):<4} "
            f"delivered={self.delivered:<4} duplicated={self.duplicated:<3} "
            f"lost={self.lost:<3} out-of-order={self.out_of_order}"
        )


class Stream:
    """Bob sends on Discord, Alice on Matrix, both to the same portal, ``rate`` per second."""

    def __init__(
        self,
        tag: str,
        emulator: Emulator,
        channel_id: int,
        discord_token: str,
        homeserver: str,
        room_id: str,
        matrix_token: str,
        rate: float = 8.0,
    ) -> None:
        self.tag = tag
        self.emulator = emulator
        self.channel_id = channel_id
        self.discord_token = discord_token
        self.homeserver = homeserver
        self.room_id = room_id
        self.matrix_token = matrix_token
        self.interval = 1 / rate
        self.d2m = Tally("d2m")
        self.m2d = Tally("m2d")
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        await self.stop()
        await self._session.close()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._send_loop(self._send_discord, self.d2m)),
            asyncio.create_task(self._send_loop(self._send_matrix, self.m2d)),
        ]

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks)
            self._tasks = []

    async def _send_loop(self, send: Any, tally: Tally) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            # The sender retries until its own server took the message (a real
            # client does too); only then does the message count as sent.
            while not await send(n):  # noqa: ASYNC110 (polling the other server)
                await asyncio.sleep(0.2)
            tally.sent.append(n)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    def text(self, direction: str, n: int) -> str:
        return f"{direction} {self.tag} {n}"

    async def _send_discord(self, n: int) -> bool:
        url = f"{self.emulator.api_base}/channels/{self.channel_id}/messages"
        headers = {"Authorization": f"Bot {self.discord_token}"}
        try:
            async with self._session.post(
                url, json={"content": self.text("d2m", n)}, headers=headers
            ) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _send_matrix(self, n: int) -> bool:
        # A fixed transaction ID per message: a retried send is never a second message.
        url = (
            f"{self.homeserver}/_matrix/client/v3/rooms/{quote(self.room_id)}"
            f"/send/m.room.message/{self.tag}-{n}"
        )
        headers = {"Authorization": f"Bearer {self.matrix_token}"}
        body = {"msgtype": "m.text", "body": self.text("m2d", n)}
        try:
            async with self._session.put(url, json=body, headers=headers) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    # -- reading back ------------------------------------------------------

    def discord_side(self) -> list[int]:
        """Sequence numbers of the relayed Matrix messages in the channel, in order."""
        state = self.emulator.state
        prefix = f"m2d {self.tag} "
        found = []
        for message_id in state.channel_messages.get(str(self.channel_id), []):
            message = state.messages.get(message_id)
            if message is None or not message.get("webhook_id"):
                continue
            content = str(message.get("content", ""))
            if content.startswith(prefix):
                found.append(int(content.removeprefix(prefix)))
        return found

    async def matrix_side(self) -> list[int]:
        """Sequence numbers of the relayed Discord messages in the room's timeline."""
        prefix = f"d2m {self.tag} "
        headers = {"Authorization": f"Bearer {self.matrix_token}"}
        url = f"{self.homeserver}/_matrix/client/v3/rooms/{quote(self.room_id)}/messages"
        found: list[int] = []
        token: str | None = None
        while True:
            params = {"dir": "b", "limit": "1000"}
            if token:
                params["from"] = token
            async with self._session.get(url, params=params, headers=headers) as resp:
                resp.raise_for_status()
                page = await resp.json()
            for event in page.get("chunk", []):
                body = event.get("content", {}).get("body", "")
                if event.get("type") == "m.room.message" and body.startswith(prefix):
                    found.append(int(body.removeprefix(prefix)))
            token = page.get("end")
            if not token or not page.get("chunk"):
                break
        found.reverse()
        return found

    async def settle(self, timeout: float) -> None:
        """Wait until everything sent has arrived (or ``timeout``), then count."""
        deadline = time.monotonic() + timeout
        while True:
            self.m2d.received = self.discord_side()
            try:
                self.d2m.received = await self.matrix_side()
            except (aiohttp.ClientError, TimeoutError):
                pass
            if (not self.m2d.lost and not self.d2m.lost) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # a late duplicate would show up now
        self.m2d.received = self.discord_side()
        self.d2m.received = await self.matrix_side()
