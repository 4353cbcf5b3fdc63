"""m2d_outbox and m2d_inflight: Matrix events waiting for Discord, and sends in flight.

A homeserver transaction is stored here, with its ID, in one database
transaction before the homeserver gets its 200; a row leaves the outbox only
once its event was handled. ``m2d_inflight`` marks a webhook execute between
"about to send" and "message ID recorded": a row left behind by a crash tells
the retry to look in the channel before sending again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Connection, Database, Scheme

from bridge.db import messages, txns
from bridge.db.common import now_ms
from bridge.db.messages import MessageMap, MessageRow
from bridge.ids import ChannelID, EventID, MessageID, RoomID


@dataclass(frozen=True)
class OutboxRow:
    id: int
    room_id: RoomID
    event_id: EventID
    event: dict[str, Any]
    attempts: int = 0
    next_attempt_at: int = 0
    # When the homeserver's transaction arrived (time.monotonic(), bridge.relay_clock);
    # not stored: None for a row read back at start-up.
    received_at: float | None = None

    @classmethod
    def from_record(cls, rec: Any) -> OutboxRow:
        return cls(
            id=int(rec["id"]),
            room_id=RoomID(rec["room_id"]),
            event_id=EventID(rec["event_id"]),
            event=json.loads(rec["event"]),
            attempts=int(rec["attempts"]),
            next_attempt_at=int(rec["next_attempt_at"]),
        )


_COLUMNS = "id, room_id, event_id, event, attempts, next_attempt_at"


def _event_json(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


# PostgreSQL: a transaction handled before (same ID, same events or no digest) writes
# nothing and answers one row with seen; otherwise its events are queued (an event
# already queued is not queued twice) and the ID is marked, in one atomic statement.
# $4..$6: the events' room IDs, event IDs and JSON, in order; $7: now (ms); $8..$11:
# in-flight marks of first parts written with it (InflightStore.preclaimed): their event
# IDs, channels, contents and usernames (a mark only for an event queued now, unmapped).
ACCEPT = """
WITH prior AS (
    SELECT 1 FROM as_txn WHERE appservice_id = $1 AND txn_id = $2
    AND (digest IS NULL OR digest = $3)
), queued AS (
    INSERT INTO m2d_outbox (appservice_id, txn_id, room_id, event_id, event, enqueued_at)
    SELECT $1, $2, e.room_id, e.event_id, e.event, $7
    FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(room_id, event_id,
        event, n)
    WHERE NOT EXISTS (SELECT 1 FROM prior)
    ORDER BY e.n
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, event_id
), marked AS (
    INSERT INTO as_txn (appservice_id, txn_id, processed_at, digest)
    SELECT $1, $2, $7, $3 WHERE NOT EXISTS (SELECT 1 FROM prior)
    ON CONFLICT (appservice_id, txn_id) DO UPDATE SET processed_at = excluded.processed_at,
        digest = excluded.digest
), claimed AS (
    INSERT INTO m2d_inflight (event_id, event_part, discord_channel_id, content, username,
        started_at)
    SELECT m.event_id, 0, m.channel, m.content, m.username, $7
    FROM unnest($8::text[], $9::bigint[], $10::text[], $11::text[])
        AS m(event_id, channel, content, username)
    WHERE m.event_id IN (SELECT event_id FROM queued)
    AND NOT EXISTS (SELECT 1 FROM message WHERE event_id = m.event_id AND event_part = 0)
    ON CONFLICT (event_id, event_part) DO NOTHING
    RETURNING event_id
)
SELECT EXISTS (SELECT 1 FROM prior) AS seen, queued.id, queued.event_id,
    COALESCE(queued.event_id IN (SELECT event_id FROM claimed), false) AS claimed
