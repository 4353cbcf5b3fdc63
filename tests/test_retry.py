"""bridge.retry: which failures are transient, how long to wait, when to give up."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import asyncpg
import discord
import pytest
from mautrix.errors import MatrixConnectionError, MatrixStandardRequestError

from bridge.retry import (
    BACKOFF_MAX,
    BACKOFF_START,
    PERMANENT_ATTEMPTS,
    Verdict,
    backoff,
    classify,
    should_retry,
)


@dataclass
class FakeResponse:
    """What discord.HTTPException reads from an aiohttp response."""

    status: int
    reason: str = "Reason"
    headers: dict[str, str] = field(default_factory=dict)


def http_error(status: int, headers: dict[str, str] | None = None) -> discord.HTTPException:
    return discord.HTTPException(FakeResponse(status, headers=headers or {}), "boom")


TRANSIENT = Verdict(True, "test")
PERMANENT = Verdict(False, "test")


# -- classify: Discord ------------------------------------------------------------------


def test_discord_429_honours_retry_after() -> None:
    verdict = classify(http_error(429, {"Retry-After": "2.5"}))
    assert verdict.transient
    assert verdict.retry_after == 2.5


def test_discord_429_falls_back_to_reset_after_header() -> None:
    verdict = classify(http_error(429, {"X-RateLimit-Reset-After": "1.25"}))
    assert verdict.transient and verdict.retry_after == 1.25


def test_discord_429_without_or_with_unreadable_header_is_transient_without_wait() -> None:
    assert classify(http_error(429)) == Verdict(True, "discord-429", None)
    garbled = classify(http_error(429, {"Retry-After": "soon"}))
    assert garbled.transient and garbled.retry_after is None
    negative = classify(http_error(429, {"Retry-After": "-3"}))
    assert negative.transient and negative.retry_after == 0.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_discord_5xx_is_transient(status: int) -> None:
    verdict = classify(http_error(status))
    assert verdict.transient
    assert verdict.retry_after is None
    assert str(status) in verdict.reason


def test_discord_server_error_subclass_is_transient() -> None:
    assert classify(discord.DiscordServerError(FakeResponse(503), "down")).transient


@pytest.mark.parametrize("status", [400, 403, 404, 413])
def test_discord_4xx_is_permanent(status: int) -> None:
    verdict = classify(http_error(status))
    assert not verdict.transient
    assert str(status) in verdict.reason


def test_discord_forbidden_and_not_found_are_permanent() -> None:
    assert not classify(discord.Forbidden(FakeResponse(403), "no")).transient
    assert not classify(discord.NotFound(FakeResponse(404), "gone")).transient


def test_discord_rate_limited_carries_its_wait() -> None:
    verdict = classify(discord.RateLimited(7.5))
    assert verdict.transient and verdict.retry_after == 7.5


# -- classify: Matrix -------------------------------------------------------------------


def test_homeserver_unreachable_is_transient() -> None:
    assert classify(MatrixConnectionError("connection refused")).transient


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_homeserver_429_and_5xx_are_transient(status: int) -> None:
    verdict = classify(MatrixStandardRequestError(status, "busy"))
    assert verdict.transient
    assert verdict.reason == f"homeserver-{status}"


@pytest.mark.parametrize("status", [400, 403, 404])
def test_homeserver_4xx_is_permanent(status: int) -> None:
    verdict = classify(MatrixStandardRequestError(status, "M_FORBIDDEN"))
    assert not verdict.transient
    assert verdict.reason == f"homeserver-{status}"


# -- classify: database, network, bugs --------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.PostgresConnectionError("connection lost"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection"),
        asyncpg.TooManyConnectionsError("too many clients"),
        asyncpg.InterfaceError("connection is closed"),
    ],
)
def test_database_unavailable_is_transient(exc: Exception) -> None:
    assert classify(exc) == Verdict(True, "database-unavailable")


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(),
        TimeoutError(),
        aiohttp.ClientConnectionError("reset"),
        aiohttp.ServerTimeoutError("slow"),
    ],
)
def test_network_errors_are_transient(exc: Exception) -> None:
    assert classify(exc) == Verdict(True, "connection")


@pytest.mark.parametrize("exc", [ValueError("bad"), KeyError("x"), RuntimeError("bug")])
def test_bugs_are_permanent(exc: Exception) -> None:
    verdict = classify(exc)
    assert not verdict.transient
    assert verdict.reason == type(exc).__name__
    assert verdict.retry_after is None


# -- backoff ----------------------------------------------------------------------------


def test_backoff_doubles_from_half_a_second() -> None:
    waits = [backoff(attempt, TRANSIENT, jitter=0) for attempt in range(1, 7)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert waits[0] == BACKOFF_START


def test_backoff_is_capped_at_a_minute() -> None:
    assert backoff(8, TRANSIENT, jitter=0) == BACKOFF_MAX == 60.0  # 0.5 * 2**7 = 64
    assert backoff(30, TRANSIENT, jitter=0) == 60.0


def test_backoff_jitter_adds_at_most_ten_percent() -> None:
    assert backoff(3, TRANSIENT, jitter=1) == pytest.approx(2.2)
    assert backoff(20, TRANSIENT, jitter=1) == pytest.approx(66.0)
    for _ in range(50):
        assert 4.0 <= backoff(4, TRANSIENT) <= 4.4


def test_retry_after_wins_over_doubling() -> None:
    asked = Verdict(True, "discord-429", retry_after=7.0)
    assert backoff(1, asked, jitter=0) == 7.0
    assert backoff(12, asked, jitter=1) == 7.0  # no cap to a minute, no jitter
    assert backoff(1, Verdict(True, "discord-429", retry_after=0.0), jitter=0) == 0.0
    # An absurd Retry-After is bounded (five minutes).
    assert backoff(1, Verdict(True, "x", retry_after=10_000.0), jitter=0) == 300.0


def test_backoff_stays_capped_after_a_very_long_outage() -> None:
    assert backoff(1100, TRANSIENT, jitter=0) == BACKOFF_MAX


# -- should_retry -----------------------------------------------------------------------


def test_transient_failures_are_retried_forever() -> None:
    assert all(should_retry(attempt, TRANSIENT) for attempt in (1, PERMANENT_ATTEMPTS, 10_000))


def test_permanent_failures_are_retried_until_the_limit() -> None:
    assert PERMANENT_ATTEMPTS == 3
    assert [should_retry(a, PERMANENT) for a in range(1, 6)] == [True, True, False, False, False]


@pytest.mark.parametrize("exc", [PermissionError("denied"), FileNotFoundError("gone")])
def test_local_file_errors_are_permanent(exc: OSError) -> None:
    assert not classify(exc).transient
