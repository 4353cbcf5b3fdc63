"""Health checks behind ``GET /health``: run probes concurrently, each with a timeout.

A probe is an async function that returns (optionally a short detail such as
"gateway connected") when its dependency is fine and raises when it is not.
Details are plain English and never hold a token: a probe that wants to say
why it failed raises :class:`ProbeFailed` with a safe message; any other
exception is reported by its kind only ("unreachable (ClientConnectorError)"),
because library messages may quote URLs or headers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[str | None]]
DEFAULT_TIMEOUT = 5.0


class ProbeFailed(Exception):
    """A probe's failure, with a detail that is safe to show anyone."""


@dataclass(frozen=True)
class HealthReport:
    """name -> (ok, detail) for every check that ran."""

    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.checks.values())

    @property
    def status(self) -> str:
        return "ok" if self.ok else "unhealthy"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "checks": {
                name: {"ok": ok, "detail": detail} for name, (ok, detail) in self.checks.items()
            },
        }


def describe_failure(exc: BaseException, timeout: float) -> str:
    """A short, token-free description of why a probe failed."""
    if isinstance(exc, ProbeFailed):
        return str(exc) or "failed"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"answered HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return f"unreachable ({type(exc).__name__})"
    return f"failed ({type(exc).__name__})"


async def _run_probe(name: str, probe: Probe, timeout: float) -> tuple[bool, str]:
    try:
        detail = await asyncio.wait_for(probe(), timeout)
    except Exception as exc:
        reason = describe_failure(exc, timeout)
        log.warning("health.probe-failed probe=%s reason=%s", name, reason)
        return False, reason
    return True, detail or "ok"


async def check_health(
    probes: Mapping[str, Probe], timeout: float = DEFAULT_TIMEOUT
) -> HealthReport:
    """Run every probe concurrently, each given ``timeout`` seconds."""
    names = list(probes)
    results = await asyncio.gather(*(_run_probe(n, probes[n], timeout) for n in names))
    return HealthReport(dict(zip(names, results, strict=True)))


@dataclass
class HealthCheck:
    """``check_health`` with a short memory, for ``AppserviceHandlers.health``.

    A monitor polling /health every second (or several at once) must not turn
    into a stream of requests to Discord and the homeserver: a report is reused
    for ``cache_seconds`` and concurrent callers share one run.
    """

    probes: Mapping[str, Probe]
    timeout: float = DEFAULT_TIMEOUT
    cache_seconds: float = 2.0
    _last: tuple[float, HealthReport] | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def __call__(self) -> HealthReport:
        async with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self.cache_seconds:
                return self._last[1]
            report = await check_health(self.probes, self.timeout)
            self._last = (time.monotonic(), report)
            return report


# -- probes for the bridge's three dependencies ------------------------------------


class _Gateway(Protocol):
    """What the probe reads of a discord.py ``Client``."""

    ws: Any  # the current gateway websocket (None before the first connect)

    def is_closed(self) -> bool: ...

    @property
    def latency(self) -> float: ...


class _Queryable(Protocol):
    async def fetchval(self, query: str, *args: Any) -> Any: ...


def discord_probe(ready: asyncio.Event, client: _Gateway) -> Probe:
    """Healthy once READY arrived and while the gateway connection is up."""

    async def probe() -> str:
        if not ready.is_set():
            raise ProbeFailed("gateway not ready yet")
        if client.is_closed():
            raise ProbeFailed("gateway connection closed")
        # While reconnecting, discord.py still holds the old, closed websocket.
        if client.ws is None or not getattr(client.ws, "open", False):
            raise ProbeFailed("gateway reconnecting")
        latency = client.latency
        if not math.isfinite(latency):  # no heartbeat acknowledged yet on this connection
            raise ProbeFailed("gateway connecting")
        return f"gateway connected, heartbeat {latency * 1000:.0f} ms"

    return probe


def homeserver_probe(homeserver_url: str) -> Probe:
    """``GET /_matrix/client/versions``: needs no token, so nothing secret can leak."""
    url = homeserver_url.rstrip("/") + "/_matrix/client/versions"

    async def probe() -> str:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            if resp.status != 200:
                raise ProbeFailed(f"/_matrix/client/versions answered HTTP {resp.status}")
            return "client API reachable"

    return probe


def database_probe(db: _Queryable) -> Probe:
    """``SELECT 1`` through the bridge's own pool."""

    async def probe() -> str:
        if await db.fetchval("SELECT 1") != 1:
            raise ProbeFailed("SELECT 1 returned something else")
        return "SELECT 1 answered"

    return probe