FROM (SELECT 1) AS one LEFT JOIN queued ON true ORDER BY queued.id
"""


class OutboxStore:
    def __init__(self, db: Database, inflight: InflightStore) -> None:
        self.db = db
        self.inflight = inflight

    async def enqueue_transaction(
        self,
        appservice_id: str,
        txn_id: str,
        events: list[dict[str, Any]],
        marks: Sequence[InflightRow] = (),
    ) -> list[OutboxRow]:
        """Store the transaction's events and mark it handled, all or nothing.

        Events without a string ``event_id`` and ``room_id`` cannot be relayed and are
        not stored. An event already queued (the same event in another transaction)
        is not queued twice. Returns the new rows, in order. ``marks``: as in
        :meth:`accept_transaction`.
        """
        rows: list[OutboxRow] = []
        now = now_ms()
        conn: Connection
        async with self.db.acquire() as conn, conn.transaction():
            for event in events:
                event_id, room_id = event.get("event_id"), event.get("room_id")
                if not isinstance(event_id, str) or not isinstance(room_id, str):
                    continue
                new_id = await conn.fetchval(
                    "INSERT INTO m2d_outbox (appservice_id, txn_id, room_id, event_id, event,"
                    " enqueued_at) VALUES ($1, $2, $3, $4, $5, $6)"
                    " ON CONFLICT (event_id) DO NOTHING RETURNING id",
                    appservice_id,
                    txn_id,
                    room_id,
                    event_id,
                    _event_json(event),
                    now,
                )
                if new_id is not None:
                    rows.append(OutboxRow(int(new_id), RoomID(room_id), EventID(event_id), event))
            queued = {row.event_id for row in rows}
            claimed: list[InflightRow] = []
            for mark in marks:
                if mark.event_id not in queued or mark.event_part != 0:
                    continue
                mapped = await conn.fetchval(
                    "SELECT 1 FROM message WHERE event_id=$1 AND event_part=0", mark.event_id
                )
                if mapped is None and await conn.fetchval(
                    f"{_CLAIM_INSERT} RETURNING 1", *mark.args()
                ):
                    claimed.append(mark)
            await conn.execute(txns.UPSERT, appservice_id, txn_id, now, txns.events_digest(events))
        self.inflight.preclaimed_with(claimed)
        return rows

    async def accept_transaction(
        self,
        appservice_id: str,
        txn_id: str,
        events: list[dict[str, Any]],
        marks: Sequence[InflightRow] = (),
    ) -> list[OutboxRow] | None:
        """Store the transaction's events and mark it handled, all or nothing, unless it
        was handled before (the same ID and events: :meth:`TransactionStore.seen`); then
        None, and nothing is written. Otherwise the new rows, in order (as
        :meth:`enqueue_transaction`).

        On PostgreSQL this is one statement, so one round trip: the check, the events'
        rows and the ``as_txn`` mark commit together or not at all, exactly as the
        check, then BEGIN, the inserts, the mark and COMMIT did in five or more.

        ``marks``: in-flight marks of first parts, converted on receipt (the fast lane,
        bridge.actions.m2d_fast), written in the same commit for the events queued now
        and not mapped; each written one spares the send its claim's round trip
        (:attr:`InflightStore.preclaimed`)."""
        digest = txns.events_digest(events)
        if self.db.scheme not in (Scheme.POSTGRES, Scheme.COCKROACH):
            if await txns.TransactionStore(self.db).seen(appservice_id, txn_id, digest):
                return None
            return await self.enqueue_transaction(appservice_id, txn_id, events, marks)
        stored = [
            (e["room_id"], e["event_id"], _event_json(e))
            for e in events
            if isinstance(e.get("event_id"), str) and isinstance(e.get("room_id"), str)
        ]
        records = await self.db.fetch(
            ACCEPT,
            appservice_id,
            txn_id,
            digest,
            [r for r, _, _ in stored],
            [e for _, e, _ in stored],
            [j for _, _, j in stored],
            now_ms(),
            [m.event_id for m in marks],
            [m.discord_channel_id for m in marks],
            [m.content for m in marks],
            [m.username for m in marks],
        )
        if not records or records[0]["seen"]:
            return None
        written = {rec["event_id"] for rec in records if rec["claimed"]}
        self.inflight.preclaimed_with(
            [m for m in marks if m.event_id in written and m.event_part == 0]
        )
        by_event = {rec["event_id"]: int(rec["id"]) for rec in records if rec["id"] is not None}
        rows: list[OutboxRow] = []
        for event in events:
            row_id = by_event.pop(event.get("event_id"), None)
            if row_id is not None:
                rows.append(
                    OutboxRow(row_id, RoomID(event["room_id"]), EventID(event["event_id"]), event)
                )
        return rows

    async def pending(self) -> list[OutboxRow]:
        """Every live row, oldest first (at start-up)."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM m2d_outbox WHERE dead = $1 ORDER BY id", False
        )
        return [OutboxRow.from_record(rec) for rec in rows]

    async def done(self, row_id: int, event_id: EventID) -> None:
        """The row's event is delivered (or needed nothing): the row goes, and with it
        any in-flight mark of the event still there (every part sent was recorded, which
        removed its own; one left is a fast-lane mark for a part never sent, e.g. a
        message held by a protection)."""
        self.inflight.forget_preclaimed(event_id)
        if self.db.scheme in (Scheme.POSTGRES, Scheme.COCKROACH):
            await self.db.execute(
                "WITH marks AS (DELETE FROM m2d_inflight WHERE event_id=$2)"
                " DELETE FROM m2d_outbox WHERE id=$1",
                row_id,
                event_id,
            )
            return
        await self.db.execute("DELETE FROM m2d_inflight WHERE event_id=$1", event_id)
        await self.db.execute("DELETE FROM m2d_outbox WHERE id=$1", row_id)

    async def retry_later(self, row_id: int, attempts: int, next_at: int, error: str) -> None:
        await self.db.execute(
            "UPDATE m2d_outbox SET attempts=$2, next_attempt_at=$3, last_error=$4 WHERE id=$1",
            row_id,
            attempts,
            next_at,
            error[:500],
        )

    async def bury(self, row_id: int, attempts: int, error: str) -> None:
        """Keep the row for the operator, but never try it again."""
        await self.db.execute(
            "UPDATE m2d_outbox SET dead=$2, attempts=$3, last_error=$4 WHERE id=$1",
            row_id,
            True,
            attempts,
            error[:500],
        )

    async def count(self, *, dead: bool = False) -> int:
        value = await self.db.fetchval("SELECT COUNT(*) FROM m2d_outbox WHERE dead=$1", dead)
        return int(value or 0)


