"""scheduled_event_notice (alembic 0019) on both databases."""

from __future__ import annotations

import asyncio

from alembic import command
from bridge.db import EventNoticeRow, Stores
from bridge.db.migrate import alembic_config, current_revision
from bridge.ids import EventID, GuildID, RoomID

BIG = 1579336733777068032  # a real-sized snowflake: needs BIGINT


async def test_notice_round_trips_and_is_replaced_in_place(stores: Stores) -> None:
    store = stores.event_notices
    assert await store.get(BIG) is None
    row = EventNoticeRow(BIG, GuildID(3000000000000000001), RoomID("!r:x"), EventID("$a"), "one")
    await store.put(row)
    assert await store.get(BIG) == row
    edited = EventNoticeRow(BIG, row.guild_id, row.room_id, row.event_id, "two")
    await store.put(edited)
    assert await store.get(BIG) == edited
    await store.put(EventNoticeRow(5, GuildID(9), RoomID("!s:x"), EventID("$b"), "other"))
    assert [r.discord_event_id for r in await store.of_guild(row.guild_id)] == [BIG]


async def test_migration_0019_down_and_up(stores: Stores, database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0018")
    assert await current_revision(database_url) == "0018"
    await asyncio.to_thread(command.upgrade, config, "0019")
    assert await current_revision(database_url) == "0019"
    assert await stores.event_notices.get(BIG) is None
