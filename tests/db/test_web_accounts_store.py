"""web_account (alembic 0015) on both databases: one account per Discord account."""

from __future__ import annotations

import asyncio

from alembic import command
from bridge.db import Stores
from bridge.db.migrate import alembic_config, current_revision
from bridge.ids import DiscordUserID, UserID

DC = DiscordUserID(2**63 - 1)


async def test_one_account_per_discord_account(stores: Stores) -> None:
    accounts = stores.web_accounts
    assert await accounts.created_for(DC) is None
    assert await accounts.record(DC, UserID("@a:x"), now_ms=1)
    assert not await accounts.record(DC, UserID("@b:x"), now_ms=2)
    assert await accounts.created_for(DC) == "@a:x"


async def test_migration_0015_down_and_up(stores: Stores, database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0014")
    assert await current_revision(database_url) == "0014"
    await asyncio.to_thread(command.upgrade, config, "0015")
    assert await current_revision(database_url) == "0015"
