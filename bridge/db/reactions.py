"""reaction and emoji: Matrix m.reaction events <-> Discord reactions, custom emoji cache.

Each row of ``reaction`` is one Matrix ``m.reaction`` event on a bridged
message, keyed by its event ID, with the Discord message and the emoji in
Discord's API form (the unicode emoji, or ``name:id`` for a custom one).

- origin ``discord``: a Discord user's reaction, sent on Matrix by their ghost;
  ``discord_user_id`` says whose, so MESSAGE_REACTION_REMOVE finds the event.
- origin ``matrix``: a Matrix user's reaction. On Discord the bridge bot shows
  one reaction per emoji for all of them; it is removed when the last
  ``matrix`` row for that message and emoji is gone.

``emoji`` caches the mxc URI each Discord custom emoji was uploaded to, so the
image is uploaded once and a Matrix reaction with that mxc key maps back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID, RoomID, UserID

Origin = Literal["discord", "matrix"]


@dataclass(frozen=True)
class ReactionRow:
    event_id: EventID
    room_id: RoomID
    target_event_id: EventID
    discord_channel_id: ChannelID
    discord_message_id: MessageID
    emoji: str
    origin: Origin
    sender: UserID
    discord_user_id: DiscordUserID | None = None

    @classmethod
    def from_record(cls, rec: Any) -> ReactionRow:
        user = rec["discord_user_id"]
        return cls(
            event_id=EventID(rec["event_id"]),
            room_id=RoomID(rec["room_id"]),
            target_event_id=EventID(rec["target_event_id"]),
            discord_channel_id=ChannelID(int(rec["discord_channel_id"])),
            discord_message_id=MessageID(int(rec["discord_message_id"])),
            emoji=rec["emoji"],
            origin="discord" if rec["origin"] == "discord" else "matrix",
            sender=UserID(rec["sender"]),
            discord_user_id=DiscordUserID(int(user)) if user is not None else None,
        )


@dataclass(frozen=True)
class EmojiRow:
    discord_emoji_id: int
    name: str
    animated: bool
    mxc: str

    @property
    def api_form(self) -> str:
        """How Discord's REST API names it in a reaction path."""
        return f"{self.name}:{self.discord_emoji_id}"

    @classmethod
    def from_record(cls, rec: Any) -> EmojiRow:
        return cls(
            discord_emoji_id=int(rec["discord_emoji_id"]),
            name=rec["name"],
            animated=bool(rec["animated"]),
            mxc=rec["mxc"],
        )


_COLUMNS = (
    "event_id, room_id, target_event_id, discord_channel_id, discord_message_id, emoji,"
    " origin, sender, discord_user_id"
)
_EMOJI_COLUMNS = "discord_emoji_id, name, animated, mxc"


def _inserted(status: Any) -> bool:
    if isinstance(status, str):  # asyncpg: "INSERT 0 1"
        return status.endswith(" 1")
    return bool(getattr(status, "rowcount", 1))


class ReactionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, row: ReactionRow) -> bool:
        """Record a reaction; False if the event or (message, emoji, sender) was known."""
        status = await self.db.execute(
            f"INSERT INTO reaction ({_COLUMNS}, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            row.event_id,
            row.room_id,
            row.target_event_id,
            row.discord_channel_id,
            row.discord_message_id,
            row.emoji,
            row.origin,
            row.sender,
            row.discord_user_id,
            int(time.time() * 1000),
        )
        return _inserted(status)

    async def by_event(self, event_id: EventID) -> ReactionRow | None:
        rec = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM reaction WHERE event_id=$1", event_id)
        return ReactionRow.from_record(rec) if rec else None

    async def by_discord_user(
        self, message_id: MessageID, emoji: str, user_id: DiscordUserID
    ) -> ReactionRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM reaction WHERE discord_message_id=$1 AND emoji=$2"
            " AND discord_user_id=$3 AND origin='discord'",
            message_id,
            emoji,
            user_id,
        )
        return ReactionRow.from_record(rec) if rec else None

    async def discord_between(self, first: MessageID, last: MessageID) -> list[ReactionRow]:
        """Discord users' relayed reactions on the messages with IDs ``first`` to ``last``
        (whatever their channel): what backfill compares with the messages' reactions."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM reaction WHERE discord_message_id>=$1"
            " AND discord_message_id<=$2 AND origin='discord'"
            " ORDER BY discord_message_id, created_at",
            first,
            last,
        )
        return [ReactionRow.from_record(rec) for rec in rows]

    async def forget_event(self, event_id: EventID) -> ReactionRow | None:
        """Remove and return the reaction that was this Matrix event, if any."""
        row = await self.by_event(event_id)
        if row is not None:
            await self.db.execute("DELETE FROM reaction WHERE event_id=$1", event_id)
        return row

    async def count_matrix(self, message_id: MessageID, emoji: str) -> int:
        """How many Matrix users still react with ``emoji`` on this Discord message."""
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM reaction WHERE discord_message_id=$1 AND emoji=$2"
                " AND origin='matrix'",
                message_id,
                emoji,
            )
            or 0
        )

    async def forget_message(
        self, message_id: MessageID, emoji: str | None = None
    ) -> list[ReactionRow]:
        """Remove and return every reaction on a message (or only those with ``emoji``)."""
        if emoji is None:
            rows = await self.db.fetch(
                f"SELECT {_COLUMNS} FROM reaction WHERE discord_message_id=$1 ORDER BY created_at",
                message_id,
            )
            await self.db.execute("DELETE FROM reaction WHERE discord_message_id=$1", message_id)
        else:
            rows = await self.db.fetch(
                f"SELECT {_COLUMNS} FROM reaction WHERE discord_message_id=$1 AND emoji=$2"
                " ORDER BY created_at",
                message_id,
                emoji,
            )
            await self.db.execute(
                "DELETE FROM reaction WHERE discord_message_id=$1 AND emoji=$2", message_id, emoji
            )
        return [ReactionRow.from_record(rec) for rec in rows]

    # -- emoji -------------------------------------------------------------

    async def put_emoji(self, row: EmojiRow) -> None:
        await self.db.execute(
            f"INSERT INTO emoji ({_EMOJI_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (discord_emoji_id) DO UPDATE SET name=excluded.name,"
            " animated=excluded.animated, mxc=excluded.mxc",
            row.discord_emoji_id,
            row.name,
            row.animated,
            row.mxc,
            int(time.time() * 1000),
        )

    async def emoji_by_id(self, emoji_id: int) -> EmojiRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_EMOJI_COLUMNS} FROM emoji WHERE discord_emoji_id=$1", emoji_id
        )
        return EmojiRow.from_record(rec) if rec else None

    async def emoji_by_mxc(self, mxc: str) -> EmojiRow | None:
        rec = await self.db.fetchrow(f"SELECT {_EMOJI_COLUMNS} FROM emoji WHERE mxc=$1", mxc)
        return EmojiRow.from_record(rec) if rec else None
