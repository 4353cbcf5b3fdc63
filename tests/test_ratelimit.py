"""The per-sender token bucket that keeps one Matrix user from flooding Discord."""

from __future__ import annotations

from bridge.ratelimit import SenderLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_per_interval_per_sender() -> None:
    clock = Clock()
    limiter = SenderLimiter(burst=3, per_seconds=3, clock=clock)
    assert [limiter.allow("@a:x") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("@b:x")  # others are not affected
    assert limiter.first_refusal("@a:x") and not limiter.first_refusal("@a:x")
    clock.now = 1.0  # one token back
    assert limiter.allow("@a:x") and not limiter.allow("@a:x")
    clock.now = 10.0  # full again, never more than the burst
    assert [limiter.allow("@a:x") for _ in range(4)] == [True, True, True, False]


def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = SenderLimiter(burst=2, per_seconds=2, clock=clock)
    limiter.allow("@a:x")
    limiter.allow("@a:x")
    limiter.allow("@a:x")
    limiter.first_refusal("@a:x")
    clock.now = 5.0
    limiter.forget_idle()
    assert limiter._tokens == {} and limiter._warned == set()
    assert limiter.first_refusal("@a:x")  # a new flood is announced again
