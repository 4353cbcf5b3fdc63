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
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_channel(self, channel_id: ChannelID) -> PortalRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM portal WHERE discord_channel_id=$1", channel_id
        )
        return PortalRow.from_record(rec) if rec else None

    async def by_room(self, room_id: RoomID) -> PortalRow | None:
        rec = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM portal WHERE room_id=$1", room_id)
        return PortalRow.from_record(rec) if rec else None

    async def all(self) -> list[PortalRow]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM portal ORDER BY discord_channel_id")
        return [PortalRow.from_record(rec) for rec in rows]

    async def upsert(self, row: PortalRow) -> None:
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

    async def set_access(self, channel_id: ChannelID, access: str) -> None:
        await self.db.execute(
            "UPDATE portal SET access=$2 WHERE discord_channel_id=$1", channel_id, access
        )

    async def delete(self, channel_id: ChannelID) -> None:
        await self.db.execute("DELETE FROM portal WHERE discord_channel_id=$1", channel_id)
