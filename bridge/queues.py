"""Per-key serial work queues: in order within a key, concurrent across keys.

Each Discord channel gets its own queue so one slow channel never holds up
another (no head-of-line blocking), while messages of one channel keep their
order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class KeyedSerialQueues:
    def __init__(self, name: str) -> None:
        self.name = name
        self._queues: dict[Hashable, asyncio.Queue[Job | None]] = {}
        self._workers: dict[Hashable, asyncio.Task[None]] = {}
        # Per key, jobs submitted and not finished (waiting or running); idle keys absent.
        self._pending: dict[Hashable, int] = {}

    def depth(self) -> int:
        """Jobs submitted and not yet finished (waiting or running), across every key."""
        return sum(self._pending.values())

    def idle(self, key: Hashable) -> bool:
        """Nothing submitted under ``key`` is waiting or running: a job submitted now
        runs at once."""
        return key not in self._pending

    def submit(self, key: Hashable, job: Job) -> None:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._workers[key] = asyncio.create_task(
                self._work(key, queue), name=f"{self.name}:{key}"
            )
        queue.put_nowait(job)
        self._pending[key] = self._pending.get(key, 0) + 1

    async def _work(self, key: Hashable, queue: asyncio.Queue[Job | None]) -> None:
        while True:
            job = await queue.get()
            try:
                if job is None:
                    return
                await job()
            except Exception:
                log.exception("queue.job-failed queue=%s key=%s", self.name, key)
            finally:
                if job is not None:
                    left = self._pending[key] - 1
                    if left:
                        self._pending[key] = left
                    else:
                        del self._pending[key]
                queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued job has run."""
        await asyncio.gather(*(q.join() for q in list(self._queues.values())))

    def cancel(self) -> None:
        """Cancel every worker, the jobs they run included (shutdown past its grace)."""
        for worker in self._workers.values():
            worker.cancel()

    async def close(self) -> None:
        for queue in self._queues.values():
            queue.put_nowait(None)
        if self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._queues.clear()
        self._workers.clear()
        self._pending.clear()
