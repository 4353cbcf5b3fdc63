"""Waiting helpers for end-to-end tests.

The other side may show a relayed message a moment before the bridge has
recorded the link in its message map (it records right after the send
returns), so tests read the map with :func:`recorded`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
