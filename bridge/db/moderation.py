"""mod_ban, policy_rule, mod_audit, bridge_room: what the moderation layer persists.

- ``mod_ban``: the active shared bans, one row per (side, target, guild): a ban
  holds in the guilds it has a row for (``moderation.ban_scope``). Side
  ``discord`` targets a Discord user ID (decimal text), side ``matrix`` a
  Matrix user ID. Guild 0 marks rows written before bans were per guild
  (migration 0013); :meth:`BanStore.adopt_legacy` gives them their guilds at
  start-up, from the config the migration cannot see. ``origin`` says where the
  ban came from ('party': carried from another guild's ban); a ban caused by a
  policy rule names that rule (``rule_room``, ``rule_entity``) so that removing
  the rule lifts exactly the bans it caused.
- ``policy_rule``: the rules of every followed policy list, as last seen in the
  list room's state, keyed by (room, event type, state key).
- ``mod_audit``: every moderation action, append-only, newest read first; the guild
  it concerns, when it concerns one.
- ``bridge_room``: rooms the bridge created for itself, by purpose
  (``"policy"``, ``"moderation"`` ...), so that a restart reuses them.

Times are milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from mautrix.util.async_db import Connection, Database

from bridge.db.common import ReadCache, fetch_all, fetch_one, now_ms, one_of
from bridge.ids import GuildID, RoomID

Side = Literal["discord", "matrix"]
# "party": carried to this guild from a ban made in another guild (ban_scope party).
BanOrigin = Literal["discord", "matrix", "policy", "command", "startup", "party"]
# The guild of rows recorded before bans were per guild (see BanStore.adopt_legacy).
LEGACY_GUILD = GuildID(0)

_SIDES: tuple[str, ...] = get_args(Side)
_ORIGINS: tuple[str, ...] = get_args(BanOrigin)


def _side(value: str) -> Side:
    return cast(Side, one_of(value, _SIDES, "ban side"))


def _origin(value: str) -> BanOrigin:
    return cast(BanOrigin, one_of(value, _ORIGINS, "ban origin"))


# -- mod_ban -----------------------------------------------------------------


@dataclass(frozen=True)
class BanRow:
    # "discord": target is a Discord user ID (decimal string); "matrix": a Matrix user ID.
    side: Side
    target: str
    reason: str
    # "@mod:server", "discord:<user id>" or "policy:<room id>".
    moderator: str
    origin: BanOrigin
    # Set by the store on insert when 0; kept when an existing ban is updated.
    created_at: int = 0
    # The policy list room whose rule caused the ban (origin "policy"), and that rule's entity.
    rule_room: str | None = None
    rule_entity: str | None = None
    # The guild where the ban holds (LEGACY_GUILD: recorded before 0013, not yet adopted).
    guild_id: GuildID = LEGACY_GUILD

    @classmethod
    def from_record(cls, rec: Any) -> BanRow:
        return cls(
            side=_side(rec["side"]),
            target=rec["target"],
            reason=rec["reason"],
            moderator=rec["moderator"],
            origin=_origin(rec["origin"]),
            created_at=int(rec["created_at"]),
            rule_room=rec["rule_room"],
            rule_entity=rec["rule_entity"],
            guild_id=GuildID(int(rec["guild_id"])),
        )


_BAN_COLUMNS = (
    "side, target, reason, moderator, origin, created_at, rule_room, rule_entity, guild_id"
)


class BanStore:
    """``is_banned`` is asked for every Matrix event relayed: its answers are kept in
    memory and forgotten at every write through this store (see ReadCache)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._banned: ReadCache[tuple[str, str, GuildID | None], bool] = ReadCache()

    async def put(self, row: BanRow) -> bool:
        self._banned.invalidate()
        try:
            return await self._put(row)
        finally:
            self._banned.invalidate()

    async def _put(self, row: BanRow) -> bool:
        """Record a ban in its guild, or update the reason, moderator, origin and rule of
        the existing ban of (side, target, guild) (its created_at is kept). True if it was
        not active before."""
        # Insert-or-update without a dialect-specific upsert result: the INSERT says
        # whether the row is new. The loop covers a removal racing between the two.
        ban = (row.side, row.target, row.guild_id, row.reason, row.moderator, row.origin)
        rule = (row.rule_room, row.rule_entity)
        for _ in range(3):
            inserted = await self.db.fetchval(
                "INSERT INTO mod_ban (side, target, guild_id, reason, moderator, origin,"
                " rule_room, rule_entity, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " ON CONFLICT (side, target, guild_id) DO NOTHING RETURNING 1",
                *ban,
                *rule,
                row.created_at or now_ms(),
            )
            if inserted is not None:
                return True
            updated = await self.db.fetchval(
                "UPDATE mod_ban SET reason=$4, moderator=$5, origin=$6, rule_room=$7,"
                " rule_entity=$8 WHERE side=$1 AND target=$2 AND guild_id=$3 RETURNING 1",
                *ban,
                *rule,
            )
            if updated is not None:
                return False
        raise RuntimeError(f"ban of {row.side}:{row.target} kept changing while being stored")

    async def get(self, side: Side, target: str, guild_id: GuildID) -> BanRow | None:
        query = f"SELECT {_BAN_COLUMNS} FROM mod_ban WHERE side=$1 AND target=$2 AND guild_id=$3"
        return await fetch_one(self.db, BanRow.from_record, query, side, target, guild_id)

    async def of(self, side: Side, target: str) -> list[BanRow]:
        """The target's bans in every guild, by guild."""
        query = f"SELECT {_BAN_COLUMNS} FROM mod_ban WHERE side=$1 AND target=$2 ORDER BY guild_id"
        return await fetch_all(self.db, BanRow.from_record, query, side, target)

    async def remove(self, side: Side, target: str, guild_id: GuildID) -> BanRow | None:
        """Lift a ban in one guild: delete and return its row (None if there was none)."""
        query = (
            "DELETE FROM mod_ban WHERE side=$1 AND target=$2 AND guild_id=$3"
            f" RETURNING {_BAN_COLUMNS}"
        )
        self._banned.invalidate()
        try:
            return await fetch_one(self.db, BanRow.from_record, query, side, target, guild_id)
        finally:
            self._banned.invalidate()

    async def all(self, side: Side | None = None, guild_id: GuildID | None = None) -> list[BanRow]:
        """Every active ban (of one side, in one guild), oldest first."""
        select = f"SELECT {_BAN_COLUMNS} FROM mod_ban"
        order = "ORDER BY created_at, side, target, guild_id"
        if side is None:
            return await fetch_all(self.db, BanRow.from_record, f"{select} {order}")
        if guild_id is None:
            query = f"{select} WHERE side=$1 {order}"
            return await fetch_all(self.db, BanRow.from_record, query, side)
        query = f"{select} WHERE side=$1 AND guild_id=$2 {order}"
        return await fetch_all(self.db, BanRow.from_record, query, side, guild_id)

    async def by_rule(self, rule_room: str, rule_entity: str) -> list[BanRow]:
        """The bans a policy rule caused (in every guild), oldest first."""
        query = (
            f"SELECT {_BAN_COLUMNS} FROM mod_ban WHERE rule_room=$1 AND rule_entity=$2"
            " ORDER BY created_at, side, target, guild_id"
        )
        return await fetch_all(self.db, BanRow.from_record, query, rule_room, rule_entity)

    async def is_banned(self, side: Side, target: str, guild_id: GuildID | None = None) -> bool:
        """Banned in ``guild_id`` (None: in any guild)."""
        return await self._banned.read(
            (side, target, guild_id), lambda: self._is_banned(side, target, guild_id)
        )

    async def _is_banned(self, side: Side, target: str, guild_id: GuildID | None) -> bool:
        if guild_id is None:
            value = await self.db.fetchval(
                "SELECT 1 FROM mod_ban WHERE side=$1 AND target=$2 LIMIT 1", side, target
            )
        else:
            value = await self.db.fetchval(
                "SELECT 1 FROM mod_ban WHERE side=$1 AND target=$2 AND guild_id=$3",
                side,
                target,
                guild_id,
            )
        return value is not None

    async def adopt_legacy(
        self, discord_guilds: tuple[GuildID, ...], matrix_guilds: tuple[GuildID, ...]
    ) -> int:
        """Give the rows recorded before bans were per guild (guild 0) their guilds, in
        one transaction: Discord users' bans to ``discord_guilds`` (the first configured
        guild: the only one the bridge banned in then), Matrix users' bans to
        ``matrix_guilds`` (every guild: they were banned from every portal room).
        A guild where the target has a ban already keeps that one. Returns how many
        legacy rows there were."""
        self._banned.invalidate()
        try:
            return await self._adopt_legacy(discord_guilds, matrix_guilds)
        finally:
            self._banned.invalidate()

    async def _adopt_legacy(
        self, discord_guilds: tuple[GuildID, ...], matrix_guilds: tuple[GuildID, ...]
    ) -> int:
        targets = {"discord": discord_guilds, "matrix": matrix_guilds}
        conn: Connection
        async with self.db.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT {_BAN_COLUMNS} FROM mod_ban WHERE guild_id=$1", LEGACY_GUILD
            )
            for rec in rows:
                for guild_id in targets.get(rec["side"], ()):
                    await conn.execute(
                        f"INSERT INTO mod_ban ({_BAN_COLUMNS})"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                        " ON CONFLICT (side, target, guild_id) DO NOTHING",
                        *(rec[c] for c in _BAN_COLUMNS.split(", ")[:-1]),
                        guild_id,
                    )
            await conn.execute("DELETE FROM mod_ban WHERE guild_id=$1", LEGACY_GUILD)
        return len(rows)


