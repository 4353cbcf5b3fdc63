"""The poll and poll_vote tables on both databases, after running the real migrations."""

from __future__ import annotations

from bridge.db import PollRow, Stores
from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID, RoomID

MSG = MessageID(2**62 + 9)
CAROL = DiscordUserID(2**62 + 3)
BOB = DiscordUserID(2**62 + 2)


async def test_poll_round_trip_and_end(stores: Stores) -> None:
    row = PollRow(MSG, ChannelID(4000000000000000001), RoomID("!r:x"), EventID("$start"), BOB)
    await stores.polls.insert(row)
    await stores.polls.insert(row)  # a replay: no error, no change
    assert await stores.polls.get(MSG) == row
    assert await stores.polls.get(MessageID(1)) is None
    await stores.polls.set_ended(MSG, EventID("$end"))
    ended = await stores.polls.get(MSG)
    assert ended is not None and ended.end_event_id == "$end"


async def test_votes_per_user(stores: Stores) -> None:
    await stores.polls.set_vote(MSG, CAROL, 3, True)
    await stores.polls.set_vote(MSG, CAROL, 1, True)
    await stores.polls.set_vote(MSG, CAROL, 1, True)  # twice: one vote
    await stores.polls.set_vote(MSG, BOB, 2, True)
    assert await stores.polls.votes_of(MSG, CAROL) == [1, 3]
    assert await stores.polls.votes_of(MSG, BOB) == [2]
    await stores.polls.set_vote(MSG, CAROL, 3, False)
    await stores.polls.set_vote(MSG, CAROL, 2, False)  # never voted: nothing happens
    assert await stores.polls.votes_of(MSG, CAROL) == [1]
    assert await stores.polls.votes_of(MessageID(1), CAROL) == []


async def test_matrix_poll_answer_ids_and_lookup_by_start(stores: Stores) -> None:
    row = PollRow(
        MSG,
        ChannelID(4000000000000000001),
        RoomID("!r:x"),
        EventID("$matrix-start"),
        BOB,
        answer_ids=("cave-x1", 'tower "y"'),
    )
    await stores.polls.insert(row)
    assert await stores.polls.get(MSG) == row
    assert await stores.polls.by_start(EventID("$matrix-start")) == row
    assert await stores.polls.by_start(EventID("$other")) is None
    assert row.from_matrix
    discord_poll = PollRow(MessageID(1), row.discord_channel_id, row.room_id, EventID("$s"), BOB)
    await stores.polls.insert(discord_poll)
    found = await stores.polls.by_start(EventID("$s"))
    assert found is not None and found.answer_ids is None and not found.from_matrix
