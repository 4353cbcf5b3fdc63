"""bridge.outbox.with_retries: retry transient failures, give up on permanent ones, stop
promptly. (The Outbox itself, over a real database, is in tests/db/test_outbox_store.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import discord
import pytest

import bridge.outbox
from bridge.outbox import Stopping, with_retries
from bridge.retry import PERMANENT_ATTEMPTS, Verdict


class Flaky:
    """A job that raises the scripted exceptions, one per call, then succeeds."""

    def __init__(self, *failures: BaseException, forever: BaseException | None = None) -> None:
        self.failures = list(failures)
        self.forever = forever
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.forever is not None:
            raise self.forever
        return "done"


class Hook:
    def __init__(self) -> None:
        self.calls: list[tuple[Verdict, int, float]] = []

    async def __call__(self, verdict: Verdict, attempt: int, delay: float) -> None:
        self.calls.append((verdict, attempt, delay))


@pytest.fixture
def tiny_backoff(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Waits of a millisecond; records the attempt numbers backoff was asked about."""
    asked: list[int] = []

    def fake(attempt: int, verdict: Verdict, jitter: float | None = None) -> float:
        asked.append(attempt)
        return 0.001

    monkeypatch.setattr(bridge.outbox, "backoff", fake)
    return asked


def long_backoff(monkeypatch: pytest.MonkeyPatch, seconds: float = 30.0) -> None:
    fake: Callable[..., float] = lambda *_a, **_k: seconds  # noqa: E731
    monkeypatch.setattr(bridge.outbox, "backoff", fake)


async def test_transient_failures_are_retried_until_success(tiny_backoff: list[int]) -> None:
    job = Flaky(ConnectionRefusedError(), TimeoutError())
    hook = Hook()
    ok = await with_retries(job, "test", asyncio.Event(), on_failure=hook)
    assert ok is True
    assert job.calls == 3
    assert [(v.transient, v.reason, attempt) for v, attempt, _ in hook.calls] == [
        (True, "connection", 1),
        (True, "connection", 2),
    ]
    assert [delay for _, _, delay in hook.calls] == [0.001, 0.001]
    assert tiny_backoff == [1, 2]


async def test_transient_failures_outlast_the_permanent_limit(tiny_backoff: list[int]) -> None:
    failures = [discord.RateLimited(0.0)] * (PERMANENT_ATTEMPTS + 3)
    job = Flaky(*failures)
    assert await with_retries(job, "test", asyncio.Event()) is True
    assert job.calls == PERMANENT_ATTEMPTS + 4


async def test_permanent_failure_gives_up_after_the_limit(tiny_backoff: list[int]) -> None:
    job = Flaky(forever=ValueError("malformed"))
    hook = Hook()
    ok = await with_retries(job, "test", asyncio.Event(), on_failure=hook)
    assert ok is False
    assert job.calls == PERMANENT_ATTEMPTS
    # The hook hears of every failure that is retried, not of the last one.
    assert [(v.transient, v.reason, a) for v, a, _ in hook.calls] == [
        (False, "ValueError", attempt) for attempt in range(1, PERMANENT_ATTEMPTS)
    ]


async def test_first_attempt_counts_earlier_tries(tiny_backoff: list[int]) -> None:
    job = Flaky(forever=ValueError("malformed"))
    ok = await with_retries(job, "test", asyncio.Event(), first_attempt=PERMANENT_ATTEMPTS)
    assert ok is False
    assert job.calls == 1
    job = Flaky(ConnectionResetError())
    assert await with_retries(job, "test", asyncio.Event(), first_attempt=5) is True
    assert tiny_backoff == [5]


async def test_a_failing_hook_does_not_stop_the_retries(tiny_backoff: list[int]) -> None:
    async def broken_hook(verdict: Verdict, attempt: int, delay: float) -> None:
        raise ConnectionRefusedError("the database is down too")

    job = Flaky(TimeoutError(), TimeoutError())
    assert await with_retries(job, "test", asyncio.Event(), on_failure=broken_hook) is True
    assert job.calls == 3


async def test_retry_after_is_the_wait_the_hook_hears() -> None:
    # The real backoff: Discord's Retry-After (a tiny one here) is what is waited.
    job = Flaky(discord.RateLimited(0.02))
    hook = Hook()
    started = time.monotonic()
    assert await with_retries(job, "test", asyncio.Event(), on_failure=hook) is True
    assert hook.calls[0][2] == 0.02
    assert time.monotonic() - started >= 0.015


async def test_stopping_during_the_wait_raises_promptly(monkeypatch: pytest.MonkeyPatch) -> None:
    long_backoff(monkeypatch)
    stopping = asyncio.Event()
    job = Flaky(forever=ConnectionRefusedError())
    task = asyncio.create_task(with_retries(job, "test", stopping))
    await asyncio.sleep(0.05)
    assert not task.done()  # waiting the 30 s
    started = time.monotonic()
    stopping.set()
    with pytest.raises(Stopping):
        await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 1
    assert job.calls == 1


async def test_already_stopping_raises_after_the_failure_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    long_backoff(monkeypatch)
    stopping = asyncio.Event()
    stopping.set()
    hook = Hook()
    job = Flaky(forever=ConnectionRefusedError())
    with pytest.raises(Stopping):
        await asyncio.wait_for(with_retries(job, "test", stopping, on_failure=hook), 2)
    assert job.calls == 1
    assert len(hook.calls) == 1  # the failure is still recorded before stopping


async def test_success_while_stopping_is_still_success(monkeypatch: pytest.MonkeyPatch) -> None:
    long_backoff(monkeypatch)
    stopping = asyncio.Event()
    stopping.set()
    job = Flaky()
    assert await with_retries(job, "test", stopping) is True
    assert job.calls == 1


async def test_a_very_long_outage_keeps_retrying() -> None:
    stopping = asyncio.Event()
    stopping.set()  # so that a correct implementation returns at once (Stopping)
    job = Flaky(forever=ConnectionRefusedError())
    with pytest.raises(Stopping):
        await with_retries(job, "test", stopping, first_attempt=1100)
