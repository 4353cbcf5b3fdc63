"""lockdown, lockdown_saved, first_join (alembic 0017) on both databases."""

from __future__ import annotations

import asyncio

from alembic import command
from bridge.db import LockdownRow, Stores
from bridge.db.migrate import alembic_config, current_revision


async def test_lockdown_state_round_trips(stores: Stores) -> None:
    store = stores.lockdown
    assert await store.get() is None
    await store.put(LockdownRow(True, 1_000, 2_000, "@mod:x", "raid"))
    assert await store.get() == LockdownRow(True, 1_000, 2_000, "@mod:x", "raid")
    await store.put(LockdownRow(False, 1_000, None, "@mod:x", "raid"))
    row = await store.get()
    assert row is not None and not row.active and row.until_ms is None


async def test_the_first_saved_value_is_kept(stores: Stores) -> None:
    store = stores.lockdown
    assert await store.save("room", "!a:x", '{"join_rule": "public"}')
    assert not await store.save("room", "!a:x", '{"join_rule": "knock"}')
    assert await store.save("channel", "42", "0")
    assert await store.save("guild", "7", "1")
    saved = {(s.kind, s.target): s.previous for s in await store.saved()}
    assert saved == {
        ("channel", "42"): "0",
        ("guild", "7"): "1",
        ("room", "!a:x"): '{"join_rule": "public"}',
    }
    await store.forget("room", "!a:x")
    assert [(s.kind, s.target) for s in await store.saved()] == [("channel", "42"), ("guild", "7")]


async def test_first_join_keeps_the_first(stores: Stores) -> None:
    store = stores.lockdown
    assert await store.first_join("discord", "1") is None
    assert await store.note_join("discord", "1", 100)
    assert not await store.note_join("discord", "1", 200)
    assert await store.first_join("discord", "1") == 100
    assert await store.first_join("matrix", "1") is None  # per side


async def test_recent_first_joins_of_one_side(stores: Stores) -> None:
    store = stores.lockdown
    await store.note_join("matrix", "@a:x", 100)
    await store.note_join("matrix", "@b:x", 300)
    await store.note_join("discord", "7", 400)
    assert await store.first_joins_since("matrix", 200) == {"@b:x": 300}
    assert await store.first_joins_since("matrix", 0) == {"@a:x": 100, "@b:x": 300}


async def test_migration_0017_down_and_up(stores: Stores, database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0015")
    assert await current_revision(database_url) == "0015"
    await asyncio.to_thread(command.upgrade, config, "0017")
    assert await current_revision(database_url) == "0017"
    assert await stores.lockdown.get() is None
