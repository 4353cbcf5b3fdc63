"""Small helpers the table modules share: the clock, enum-like columns, row reads."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from mautrix.util.async_db import Connection, Database

RowT = TypeVar("RowT")


def now_ms() -> int:
    """Milliseconds since the epoch, as every table stores times."""
    return int(time.time() * 1000)


def one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``allowed`` (a text column holding a Literal type)."""
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}")
    return value


async def fetch_one(
    db: Database | Connection, convert: Callable[[Any], RowT], query: str, *args: Any
) -> RowT | None:
    """The row ``query`` returns, converted; None when there is none."""
    rec = await db.fetchrow(query, *args)
    return convert(rec) if rec else None


async def fetch_all(
    db: Database | Connection, convert: Callable[[Any], RowT], query: str, *args: Any
) -> list[RowT]:
    """Every row ``query`` returns, converted, in its order."""
    return [convert(rec) for rec in await db.fetch(query, *args)]


K = TypeVar("K")
V = TypeVar("V")


class ReadCache(Generic[K, V]):
    """Values read on every relayed message and written only through their own store
    (the bridge's process is the only writer while it runs), kept in memory.

    A writer calls :meth:`invalidate` before and after its write; a read that began
    before a write finished is returned but not kept (the generation moved on), so
    the cache never holds a value older than the last write. At most ``limit``
    entries: past that it starts again empty.
    """

    def __init__(self, limit: int = 10000) -> None:
        self.limit = limit
        self._values: dict[K, V] = {}
        self._generation = 0

    async def read(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        if key in self._values:
            return self._values[key]
        generation = self._generation
        value = await load()
        if generation == self._generation:
            if len(self._values) >= self.limit:
                self._values.clear()
            self._values[key] = value
        return value

    def invalidate(self) -> None:
        self._generation += 1
        self._values.clear()