_CLAIM_INSERT = (
    "INSERT INTO m2d_inflight (event_id, event_part, discord_channel_id, content, username,"
    " started_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, event_part) DO NOTHING"
)
# PostgreSQL: the part's link if it is mapped; else the mark written unless one is there.
CLAIM = """
WITH mapped AS (
    SELECT discord_message_id FROM message WHERE event_id = $1 AND event_part = $2
), claimed AS (
    INSERT INTO m2d_inflight (event_id, event_part, discord_channel_id, content, username,
        started_at)
    SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM mapped)
    ON CONFLICT (event_id, event_part) DO NOTHING
    RETURNING 1
)
SELECT (SELECT discord_message_id FROM mapped) AS mapped,
    EXISTS (SELECT 1 FROM claimed) AS claimed
"""


@dataclass(frozen=True)
class Claim:
    """What :meth:`InflightStore.claim` found: ``mapped``, the part's Discord message
    (nothing to send); ``previous``, a mark left by an earlier attempt (maybe sent);
    neither: the mark is written, send now."""

    mapped: MessageID | None = None
    previous: InflightRow | None = None


@dataclass(frozen=True)
class InflightRow:
    event_id: EventID
    event_part: int
    discord_channel_id: ChannelID
    content: str
    username: str
    started_at: int

    def args(self) -> tuple[EventID, int, ChannelID, str, str, int]:
        """The columns, in the order of m2d_inflight's statements."""
        return (
            self.event_id,
            self.event_part,
            self.discord_channel_id,
            self.content,
            self.username,
            self.started_at,
        )

    def same_send(self, other: InflightRow) -> bool:
        """The same part, with the same text, by the same name, to the same channel."""
        return self.args()[:5] == other.args()[:5]

    @classmethod
    def from_record(cls, rec: Any) -> InflightRow:
        return cls(
            EventID(rec["event_id"]),
            int(rec["event_part"]),
            ChannelID(int(rec["discord_channel_id"])),
            rec["content"],
            rec["username"],
            int(rec["started_at"]),
        )


