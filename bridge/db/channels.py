"""channel_override: channels bridged or unbridged at runtime (admin commands)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mautrix.util.async_db import Database

from bridge.config import Access
from bridge.ids import ChannelID


@dataclass(frozen=True)
class ChannelOverride:
    channel_id: ChannelID
    bridged: bool
    access: Access | None  # for a bridged one; None: members_only (fail closed)


class ChannelOverrideStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> list[ChannelOverride]:
        rows = await self.db.fetch(
            "SELECT discord_channel_id, bridged, access FROM channel_override"
            " ORDER BY updated_at, discord_channel_id"
        )
        return [
            ChannelOverride(
                ChannelID(int(r["discord_channel_id"])),
                bool(r["bridged"]),
                "public" if r["access"] == "public" else "members_only",
            )
            for r in rows
        ]

    async def put(
        self, channel_id: ChannelID, bridged: bool, access: Access | None, actor: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO channel_override (discord_channel_id, bridged, access, actor,"
            " updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (discord_channel_id)"
            " DO UPDATE SET bridged=excluded.bridged, access=excluded.access,"
            " actor=excluded.actor, updated_at=excluded.updated_at",
            channel_id,
            bridged,
            access,
            actor,
            int(time.time() * 1000),
        )
