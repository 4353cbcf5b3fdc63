"""user_language: the language a person chose (``!bridge language``) or that their
side told (a Discord ``locale``), per side and user ID. Times are ms since the epoch."""

from __future__ import annotations

from typing import Literal

from mautrix.util.async_db import Database

from bridge.db import common

Side = Literal["matrix", "discord"]
Source = Literal["command", "discord"]


class UserLanguageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, side: Side, user_id: str) -> str | None:
        value = await self.db.fetchval(
            "SELECT language FROM user_language WHERE side=$1 AND user_id=$2", side, user_id
        )
        return str(value) if value is not None else None

    async def choose(self, side: Side, user_id: str, language: str) -> None:
        """The person's own choice: kept until they choose again."""
        await self.db.execute(
            "INSERT INTO user_language (side, user_id, language, source, updated_at)"
            " VALUES ($1, $2, $3, 'command', $4) ON CONFLICT (side, user_id) DO UPDATE"
            " SET language=excluded.language, source='command', updated_at=excluded.updated_at",
            side,
            user_id,
            language,
            common.now_ms(),
        )

    async def forget(self, side: Side, user_id: str) -> None:
        await self.db.execute(
            "DELETE FROM user_language WHERE side=$1 AND user_id=$2", side, user_id
        )

    async def observed(self, side: Side, user_id: str, language: str) -> None:
        """What the side told (a Discord client's ``locale``); never overrides a
        language the person chose with the command."""
        await self.db.execute(
            "INSERT INTO user_language (side, user_id, language, source, updated_at)"
            " VALUES ($1, $2, $3, 'discord', $4) ON CONFLICT (side, user_id) DO UPDATE"
            " SET language=excluded.language, updated_at=excluded.updated_at"
            " WHERE user_language.source <> 'command'",
            side,
            user_id,
            language,
            common.now_ms(),
        )
