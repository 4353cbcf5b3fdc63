"""Snowflake ids and timestamps the way Discord formats them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Real, strictly increasing snowflakes: (ms since 2015) << 22 | worker | process | n."""

    def __init__(self, worker: int = 1, process: int = 0) -> None:
        self._low = ((worker & 0x1F) << 17) | ((process & 0x1F) << 12)
        self._last = 0
        self._increment = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | self._low | (self._increment & 0xFFF)
        self._increment += 1
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def next_str(self) -> str:
        return str(self.next())


def snowflake_time(snowflake: int | str) -> datetime:
    """When a snowflake was made (UTC)."""
    ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 with microseconds and an explicit +00:00 offset, like Discord."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_iso() -> str:
    return iso(datetime.now(UTC))
