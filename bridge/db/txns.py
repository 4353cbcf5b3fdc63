"""as_txn: appservice transaction IDs already handled, per registration."""

from __future__ import annotations

import time

from mautrix.util.async_db import Database


class TransactionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(self, appservice_id: str, txn_id: str) -> bool:
        value = await self.db.fetchval(
            "SELECT 1 FROM as_txn WHERE appservice_id=$1 AND txn_id=$2", appservice_id, txn_id
        )
        return value is not None

    async def mark(self, appservice_id: str, txn_id: str) -> None:
        await self.db.execute(
            "INSERT INTO as_txn (appservice_id, txn_id, processed_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            appservice_id,
            txn_id,
            int(time.time() * 1000),
        )
