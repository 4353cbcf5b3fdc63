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


# -- spaces -------------------------------------------------------------------------


async def space_of(stack: SandboxStack, kind: str, discord_id: int) -> RoomID:
    """The room of a bridge space: kind party (id 0), guild, members (the guild's id),
    category (its id)."""
    assert stack.bridge is not None
    row = await stack.bridge.ctx.stores.spaces.get(kind, discord_id)
    assert row is not None, f"no {kind} space for {discord_id}"
    return row.room_id


async def state_content(
    stack: SandboxStack, room_id: str, event_type: str, state_key: str = ""
) -> dict[str, Any]:
    """A state event's content as the homeserver has it now, raw ({} when absent)."""
    from mautrix.api import Method, Path
    from mautrix.errors import MNotFound

    assert stack.bridge is not None
    path = Path.v3.rooms[room_id].state[event_type][state_key]  # type: ignore[index]
    try:
        data = await stack.bridge.matrix.bot.api.request(Method.GET, path)
    except MNotFound:
        return {}
    return data if isinstance(data, dict) else {}


async def wait_for_space_child(
    stack: SandboxStack,
    space: str,
    child: str,
    order: str | None = None,
    present: bool = True,
    timeout: float = 5,
) -> float:
    """Wait until the space's ``m.space.child`` for ``child`` is there (with ``order``
    when given), or gone (``present=False``); polled every 10 ms. Returns
    ``time.monotonic()`` when it was seen (for benchmarks)."""
    deadline = time.monotonic() + timeout
    while True:
        content = await state_content(stack, space, "m.space.child", child)
        seen = time.monotonic()
        there = bool(content.get("via"))
        if there == present and (not present or order is None or content.get("order") == order):
            return seen
        assert seen < deadline, f"m.space.child {child} in {space}: {content} after {timeout}s"
        await asyncio.sleep(0.01)
