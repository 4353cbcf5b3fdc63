"""account_link, link_code: which Matrix user is which Discord account (members-only filter).

- ``account_link``: one row per linked person, a Matrix user ID and a Discord
  user ID, each unique: linking either side again replaces its older link.
- ``link_code``: outstanding one-time codes. Direction ``m2d``: a Matrix user
  asked for the code (``mxid`` set) and proves it from Discord (by DM to the
  bot); ``d2m``: a Discord user asked (``discord_id`` set) and proves it from
  Matrix. A code is taken once, before it expires.

Codes themselves are made and parsed by :mod:`moderation.members_only`.
Times are milliseconds since the epoch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from mautrix.util.async_db import Connection, Database

from bridge.db import common
from bridge.db.common import one_of
from bridge.ids import DiscordUserID, UserID

LinkDirection = Literal["m2d", "d2m"]
_DIRECTIONS: tuple[str, ...] = get_args(LinkDirection)


def _direction(value: str) -> LinkDirection:
    return cast(LinkDirection, one_of(value, _DIRECTIONS, "link direction"))


class _Conflict(Exception):
    """A concurrent writer linked the same mxid or Discord ID: roll back, try again."""


# -- account_link ----------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    mxid: UserID
    discord_id: DiscordUserID
    linked_at: int

    @classmethod
    def from_record(cls, rec: Any) -> LinkRow:
        return cls(
            mxid=UserID(rec["mxid"]),
            discord_id=DiscordUserID(int(rec["discord_id"])),
            linked_at=int(rec["linked_at"]),
        )


_LINK_COLUMNS = "mxid, discord_id, linked_at"


class LinkStore:
    """``by_matrix`` is asked for every Matrix message relayed (name clashes): its
    answers are kept in memory and forgotten at every write through this store (see
    bridge.db.common.ReadCache)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Links are made one at a time within the bridge process.
        self._linking = asyncio.Lock()
        self._by_matrix: common.ReadCache[UserID, LinkRow | None] = common.ReadCache()

    async def link(
        self, mxid: UserID, discord_id: DiscordUserID, now_ms: int | None = None
    ) -> list[LinkRow]:
        """Link a Matrix user and a Discord account, replacing any older link of either.

        Returns the links that were replaced (the caller re-checks access for the
        people they named); linking an already linked pair changes nothing and
        returns ``[]``.
        """
        at = now_ms if now_ms is not None else common.now_ms()
        self._by_matrix.invalidate()
        try:
            return await self._link(mxid, discord_id, at)
        finally:
            self._by_matrix.invalidate()

    async def _link(self, mxid: UserID, discord_id: DiscordUserID, at: int) -> list[LinkRow]:
        # Links are serialised in this process; should another writer link the same
        # mxid or Discord ID meanwhile, the INSERT finds a conflict after our DELETE
        # and the whole transaction is tried again.
        async with self._linking:
            for _ in range(5):
                replaced = await self._link_once(mxid, discord_id, at)
                if replaced is not None:
                    return replaced
        raise RuntimeError(f"link of {mxid} kept changing while being stored")

    async def _link_once(
        self, mxid: UserID, discord_id: DiscordUserID, at: int
    ) -> list[LinkRow] | None:
        """One attempt in one transaction; None (and nothing changed) when a concurrent
        link got in the way."""
        conn: Connection
        try:
            async with self.db.acquire() as conn, conn.transaction():
                same = await conn.fetchval(
                    "SELECT 1 FROM account_link WHERE mxid=$1 AND discord_id=$2", mxid, discord_id
                )
                if same is not None:
                    return []
                removed = await conn.fetch(
                    f"DELETE FROM account_link WHERE mxid=$1 OR discord_id=$2"
                    f" RETURNING {_LINK_COLUMNS}",
                    mxid,
                    discord_id,
                )
                inserted = await conn.fetchval(
                    "INSERT INTO account_link (mxid, discord_id, linked_at) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    mxid,
                    discord_id,
                    at,
                )
                if inserted is None:
                    raise _Conflict  # roll the DELETE back too
        except _Conflict:
            return None
        rows = [LinkRow.from_record(rec) for rec in removed]
        return sorted(rows, key=lambda r: (r.linked_at, r.mxid))

    async def unlink_matrix(self, mxid: UserID) -> LinkRow | None:
        """Remove the link of a Matrix user; the removed row, or None if there was none."""
        self._by_matrix.invalidate()
        try:
            rec = await self.db.fetchrow(
                f"DELETE FROM account_link WHERE mxid=$1 RETURNING {_LINK_COLUMNS}", mxid
            )
        finally:
            self._by_matrix.invalidate()
        return LinkRow.from_record(rec) if rec else None

    async def unlink_discord(self, discord_id: DiscordUserID) -> LinkRow | None:
        """Remove the link of a Discord account; the removed row, or None."""
        self._by_matrix.invalidate()
        try:
            rec = await self.db.fetchrow(
                f"DELETE FROM account_link WHERE discord_id=$1 RETURNING {_LINK_COLUMNS}",
                discord_id,
            )
        finally:
            self._by_matrix.invalidate()
        return LinkRow.from_record(rec) if rec else None

    async def by_matrix(self, mxid: UserID) -> LinkRow | None:
        return await self._by_matrix.read(mxid, lambda: self._by_matrix_read(mxid))

    async def _by_matrix_read(self, mxid: UserID) -> LinkRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_LINK_COLUMNS} FROM account_link WHERE mxid=$1", mxid
        )
        return LinkRow.from_record(rec) if rec else None

    async def by_discord(self, discord_id: DiscordUserID) -> LinkRow | None:
        rec = await self.db.fetchrow(
            f"SELECT {_LINK_COLUMNS} FROM account_link WHERE discord_id=$1", discord_id
        )
        return LinkRow.from_record(rec) if rec else None

    async def all(self) -> list[LinkRow]:
        """Every link, oldest first."""
        rows = await self.db.fetch(
            f"SELECT {_LINK_COLUMNS} FROM account_link ORDER BY linked_at, mxid"
        )
        return [LinkRow.from_record(rec) for rec in rows]


