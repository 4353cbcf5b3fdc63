"""mod_ban, policy_rule, mod_audit, bridge_room: what the moderation layer persists.

- ``mod_ban``: the active shared bans, one row per (side, target). Side
  ``discord`` targets a Discord user ID (decimal text), side ``matrix`` a
  Matrix user ID. ``origin`` says where the ban came from; a ban caused by a
  policy rule names that rule (``rule_room``, ``rule_entity``) so that
  removing the rule lifts exactly the bans it caused.
- ``policy_rule``: the rules of every followed policy list, as last seen in the
  list room's state, keyed by (room, event type, state key).
- ``mod_audit``: every moderation action, append-only, newest read first.
- ``bridge_room``: rooms the bridge created for itself, by purpose
  (``"policy"``, ``"moderation"`` ...), so that a restart reuses them.

Times are milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from mautrix.util.async_db import Connection, Database

from bridge.db.common import fetch_all, fetch_one, now_ms, one_of
from bridge.ids import RoomID

Side = Literal["discord", "matrix"]
BanOrigin = Literal["discord", "matrix", "policy", "command", "startup"]

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
        )


_BAN_COLUMNS = "side, target, reason, moderator, origin, created_at, rule_room, rule_entity"


class BanStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, row: BanRow) -> bool:
        """Record a ban, or update the reason, moderator, origin and rule of the existing
        ban of (side, target) (its created_at is kept). True if it was not active before."""
        # Insert-or-update without a dialect-specific upsert result: the INSERT says
        # whether the row is new. The loop covers a removal racing between the two.
        ban = (row.side, row.target, row.reason, row.moderator, row.origin)
        rule = (row.rule_room, row.rule_entity)
        for _ in range(3):
            inserted = await self.db.fetchval(
                f"INSERT INTO mod_ban ({_BAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (side, target) DO NOTHING RETURNING 1",
                *ban,
                row.created_at or now_ms(),
                *rule,
            )
            if inserted is not None:
                return True
            updated = await self.db.fetchval(
                "UPDATE mod_ban SET reason=$3, moderator=$4, origin=$5, rule_room=$6,"
                " rule_entity=$7 WHERE side=$1 AND target=$2 RETURNING 1",
                *ban,
                *rule,
            )
            if updated is not None:
                return False
        raise RuntimeError(f"ban of {row.side}:{row.target} kept changing while being stored")

    async def get(self, side: Side, target: str) -> BanRow | None:
        query = f"SELECT {_BAN_COLUMNS} FROM mod_ban WHERE side=$1 AND target=$2"
        return await fetch_one(self.db, BanRow.from_record, query, side, target)

    async def remove(self, side: Side, target: str) -> BanRow | None:
        """Lift a ban: delete and return its row (None if there was none)."""
        query = f"DELETE FROM mod_ban WHERE side=$1 AND target=$2 RETURNING {_BAN_COLUMNS}"
        return await fetch_one(self.db, BanRow.from_record, query, side, target)

    async def all(self, side: Side | None = None) -> list[BanRow]:
        """Every active ban (of one side), oldest first."""
        select = f"SELECT {_BAN_COLUMNS} FROM mod_ban"
        if side is None:
            query = f"{select} ORDER BY created_at, side, target"
            return await fetch_all(self.db, BanRow.from_record, query)
        query = f"{select} WHERE side=$1 ORDER BY created_at, target"
        return await fetch_all(self.db, BanRow.from_record, query, side)

    async def by_rule(self, rule_room: str, rule_entity: str) -> list[BanRow]:
        """The bans a policy rule caused, oldest first."""
        query = (
            f"SELECT {_BAN_COLUMNS} FROM mod_ban WHERE rule_room=$1 AND rule_entity=$2"
            " ORDER BY created_at, side, target"
        )
        return await fetch_all(self.db, BanRow.from_record, query, rule_room, rule_entity)

    async def is_banned(self, side: Side, target: str) -> bool:
        value = await self.db.fetchval(
            "SELECT 1 FROM mod_ban WHERE side=$1 AND target=$2", side, target
        )
        return value is not None


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
        )


_AUDIT_COLUMNS = "id, source, actor, action, target, reason, outcome, created_at"


class AuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, entry: AuditEntry) -> int:
        """Append an entry (its ``id`` is ignored); returns the id it was given."""
        new_id = await self.db.fetchval(
            "INSERT INTO mod_audit (source, actor, action, target, reason, outcome, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            entry.source,
            entry.actor,
            entry.action,
            entry.target,
            entry.reason,
            entry.outcome,
            entry.at or now_ms(),
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
    """Rooms the bridge made for itself: purpose key ("policy", "moderation") -> room ID."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> RoomID | None:
        value = await self.db.fetchval("SELECT room_id FROM bridge_room WHERE purpose=$1", key)
        return RoomID(value) if value is not None else None

    async def put(self, key: str, room_id: str) -> None:
        await self.db.execute(
            "INSERT INTO bridge_room (purpose, room_id, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (purpose) DO UPDATE SET room_id=excluded.room_id,"
            " created_at=excluded.created_at",
            key,
            room_id,
            now_ms(),
        )
