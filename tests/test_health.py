"""Health: probes run concurrently with a timeout; failures get short, token-free details."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bridge.health import (
    HealthCheck,
    HealthReport,
    ProbeFailed,
    check_health,
    database_probe,
    discord_probe,
    homeserver_probe,
)

SECRET = "mfa.super-secret-token-0123456789"


async def fine() -> None:
    return None


async def fine_with_detail() -> str:
    return "gateway connected"


async def broken() -> None:
    raise ProbeFailed("SELECT 1 failed")


async def leaky() -> None:
    raise RuntimeError(f"request to https://x/?access_token={SECRET} failed")


async def refused() -> None:
    raise ConnectionRefusedError(111, f"Connect call failed, token {SECRET}")


async def hangs() -> None:
    await asyncio.sleep(3600)


def test_report_is_ok_only_when_every_check_is() -> None:
    assert HealthReport({}).ok
    assert HealthReport({"a": (True, "ok")}).ok
    report = HealthReport({"a": (True, "ok"), "b": (False, "down")})
    assert not report.ok
    assert report.as_json() == {
        "status": "unhealthy",
        "checks": {"a": {"ok": True, "detail": "ok"}, "b": {"ok": False, "detail": "down"}},
    }


async def test_all_probes_pass() -> None:
    report = await check_health({"database": fine, "discord": fine_with_detail}, timeout=1)
    assert report.ok
    assert report.checks == {"database": (True, "ok"), "discord": (True, "gateway connected")}
    assert report.as_json()["status"] == "ok"


async def test_a_failing_and_a_hanging_probe_are_reported_concurrently() -> None:
    started = time.monotonic()
    report = await check_health(
        {"homeserver": fine, "database": broken, "discord": hangs, "other": hangs}, timeout=0.3
    )
    elapsed = time.monotonic() - started
    assert elapsed < 1.0  # the two hanging probes waited side by side, not one after the other
    assert not report.ok
    assert report.checks["homeserver"] == (True, "ok")
    assert report.checks["database"] == (False, "SELECT 1 failed")
    assert report.checks["discord"] == (False, "no answer within 0.3 s")
    assert list(report.checks) == ["homeserver", "database", "discord", "other"]


async def test_details_never_quote_library_messages() -> None:
    report = await check_health({"a": leaky, "b": refused}, timeout=1)
    assert report.checks["a"] == (False, "failed (RuntimeError)")
    assert report.checks["b"] == (False, "unreachable (ConnectionRefusedError)")
    assert SECRET not in repr(report.as_json())


async def test_health_check_caches_and_shares_one_run() -> None:
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)

    check = HealthCheck({"x": counted}, timeout=1, cache_seconds=60)
    reports = await asyncio.gather(check(), check(), check())
    assert calls == 1
    assert all(r.ok for r in reports)
    await check()
    assert calls == 1
    fresh = HealthCheck({"x": counted}, timeout=1, cache_seconds=0)
    await fresh()
    await fresh()
    assert calls == 3


class FakeSocket:
    def __init__(self, open: bool) -> None:
        self.open = open


class FakeGateway:
    def __init__(self, latency: float, closed: bool = False, ws_open: bool | None = True) -> None:
        self.latency = latency
        self.closed = closed
        self.ws = None if ws_open is None else FakeSocket(ws_open)

    def is_closed(self) -> bool:
        return self.closed


@pytest.mark.parametrize(
    ("ready", "gateway", "expected"),
    [
        (False, FakeGateway(0.04), (False, "gateway not ready yet")),
        (True, FakeGateway(0.04, closed=True), (False, "gateway connection closed")),
        (True, FakeGateway(0.04, ws_open=None), (False, "gateway reconnecting")),
        (True, FakeGateway(0.04, ws_open=False), (False, "gateway reconnecting")),
        (True, FakeGateway(math.inf), (False, "gateway connecting")),
        (True, FakeGateway(math.nan), (False, "gateway connecting")),
        (True, FakeGateway(0.04), (True, "gateway connected, heartbeat 40 ms")),
    ],
)
async def test_discord_probe(ready: bool, gateway: FakeGateway, expected: tuple[bool, str]) -> None:
    event = asyncio.Event()
    if ready:
        event.set()
    report = await check_health({"discord": discord_probe(event, gateway)}, timeout=1)
    assert report.checks["discord"] == expected


class FakeDB:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    async def fetchval(self, query: str, *args: object) -> object:
        assert query == "SELECT 1"
        if self.error is not None:
            raise self.error
        return 1


async def test_database_probe() -> None:
    report = await check_health(
        {"up": database_probe(FakeDB()), "down": database_probe(FakeDB(OSError("refused")))},
        timeout=1,
    )
    assert report.checks["up"] == (True, "SELECT 1 answered")
    assert report.checks["down"] == (False, "unreachable (OSError)")


async def test_homeserver_probe() -> None:
    async def versions(request: web.Request) -> web.Response:
        return web.json_response({"versions": ["v1.11"]})

    app = web.Application()
    app.router.add_get("/_matrix/client/versions", versions)
    async with TestServer(app) as server:
        up = homeserver_probe(str(server.make_url("/")))
        report = await check_health({"homeserver": up}, timeout=2)
        assert report.checks["homeserver"] == (True, "client API reachable")
        missing = homeserver_probe(str(server.make_url("/nothing-here")))
        report = await check_health({"homeserver": missing}, timeout=2)
        assert report.checks["homeserver"] == (
            False,
            "/_matrix/client/versions answered HTTP 404",
        )
    # Nothing listens there any more.
    report = await check_health({"homeserver": up}, timeout=2)
    assert report.checks["homeserver"][0] is False
    assert report.checks["homeserver"][1].startswith("unreachable (")
