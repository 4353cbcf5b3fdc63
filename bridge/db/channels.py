"""channel_override: channels bridged or unbridged at runtime (admin commands)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mautrix.util.async_db import Database

from bridge.config import Access
from bridge.ids import ChannelID, GuildID


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


@dataclass(frozen=True)
class RuleOverride:
    """A bridging rule set by command: ``kind`` "category" (target: a category ID) or
    "guild" (target: the guild ID); ``bridged`` False switches a config rule off."""

    kind: str
    target_id: int
    guild_id: GuildID
    bridged: bool
    access: Access


class RuleOverrideStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> list[RuleOverride]:
        rows = await self.db.fetch(
            "SELECT kind, target_id, guild_id, bridged, access FROM rule_override"
            " ORDER BY updated_at, target_id"
        )
        return [
            RuleOverride(
                "guild" if r["kind"] == "guild" else "category",
                int(r["target_id"]),
                GuildID(int(r["guild_id"])),
                bool(r["bridged"]),
                "public" if r["access"] == "public" else "members_only",
            )
            for r in rows
        ]

    async def put(self, rule: RuleOverride, actor: str) -> None:
        await self.db.execute(
            "INSERT INTO rule_override (kind, target_id, guild_id, bridged, access, actor,"
            " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, target_id)"
            " DO UPDATE SET bridged=excluded.bridged, access=excluded.access,"
            " guild_id=excluded.guild_id, actor=excluded.actor, updated_at=excluded.updated_at",
            rule.kind,
            rule.target_id,
            rule.guild_id,
            rule.bridged,
            rule.access,
            actor,
            int(time.time() * 1000),
        )
