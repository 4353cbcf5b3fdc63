"""bridge.queues.KeyedSerialQueues: in order per key, and which keys are idle."""

from __future__ import annotations

import asyncio

from bridge.queues import KeyedSerialQueues


async def test_a_key_is_idle_only_when_nothing_of_it_waits_or_runs() -> None:
    queues = KeyedSerialQueues("test")
    release = asyncio.Event()
    ran: list[str] = []

    async def job(name: str) -> None:
        await release.wait()
        ran.append(name)

    assert queues.idle("a")
    queues.submit("a", lambda: job("a1"))
    queues.submit("a", lambda: job("a2"))
    await asyncio.sleep(0)
    assert not queues.idle("a") and queues.idle("b")
    release.set()
    await queues.drain()
    assert ran == ["a1", "a2"] and queues.idle("a")

    async def boom() -> None:
        raise RuntimeError("a failing job frees its key too")

    queues.submit("a", boom)
    await queues.drain()
    assert queues.idle("a") and queues.depth() == 0
    await queues.close()