# -- policy_rule -------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRuleRow:
    room_id: str
    # m.policy.rule.user / .server / .room, or a legacy org.matrix.mjolnir.rule.* type.
    event_type: str
    state_key: str
    # A user ID or server name, possibly a glob with * and ?.
    entity: str
    recommendation: str
    reason: str
    event_id: str | None = None

    @classmethod
    def from_record(cls, rec: Any) -> PolicyRuleRow:
        return cls(
            room_id=rec["room_id"],
            event_type=rec["event_type"],
            state_key=rec["state_key"],
            entity=rec["entity"],
            recommendation=rec["recommendation"],
            reason=rec["reason"],
            event_id=rec["event_id"],
        )


_RULE_COLUMNS = "room_id, event_type, state_key, entity, recommendation, reason, event_id"
_RULE_UPSERT = (
    f"INSERT INTO policy_rule ({_RULE_COLUMNS}, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (room_id, event_type, state_key) DO UPDATE SET entity=excluded.entity,"
    " recommendation=excluded.recommendation, reason=excluded.reason,"
    " event_id=excluded.event_id, updated_at=excluded.updated_at"
)


def _rule_args(row: PolicyRuleRow, now: int) -> tuple[Any, ...]:
    return (
        row.room_id,
        row.event_type,
        row.state_key,
        row.entity,
        row.recommendation,
        row.reason,
        row.event_id,
        now,
    )


class PolicyRuleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(self, row: PolicyRuleRow) -> None:
        """Record a rule, replacing the one under the same (room, type, state key)."""
        await self.db.execute(_RULE_UPSERT, *_rule_args(row, now_ms()))

    async def delete(self, room_id: str, event_type: str, state_key: str) -> PolicyRuleRow | None:
        """Forget a rule (removed from its list): delete and return it, if it was known."""
        query = (
            "DELETE FROM policy_rule WHERE room_id=$1 AND event_type=$2 AND state_key=$3"
            f" RETURNING {_RULE_COLUMNS}"
        )
        return await fetch_one(
            self.db, PolicyRuleRow.from_record, query, room_id, event_type, state_key
        )

    async def all(self, room_id: str | None = None) -> list[PolicyRuleRow]:
        """Every known rule (of one list room), by room, event type and state key."""
        select = f"SELECT {_RULE_COLUMNS} FROM policy_rule"
        if room_id is None:
            query = f"{select} ORDER BY room_id, event_type, state_key"
            return await fetch_all(self.db, PolicyRuleRow.from_record, query)
        query = f"{select} WHERE room_id=$1 ORDER BY event_type, state_key"
        return await fetch_all(self.db, PolicyRuleRow.from_record, query, room_id)

    async def replace_room(self, room_id: str, rows: list[PolicyRuleRow]) -> None:
        """Make ``rows`` the whole rule set of a list room (after reading its full state),
        in one transaction: on any error the previous rules stay."""
        for row in rows:
            if row.room_id != room_id:
                raise ValueError(f"rule of room {row.room_id!r} given for room {room_id!r}")
        now = now_ms()
        conn: Connection
        async with self.db.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM policy_rule WHERE room_id=$1", room_id)
            for row in rows:  # an upsert: a state key given twice keeps the last one
                await conn.execute(_RULE_UPSERT, *_rule_args(row, now))


