"""bridge.relay_clock: the time a message spent inside the bridge, per relay."""

from __future__ import annotations

import asyncio
import time

from bridge import relay_clock


async def test_measures_receipt_to_the_first_request_only() -> None:
    received = time.monotonic() - 0.25  # arrived 250 ms ago
    token = relay_clock.start(received)
    try:
        relay_clock.request_starts()
        first = float(relay_clock.inside_ms())
        await asyncio.sleep(0.02)
        relay_clock.request_starts()  # a second part: the first request counts
        assert float(relay_clock.inside_ms()) == first
        assert 250 <= first < 1000
    finally:
        relay_clock.stop(token)
    assert relay_clock.inside_ms() == "-"


async def test_not_measured_outside_a_relay_or_before_a_request() -> None:
    relay_clock.request_starts()  # nothing to time: harmless
    assert relay_clock.inside_ms() == "-"
    token = relay_clock.start(time.monotonic())
    try:
        assert relay_clock.inside_ms() == "-"  # no request yet (e.g. not relayed)
    finally:
        relay_clock.stop(token)


async def test_each_task_has_its_own_clock() -> None:
    async def relay(delay: float) -> str:
        token = relay_clock.start(time.monotonic() - delay)
        try:
            await asyncio.sleep(0.01)
            relay_clock.request_starts()
            return relay_clock.inside_ms()
        finally:
            relay_clock.stop(token)

    slow, fast = await asyncio.gather(relay(0.5), relay(0.0))
    assert float(slow) >= 500 > float(fast)