class InflightStore:
    def __init__(self, db: Database, messages: MessageMap) -> None:
        self.db = db
        self.messages = messages
        # Marks this process wrote with their transaction (OutboxStore.accept_transaction)
        # and no send has used yet, by (event, part): the first claim of that part finds
        # its mark already written and committed, and sends without a round trip.
        self.preclaimed: dict[tuple[EventID, int], InflightRow] = {}

    def preclaimed_with(self, marks: Sequence[InflightRow]) -> None:
        for mark in marks:
            self.preclaimed[(mark.event_id, mark.event_part)] = mark

    def forget_preclaimed(self, event_id: EventID) -> None:
        self.preclaimed.pop((event_id, 0), None)

    async def get(self, event_id: EventID, event_part: int) -> InflightRow | None:
        rec = await self.db.fetchrow(
            "SELECT event_id, event_part, discord_channel_id, content, username, started_at"
            " FROM m2d_inflight WHERE event_id=$1 AND event_part=$2",
            event_id,
            event_part,
        )
        return InflightRow.from_record(rec) if rec else None

    async def start(self, row: InflightRow) -> None:
        await self.db.execute(
            "INSERT INTO m2d_inflight (event_id, event_part, discord_channel_id, content,"
            " username, started_at) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (event_id, event_part) DO UPDATE SET"
            " discord_channel_id=excluded.discord_channel_id, content=excluded.content,"
            " username=excluded.username, started_at=excluded.started_at",
            *row.args(),
        )

    async def claim(self, row: InflightRow) -> Claim:
        """Before sending a part: is it mapped already (nothing to send), did a previous
        attempt leave its mark (it may have been sent: look first), or neither (then the
        mark is written now, committed before the send)? On PostgreSQL one round trip,
        instead of reading the map, reading the marks, then writing one.

        A part whose mark was written with its transaction (:attr:`preclaimed`): no send
        can have used that mark yet (this is its first claim in the process that wrote
        it, and the mark was only written if the part was not mapped), so it is the
        mark of this send; if the text sent now differs from the one converted on
        receipt, the mark is rewritten first."""
        pre = self.preclaimed.pop((row.event_id, row.event_part), None)
        if pre is not None:
            if not pre.same_send(row):
                await self.start(row)
            return Claim()
        args = row.args()
        if self.db.scheme in (Scheme.POSTGRES, Scheme.COCKROACH):
            rec = await self.db.fetchrow(CLAIM, *args)
            assert rec is not None  # the statement always answers one row
            mapped, claimed = rec["mapped"], rec["claimed"]
        else:
            mapped = await self.db.fetchval(
                "SELECT discord_message_id FROM message WHERE event_id=$1 AND event_part=$2",
                row.event_id,
                row.event_part,
            )
            claimed = mapped is None and (
                await self.db.fetchval(f"{_CLAIM_INSERT} RETURNING 1", *args) is not None
            )
        if mapped is not None:
            return Claim(mapped=MessageID(int(mapped)))
        if claimed:
            return Claim()
        return Claim(previous=await self.get(row.event_id, row.event_part))

    async def record(self, message: MessageRow) -> bool:
        """The send of ``message`` (an event part relayed to Discord) is over: map it and
        remove its in-flight mark together (on PostgreSQL in one statement, so one round
        trip and no window between the two). False if it was mapped already."""
        self.messages.noting(message.discord_message_id)
        args = (
            message.discord_message_id,
            message.part,
            message.discord_channel_id,
            message.room_id,
            message.event_id,
            message.origin,
            message.event_part,
            message.attachment_id,
            message.text_digest,
            now_ms(),
        )
        if self.db.scheme in (Scheme.POSTGRES, Scheme.COCKROACH):
            inserted = await self.db.fetchval(
                "WITH done AS (DELETE FROM m2d_inflight WHERE event_id=$5 AND event_part=$7)"
                f" {messages.INSERT} RETURNING 1",
                *args,
            )
            return inserted is not None
        conn: Connection
        async with self.db.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(f"{messages.INSERT} RETURNING 1", *args)
            await conn.execute(
                "DELETE FROM m2d_inflight WHERE event_id=$1 AND event_part=$2",
                message.event_id,
                message.event_part,
            )
        return inserted is not None

    async def prune_recorded(self, started_before: int, batch: int = 1000) -> int:
        """Delete up to ``batch`` marks started before ``started_before`` (ms) whose part
        is in the message map: left by a crash between the link and the mark's removal
        (before they were written together), never read again (a mapped part is not
        sent). Returns how many went."""
        rows = await self.db.fetch(
            "DELETE FROM m2d_inflight WHERE (event_id, event_part) IN (SELECT i.event_id,"
            " i.event_part FROM m2d_inflight i JOIN message m ON m.event_id = i.event_id"
            " AND m.event_part = i.event_part WHERE i.started_at < $1 LIMIT $2) RETURNING 1",
            started_before,
            batch,
        )
        return len(rows)

    async def finish(self, event_id: EventID, event_part: int) -> None:
        await self.db.execute(
            "DELETE FROM m2d_inflight WHERE event_id=$1 AND event_part=$2", event_id, event_part
        )


@dataclass(frozen=True)
class ImportRow:
    discord_channel_id: ChannelID
    last_message_id: int  # the last message handled (0: none yet)
    until_message_id: int  # the import stops before this one (live relay has the rest)
    imported: int
    done: bool

    @classmethod
    def from_record(cls, rec: Any) -> ImportRow:
        return cls(
            ChannelID(int(rec["discord_channel_id"])),
            int(rec["last_message_id"]),
            int(rec["until_message_id"]),
            int(rec["imported"]),
            bool(rec["done"]),
        )


class HistoryImportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, channel_id: ChannelID) -> ImportRow | None:
        rec = await self.db.fetchrow(
            "SELECT discord_channel_id, last_message_id, until_message_id, imported, done"
            " FROM history_import WHERE discord_channel_id=$1",
            channel_id,
        )
        return ImportRow.from_record(rec) if rec else None

    async def save(self, row: ImportRow) -> None:
        await self.db.execute(
            "INSERT INTO history_import (discord_channel_id, last_message_id, until_message_id,"
            " imported, done, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (discord_channel_id) DO UPDATE SET"
            " last_message_id=excluded.last_message_id,"
            " until_message_id=excluded.until_message_id, imported=excluded.imported,"
            " done=excluded.done, updated_at=excluded.updated_at",
            row.discord_channel_id,
            row.last_message_id,
            row.until_message_id,
            row.imported,
            row.done,
            now_ms(),
        )
