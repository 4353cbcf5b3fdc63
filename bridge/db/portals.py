"""portal: one row per bridged Discord channel and its Matrix room."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bridge.ids import ChannelID, GuildID, RoomID


@dataclass(frozen=True)
class PortalRow:
    discord_channel_id: ChannelID
    guild_id: GuildID
    room_id: RoomID
    name: str
    topic: str
    access: str

    @classmethod
    def from_record(cls, rec: Any) -> PortalRow:
        return cls(
            discord_channel_id=ChannelID(int(rec["discord_channel_id"])),
            guild_id=GuildID(int(rec["guild_id"])),
            room_id=RoomID(rec["room_id"]),
            name=rec["name"],
            topic=rec["topic"],
            access=rec["access"],
        )


_COLUMNS = "discord_channel_id, guild_id, room_id, name, topic, access"


class PortalStore:
    """Portals, read on every relayed message: kept in memory after the first read and
    dropped at every write through this store (the bridge's process is the only writer
    while it runs)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: list[PortalRow] | None = None

    async def _rows(self) -> list[PortalRow]:
        if self._cache is None:
            rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM portal ORDER BY discord_channel_id")
            self._cache = [PortalRow.from_record(rec) for rec in rows]
        return self._cache

    def forget_cache(self) -> None:
        self._cache = None

    async def by_channel(self, channel_id: ChannelID) -> PortalRow | None:
        return next((p for p in await self._rows() if p.discord_channel_id == channel_id), None)

    async def by_room(self, room_id: RoomID) -> PortalRow | None:
        return next((p for p in await self._rows() if p.room_id == room_id), None)

    async def all(self) -> list[PortalRow]:
        return list(await self._rows())

    async def upsert(self, row: PortalRow) -> None:
        self._cache = None
        await self.db.execute(
            "INSERT INTO portal (discord_channel_id, guild_id, room_id, name, topic, access,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (discord_channel_id) DO UPDATE SET room_id=excluded.room_id,"
            " name=excluded.name, topic=excluded.topic, access=excluded.access",
            row.discord_channel_id,
            row.guild_id,
            row.room_id,
            row.name,
            row.topic,
            row.access,
            int(time.time() * 1000),
        )
        self._cache = None  # again: a read during the write may have cached it

    async def set_access(self, channel_id: ChannelID, access: str) -> None:
        self._cache = None
        await self.db.execute(
            "UPDATE portal SET access=$2 WHERE discord_channel_id=$1", channel_id, access
        )
        self._cache = None  # again: a read during the write may have cached it

    async def delete(self, channel_id: ChannelID) -> None:
        self._cache = None
        await self.db.execute("DELETE FROM portal WHERE discord_channel_id=$1", channel_id)
        self._cache = None  # again: a read during the write may have cached it
