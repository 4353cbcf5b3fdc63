"""m2d_outbox / m2d_inflight stores, and the Outbox delivering from them, on SQLite and
PostgreSQL (real migrations)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest

import bridge.outbox
from bridge import relay_clock
from bridge.db import InflightRow, Stores
from bridge.ids import ChannelID, EventID
from bridge.outbox import Outbox
from bridge.retry import PERMANENT_ATTEMPTS, Verdict

AS = "passerelle"
ROOM_A = "!a:example.org"
ROOM_B = "!b:example.org"


def ev(event_id: str, room_id: str = ROOM_A, body: str = "hi") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "room_id": room_id,
        "type": "m.room.message",
        "sender": "@alice:example.org",
        "content": {"msgtype": "m.text", "body": body},
    }


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@dataclass
class FakeResponse:
    status: int
    reason: str = "Service Unavailable"
    headers: dict[str, str] = field(default_factory=dict)


def discord_503() -> discord.HTTPException:
    return discord.HTTPException(FakeResponse(503), "down")


class Deliver:
    """A fake delivery: records every attempt; fails or blocks as scripted per event ID."""

    def __init__(self, stores: Stores | None = None) -> None:
        self.stores = stores
        self.attempts: list[str] = []
        self.delivered: list[str] = []
        self.fail: dict[str, Exception] = {}  # raised on every attempt
        self.block: set[str] = set()  # never returns
        self.slow: dict[str, float] = {}
        self.stored_when_delivered: list[bool] = []

    async def __call__(self, event: dict[str, Any]) -> None:
        event_id = event["event_id"]
        self.attempts.append(event_id)
        if self.stores is not None:
            pending = {row.event_id for row in await self.stores.outbox.pending()}
            self.stored_when_delivered.append(event_id in pending)
        if event_id in self.block:
            await asyncio.Event().wait()
        if event_id in self.slow:
            await asyncio.sleep(self.slow[event_id])
        if event_id in self.fail:
            raise self.fail[event_id]
        self.delivered.append(event_id)

    def tries(self, event_id: str) -> int:
        return self.attempts.count(event_id)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(attempt: int, verdict: Verdict, jitter: float | None = None) -> float:
        return 0.005

    monkeypatch.setattr(bridge.outbox, "backoff", fake)


@contextlib.asynccontextmanager
async def running(outbox: Outbox) -> Any:
    try:
        yield outbox
    finally:
        # Never let a worker outlive its test (the event loop is shared); a stuck one is
        # cancelled by the timeout.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(outbox.stop(grace=0.2), 1.0)


# -- OutboxStore ------------------------------------------------------------------------


async def test_enqueue_stores_relayable_events_in_order_and_marks_the_txn(
    stores: Stores,
) -> None:
    unicode_event = ev("$e3", ROOM_A, body="café ☕ naïve")
    events = [
        ev("$e1", ROOM_A),
        {"type": "m.typing", "room_id": ROOM_A},  # no event ID
        {"event_id": "$bad", "room_id": 12, "type": "m.room.message"},  # room ID not a string
        {"event_id": None, "room_id": ROOM_B},
        ev("$e2", ROOM_B),
        unicode_event,
    ]
    rows = await stores.outbox.enqueue_transaction(AS, "txn1", events)
    assert [r.event_id for r in rows] == ["$e1", "$e2", "$e3"]
    assert [r.room_id for r in rows] == [ROOM_A, ROOM_B, ROOM_A]
    assert rows[0].id < rows[1].id < rows[2].id
    assert await stores.txns.seen(AS, "txn1")
    assert not await stores.txns.seen("another-appservice", "txn1")
    pending = await stores.outbox.pending()
    assert [(r.id, r.event_id, r.attempts, r.next_attempt_at) for r in pending] == [
        (r.id, r.event_id, 0, 0) for r in rows
    ]
    assert pending[2].event == unicode_event  # stored as JSON, read back whole
    assert await stores.outbox.count() == 3
    assert await stores.outbox.count(dead=True) == 0
    # The same event in another transaction, while still queued, is not queued again.
    rows2 = await stores.outbox.enqueue_transaction(AS, "txn2", [ev("$e1"), ev("$e4", ROOM_B)])
    assert [r.event_id for r in rows2] == ["$e4"]
    assert [r.event_id for r in await stores.outbox.pending()] == ["$e1", "$e2", "$e3", "$e4"]
    assert await stores.txns.seen(AS, "txn2")
    # A transaction of nothing relayable (or only repeats) is still marked handled.
    assert await stores.outbox.enqueue_transaction(AS, "txn3", [ev("$e2")]) == []
    assert await stores.txns.seen(AS, "txn3")


async def test_enqueue_is_all_or_nothing(stores: Stores) -> None:
    unserializable = {"event_id": "$e2", "room_id": ROOM_A, "content": {1, 2}}
    with pytest.raises(TypeError):
        await stores.outbox.enqueue_transaction(AS, "txn1", [ev("$e1"), unserializable])
    assert await stores.outbox.count() == 0
    assert not await stores.txns.seen(AS, "txn1")


async def test_retry_later_done_and_bury(stores: Stores) -> None:
    r1, r2, r3 = await stores.outbox.enqueue_transaction(
        AS, "txn1", [ev("$e1"), ev("$e2"), ev("$e3", ROOM_B)]
    )
    await stores.outbox.retry_later(r1.id, 2, 1_700_000_123_456, "x" * 800)
    (first, *_rest) = await stores.outbox.pending()
    assert (first.id, first.attempts, first.next_attempt_at) == (r1.id, 2, 1_700_000_123_456)
    error = await stores.db.fetchval("SELECT last_error FROM m2d_outbox WHERE id=$1", r1.id)
    assert error == "x" * 500

    await stores.outbox.bury(r2.id, 3, "discord-403")
    assert [r.id for r in await stores.outbox.pending()] == [r1.id, r3.id]
    assert await stores.outbox.count() == 2
    assert await stores.outbox.count(dead=True) == 1
    # A buried event is never queued again, even if the homeserver sends it again.
    assert await stores.outbox.enqueue_transaction(AS, "txn2", [ev("$e2")]) == []

    await stores.outbox.done(r1.id, r1.event_id)
    assert [r.id for r in await stores.outbox.pending()] == [r3.id]
    assert await stores.outbox.count() == 1
    assert await stores.outbox.count(dead=True) == 1


# -- InflightStore ----------------------------------------------------------------------


async def test_inflight_start_get_finish_and_restart(stores: Stores) -> None:
    channel = ChannelID(4000000000000000001)  # a real snowflake: needs a 64-bit column
    event = EventID("$m1")
    assert await stores.inflight.get(event, 0) is None
    row = InflightRow(event, 0, channel, "hello", "Alice (Matrix)", 1_700_000_000_000)
    await stores.inflight.start(row)
    assert await stores.inflight.get(event, 0) == row
    assert await stores.inflight.get(event, 1) is None
    part1 = InflightRow(event, 1, channel, "second part", "Alice (Matrix)", 1_700_000_000_001)
    await stores.inflight.start(part1)
    # Started again (a retry after a crash): the row is replaced, not duplicated.
    again = InflightRow(event, 0, ChannelID(4000000000000000002), "héllo", "Al", 1_700_000_999_000)
    await stores.inflight.start(again)
    assert await stores.inflight.get(event, 0) == again
    assert await stores.db.fetchval("SELECT COUNT(*) FROM m2d_inflight") == 2
    await stores.inflight.finish(event, 0)
    assert await stores.inflight.get(event, 0) is None
    assert await stores.inflight.get(event, 1) == part1
    await stores.inflight.finish(event, 0)  # finishing twice is harmless


# -- Outbox -----------------------------------------------------------------------------


async def test_accepted_events_are_stored_then_delivered_in_room_order(
    stores: Stores, fast_backoff: None
) -> None:
    deliver = Deliver(stores)
    deliver.slow["$a1"] = 0.05  # a slow first event must not be overtaken in its room
    async with running(Outbox(stores.outbox, AS, deliver)) as outbox:
        await outbox.accept("txn1", [ev("$a1"), ev("$b1", ROOM_B), ev("$a2")])
        await outbox.accept("txn2", [ev("$a3"), {"type": "m.presence"}])
        assert await stores.txns.seen(AS, "txn1") and await stores.txns.seen(AS, "txn2")

        async def all_done() -> bool:
            # The counter moves after the row's deletion: wait for both.
            return outbox.delivered == 4 and await stores.outbox.count() == 0

        await eventually(all_done)
        in_a = [e for e in deliver.delivered if e.startswith("$a")]
        assert in_a == ["$a1", "$a2", "$a3"]
        # Room B did not wait for room A's slow event.
        assert deliver.delivered.index("$b1") < deliver.delivered.index("$a1")
        # Each event was in the table while it was delivered (accept stored it first).
        assert deliver.stored_when_delivered == [True] * 4
        assert outbox.delivered == 4 and outbox.dead == 0
        assert await stores.outbox.pending() == []


async def test_a_failing_room_blocks_only_itself(stores: Stores, fast_backoff: None) -> None:
    deliver = Deliver()
    deliver.fail["$a1"] = discord_503()
    outbox = Outbox(stores.outbox, AS, deliver)
    async with running(outbox):
        await outbox.accept("txn1", [ev("$a1"), ev("$a2"), ev("$b1", ROOM_B)])
        await outbox.accept("txn2", [ev("$b2", ROOM_B)])

        async def retried() -> bool:
            return deliver.tries("$a1") >= 3 and len(deliver.delivered) == 2

        await eventually(retried)
        assert deliver.delivered == ["$b1", "$b2"]
        assert "$a2" not in deliver.attempts  # waits behind $a1, in order
        rows = {r.event_id: r for r in await stores.outbox.pending()}
        assert set(rows) == {"$a1", "$a2"}
        assert rows["$a1"].attempts >= 1  # each failure is remembered for a restart
        # Stopping interrupts the retry wait at once; the room's rows stay for next time.
        started = time.monotonic()
        await asyncio.wait_for(outbox.stop(grace=0.5), 2)
        assert time.monotonic() - started < 1.0
    assert await stores.outbox.count() == 2
    assert await stores.outbox.count(dead=True) == 0


async def test_a_permanent_failure_is_buried_and_the_room_goes_on(
    stores: Stores, fast_backoff: None
) -> None:
    deliver = Deliver()
    deliver.fail["$a1"] = ValueError("cannot convert")
    told: list[tuple[str, BaseException]] = []

    async def on_dead(raw: dict[str, Any], exc: BaseException) -> None:
        # Told once, after the row is buried (the sender's notice comes from here).
        assert await stores.outbox.count(dead=True) == 1
        told.append((raw["event_id"], exc))

    async with running(Outbox(stores.outbox, AS, deliver, on_dead=on_dead)) as outbox:
        await outbox.accept("txn1", [ev("$a1"), ev("$a2")])

        async def settled() -> bool:
            # The counters and the notice come after the rows' database writes.
            return outbox.delivered == 1 and bool(told)

        await eventually(settled)
        assert deliver.delivered == ["$a2"] and await stores.outbox.count(dead=True) == 1
        assert [(event, type(exc), str(exc)) for event, exc in told] == [
            ("$a1", ValueError, "cannot convert")
        ]
        assert deliver.attempts == ["$a1"] * PERMANENT_ATTEMPTS + ["$a2"]
        assert await stores.outbox.count() == 0
        assert outbox.dead == 1 and outbox.delivered == 1
        dead_event = await stores.db.fetchval("SELECT event_id FROM m2d_outbox WHERE dead=$1", True)
        assert dead_event == "$a1"


async def test_a_buried_row_records_its_attempts(stores: Stores, fast_backoff: None) -> None:
    deliver = Deliver()
    deliver.fail["$a1"] = ValueError("cannot convert")
    async with running(Outbox(stores.outbox, AS, deliver)) as outbox:
        await outbox.accept("txn1", [ev("$a1")])

        async def buried() -> bool:
            return await stores.outbox.count(dead=True) == 1

        await eventually(buried)
        attempts = await stores.db.fetchval("SELECT attempts FROM m2d_outbox WHERE dead=$1", True)
        assert attempts == PERMANENT_ATTEMPTS


async def test_the_same_event_in_two_transactions_is_delivered_once(
    stores: Stores, fast_backoff: None
) -> None:
    deliver = Deliver()
    deliver.slow["$a0"] = 0.1  # keeps $a1 queued while the second transaction arrives
    async with running(Outbox(stores.outbox, AS, deliver)) as outbox:
        await outbox.accept("txn1", [ev("$a0"), ev("$a1")])
        await outbox.accept("txn2", [ev("$a1"), ev("$a2")])

        async def done() -> bool:
            return len(deliver.delivered) == 3 and await stores.outbox.count() == 0

        await eventually(done)
        await asyncio.sleep(0.02)  # a duplicate would be right behind
        assert deliver.attempts == ["$a0", "$a1", "$a2"]


async def test_resume_delivers_what_a_previous_run_left(stores: Stores, fast_backoff: None) -> None:
    # A run that dies while Discord hangs on $a1.
    hung = Deliver()
    hung.block.add("$a1")
    first = Outbox(stores.outbox, AS, hung)
    await first.accept("txn1", [ev("$a1"), ev("$a2"), ev("$b1", ROOM_B)])

    async def b_done() -> bool:
        return hung.delivered == ["$b1"] and hung.tries("$a1") == 1

    await eventually(b_done)
    with contextlib.suppress(TimeoutError):  # the hung delivery is killed with the run
        await asyncio.wait_for(first.stop(grace=0.05), 0.15)
    assert [r.event_id for r in await stores.outbox.pending()] == ["$a1", "$a2"]
    # A dead row from an even older run is not resumed; a row that already failed
    # permanently before has only the attempts it has left.
    old, tried = await stores.outbox.enqueue_transaction(
        AS, "txn0", [ev("$old", ROOM_B), ev("$b2", ROOM_B)]
    )
    await stores.outbox.bury(old.id, 3, "discord-403")
    await stores.outbox.retry_later(tried.id, PERMANENT_ATTEMPTS - 1, 0, "ValueError")

    deliver = Deliver()
    deliver.fail["$b2"] = ValueError("still malformed")
    async with running(Outbox(stores.outbox, AS, deliver)) as second:
        assert await second.resume() == 3

        async def all_done() -> bool:
            # The counters move after the rows' database writes: wait for both.
            counted = second.delivered == 2 and second.dead == 1
            return counted and deliver.delivered == ["$a1", "$a2"]

        await eventually(all_done)
        assert await stores.outbox.count() == 0
        assert deliver.tries("$b2") == 1
    assert await stores.outbox.count(dead=True) == 2


async def test_stop_returns_within_grace_even_if_a_delivery_hangs(stores: Stores) -> None:
    deliver = Deliver()
    deliver.block.add("$a1")
    outbox = Outbox(stores.outbox, AS, deliver)
    await outbox.accept("txn1", [ev("$a1")])

    async def started() -> bool:
        return deliver.tries("$a1") == 1

    await eventually(started)
    # wait_for cancels the hung stop (and with it the workers) when it times out.
    await asyncio.wait_for(outbox.stop(grace=0.05), 0.3)
    assert await stores.outbox.count() == 1


async def test_a_live_event_is_timed_from_its_transaction_a_resumed_one_is_not(
    stores: Stores, fast_backoff: None
) -> None:
    seen: dict[str, str] = {}

    async def deliver(event: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)  # lookups, conversion...
        relay_clock.request_starts()  # ... then the webhook execute
        seen[event["event_id"]] = relay_clock.inside_ms()

    # A row left by an earlier run: resumed, not timed (its receipt is unknown).
    await stores.outbox.enqueue_transaction(AS, "txn0", [ev("$old")])
    async with running(Outbox(stores.outbox, AS, deliver)) as outbox:
        await outbox.resume()
        received = time.monotonic() - 0.2  # the transaction arrived 200 ms ago
        await outbox.accept("txn1", [ev("$new")], received)
        await eventually(lambda: asyncio.sleep(0, len(seen) == 2))
    assert seen["$old"] == "-"
    assert 210 <= float(seen["$new"]) < 2000