# -- mod_audit ---------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    # Where the action came from: "discord", "matrix", "policy" or "startup".
    source: str
    # Who acted, spelled like BanRow.moderator.
    actor: str
    # "ban", "unban", "kick", "rule-add", "rule-remove", "refused" ...
    action: str
    target: str
    reason: str
    # What happened on each side, in plain words.
    outcome: str
    # Set by the store on insert when 0.
    at: int = 0
    id: int | None = None
    # The guild the action concerns (None: none in particular, e.g. a policy rule added).
    guild_id: GuildID | None = None

    @classmethod
    def from_record(cls, rec: Any) -> AuditEntry:
        return cls(
            source=rec["source"],
            actor=rec["actor"],
            action=rec["action"],
            target=rec["target"],
            reason=rec["reason"],
            outcome=rec["outcome"],
            at=int(rec["created_at"]),
            id=int(rec["id"]),
            guild_id=GuildID(int(rec["guild_id"])) if rec["guild_id"] is not None else None,
        )


_AUDIT_COLUMNS = "id, source, actor, action, target, reason, outcome, created_at, guild_id"


class AuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, entry: AuditEntry) -> int:
        """Append an entry (its ``id`` is ignored); returns the id it was given."""
        new_id = await self.db.fetchval(
            "INSERT INTO mod_audit (source, actor, action, target, reason, outcome, created_at,"
            " guild_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            entry.source,
            entry.actor,
            entry.action,
            entry.target,
            entry.reason,
            entry.outcome,
            entry.at or now_ms(),
            entry.guild_id,
        )
        return int(new_id)

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The latest ``limit`` entries, newest first."""
        query = f"SELECT {_AUDIT_COLUMNS} FROM mod_audit ORDER BY created_at DESC, id DESC LIMIT $1"
        return await fetch_all(self.db, AuditEntry.from_record, query, limit)

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM mod_audit") or 0)


# -- bridge_room -------------------------------------------------------------


class BridgeRoomStore:
    """Rooms the bridge made for itself: purpose key ("policy", "moderation") -> room ID.

    Asked for every Matrix event relayed (is it the sender's direct chat with the
    bot?): kept in memory (see ReadCache)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: ReadCache[str, RoomID | None] = ReadCache()

    async def get(self, key: str) -> RoomID | None:
        return await self._cache.read(key, lambda: self._get(key))

    async def _get(self, key: str) -> RoomID | None:
        value = await self.db.fetchval("SELECT room_id FROM bridge_room WHERE purpose=$1", key)
        return RoomID(value) if value is not None else None

    async def put(self, key: str, room_id: str) -> None:
        self._cache.invalidate()
        try:
            await self._put(key, room_id)
        finally:
            self._cache.invalidate()

    async def _put(self, key: str, room_id: str) -> None:
        await self.db.execute(
            "INSERT INTO bridge_room (purpose, room_id, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (purpose) DO UPDATE SET room_id=excluded.room_id,"
            " created_at=excluded.created_at",
            key,
            room_id,
            now_ms(),
        )
