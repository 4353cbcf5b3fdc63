"""puppet: the Matrix ghost of each Discord user, with its last synced profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bridge.db.common import ReadCache
from bridge.ids import DiscordUserID


@dataclass(frozen=True)
class PuppetRow:
    discord_user_id: DiscordUserID
    displayname: str | None
    avatar_source: str | None
    avatar_mxc: str | None
    registered: bool

    @classmethod
    def from_record(cls, rec: Any) -> PuppetRow:
        return cls(
            discord_user_id=DiscordUserID(int(rec["discord_user_id"])),
            displayname=rec["displayname"],
            avatar_source=rec["avatar_source"],
            avatar_mxc=rec["avatar_mxc"],
            registered=bool(rec["registered"]),
        )


class PuppetStore:
    """Read for every Discord message relayed: kept in memory (see ReadCache)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: ReadCache[DiscordUserID, PuppetRow | None] = ReadCache()

    async def get(self, user_id: DiscordUserID) -> PuppetRow | None:
        return await self._cache.read(user_id, lambda: self._get(user_id))

    async def _get(self, user_id: DiscordUserID) -> PuppetRow | None:
        rec = await self.db.fetchrow(
            "SELECT discord_user_id, displayname, avatar_source, avatar_mxc, registered"
            " FROM puppet WHERE discord_user_id=$1",
            user_id,
        )
        return PuppetRow.from_record(rec) if rec else None

    async def upsert(self, row: PuppetRow) -> None:
        self._cache.invalidate()
        try:
            await self._upsert(row)
        finally:
            self._cache.invalidate()

    async def _upsert(self, row: PuppetRow) -> None:
        await self.db.execute(
            "INSERT INTO puppet (discord_user_id, displayname, avatar_source, avatar_mxc,"
            " registered) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (discord_user_id) DO UPDATE SET displayname=excluded.displayname,"
            " avatar_source=excluded.avatar_source, avatar_mxc=excluded.avatar_mxc,"
            " registered=excluded.registered",
            row.discord_user_id,
            row.displayname,
            row.avatar_source,
            row.avatar_mxc,
            row.registered,
        )
