"""Delivery with retries: the Matrix -> Discord outbox, and retried Discord -> Matrix jobs.

Matrix -> Discord: the homeserver's transaction is stored (``m2d_outbox``)
before it is answered; each room's events are then delivered in order, one
at a time, by a serial queue per room. A transient failure (Discord or the
database down, 5xx, 429) is retried with backoff, honouring Retry-After, for
as long as it takes; the room waits, other rooms go on. A permanent failure is
retried a few times, then kept in the table as dead, with an error log.

Discord -> Matrix: jobs of a channel's queue are retried the same way; their
durable copy is Discord's own history, read back after a restart (backfill).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bridge import relay_clock
from bridge.db import OutboxRow, OutboxStore
from bridge.db.outbox import InflightRow, now_ms
from bridge.metrics import Metrics
from bridge.queues import KeyedSerialQueues
from bridge.retry import Verdict, backoff, classify, should_retry

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
# Called after each failed attempt: (verdict, attempt, delay in seconds).
FailureHook = Callable[[Verdict, int, float], Awaitable[None]]


class Stopping(Exception):
    """The bridge is shutting down: the work stays queued for the next start."""


async def with_retries(
    job: Job,
    what: str,
    stopping: asyncio.Event,
    first_attempt: int = 1,
    on_failure: FailureHook | None = None,
    gave_up: list[BaseException] | None = None,
) -> bool:
    """Run ``job`` until it succeeds (True), or fails for good (False; the last error
    is appended to ``gave_up``).

    Raises :class:`Stopping` when ``stopping`` is set while waiting to retry.
    """
    attempt = first_attempt
    while True:
        try:
            await job()
            return True
        except Exception as exc:
            verdict = classify(exc)
            if not should_retry(attempt, verdict):
                log.error(
                    "delivery.gave-up %s attempts=%s reason=%s",
                    what,
                    attempt,
                    verdict.reason,
                    exc_info=exc,
                )
                if gave_up is not None:
                    gave_up.append(exc)
                return False
            delay = backoff(attempt, verdict)
            log.warning(
                "delivery.retry %s attempt=%s reason=%s in=%.1fs error=%s",
                what,
                attempt,
                verdict.reason,
                delay,
                type(exc).__name__,
                exc_info=exc if not verdict.transient else None,
            )
            if on_failure is not None:
                try:
                    await on_failure(verdict, attempt, delay)
                except Exception as hook_exc:  # e.g. the database is down too
                    log.debug("delivery.failure-hook-failed error=%s", type(hook_exc).__name__)
            if stopping.is_set():
                raise Stopping() from exc
            try:
                await asyncio.wait_for(stopping.wait(), delay)
                raise Stopping() from exc
            except TimeoutError:
                pass
            attempt += 1


class Outbox:
    """The durable Matrix -> Discord queue: ``accept`` before answering, then deliver."""

    def __init__(
        self,
        store: OutboxStore,
        appservice_id: str,
        deliver: Callable[[dict[str, Any]], Awaitable[None]],
        metrics: Metrics | None = None,
        on_dead: Callable[[dict[str, Any], BaseException], Awaitable[object]] | None = None,
    ) -> None:
        self.store = store
        # Told about each event given up on (the sender's notice), after it is buried.
        self.on_dead = on_dead
        self.metrics = metrics
        self.appservice_id = appservice_id
        self.deliver = deliver
        self.queues = KeyedSerialQueues("m2d")
        self.stopping = asyncio.Event()
        self.delivered = 0
        self.dead = 0

    async def accept(
        self,
        txn_id: str,
        events: list[dict[str, Any]],
        received: float | None = None,
        marks: Sequence[InflightRow] = (),
    ) -> bool:
        """Store a transaction durably (raises if the database cannot), then queue it
        (``received``: when it arrived, for :mod:`bridge.relay_clock`; ``marks``: the
        fast lane's in-flight marks, see :meth:`OutboxStore.accept_transaction`).

        False: it was handled before (the same ID and events), nothing was stored."""
        rows = await self.store.accept_transaction(self.appservice_id, txn_id, events, marks)
        if rows is None:
            return False
        for row in rows:
            self._submit(dataclasses.replace(row, received_at=received))
        return True

    async def resume(
        self, observe: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    ) -> int:
        """Queue what a previous run left undelivered (``observe`` sees each event first,
        as a live one is seen on receipt); returns how many."""
        rows = await self.store.pending()
        for row in rows:
            if observe is not None:
                await observe(row.event)
            self._submit(row)
        if rows:
            log.info("m2d.outbox-resumed events=%s", len(rows))
        return len(rows)

    def idle(self, room_id: str) -> bool:
        """Nothing of the room is waiting or being delivered."""
        return self.queues.idle(room_id)

    def _submit(self, row: OutboxRow) -> None:
        self.queues.submit(row.room_id, lambda: self._run(row))

    async def _run(self, row: OutboxRow) -> None:
        if self.stopping.is_set():
            return  # stays in the table for the next start
        wait = (row.next_attempt_at - now_ms()) / 1000
        if wait > 0:  # a previous run was told to wait (e.g. 429 Retry-After)
            await asyncio.sleep(min(wait, 60))
        what = f"direction=m2d event={row.event_id} room={row.room_id}"

        # Attempts made so far and the last failure's reason (what a buried row keeps).
        last: dict[str, Any] = {"attempt": row.attempts, "reason": "unknown"}

        async def remember(verdict: Verdict, attempt: int, delay: float) -> None:
            last.update(attempt=attempt, reason=verdict.reason)
            next_at = now_ms() + int(delay * 1000)
            if self.metrics is not None:
                self.metrics.failed("m2d", "retry")
                if verdict.reason.endswith("-429"):
                    self.metrics.rate_limited("m2d", delay)
            await self.store.retry_later(row.id, attempt, next_at, verdict.reason)

        gave_up: list[BaseException] = []
        clock = relay_clock.start(row.received_at) if row.received_at is not None else None
        try:
            ok = await with_retries(
                lambda: self.deliver(row.event),
                what,
                self.stopping,
                first_attempt=row.attempts + 1,
                on_failure=remember,
                gave_up=gave_up,
            )
        except Stopping:
            return
        finally:
            if clock is not None:
                relay_clock.stop(clock)
        # The row must go (or be buried) even if the database blinks right now.
        finish = (
            (lambda: self.store.done(row.id, row.event_id))
            if ok
            else (
                lambda: self.store.bury(row.id, last["attempt"] + 1, f"gave up: {last['reason']}")
            )
        )
        try:
            await with_retries(finish, f"direction=m2d outbox-row={row.id}", self.stopping)
        except Stopping:
            return
        if ok:
            self.delivered += 1
        else:
            self.store.inflight.forget_preclaimed(row.event_id)
            self.dead += 1
            if self.metrics is not None:
                self.metrics.failed("m2d", "dropped")
            if self.on_dead is not None and gave_up:
                try:
                    await self.on_dead(row.event, gave_up[-1])
                except Exception:  # the notice is a courtesy: never stop the room's queue
                    log.exception("m2d.dead-notice-failed event=%s", row.event_id)

    def depth(self) -> int:
        return self.queues.depth()

    async def stop(self, grace: float = 10.0) -> None:
        """Let deliveries in progress finish (up to ``grace`` s); the rest stays stored."""
        self.stopping.set()
        try:
            await asyncio.wait_for(self.queues.drain(), grace)
        except TimeoutError:
            log.warning("m2d.outbox-stop-timeout grace=%ss", grace)
            self.queues.cancel()  # what was cut short is still in the table
        await self.queues.close()
