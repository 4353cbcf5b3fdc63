"""space, space_child, space_invite: the bridge's Matrix spaces and what was applied."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bridge.ids import GuildID, RoomID, UserID


@dataclass(frozen=True)
class SpaceRow:
    """A space room and the state last applied to it."""

    kind: str  # party | guild | category | members
    discord_id: int  # party: 0; guild, members: the guild's ID; category: its ID
    guild_id: GuildID  # party: 0
    room_id: RoomID
    name: str
    topic: str
    icon_url: str | None = None  # the Discord icon last uploaded...
    avatar_mxc: str | None = None  # ...and where it went
    join_allow: str = ""  # members: the rooms allowed to join (IDs, comma-separated)

    @classmethod
    def from_record(cls, rec: Any) -> SpaceRow:
        return cls(
            kind=rec["kind"],
            discord_id=int(rec["discord_id"]),
            guild_id=GuildID(int(rec["guild_id"])),
            room_id=RoomID(rec["room_id"]),
            name=rec["name"],
            topic=rec["topic"],
            icon_url=rec["icon_url"],
            avatar_mxc=rec["avatar_mxc"],
            join_allow=rec["join_allow"],
        )


_COLUMNS = "kind, discord_id, guild_id, room_id, name, topic, icon_url, avatar_mxc, join_allow"


class SpaceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, kind: str, discord_id: int) -> SpaceRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM space WHERE kind=$1 AND discord_id=$2", kind, discord_id
        )
        return SpaceRow.from_record(rec) if rec is not None else None

    async def of_guild(self, guild_id: GuildID) -> list[SpaceRow]:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM space WHERE guild_id=$1 ORDER BY kind, discord_id", guild_id
        )
        return [SpaceRow.from_record(r) for r in rows]

    async def all(self) -> list[SpaceRow]:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM space ORDER BY kind, discord_id")
        return [SpaceRow.from_record(r) for r in rows]

    async def put(self, row: SpaceRow) -> None:
        await self.db.execute(
            f"INSERT INTO space ({_COLUMNS}, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (kind, discord_id) DO UPDATE SET guild_id=excluded.guild_id,"
            " room_id=excluded.room_id, name=excluded.name, topic=excluded.topic,"
            " icon_url=excluded.icon_url, avatar_mxc=excluded.avatar_mxc,"
            " join_allow=excluded.join_allow",
            row.kind,
            row.discord_id,
            row.guild_id,
            row.room_id,
            row.name,
            row.topic,
            row.icon_url,
            row.avatar_mxc,
            row.join_allow,
            int(time.time() * 1000),
        )

    # -- children (m.space.child in the space, m.space.parent in the child) -----------

    async def children(self, space_room_id: RoomID) -> dict[RoomID, str]:
        """The children last applied: child room -> its order string."""
        rows = await self.db.fetch(
            "SELECT child_room_id, order_key FROM space_child WHERE space_room_id=$1",
            space_room_id,
        )
        return {RoomID(r["child_room_id"]): r["order_key"] for r in rows}

    async def parents(self, child_room_id: RoomID) -> list[RoomID]:
        rows = await self.db.fetch(
            "SELECT space_room_id FROM space_child WHERE child_room_id=$1 ORDER BY space_room_id",
            child_room_id,
        )
        return [RoomID(r["space_room_id"]) for r in rows]

    async def set_child(self, space_room_id: RoomID, child_room_id: RoomID, order: str) -> None:
        await self.db.execute(
            "INSERT INTO space_child (space_room_id, child_room_id, order_key) VALUES ($1, $2, $3)"
            " ON CONFLICT (space_room_id, child_room_id)"
            " DO UPDATE SET order_key=excluded.order_key",
            space_room_id,
            child_room_id,
            order,
        )

    async def drop_child(self, space_room_id: RoomID, child_room_id: RoomID) -> None:
        await self.db.execute(
            "DELETE FROM space_child WHERE space_room_id=$1 AND child_room_id=$2",
            space_room_id,
            child_room_id,
        )

    # -- invitations (once per user and space) -------------------------------------------

    async def invited(self, space_room_id: RoomID) -> set[UserID]:
        rows = await self.db.fetch(
            "SELECT user_id FROM space_invite WHERE space_room_id=$1", space_room_id
        )
        return {UserID(r["user_id"]) for r in rows}

    async def add_invited(self, space_room_id: RoomID, user_id: UserID) -> None:
        await self.db.execute(
            "INSERT INTO space_invite (space_room_id, user_id) VALUES ($1, $2)"
            " ON CONFLICT (space_room_id, user_id) DO NOTHING",
            space_room_id,
            user_id,
        )
