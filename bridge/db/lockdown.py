"""lockdown, lockdown_saved, first_join: what a lockdown persists (migration 0017).

Times are ms since the epoch. SQL written to run on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bridge.db.common import fetch_all, fetch_one, now_ms

SavedKind = Literal["room", "channel", "guild"]
JoinSide = Literal["discord", "matrix"]


@dataclass(frozen=True)
class LockdownRow:
    active: bool
    since_ms: int
    until_ms: int | None
    actor: str
    reason: str

    @classmethod
    def from_record(cls, rec: Any) -> LockdownRow:
        until = rec["until_ms"]
        return cls(
            active=bool(rec["active"]),
            since_ms=int(rec["since_ms"]),
            until_ms=int(until) if until is not None else None,
            actor=rec["actor"],
            reason=rec["reason"],
        )


@dataclass(frozen=True)
class SavedValue:
    kind: SavedKind
    target: str
    previous: str  # JSON text (a room's join rules) or a number as text

    @classmethod
    def from_record(cls, rec: Any) -> SavedValue:
        kind = rec["kind"]
        if kind not in ("room", "channel", "guild"):
            raise ValueError(f"unknown saved kind {kind!r}")
        return cls(kind=kind, target=rec["target"], previous=rec["previous"])


class LockdownStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self) -> LockdownRow | None:
        return await fetch_one(
            self.db,
            LockdownRow.from_record,
            "SELECT active, since_ms, until_ms, actor, reason FROM lockdown WHERE id=1",
        )

    async def put(self, row: LockdownRow) -> None:
        await self.db.execute(
            "INSERT INTO lockdown (id, active, since_ms, until_ms, actor, reason)"
            " VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET"
            " active=excluded.active, since_ms=excluded.since_ms, until_ms=excluded.until_ms,"
            " actor=excluded.actor, reason=excluded.reason",
            row.active,
            row.since_ms,
            row.until_ms,
            row.actor,
            row.reason,
        )

    async def save(self, kind: SavedKind, target: str, previous: str) -> bool:
        """Remember a value before the lockdown changes it; a value already saved is
        kept (the first one is the one to restore). True when newly saved."""
        inserted = await self.db.fetchval(
            "INSERT INTO lockdown_saved (kind, target, previous, saved_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (kind, target) DO NOTHING RETURNING 1",
            kind,
            target,
            previous,
            now_ms(),
        )
        return inserted is not None

    async def saved(self) -> list[SavedValue]:
        return await fetch_all(
            self.db,
            SavedValue.from_record,
            "SELECT kind, target, previous FROM lockdown_saved ORDER BY kind, target",
        )

    async def forget(self, kind: SavedKind, target: str) -> None:
        await self.db.execute(
            "DELETE FROM lockdown_saved WHERE kind=$1 AND target=$2", kind, target
        )

    async def note_join(self, side: JoinSide, user_id: str, joined_at: int) -> bool:
        """Record a user's first join on ``side``; later joins keep the first. True when new."""
        inserted = await self.db.fetchval(
            "INSERT INTO first_join (side, user_id, joined_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (side, user_id) DO NOTHING RETURNING 1",
            side,
            user_id,
            joined_at,
        )
        return inserted is not None

    async def first_joins_since(self, side: JoinSide, since_ms: int) -> dict[str, int]:
        """Users whose first join on ``side`` is at ``since_ms`` or later -> when."""
        rows = await self.db.fetch(
            "SELECT user_id, joined_at FROM first_join WHERE side=$1 AND joined_at >= $2",
            side,
            since_ms,
        )
        return {str(row["user_id"]): int(row["joined_at"]) for row in rows}

    async def first_join(self, side: JoinSide, user_id: str) -> int | None:
        value = await self.db.fetchval(
            "SELECT joined_at FROM first_join WHERE side=$1 AND user_id=$2", side, user_id
        )
        return int(value) if value is not None else None
