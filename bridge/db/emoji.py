"""sticker: the mxc URI each Discord guild sticker's image was uploaded to.

Custom emoji have their own cache in ``emoji`` (:class:`bridge.db.reactions.ReactionStore`),
shared by reactions, messages and the guild's image pack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class StickerRow:
    discord_sticker_id: int
    name: str
    format_type: int
    mxc: str

    @classmethod
    def from_record(cls, rec: Any) -> StickerRow:
        return cls(
            discord_sticker_id=int(rec["discord_sticker_id"]),
            name=rec["name"],
            format_type=int(rec["format_type"]),
            mxc=rec["mxc"],
        )


_COLUMNS = "discord_sticker_id, name, format_type, mxc"


class StickerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, row: StickerRow) -> None:
        await self.db.execute(
            f"INSERT INTO sticker ({_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (discord_sticker_id) DO UPDATE SET name=excluded.name,"
            " format_type=excluded.format_type, mxc=excluded.mxc",
            row.discord_sticker_id,
            row.name,
            row.format_type,
            row.mxc,
            int(time.time() * 1000),
        )

    async def by_id(self, sticker_id: int) -> StickerRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM sticker WHERE discord_sticker_id=$1", sticker_id
        )
        return StickerRow.from_record(rec) if rec else None

    async def by_mxc(self, mxc: str) -> StickerRow | None:
        rec = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM sticker WHERE mxc=$1", mxc)
        return StickerRow.from_record(rec) if rec else None
