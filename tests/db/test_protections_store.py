"""protection_switch and protection_mute (alembic 0018) on both databases."""

from __future__ import annotations

import asyncio

from alembic import command
from bridge.db import Stores
from bridge.db.migrate import alembic_config, current_revision


async def test_switches_are_kept_and_overwritten(stores: Stores) -> None:
    switches = stores.protection_switches
    assert await switches.all() == {}
    await switches.set("mentions", False, "@mod:x", now_ms=1)
    await switches.set("repeats", True, "@mod:x", now_ms=2)
    await switches.set("mentions", True, "discord:1", now_ms=3)
    assert await switches.all() == {"mentions": True, "repeats": True}


async def test_mutes_are_kept_until_removed(stores: Stores) -> None:
    mutes = stores.protection_mutes
    await mutes.add("@a:x", 1000)
    await mutes.add("@a:x", 2000)
    await mutes.add("@b:x", 3000)
    assert await mutes.all() == {"@a:x": 2000, "@b:x": 3000}
    await mutes.remove("@a:x")
    assert await mutes.all() == {"@b:x": 3000}


async def test_migration_0018_down_and_up(stores: Stores, database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0017")
    assert await current_revision(database_url) == "0017"
    await asyncio.to_thread(command.upgrade, config, "0018")
    assert await current_revision(database_url) == "0018"


async def test_held_messages_are_remembered_then_forgotten(stores: Stores) -> None:
    held = stores.protection_held
    big = 2**63 - 1
    await held.add(big, now_ms=10)
    await held.add(big, now_ms=20)  # held twice (a retry): kept once
    await held.add(5, now_ms=30)
    assert await held.contains(big) and await held.contains(5)
    assert not await held.contains(6)
    await held.forget_before(25)
    assert not await held.contains(big) and await held.contains(5)
