"""web_account: the Matrix account the members' page created for each Discord account
(one per Discord account, kept after unlinking). Times are ms since the epoch."""

from __future__ import annotations

from mautrix.util.async_db import Database

from bridge.db import common
from bridge.ids import DiscordUserID, UserID


class WebAccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def created_for(self, discord_id: DiscordUserID) -> UserID | None:
        mxid = await self.db.fetchval(
            "SELECT mxid FROM web_account WHERE discord_id=$1", discord_id
        )
        return UserID(mxid) if mxid is not None else None

    async def record(
        self, discord_id: DiscordUserID, mxid: UserID, now_ms: int | None = None
    ) -> bool:
        """Remember the account; False when this Discord account already has one."""
        at = now_ms if now_ms is not None else common.now_ms()
        inserted = await self.db.fetchval(
            "INSERT INTO web_account (discord_id, mxid, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            discord_id,
            mxid,
            at,
        )
        return inserted is not None
