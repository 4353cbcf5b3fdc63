"""The fast lane (bridge.actions.m2d_fast): which Matrix messages get their first part's
in-flight mark written with their transaction, and that the send then uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.actions.m2d_fast import first_part_marks
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.portals import ensure_portal
from bridge.ids import EventID, UserID
from bridge.transport.matrix_events import parse_message
from tests.actions.fakes import CHANNEL, fake_context

ALICE = "@alice:example.org"


def raw(room: str, event: str, body: str = "hello", **content: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "room_id": room,
        "event_id": event,
        "sender": content.pop("sender", ALICE),
        "origin_server_ts": 1_700_000_000_000,
        "content": {"msgtype": "m.text", "body": body, **content},
    }


def always(_room: str) -> bool:
    return True


async def test_the_mark_is_the_send_s_own(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        matrix.names[(portal.room_id, UserID(ALICE))] = "Alice Liddell"
        event = raw(portal.room_id, "$m1")
        marks = await first_part_marks(ctx, parse_message, [event], always)
        assert [(m.event_id, m.event_part, m.discord_channel_id) for m in marks] == [
            ("$m1", 0, CHANNEL)
        ]
        assert marks[0].content == "hello" and marks[0].username == "Alice Liddell (Matrix)"
        rows = await ctx.stores.outbox.accept_transaction("as", "t1", [event], marks)
        assert rows is not None and ctx.stores.inflight.preclaimed
        message = parse_message(event)
        assert message is not None
        ids = await relay_matrix_message(ctx, message)
        assert len(ids) == 1 and discord.executed[0][1].content == "hello"
        assert ctx.stores.inflight.preclaimed == {}  # used by the send's claim
        assert await ctx.stores.inflight.get(EventID("$m1"), 0) is None  # recorded
        assert [r.discord_message_id for r in await ctx.stores.messages.by_event("$m1")] == ids


async def test_only_an_idle_room_s_first_plain_message_takes_the_lane(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, _discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        room = portal.room_id
        events = [
            raw(room, "$first"),
            raw(room, "$second"),  # queued behind $first: converted when its turn comes
        ]
        marks = await first_part_marks(ctx, parse_message, events, always)
        assert [m.event_id for m in marks] == ["$first"]
        assert await first_part_marks(ctx, parse_message, events, lambda _r: False) == []
        not_plain = [
            raw(room, "$reply", **{"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}),
            raw(room, "$edit", **{"m.new_content": {"body": "x"}}),
            raw(room, "$cmd", "!mod ban @x:example.org"),
            raw(room, "$ghost", sender="@_discord_2000000000000000002:example.org"),
            raw(room, "$image", msgtype="m.image", url="mxc://x/y"),
            raw("!unbridged:example.org", "$elsewhere"),
            {**raw(room, "$state"), "type": "m.room.topic"},
        ]
        for event in not_plain:
            assert await first_part_marks(ctx, parse_message, [event], always) == [], event
