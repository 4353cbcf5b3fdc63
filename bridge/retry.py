"""Which failures are worth retrying, and how long to wait: pure decisions.

A failure is *transient* when the other side may well accept the same request
later: Discord or the homeserver unreachable or answering 5xx or 429, the
database restarting. Anything else (a 4xx refusal, a bug) is *permanent*: it
is retried a few times in case it was a race, then given up with an error log.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Literal

import aiohttp
import asyncpg
import discord
from mautrix.errors import MatrixConnectionError, MatrixRequestError

# Give up on a permanent failure after this many attempts (in case it was a race).
PERMANENT_ATTEMPTS = 3
BACKOFF_START = 0.5
BACKOFF_MAX = 60.0


_LOCAL_OS_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


@dataclass(frozen=True)
class Verdict:
    transient: bool
    reason: str
    # The wait the remote side asked for (Retry-After), if it did.
    retry_after: float | None = None


def _retry_after(exc: discord.HTTPException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw = headers.get("Retry-After") or headers.get("X-RateLimit-Reset-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def classify(exc: BaseException) -> Verdict:
    """Transient (retry until it works) or permanent (give up after a few tries)."""
    if isinstance(exc, discord.RateLimited):
        return Verdict(True, "discord-429", exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return Verdict(True, "discord-429", _retry_after(exc))
        if exc.status >= 500 or exc.status == 0:
            return Verdict(True, f"discord-{exc.status}")
        return Verdict(False, f"discord-{exc.status}")
    if isinstance(exc, MatrixConnectionError):
        return Verdict(True, "homeserver-unreachable")
    if isinstance(exc, MatrixRequestError):
        status = getattr(exc, "http_status", 0) or 0
        if status == 429 or status >= 500 or status == 0:
            return Verdict(True, f"homeserver-{status}")
        return Verdict(False, f"homeserver-{status}")
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        | asyncpg.TooManyConnectionsError,
    ):
        return Verdict(True, "database-unavailable")
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ServerTimeoutError):
        return Verdict(True, "connection")
    if isinstance(exc, _LOCAL_OS_ERRORS):  # a file or permission problem here: no retry
        return Verdict(False, type(exc).__name__)
    if isinstance(exc, ConnectionError | TimeoutError | asyncio.TimeoutError | OSError):
        return Verdict(True, "connection")
    return Verdict(False, type(exc).__name__)


def failure_origin(
    exc: BaseException,
) -> tuple[Literal["discord", "homeserver", "bridge"], int, int]:
    """Where a failure came from, with Discord's HTTP status and JSON error code
    (0 when there is none): what a sender's notice explains."""
    if isinstance(exc, discord.HTTPException):
        return "discord", int(exc.status or 0), int(exc.code or 0)
    if isinstance(exc, MatrixRequestError):
        return "homeserver", int(getattr(exc, "http_status", 0) or 0), 0
    return "bridge", 0, 0


def backoff(attempt: int, verdict: Verdict, jitter: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Honours the remote side's Retry-After; otherwise doubles from half a second up
    to a minute, with up to 10% jitter so channels do not retry in lockstep.
    """
    if verdict.retry_after is not None:
        return min(verdict.retry_after, BACKOFF_MAX * 5)
    doublings = min(max(0, attempt - 1), 16)  # past the cap anyway; no float overflow
    base = min(BACKOFF_MAX, BACKOFF_START * (2**doublings))
    spread = random.random() if jitter is None else jitter
    return base * (1 + 0.1 * spread)


def should_retry(attempt: int, verdict: Verdict) -> bool:
    return verdict.transient or attempt < PERMANENT_ATTEMPTS
