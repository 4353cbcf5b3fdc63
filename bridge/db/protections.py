"""protection_switch: protections a moderator switched on or off (``!mod protection``),
read once at start; the running bridge keeps them in memory. protection_mute: the
Matrix users a protection muted, until when (ms since the epoch). protection_held: the
Discord messages held back (backfill skips them); written only when one is held."""

from __future__ import annotations

from mautrix.util.async_db import Database

from bridge.db import common


class ProtectionSwitchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> dict[str, bool]:
        rows = await self.db.fetch("SELECT name, enabled FROM protection_switch")
        return {str(r["name"]): bool(r["enabled"]) for r in rows}

    async def set(self, name: str, enabled: bool, actor: str, now_ms: int | None = None) -> None:
        at = now_ms if now_ms is not None else common.now_ms()
        await self.db.execute(
            "INSERT INTO protection_switch (name, enabled, actor, changed_at)"
            " VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (name) DO UPDATE SET enabled=excluded.enabled,"
            " actor=excluded.actor, changed_at=excluded.changed_at",
            name,
            enabled,
            actor,
            at,
        )


class ProtectionMuteStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> dict[str, int]:
        rows = await self.db.fetch("SELECT user_id, until_ms FROM protection_mute")
        return {str(r["user_id"]): int(r["until_ms"]) for r in rows}

    async def add(self, user_id: str, until_ms: int) -> None:
        await self.db.execute(
            "INSERT INTO protection_mute (user_id, until_ms) VALUES ($1, $2)"
            " ON CONFLICT (user_id) DO UPDATE SET until_ms=excluded.until_ms",
            user_id,
            until_ms,
        )

    async def remove(self, user_id: str) -> None:
        await self.db.execute("DELETE FROM protection_mute WHERE user_id=$1", user_id)


class ProtectionHeldStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, message_id: int, now_ms: int | None = None) -> None:
        at = now_ms if now_ms is not None else common.now_ms()
        await self.db.execute(
            "INSERT INTO protection_held (discord_message_id, held_at) VALUES ($1, $2)"
            " ON CONFLICT (discord_message_id) DO NOTHING",
            message_id,
            at,
        )

    async def contains(self, message_id: int) -> bool:
        found = await self.db.fetchval(
            "SELECT 1 FROM protection_held WHERE discord_message_id=$1", message_id
        )
        return found is not None

    async def forget_before(self, before_ms: int) -> None:
        await self.db.execute("DELETE FROM protection_held WHERE held_at < $1", before_ms)
