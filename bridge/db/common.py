"""Small helpers the table modules share: the clock, enum-like columns, row reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

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
