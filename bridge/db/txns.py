"""as_txn: appservice transaction IDs already handled, per registration.

A transaction is the same one again when its ID *and* its events are the same:
Synapse reuses transaction IDs after a restart when it runs on SQLite (its counter
restarts from the highest ID still queued), so an ID alone would make the bridge
drop new events as duplicates, a known way for bridges to go silent.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from mautrix.util.async_db import Database


def events_digest(events: list[dict[str, Any]]) -> str:
    """What identifies a transaction's content: its event IDs, in order."""
    ids = "\n".join(str(e.get("event_id", "")) for e in events)
    return hashlib.sha256(ids.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class TransactionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(self, appservice_id: str, txn_id: str, digest: str | None = None) -> bool:
        """Handled before: the same ID (with ``digest``, the same events too)."""
        row = await self.db.fetchrow(
            "SELECT digest FROM as_txn WHERE appservice_id=$1 AND txn_id=$2", appservice_id, txn_id
        )
        if row is None:
            return False
        return digest is None or row["digest"] is None or row["digest"] == digest

    async def last_handled(self, appservice_id: str) -> str | None:
        """The ID of the transaction handled most recently (None: none yet)."""
        value = await self.db.fetchval(
            "SELECT txn_id FROM as_txn WHERE appservice_id=$1 ORDER BY processed_at DESC LIMIT 1",
            appservice_id,
        )
        return str(value) if value is not None else None

    async def prune(self, appservice_id: str, keep_ms: int, batch: int = 1000) -> int:
        """Delete up to ``batch`` rows handled more than ``keep_ms`` before the newest one
        (never the newest itself); returns how many went.

        The age counts from the newest transaction, not from now: after a long
        downtime the transactions handled just before it are still there when the
        homeserver resends them."""
        newest = await self.db.fetchval(
            "SELECT MAX(processed_at) FROM as_txn WHERE appservice_id=$1", appservice_id
        )
        if newest is None:
            return 0
        rows = await self.db.fetch(
            "DELETE FROM as_txn WHERE appservice_id=$1 AND txn_id IN (SELECT txn_id FROM as_txn"
            " WHERE appservice_id=$1 AND processed_at < $2 LIMIT $3) RETURNING 1",
            appservice_id,
            int(newest) - keep_ms,
            batch,
        )
        return len(rows)

    async def mark(self, appservice_id: str, txn_id: str, digest: str | None = None) -> None:
        await self.db.execute(UPSERT, appservice_id, txn_id, int(time.time() * 1000), digest)


UPSERT = (
    "INSERT INTO as_txn (appservice_id, txn_id, processed_at, digest) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (appservice_id, txn_id) DO UPDATE SET processed_at=excluded.processed_at,"
    " digest=excluded.digest"
)
