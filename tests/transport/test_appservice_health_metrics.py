"""GET /metrics and GET /health on the appservice listener: no token, no secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bridge.health import HealthReport, ProbeFailed, check_health
from bridge.metrics import Metrics
from bridge.transport.appservice_http import AppserviceHandlers, build_appservice_app

HS_TOKEN = "hs-token-for-tests-0123456789"


async def nothing(*_: Any) -> Any:
    return False


@asynccontextmanager
async def serve(**extra: Any) -> AsyncIterator[TestClient]:
    handlers = AppserviceHandlers(HS_TOKEN, nothing, nothing, nothing, nothing, **extra)
    async with TestClient(TestServer(build_appservice_app(handlers))) as client:
        yield client


async def test_metrics_are_served_without_a_token() -> None:
    metrics = Metrics()
    metrics.relayed("d2m", 0.01)
    metrics.track_queue("d2m", lambda: 4)
    async with serve(metrics=metrics) as http:
        resp = await http.get("/metrics")
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert resp.headers["Cache-Control"] == "no-store"
        text = await resp.text()
    assert 'passerelle_messages_relayed_total{direction="d2m"} 1.0' in text
    assert 'passerelle_queue_depth{queue="d2m"} 4.0' in text
    assert HS_TOKEN not in text


async def test_metrics_is_404_when_not_enabled() -> None:
    async with serve() as http:
        resp = await http.get("/metrics")
        assert resp.status == 404
        assert (await resp.json())["errcode"] == "M_NOT_FOUND"
        resp = await http.get("/health")
        assert resp.status == 404


async def test_health_ok_is_200() -> None:
    async def healthy() -> HealthReport:
        return HealthReport({"database": (True, "SELECT 1 answered"), "discord": (True, "ok")})

    async with serve(health=healthy) as http:
        resp = await http.get("/health")
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-store"
        assert await resp.json() == {
            "status": "ok",
            "checks": {
                "database": {"ok": True, "detail": "SELECT 1 answered"},
                "discord": {"ok": True, "detail": "ok"},
            },
        }


async def test_health_unhealthy_is_503_with_the_failing_check() -> None:
    async def down() -> None:
        raise ProbeFailed("gateway not ready yet")

    async def up() -> None:
        return None

    async def report() -> HealthReport:
        return await check_health({"discord": down, "database": up}, timeout=1)

    async with serve(health=report) as http:
        resp = await http.get("/health")
        assert resp.status == 503
        body = await resp.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["discord"] == {"ok": False, "detail": "gateway not ready yet"}
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}


async def test_health_that_raises_is_503_without_details() -> None:
    async def crashes() -> HealthReport:
        raise RuntimeError(f"bug with {HS_TOKEN}")

    async with serve(health=crashes) as http:
        resp = await http.get("/health")
        assert resp.status == 503
        body = await resp.json()
    assert body == {"status": "unhealthy", "checks": {}}


async def test_a_wrong_token_does_not_matter_and_the_appservice_api_still_needs_one() -> None:
    async def healthy() -> HealthReport:
        return HealthReport({})

    async with serve(metrics=Metrics(), health=healthy) as http:
        bad = {"Authorization": "Bearer wrong"}
        assert (await http.get("/metrics", headers=bad)).status == 200
        assert (await http.get("/health", headers=bad)).status == 200
        resp = await http.put("/_matrix/app/v1/transactions/1", json={"events": []})
        assert resp.status == 401
        resp = await http.put("/_matrix/app/v1/transactions/1", json={"events": []}, headers=bad)
        assert resp.status == 403
        # Only GET: other methods are refused.
        assert (await http.post("/metrics")).status == 405
        assert (await http.delete("/health")).status == 405
