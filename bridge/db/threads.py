"""thread: Discord thread channels <-> Matrix threads (``m.thread``) in portal rooms.

A Discord thread of a bridged channel is a Matrix thread in that channel's
portal room, rooted at ``root_event_id``. Messages posted in the thread are
recorded in the message map as usual, with the thread's ID as their
``discord_channel_id``; this table says which channel that is a thread of
(whose webhook posts into it) and where its Matrix thread is rooted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bridge.ids import ChannelID, EventID, RoomID

Origin = Literal["discord", "matrix"]


@dataclass(frozen=True)
class ThreadRow:
    thread_channel_id: ChannelID
    parent_channel_id: ChannelID
    room_id: RoomID
    root_event_id: EventID
    origin: Origin
    last_event_id: EventID | None = None
    # The thread's name as last relayed (None: recorded before names were kept).
    name: str | None = None

    @property
    def latest_event_id(self) -> EventID:
        """The event a new thread message's reply fallback points at."""
        return self.last_event_id or self.root_event_id

    @classmethod
    def from_record(cls, rec: Any) -> ThreadRow:
        last = rec["last_event_id"]
        return cls(
            thread_channel_id=ChannelID(int(rec["thread_channel_id"])),
            parent_channel_id=ChannelID(int(rec["parent_channel_id"])),
            room_id=RoomID(rec["room_id"]),
            root_event_id=EventID(rec["root_event_id"]),
            origin="discord" if rec["origin"] == "discord" else "matrix",
            last_event_id=EventID(last) if last is not None else None,
            name=rec["name"],
        )


_COLUMNS = (
    "thread_channel_id, parent_channel_id, room_id, root_event_id, origin, last_event_id, name"
)


class ThreadStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, row: ThreadRow) -> ThreadRow:
        """Record a thread; returns the row that holds (this one, or one recorded first
        for the same thread or the same root)."""
        await self.db.execute(
            f"INSERT INTO thread ({_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT DO NOTHING",
            row.thread_channel_id,
            row.parent_channel_id,
            row.room_id,
            row.root_event_id,
            row.origin,
            row.last_event_id,
            row.name,
            int(time.time() * 1000),
        )
        held = await self.by_thread(row.thread_channel_id)
        if held is None:  # the root already had another thread
            held = await self.by_root(row.room_id, row.root_event_id)
        assert held is not None
        return held

    async def by_thread(self, thread_channel_id: ChannelID) -> ThreadRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM thread WHERE thread_channel_id=$1", thread_channel_id
        )
        return ThreadRow.from_record(rec) if rec else None

    async def by_root(self, room_id: RoomID, root_event_id: EventID) -> ThreadRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM thread WHERE room_id=$1 AND root_event_id=$2",
            room_id,
            root_event_id,
        )
        return ThreadRow.from_record(rec) if rec else None

    async def in_parent(self, parent_channel_id: ChannelID) -> list[ThreadRow]:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM thread WHERE parent_channel_id=$1 ORDER BY thread_channel_id",
            parent_channel_id,
        )
        return [ThreadRow.from_record(rec) for rec in rows]

    async def set_last_event(self, thread_channel_id: ChannelID, event_id: EventID) -> None:
        await self.db.execute(
            "UPDATE thread SET last_event_id=$2 WHERE thread_channel_id=$1",
            thread_channel_id,
            event_id,
        )

    async def set_name(self, thread_channel_id: ChannelID, name: str) -> None:
        await self.db.execute(
            "UPDATE thread SET name=$2 WHERE thread_channel_id=$1", thread_channel_id, name
        )

    async def forget(self, thread_channel_id: ChannelID) -> ThreadRow | None:
        """Remove and return a thread (it was deleted on Discord)."""
        row = await self.by_thread(thread_channel_id)
        if row is not None:
            await self.db.execute(
                "DELETE FROM thread WHERE thread_channel_id=$1", thread_channel_id
            )
        return row
