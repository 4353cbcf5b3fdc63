"""Prometheus metrics of one bridge, served at ``GET /metrics``.

Every :class:`Metrics` owns its own registry (never prometheus_client's global
one), so tests and several bridges in one process do not clash. Labels are a
small fixed set: ``direction`` is ``d2m`` or ``m2d``, ``reason`` a short word
("retry", "dropped" ...), ``queue`` a queue name. Never put IDs, user names or
anything secret in a label.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)

Direction = Literal["d2m", "m2d"]
DIRECTIONS: tuple[Direction, ...] = ("d2m", "m2d")
KNOWN_REASONS = ("retry", "dropped")
# 1 ms .. 10 s: a relay is a few HTTP calls, a rate-limited one waits seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# What generate_latest() writes (the classic text format, whatever the library's default).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The bridge's counters, gauges and histograms, and their text exposition."""

    content_type = CONTENT_TYPE

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._relayed = Counter(
            "passerelle_messages_relayed",
            "Messages relayed, by direction (d2m: Discord to Matrix, m2d: Matrix to Discord).",
            ["direction"],
            registry=self.registry,
        )
        self._failures = Counter(
            "passerelle_relay_failures",
            "Relays that failed, by direction and reason (retry: will be tried again, "
            "dropped: given up).",
            ["direction", "reason"],
            registry=self.registry,
        )
        self._queue_depth = Gauge(
            "passerelle_queue_depth",
            "Jobs queued or in progress, read when scraped.",
            ["queue"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "passerelle_relay_latency_seconds",
            "Time from receiving an event to having relayed it, by direction.",
            ["direction"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._ratelimit_waits = Counter(
            "passerelle_ratelimit_waits",
            "Times a relay waited for a rate limit, by direction.",
            ["direction"],
            registry=self.registry,
        )
        self._ratelimit_seconds = Counter(
            "passerelle_ratelimit_wait_seconds",
            "Seconds spent waiting for rate limits, by direction.",
            ["direction"],
            registry=self.registry,
        )
        # Every series exists (at 0) from the start, so rate() works from the first scrape.
        for direction in DIRECTIONS:
            self._relayed.labels(direction=direction)
            self._latency.labels(direction=direction)
            self._ratelimit_waits.labels(direction=direction)
            self._ratelimit_seconds.labels(direction=direction)
            for reason in KNOWN_REASONS:
                self._failures.labels(direction=direction, reason=reason)

    def relayed(self, direction: Direction, seconds: float) -> None:
        """One message relayed in ``direction``, ``seconds`` after it was received."""
        self._relayed.labels(direction=direction).inc()
        self._latency.labels(direction=direction).observe(max(0.0, seconds))

    def failed(self, direction: Direction, reason: str) -> None:
        """One relay failed; ``reason`` is a short fixed word such as "retry" or "dropped"."""
        self._failures.labels(direction=direction, reason=reason).inc()

    def rate_limited(self, direction: Direction, seconds: float) -> None:
        """A relay waited ``seconds`` for a rate limit."""
        self._ratelimit_waits.labels(direction=direction).inc()
        self._ratelimit_seconds.labels(direction=direction).inc(max(0.0, seconds))

    def track_queue(self, name: str, depth_fn: Callable[[], int]) -> None:
        """Report ``depth_fn()`` as ``passerelle_queue_depth{queue=name}`` at scrape time."""

        def read() -> float:
            try:
                return float(depth_fn())
            except Exception:  # a broken callback must not break the whole scrape
                log.exception("metrics.queue-depth-failed queue=%s", name)
                return math.nan

        self._queue_depth.labels(queue=name).set_function(read)

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)
