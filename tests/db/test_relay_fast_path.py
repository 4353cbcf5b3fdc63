"""The relay path's merged statements and caches (issue 16), on SQLite and PostgreSQL:
the one-statement transaction acceptance, the in-flight claim and record, the in-memory
reads that writes through the store keep current, and the pruning of bookkeeping rows."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from bridge.db import BanRow, InflightRow, MessageRow, Stores, WebhookRow
from bridge.db.common import ReadCache, now_ms
from bridge.db.puppets import PuppetRow
from bridge.ids import (
    ChannelID,
    DiscordUserID,
    EventID,
    GuildID,
    MessageID,
    RoomID,
    UserID,
    WebhookID,
)
from bridge.prune import DAY_MS, prune_once
from tests.db.conftest import CountingDb

AS = "passerelle"
ROOM = RoomID("!a:example.org")


def ev(event_id: str, room_id: str = ROOM) -> dict[str, Any]:
    return {"event_id": event_id, "room_id": room_id, "type": "m.room.message", "content": {}}


async def test_accept_stores_a_new_transaction_and_refuses_a_replay(stores: Stores) -> None:
    rows = await stores.outbox.accept_transaction(AS, "t1", [ev("$1"), {"x": 1}, ev("$2")])
    assert rows is not None
    assert [r.event_id for r in rows] == ["$1", "$2"]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert [r.event_id for r in await stores.outbox.pending()] == ["$1", "$2"]
    assert await stores.txns.seen(AS, "t1")
    # The same transaction again: nothing written, None.
    assert await stores.outbox.accept_transaction(AS, "t1", [ev("$1"), {"x": 1}, ev("$2")]) is None
    assert await stores.outbox.count() == 2
    # The same ID with other events (a homeserver that restarted its numbering): new.
    again = await stores.outbox.accept_transaction(AS, "t1", [ev("$3")])
    assert again is not None and [r.event_id for r in again] == ["$3"]
    # An event already queued under another transaction is not queued twice.
    other = await stores.outbox.accept_transaction(AS, "t2", [ev("$2"), ev("$4")])
    assert other is not None and [r.event_id for r in other] == ["$4"]
    # No events: marked handled all the same, then a replay.
    assert await stores.outbox.accept_transaction(AS, "t3", []) == []
    assert await stores.outbox.accept_transaction(AS, "t3", []) is None
    assert not await stores.txns.seen("another-appservice", "t1")


async def test_accept_is_all_or_nothing(stores: Stores) -> None:
    bad = ev("$bad")
    bad["content"] = {"n": object()}  # cannot be serialized
    with pytest.raises(TypeError):
        await stores.outbox.accept_transaction(AS, "t1", [ev("$1"), bad])
    assert await stores.outbox.count() == 0
    assert not await stores.txns.seen(AS, "t1")


def mark(event_id: str, part: int = 0, started_at: int | None = None) -> InflightRow:
    return InflightRow(
        EventID(event_id), part, ChannelID(7), "hello", "Alice (Matrix)", started_at or now_ms()
    )


def link(event_id: str, message_id: int, part: int = 0) -> MessageRow:
    return MessageRow(
        MessageID(message_id), 0, ChannelID(7), ROOM, EventID(event_id), "matrix", part
    )


async def test_claim_marks_once_and_record_maps_and_unmarks_together(stores: Stores) -> None:
    fresh = await stores.inflight.claim(mark("$e"))
    assert fresh.mapped is None and fresh.previous is None  # claimed: send
    left = await stores.inflight.claim(mark("$e", started_at=1))
    assert left.mapped is None and left.previous is not None  # an earlier attempt's mark
    assert left.previous.started_at != 1  # unchanged
    other = await stores.inflight.claim(mark("$e", part=1))
    assert other.mapped is None and other.previous is None  # another part
    assert await stores.inflight.record(link("$e", 100))
    assert await stores.inflight.get(EventID("$e"), 0) is None
    assert await stores.inflight.get(EventID("$e"), 1) is not None
    assert [r.discord_message_id for r in await stores.messages.by_event(EventID("$e"))] == [100]
    assert not await stores.inflight.record(link("$e", 100))  # mapped already
    done = await stores.inflight.claim(mark("$e"))
    assert done.mapped == 100 and done.previous is None  # mapped: nothing to send...
    assert await stores.inflight.get(EventID("$e"), 0) is None  # ...and no mark written


async def test_a_mark_written_with_its_transaction_spares_the_claim(stores: Stores) -> None:
    rows = await stores.outbox.accept_transaction(
        AS, "t1", [ev("$fast"), ev("$other")], [mark("$fast")]
    )
    assert rows is not None and [r.event_id for r in rows] == ["$fast", "$other"]
    written = await stores.inflight.get(EventID("$fast"), 0)
    assert written is not None and written.content == "hello"  # committed with the txn
    assert await stores.inflight.get(EventID("$other"), 0) is None
    # The send's claim: the mark is its own, nothing to read or write.
    counting = CountingDb(stores.inflight.db)
    stores.inflight.db = counting  # type: ignore[assignment]
    claim = await stores.inflight.claim(mark("$fast"))
    assert claim.mapped is None and claim.previous is None
    assert counting.queries == 0
    # Its second claim (a retry after a failed send) reads the mark, as ever.
    again = await stores.inflight.claim(mark("$fast"))
    assert again.previous is not None and counting.queries > 0


async def test_a_mark_converted_otherwise_is_rewritten_before_the_send(stores: Stores) -> None:
    await stores.outbox.accept_transaction(AS, "t1", [ev("$e")], [mark("$e")])
    changed = dataclasses.replace(mark("$e"), content="hello, edited name")
    claim = await stores.inflight.claim(changed)
    assert claim.mapped is None and claim.previous is None
    written = await stores.inflight.get(EventID("$e"), 0)
    assert written is not None and written.content == "hello, edited name"


async def test_no_mark_for_a_replay_a_mapped_part_or_an_event_not_queued(
    stores: Stores,
) -> None:
    await stores.outbox.accept_transaction(AS, "t1", [ev("$1")])
    # The same transaction again: nothing written, no mark.
    assert await stores.outbox.accept_transaction(AS, "t1", [ev("$1")], [mark("$1")]) is None
    # An event already queued by another transaction, and one already sent.
    assert await stores.inflight.record(link("$sent", 100))
    rows = await stores.outbox.accept_transaction(
        AS, "t2", [ev("$1"), ev("$sent")], [mark("$1"), mark("$sent"), mark("$absent")]
    )
    assert rows is not None and [r.event_id for r in rows] == ["$sent"]
    for event_id in ("$1", "$sent", "$absent"):
        assert await stores.inflight.get(EventID(event_id), 0) is None
    assert stores.inflight.preclaimed == {}


async def test_done_removes_a_mark_left_unused(stores: Stores) -> None:
    """A message held back (a protection, a ban) is never sent: its mark goes with it."""
    rows = await stores.outbox.accept_transaction(AS, "t1", [ev("$held")], [mark("$held")])
    assert rows is not None
    await stores.outbox.done(rows[0].id, rows[0].event_id)
    assert await stores.inflight.get(EventID("$held"), 0) is None
    assert await stores.outbox.count() == 0
    assert stores.inflight.preclaimed == {}


async def test_prune_keeps_recent_transactions_and_the_newest(stores: Stores) -> None:
    now = now_ms()
    for txn_id, age_days in (("old1", 30), ("old2", 8), ("recent", 6), ("new", 0)):
        await stores.txns.mark(AS, txn_id, None)
        await stores.db.execute(
            "UPDATE as_txn SET processed_at=$1 WHERE txn_id=$2", now - age_days * DAY_MS, txn_id
        )
    await stores.txns.mark("other", "x", None)
    pruned = await prune_once(stores, AS, retention_days=7, batch=1)  # batch by batch
    assert pruned.as_txn == 2
    kept = {r["txn_id"] for r in await stores.db.fetch("SELECT txn_id FROM as_txn")}
    assert kept == {"recent", "new", "x"}
    assert await stores.txns.last_handled(AS) == "new"


async def test_prune_counts_age_from_the_newest_transaction(stores: Stores) -> None:
    """After a long downtime the last transactions handled are not old: the homeserver
    may resend one of them as soon as the bridge is back."""
    now = now_ms()
    for txn_id, age_days in (("before-downtime", 40), ("last", 35)):
        await stores.txns.mark(AS, txn_id, None)
        await stores.db.execute(
            "UPDATE as_txn SET processed_at=$1 WHERE txn_id=$2", now - age_days * DAY_MS, txn_id
        )
    assert (await prune_once(stores, AS, retention_days=7)).as_txn == 0
    assert await stores.txns.seen(AS, "before-downtime")
    assert (await prune_once(stores, AS, retention_days=4)).as_txn == 1
    assert not await stores.txns.seen(AS, "before-downtime")
    assert await stores.txns.seen(AS, "last")


async def test_prune_removes_only_old_marks_of_mapped_parts(stores: Stores) -> None:
    old = now_ms() - 10 * DAY_MS
    await stores.inflight.start(mark("$mapped-old", started_at=old))
    await stores.messages.insert(link("$mapped-old", 1))
    await stores.inflight.start(mark("$unmapped-old", started_at=old))  # maybe sent: kept
    await stores.inflight.start(mark("$mapped-new"))
    await stores.messages.insert(link("$mapped-new", 2))
    pruned = await prune_once(stores, AS, retention_days=7)
    assert pruned.inflight == 1
    assert await stores.inflight.get(EventID("$mapped-old"), 0) is None
    assert await stores.inflight.get(EventID("$unmapped-old"), 0) is not None
    assert await stores.inflight.get(EventID("$mapped-new"), 0) is not None


async def test_cached_reads_follow_writes_through_the_store(stores: Stores) -> None:
    channel = ChannelID(7)
    assert await stores.webhooks.get(channel) is None
    await stores.webhooks.put(WebhookRow(channel, WebhookID(1), "t1"))
    assert (await stores.webhooks.get(channel)).webhook_id == 1  # type: ignore[union-attr]
    await stores.webhooks.put(WebhookRow(channel, WebhookID(2), "t2"))
    assert (await stores.webhooks.get(channel)).webhook_id == 2  # type: ignore[union-attr]
    await stores.webhooks.delete(channel)
    assert await stores.webhooks.get(channel) is None

    user = DiscordUserID(5)
    assert await stores.puppets.get(user) is None
    await stores.puppets.upsert(PuppetRow(user, "Bob", None, None, True))
    assert (await stores.puppets.get(user)).displayname == "Bob"  # type: ignore[union-attr]
    await stores.puppets.upsert(PuppetRow(user, "Robert", None, None, True))
    assert (await stores.puppets.get(user)).displayname == "Robert"  # type: ignore[union-attr]

    guild = GuildID(3)
    assert not await stores.bans.is_banned("matrix", "@eve:x", guild)
    assert not await stores.bans.is_banned("matrix", "@eve:x")
    ban = BanRow("matrix", "@eve:x", "spam", "@mod:x", "command", guild_id=guild)
    await stores.bans.put(ban)
    assert await stores.bans.is_banned("matrix", "@eve:x", guild)
    assert await stores.bans.is_banned("matrix", "@eve:x")
    await stores.bans.remove("matrix", "@eve:x", guild)
    assert not await stores.bans.is_banned("matrix", "@eve:x", guild)

    alice = UserID("@alice:x")
    assert await stores.links.by_matrix(alice) is None
    await stores.links.link(alice, DiscordUserID(10))
    assert (await stores.links.by_matrix(alice)).discord_id == 10  # type: ignore[union-attr]
    await stores.links.link(alice, DiscordUserID(11))
    assert (await stores.links.by_matrix(alice)).discord_id == 11  # type: ignore[union-attr]
    await stores.links.unlink_discord(DiscordUserID(11))
    assert await stores.links.by_matrix(alice) is None
    await stores.links.link(alice, DiscordUserID(12))
    assert await stores.links.by_matrix(alice) is not None
    await stores.links.unlink_matrix(alice)
    assert await stores.links.by_matrix(alice) is None

    assert await stores.bridge_rooms.get("dm:@a:x") is None
    await stores.bridge_rooms.put("dm:@a:x", "!dm:x")
    assert await stores.bridge_rooms.get("dm:@a:x") == "!dm:x"
    await stores.bridge_rooms.put("dm:@a:x", "!dm2:x")
    assert await stores.bridge_rooms.get("dm:@a:x") == "!dm2:x"


async def test_read_cache_does_not_keep_a_read_that_raced_a_write() -> None:
    cache: ReadCache[str, int] = ReadCache(limit=2)
    release = asyncio.Event()

    async def slow_old_value() -> int:
        await release.wait()
        return 1  # read before the write below committed

    async def new_value() -> int:
        return 2

    reader = asyncio.create_task(cache.read("k", slow_old_value))
    await asyncio.sleep(0)
    cache.invalidate()  # a write through the store, before and after
    cache.invalidate()
    release.set()
    assert await reader == 1  # the reader gets what it read...
    assert await cache.read("k", new_value) == 2  # ...but it was not kept
    assert await cache.read("k", slow_old_value) == 2  # kept now (no write since)
    for key in ("a", "b", "c"):  # bounded
        await cache.read(key, new_value)
    assert len(cache._values) <= 2
