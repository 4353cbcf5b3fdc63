"""Waiting helpers for end-to-end tests.

The other side may show a relayed message a moment before the bridge has
recorded the link in its message map (it records right after the send
returns), so tests read the map with :func:`recorded`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bridge.ids import ChannelID, RoomID
from sandbox.stack import SandboxStack

T = TypeVar("T")


async def recorded(
    fetch: Callable[[], Awaitable[list[T]]], count: int = 1, timeout: float = 5
) -> list[T]:
    """``fetch()`` once it returns at least ``count`` rows (the last result on timeout)."""
    deadline = time.monotonic() + timeout
    rows = await fetch()
    while len(rows) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        rows = await fetch()
    return rows


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 10) -> Any:
    """``check()``'s first truthy result, polled every 0.1 s; fails with ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def room_of(stack: SandboxStack, channel: ChannelID) -> RoomID:
    """The portal room of a bridged channel."""
    assert stack.bridge is not None
    portal = await stack.bridge.ctx.stores.portals.by_channel(channel)
    assert portal is not None
    return portal.room_id
