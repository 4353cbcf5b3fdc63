"""The thread table on both databases, after running the real migrations."""

from __future__ import annotations

from bridge.db import Stores, ThreadRow
from bridge.ids import ChannelID, EventID, RoomID

ROOM = RoomID("!r:x")
PARENT = ChannelID(4000000000000000001)
THREAD = ChannelID(2**62 + 7)


async def test_thread_round_trip(stores: Stores) -> None:
    row = ThreadRow(THREAD, PARENT, ROOM, EventID("$root"), "discord")
    assert await stores.threads.insert(row) == row
    assert await stores.threads.by_thread(THREAD) == row
    assert await stores.threads.by_root(ROOM, EventID("$root")) == row
    assert await stores.threads.by_root(RoomID("!other:x"), EventID("$root")) is None
    assert await stores.threads.by_thread(ChannelID(1)) is None
    assert row.latest_event_id == "$root"
    await stores.threads.set_last_event(THREAD, EventID("$latest"))
    held = await stores.threads.by_thread(THREAD)
    assert held is not None and held.latest_event_id == "$latest"
    assert await stores.threads.in_parent(PARENT) == [held]
    assert await stores.threads.in_parent(ChannelID(5)) == []


async def test_first_recorded_thread_wins(stores: Stores) -> None:
    first = ThreadRow(THREAD, PARENT, ROOM, EventID("$root"), "matrix")
    assert await stores.threads.insert(first) == first
    # The same thread again (a replay or a race between both directions) ...
    again = ThreadRow(THREAD, PARENT, ROOM, EventID("$other"), "discord")
    assert await stores.threads.insert(again) == first
    # ... or another thread on the same root: the recorded one is returned.
    rival = ThreadRow(ChannelID(THREAD + 1), PARENT, ROOM, EventID("$root"), "discord")
    assert await stores.threads.insert(rival) == first
    assert await stores.threads.by_thread(ChannelID(THREAD + 1)) is None


async def test_forget(stores: Stores) -> None:
    row = ThreadRow(THREAD, PARENT, ROOM, EventID("$root"), "discord")
    await stores.threads.insert(row)
    assert await stores.threads.forget(THREAD) == row
    assert await stores.threads.forget(THREAD) is None
    assert await stores.threads.by_root(ROOM, EventID("$root")) is None
