"""webhook: the Discord webhook the bridge posts through, per channel.

The token is a secret: it is stored here and nowhere else, and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mautrix.util.async_db import Database

from bridge.ids import ChannelID, WebhookID


@dataclass(frozen=True)
class WebhookRow:
    discord_channel_id: ChannelID
    webhook_id: WebhookID
    webhook_token: str = field(repr=False)


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, channel_id: ChannelID) -> WebhookRow | None:
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
        await self.db.execute("DELETE FROM webhook WHERE discord_channel_id=$1", channel_id)
