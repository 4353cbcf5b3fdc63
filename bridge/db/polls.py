"""poll, poll_vote: Discord polls relayed as Matrix polls, and who votes for what.

A Matrix poll response replaces the voter's earlier one (MSC3381), so each Discord
vote change is relayed as the voter's whole current set of answers, kept here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID, RoomID


@dataclass(frozen=True)
class PollRow:
    discord_message_id: MessageID
    discord_channel_id: ChannelID
    room_id: RoomID
    start_event_id: EventID
    author_id: DiscordUserID
    # The org.matrix.msc3381.poll.end sent, once the poll is over on Discord (or the one
    # its Matrix creator sent).
    end_event_id: EventID | None = None
    # A poll started in Matrix: the Matrix answer ID of Discord answer_id 1, 2 ...
    # (None: a Discord poll, whose Matrix answer IDs are Discord's answer_id).
    answer_ids: tuple[str, ...] | None = None

    @property
    def from_matrix(self) -> bool:
        """Started in Matrix and posted on Discord by the bridge's webhook."""
        return self.answer_ids is not None

    @classmethod
    def from_record(cls, rec: Any) -> PollRow:
        end, answers = rec["end_event_id"], rec["answer_ids"]
        return cls(
            discord_message_id=MessageID(int(rec["discord_message_id"])),
            discord_channel_id=ChannelID(int(rec["discord_channel_id"])),
            room_id=RoomID(rec["room_id"]),
            start_event_id=EventID(rec["start_event_id"]),
            author_id=DiscordUserID(int(rec["author_id"])),
            end_event_id=EventID(end) if end is not None else None,
            answer_ids=tuple(str(a) for a in json.loads(answers)) if answers else None,
        )


_COLUMNS = (
    "discord_message_id, discord_channel_id, room_id, start_event_id, author_id,"
    " end_event_id, answer_ids"
)


def _now_ms() -> int:
    return int(time.time() * 1000)


class PollStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, row: PollRow) -> None:
        await self.db.execute(
            f"INSERT INTO poll ({_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT DO NOTHING",
            row.discord_message_id,
            row.discord_channel_id,
            row.room_id,
            row.start_event_id,
            row.author_id,
            row.end_event_id,
            json.dumps(list(row.answer_ids)) if row.answer_ids is not None else None,
            _now_ms(),
        )

    async def get(self, message_id: MessageID) -> PollRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM poll WHERE discord_message_id=$1", message_id
        )
        return PollRow.from_record(rec) if rec else None

    async def by_start(self, event_id: EventID) -> PollRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM poll WHERE start_event_id=$1", event_id
        )
        return PollRow.from_record(rec) if rec else None

    async def set_ended(self, message_id: MessageID, event_id: EventID) -> None:
        await self.db.execute(
            "UPDATE poll SET end_event_id=$2 WHERE discord_message_id=$1", message_id, event_id
        )

    async def votes_of(self, message_id: MessageID, user_id: DiscordUserID) -> list[int]:
        """The answers ``user_id`` votes for now, ascending."""
        rows = await self.db.fetch(
            "SELECT answer_id FROM poll_vote WHERE discord_message_id=$1 AND discord_user_id=$2"
            " ORDER BY answer_id",
            message_id,
            user_id,
        )
        return [int(r["answer_id"]) for r in rows]

    async def set_vote(
        self, message_id: MessageID, user_id: DiscordUserID, answer_id: int, voted: bool
    ) -> None:
        if voted:
            await self.db.execute(
                "INSERT INTO poll_vote (discord_message_id, discord_user_id, answer_id,"
                " created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                message_id,
                user_id,
                answer_id,
                _now_ms(),
            )
        else:
            await self.db.execute(
                "DELETE FROM poll_vote WHERE discord_message_id=$1 AND discord_user_id=$2"
                " AND answer_id=$3",
                message_id,
                user_id,
                answer_id,
            )
