"""webhook: the Discord webhook the bridge posts through, per channel.

The token is a secret: it is stored here and nowhere else, and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mautrix.util.async_db import Database

from bridge.db.common import ReadCache
from bridge.ids import ChannelID, WebhookID


@dataclass(frozen=True)
class WebhookRow:
    discord_channel_id: ChannelID
    webhook_id: WebhookID
    webhook_token: str = field(repr=False)


class WebhookStore:
    """Read on every Matrix message relayed: kept in memory (see ReadCache)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: ReadCache[ChannelID, WebhookRow | None] = ReadCache()

    async def get(self, channel_id: ChannelID) -> WebhookRow | None:
        return await self._cache.read(channel_id, lambda: self._get(channel_id))

    async def _get(self, channel_id: ChannelID) -> WebhookRow | None:
        rec = await self.db.fetchrow(
            "SELECT webhook_id, webhook_token FROM webhook WHERE discord_channel_id=$1",
            channel_id,
        )
        if not rec:
            return None
        return WebhookRow(channel_id, WebhookID(int(rec["webhook_id"])), rec["webhook_token"])

    async def all_ids(self) -> set[WebhookID]:
        rows = await self.db.fetch("SELECT webhook_id FROM webhook")
        return {WebhookID(int(rec["webhook_id"])) for rec in rows}

    async def put(self, row: WebhookRow) -> None:
        self._cache.invalidate()
        try:
            await self._put(row)
        finally:
            self._cache.invalidate()

    async def _put(self, row: WebhookRow) -> None:
        await self.db.execute(
            "INSERT INTO webhook (discord_channel_id, webhook_id, webhook_token)"
            " VALUES ($1, $2, $3)"
            " ON CONFLICT (discord_channel_id) DO UPDATE SET webhook_id=excluded.webhook_id,"
            " webhook_token=excluded.webhook_token",
            row.discord_channel_id,
            row.webhook_id,
            row.webhook_token,
        )

    async def delete(self, channel_id: ChannelID) -> None:
        self._cache.invalidate()
        try:
            await self.db.execute("DELETE FROM webhook WHERE discord_channel_id=$1", channel_id)
        finally:
            self._cache.invalidate()