# -- link_code ---------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCodeRow:
    code: str
    # "m2d": a Matrix user (mxid) asked, proves it from Discord; "d2m": the reverse.
    direction: LinkDirection
    mxid: UserID | None
    discord_id: DiscordUserID | None
    created_at: int
    expires_at: int
    used: bool = False

    @classmethod
    def from_record(cls, rec: Any) -> LinkCodeRow:
        discord_id = rec["discord_id"]
        return cls(
            code=rec["code"],
            direction=_direction(rec["direction"]),
            mxid=UserID(rec["mxid"]) if rec["mxid"] is not None else None,
            discord_id=DiscordUserID(int(discord_id)) if discord_id is not None else None,
            created_at=int(rec["created_at"]),
            expires_at=int(rec["expires_at"]),
            used=bool(rec["used"]),
        )


_CODE_COLUMNS = "code, direction, mxid, discord_id, created_at, expires_at, used"


class LinkCodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        code: str,
        direction: LinkDirection,
        *,
        mxid: UserID | None = None,
        discord_id: DiscordUserID | None = None,
        now_ms: int,
        ttl_ms: int,
    ) -> LinkCodeRow | None:
        """Store a new code for its requester (``mxid`` for ``m2d``, ``discord_id`` for
        ``d2m``), valid for ``ttl_ms``. The requester's earlier unused codes of the
        same direction are withdrawn: one outstanding code per person. None when the
        code already exists (draw another one)."""
        direction = _direction(direction)
        if direction == "m2d" and mxid is None:
            raise ValueError("an m2d code needs the mxid of the Matrix user who asked")
        if direction == "d2m" and discord_id is None:
            raise ValueError("a d2m code needs the Discord ID of the user who asked")
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be positive, got {ttl_ms}")
        row = LinkCodeRow(code, direction, mxid, discord_id, now_ms, now_ms + ttl_ms)
        conn: Connection
        async with self.db.acquire() as conn, conn.transaction():
            if direction == "m2d":
                await conn.execute(
                    "DELETE FROM link_code WHERE direction='m2d' AND mxid=$1 AND used=FALSE", mxid
                )
            else:
                await conn.execute(
                    "DELETE FROM link_code WHERE direction='d2m' AND discord_id=$1 AND used=FALSE",
                    discord_id,
                )
            inserted = await conn.fetchval(
                f"INSERT INTO link_code ({_CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, FALSE)"
                " ON CONFLICT (code) DO NOTHING RETURNING 1",
                row.code,
                row.direction,
                row.mxid,
                row.discord_id,
                row.created_at,
                row.expires_at,
            )
        return row if inserted is not None else None

    async def get(self, code: str) -> LinkCodeRow | None:
        rec = await self.db.fetchrow(f"SELECT {_CODE_COLUMNS} FROM link_code WHERE code=$1", code)
        return LinkCodeRow.from_record(rec) if rec else None

    async def take(
        self, code: str, now_ms: int, direction: LinkDirection | None = None
    ) -> LinkCodeRow | None:
        """Use a code: atomically mark it used and return it (with ``used`` True), or None
        when it does not exist, is used, has expired (``now_ms >= expires_at``) or
        belongs to the other direction. Two concurrent takes never both succeed."""
        if direction is None:
            rec = await self.db.fetchrow(
                "UPDATE link_code SET used=TRUE WHERE code=$1 AND used=FALSE AND expires_at>$2"
                f" RETURNING {_CODE_COLUMNS}",
                code,
                now_ms,
            )
        else:
            rec = await self.db.fetchrow(
                "UPDATE link_code SET used=TRUE WHERE code=$1 AND used=FALSE AND expires_at>$2"
                f" AND direction=$3 RETURNING {_CODE_COLUMNS}",
                code,
                now_ms,
                _direction(direction),
            )
        return LinkCodeRow.from_record(rec) if rec else None

    async def purge_expired(self, now_ms: int) -> int:
        """Delete used and expired codes; how many went."""
        rows = await self.db.fetch(
            "DELETE FROM link_code WHERE used=TRUE OR expires_at<=$1 RETURNING code", now_ms
        )
        return len(rows)
