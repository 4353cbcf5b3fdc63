"""Metrics: names, labels and values in the text exposition; queue depth read at scrape."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.metrics import Metrics
from bridge.queues import KeyedSerialQueues


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode("utf-8")
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def test_every_series_exists_at_zero_from_the_start() -> None:
    metrics = Metrics()
    for direction in ("d2m", "m2d"):
        assert value(metrics, "passerelle_messages_relayed_total", direction=direction) == 0
        assert value(metrics, "passerelle_ratelimit_waits_total", direction=direction) == 0
        assert value(metrics, "passerelle_ratelimit_wait_seconds_total", direction=direction) == 0
        assert value(metrics, "passerelle_relay_latency_seconds_count", direction=direction) == 0
        for reason in ("retry", "dropped"):
            assert (
                value(
                    metrics, "passerelle_relay_failures_total", direction=direction, reason=reason
                )
                == 0
            )


def test_relayed_counts_and_observes_latency() -> None:
    metrics = Metrics()
    metrics.relayed("d2m", 0.004)
    metrics.relayed("d2m", 0.2)
    metrics.relayed("m2d", 3.0)
    assert value(metrics, "passerelle_messages_relayed_total", direction="d2m") == 2
    assert value(metrics, "passerelle_messages_relayed_total", direction="m2d") == 1
    assert value(metrics, "passerelle_relay_latency_seconds_count", direction="d2m") == 2
    assert value(metrics, "passerelle_relay_latency_seconds_sum", direction="d2m") == pytest.approx(
        0.204
    )
    # Buckets cover 1 ms .. 10 s.
    assert (
        value(metrics, "passerelle_relay_latency_seconds_bucket", direction="d2m", le="0.001") == 0
    )
    assert (
        value(metrics, "passerelle_relay_latency_seconds_bucket", direction="d2m", le="0.005") == 1
    )
    assert value(metrics, "passerelle_relay_latency_seconds_bucket", direction="m2d", le="2.5") == 0
    assert (
        value(metrics, "passerelle_relay_latency_seconds_bucket", direction="m2d", le="10.0") == 1
    )


def test_failures_and_rate_limits() -> None:
    metrics = Metrics()
    metrics.failed("m2d", "retry")
    metrics.failed("m2d", "retry")
    metrics.failed("d2m", "dropped")
    metrics.rate_limited("m2d", 1.5)
    metrics.rate_limited("m2d", 0.25)
    assert value(metrics, "passerelle_relay_failures_total", direction="m2d", reason="retry") == 2
    assert value(metrics, "passerelle_relay_failures_total", direction="d2m", reason="dropped") == 1
    assert value(metrics, "passerelle_ratelimit_waits_total", direction="m2d") == 2
    assert value(metrics, "passerelle_ratelimit_wait_seconds_total", direction="m2d") == 1.75
    assert value(metrics, "passerelle_ratelimit_waits_total", direction="d2m") == 0


def test_queue_depth_is_read_when_scraped() -> None:
    metrics = Metrics()
    depth = {"d2m": 3}
    metrics.track_queue("d2m", lambda: depth["d2m"])
    assert value(metrics, "passerelle_queue_depth", queue="d2m") == 3
    depth["d2m"] = 7
    assert value(metrics, "passerelle_queue_depth", queue="d2m") == 7


def test_a_broken_depth_callback_does_not_break_the_scrape() -> None:
    metrics = Metrics()

    def broken() -> int:
        raise RuntimeError("boom")

    metrics.track_queue("m2d_outbox", broken)
    metrics.relayed("d2m", 0.01)
    text = metrics.render().decode()
    assert 'passerelle_queue_depth{queue="m2d_outbox"} NaN' in text
    assert value(metrics, "passerelle_messages_relayed_total", direction="d2m") == 1


def test_each_instance_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # would raise "Duplicated timeseries" on one registry
    first.relayed("d2m", 0.01)
    assert value(first, "passerelle_messages_relayed_total", direction="d2m") == 1
    assert value(second, "passerelle_messages_relayed_total", direction="d2m") == 0


def test_render_is_the_text_format_with_help_and_type() -> None:
    metrics = Metrics()
    text = metrics.render().decode()
    assert "# TYPE passerelle_messages_relayed_total counter" in text
    assert "# TYPE passerelle_relay_latency_seconds histogram" in text
    assert "# TYPE passerelle_queue_depth gauge" in text
    assert "# HELP passerelle_relay_failures_total" in text
    assert metrics.content_type.startswith("text/plain; version=0.0.4")


async def test_queue_depth_counts_waiting_and_running_jobs() -> None:
    queues = KeyedSerialQueues("test")
    assert queues.depth() == 0
    gate = asyncio.Event()

    async def blocked() -> None:
        await gate.wait()

    async def fails() -> None:
        raise RuntimeError("job failed")

    queues.submit("a", blocked)
    queues.submit("a", fails)
    queues.submit("b", blocked)
    assert queues.depth() == 3
    await asyncio.sleep(0)  # both workers start; their first jobs are running, not done
    assert queues.depth() == 3
    gate.set()
    await queues.drain()
    assert queues.depth() == 0  # failed jobs count as finished too
    metrics = Metrics()
    metrics.track_queue("d2m", queues.depth)
    assert value(metrics, "passerelle_queue_depth", queue="d2m") == 0
    await queues.close()
