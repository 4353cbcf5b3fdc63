"""The store tests' fixture: every store over a freshly migrated database (each
test runs on SQLite and on PostgreSQL, see ``database_url`` in tests/conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bridge.db import Stores, open_database
from bridge.db.migrate import upgrade_head


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[Stores]:
    await asyncio.to_thread(upgrade_head, database_url)
    db = open_database(database_url)
    await db.start()
    try:
        yield Stores(db)
    finally:
        await db.stop()


class CountingDb:
    """A store's database, counting the statements that reach it (``queries``)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        inner = getattr(self.db, name)
        if name not in ("fetch", "fetchrow", "fetchval", "execute"):
            return inner

        async def counted(*args: Any) -> Any:
            self.queries += 1
            return await inner(*args)

        return counted
