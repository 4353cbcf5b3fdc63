"""Migration 0014 (spaces) on SQLite and PostgreSQL: up, down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from bridge.db import SpaceRow, Stores, open_database
from bridge.db.migrate import alembic_config, current_revision, head_revision
from bridge.ids import GuildID, RoomID


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0014")
    assert await current_revision(database_url) == "0014"
    db = open_database(database_url)
    await db.start()
    try:
        row = SpaceRow("category", 41, GuildID(30), RoomID("!c:x"), "Général", "")
        await Stores(db).spaces.put(row)
        assert await Stores(db).spaces.get("category", 41) == row
        try:  # a kind the bridge does not know is refused
            await db.execute(
                "INSERT INTO space (kind, discord_id, guild_id, room_id, name, topic,"
                " created_at) VALUES ('forum', 1, 1, '!f:x', 'f', '', 0)"
            )
        except Exception:
            pass
        else:
            raise AssertionError("the kind check did not refuse 'forum'")
    finally:
        await db.stop()
    await asyncio.to_thread(command.downgrade, config, "0013")
    assert await current_revision(database_url) == "0013"
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await current_revision(database_url) == head_revision()
