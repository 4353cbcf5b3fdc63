"""Migration 0013 (bans per guild) on SQLite and PostgreSQL: existing bans are kept
(guild 0, adopted at start-up), and the downgrade folds each ban back to one row."""

from __future__ import annotations

import asyncio

from alembic import command
from bridge.db import BanRow, Stores, open_database
from bridge.db.migrate import alembic_config, current_revision
from bridge.ids import GuildID

G1 = GuildID(3000000000000000001)
G2 = GuildID(3000000000000000002)
OLD_INSERT = (
    "INSERT INTO mod_ban (side, target, reason, moderator, origin, rule_room, rule_entity,"
    " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)


async def test_upgrade_keeps_bans_and_downgrade_folds_them(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0012")
    db = open_database(database_url)
    await db.start()
    try:
        await db.execute(OLD_INSERT, "discord", "42", "raid", "discord:7", "discord", None, None, 1)
        await db.execute(OLD_INSERT, "matrix", "@a:x", "", "@m:x", "policy", "!l:x", "@a:x", 2)
    finally:
        await db.stop()

    await asyncio.to_thread(command.upgrade, config, "0013")
    assert await current_revision(database_url) == "0013"
    db = open_database(database_url)
    await db.start()
    try:
        stores = Stores(db)
        rows = await stores.bans.all()
        assert [(r.side, r.target, r.guild_id, r.origin) for r in rows] == [
            ("discord", "42", 0, "discord"),
            ("matrix", "@a:x", 0, "policy"),
        ]
        assert rows[1].rule_room == "!l:x" and rows[0].reason == "raid"
        await stores.bans.adopt_legacy((G1,), (G1, G2))
        # A ban carried to another guild: the downgrade keeps the one made in its guild.
        await stores.bans.put(BanRow("discord", "42", "raid", "discord:7", "party", 5, guild_id=G2))
        await stores.bans.put(BanRow("discord", "43", "x", "discord:8", "party", 6, guild_id=G2))
        assert len(await stores.bans.all()) == 5
    finally:
        await db.stop()

    await asyncio.to_thread(command.downgrade, config, "0012")
    db = open_database(database_url)
    await db.start()
    try:
        rows = await db.fetch(
            "SELECT side, target, origin, created_at FROM mod_ban ORDER BY side, target"
        )
        assert [tuple(r) for r in rows] == [
            ("discord", "42", "discord", 1),
            ("discord", "43", "discord", 6),  # 'party' is unknown there
            ("matrix", "@a:x", "policy", 2),
        ]
        await db.execute(OLD_INSERT, "matrix", "@b:x", "", "@m:x", "matrix", None, None, 3)
    finally:
        await db.stop()
    await asyncio.to_thread(command.upgrade, config, "head")  # and up again
    assert await current_revision(database_url) is not None
