"""scheduled_event_notice: the Matrix notice of a Discord scheduled event (one per
event), its room and what it says now. Times are ms since the epoch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bridge.db import common
from bridge.ids import EventID, GuildID, RoomID


@dataclass(frozen=True)
class EventNoticeRow:
    discord_event_id: int
    guild_id: GuildID
    room_id: RoomID
    event_id: EventID
    body: str

    @classmethod
    def from_record(cls, rec: Any) -> EventNoticeRow:
        return cls(
            discord_event_id=int(rec["discord_event_id"]),
            guild_id=GuildID(int(rec["guild_id"])),
            room_id=RoomID(rec["room_id"]),
            event_id=EventID(rec["event_id"]),
            body=str(rec["body"]),
        )


_COLUMNS = "discord_event_id, guild_id, room_id, event_id, body"


class EventNoticeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, discord_event_id: int) -> EventNoticeRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM scheduled_event_notice WHERE discord_event_id=$1",
            discord_event_id,
        )
        return EventNoticeRow.from_record(rec) if rec is not None else None

    async def of_guild(self, guild_id: GuildID) -> list[EventNoticeRow]:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM scheduled_event_notice WHERE guild_id=$1"
            " ORDER BY discord_event_id",
            guild_id,
        )
        return [EventNoticeRow.from_record(r) for r in rows]

    async def put(self, row: EventNoticeRow) -> None:
        await self.db.execute(
            "INSERT INTO scheduled_event_notice"
            " (discord_event_id, guild_id, room_id, event_id, body, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (discord_event_id) DO UPDATE"
            " SET room_id=excluded.room_id, event_id=excluded.event_id, body=excluded.body,"
            " updated_at=excluded.updated_at",
            row.discord_event_id,
            row.guild_id,
            row.room_id,
            row.event_id,
            row.body,
            common.now_ms(),
        )
