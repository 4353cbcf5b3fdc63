"""message: the map between Discord messages and the Matrix events of each.

One Discord message may map to several Matrix events (text plus attachments),
numbered by ``part``; one Matrix event may map to several Discord messages (a
long message split at Discord's limit), numbered by ``event_part``. Both
pairs are unique, which makes a replayed delivery detectable.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bridge.ids import ChannelID, EventID, MessageID, RoomID

Origin = Literal["discord", "matrix"]


@dataclass(frozen=True)
class MessageRow:
    discord_message_id: MessageID
    part: int
    discord_channel_id: ChannelID
    room_id: RoomID
    event_id: EventID
    origin: Origin
    event_part: int = 0
    # The Discord attachment this part shows (Discord messages' media parts).
    attachment_id: int | None = None
    # The text part as relayed (text_digest()): an edit that keeps it sends nothing.
    text_digest: str | None = None

    @classmethod
    def from_record(cls, rec: Any) -> MessageRow:
        attachment_id = rec["attachment_id"]
        return cls(
            discord_message_id=MessageID(int(rec["discord_message_id"])),
            part=int(rec["part"]),
            discord_channel_id=ChannelID(int(rec["discord_channel_id"])),
            room_id=RoomID(rec["room_id"]),
            event_id=EventID(rec["event_id"]),
            origin="discord" if rec["origin"] == "discord" else "matrix",
            event_part=int(rec["event_part"]),
            attachment_id=int(attachment_id) if attachment_id is not None else None,
            text_digest=rec["text_digest"],
        )


def text_digest(body: str, html: str | None) -> str:
    """What identifies a relayed text: its plain body and its HTML."""
    data = f"{body}\x00{html or ''}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


_COLUMNS = (
    "discord_message_id, part, discord_channel_id, room_id, event_id, origin, event_part,"
    " attachment_id, text_digest"
)

# A link: the columns above and created_at; a replay (either side mapped) does nothing.
INSERT = (
    f"INSERT INTO message ({_COLUMNS}, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
)


class MessageMap:
    """The links. It also keeps a bound on the Discord message IDs stored, so that the
    "was this message relayed already?" check of a live message costs no round trip:
    Discord IDs grow with time, so a new message is above every ID stored."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Highest Discord message ID in the table when first read (None: not read yet),
        # and highest this process has written since (noted before each write, so a
        # write in progress is covered). Both only grow: a deletion leaves them high,
        # which costs a round trip, never a wrong answer.
        self._stored_max: int | None = None
        self._written_max = 0

    def noting(self, message_id: int) -> None:
        """A link of ``message_id`` is about to be written (by this map or the in-flight
        store, which writes links together with its own rows)."""
        self._written_max = max(self._written_max, message_id)

    async def insert(self, row: MessageRow) -> bool:
        """Record a link; False if either side was already mapped (a replay)."""
        self.noting(row.discord_message_id)
        status = await self.db.execute(
            INSERT,
            row.discord_message_id,
            row.part,
            row.discord_channel_id,
            row.room_id,
            row.event_id,
            row.origin,
            row.event_part,
            row.attachment_id,
            row.text_digest,
            int(time.time() * 1000),
        )
        if isinstance(status, str):  # asyncpg: "INSERT 0 1"
            return status.endswith(" 1")
        return bool(getattr(status, "rowcount", 1))

    async def has_discord(self, message_id: MessageID) -> bool:
        """Whether the Discord message has links (it was relayed, or is Matrix's).

        An ID above every stored one has none: no round trip, which is the case of every
        live message. Older IDs (backfill, a gateway replay, an import) are looked up."""
        if self._stored_max is None:
            highest = await self.db.fetchval("SELECT MAX(discord_message_id) FROM message")
            self._stored_max = int(highest or 0)
        if message_id > max(self._stored_max, self._written_max):
            return False
        found = await self.db.fetchval(
            "SELECT 1 FROM message WHERE discord_message_id=$1 LIMIT 1", message_id
        )
        return found is not None

    async def by_discord(self, message_id: MessageID) -> list[MessageRow]:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM message WHERE discord_message_id=$1 ORDER BY part",
            message_id,
        )
        return [MessageRow.from_record(rec) for rec in rows]

    async def by_event(self, event_id: EventID, room_id: RoomID | None = None) -> list[MessageRow]:
        """The links of a Matrix event; with ``room_id``, only if the event is in that room
        (an event ID from another room, e.g. in a crafted relation, maps to nothing)."""
        if room_id is None:
            rows = await self.db.fetch(
                f"SELECT {_COLUMNS} FROM message WHERE event_id=$1 ORDER BY event_part", event_id
            )
        else:
            rows = await self.db.fetch(
                f"SELECT {_COLUMNS} FROM message WHERE event_id=$1 AND room_id=$2"
                " ORDER BY event_part",
                event_id,
                room_id,
            )
        return [MessageRow.from_record(rec) for rec in rows]

    async def in_channel(self, channel_id: ChannelID) -> list[MessageRow]:
        """Every link of a channel (a thread being deleted), oldest first."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM message WHERE discord_channel_id=$1"
            " ORDER BY discord_message_id, part, event_part",
            channel_id,
        )
        return [MessageRow.from_record(rec) for rec in rows]

    async def last_in_channel(self, channel_id: ChannelID) -> MessageRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM message WHERE discord_channel_id=$1"
            " ORDER BY discord_message_id DESC, part DESC LIMIT 1",
            channel_id,
        )
        return MessageRow.from_record(rec) if rec else None

    async def discord_window(
        self, channel_id: ChannelID, newest: int
    ) -> list[tuple[MessageID, int | None]]:
        """The channel's ``newest`` most recent relayed Discord messages (files-only ones
        too), newest first, with when each was last edited as relayed: what backfill
        compares."""
        rows = await self.db.fetch(
            "SELECT discord_message_id, MAX(edited_ms) AS edited_ms FROM message"
            " WHERE discord_channel_id=$1 AND origin='discord' GROUP BY discord_message_id"
            " ORDER BY discord_message_id DESC LIMIT $2",
            channel_id,
            newest,
        )
        return [
            (MessageID(int(r["discord_message_id"])), r["edited_ms"] and int(r["edited_ms"]))
            for r in rows
        ]

    async def set_edited(
        self, message_id: MessageID, edited_ms: int, digest: str | None = None
    ) -> None:
        """The text part was edited as relayed (``digest``: its text now, if it changed)."""
        await self.db.execute(
            "UPDATE message SET edited_ms=$2,"
            " text_digest=CASE WHEN part=0 THEN COALESCE($3, text_digest) ELSE text_digest END"
            " WHERE discord_message_id=$1",
            message_id,
            edited_ms,
            digest,
        )

    async def set_digest(self, message_id: MessageID, digest: str) -> None:
        """The text part as relayed now (a forum post's root, edited for its tags)."""
        await self.db.execute(
            "UPDATE message SET text_digest=$2 WHERE discord_message_id=$1 AND part=0",
            message_id,
            digest,
        )

    async def forget_discord(self, message_id: MessageID) -> list[MessageRow]:
        """Remove and return the links of a Discord message (it was deleted)."""
        rows = await self.by_discord(message_id)
        await self.db.execute("DELETE FROM message WHERE discord_message_id=$1", message_id)
        return rows

    async def forget_event(self, event_id: EventID) -> list[MessageRow]:
        """Remove and return the links of a Matrix event (it was redacted)."""
        rows = await self.by_event(event_id)
        await self.db.execute("DELETE FROM message WHERE event_id=$1", event_id)
        return rows

    async def forget_row(self, row: MessageRow) -> None:
        await self.db.execute(
            "DELETE FROM message WHERE discord_message_id=$1 AND part=$2",
            row.discord_message_id,
            row.part,
        )

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM message") or 0)
