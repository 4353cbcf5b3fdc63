"""Uncertain sends: the search for an event whose send answer was lost."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from mautrix.appservice import AppServiceAPI

from bridge.ids import RoomID, UserID
from bridge.model import MatrixText
from bridge.transport.matrix import MatrixTransport
from bridge.transport.matrix_txn import CLOCK_SLACK_MS, UncertainSends, find_sent

GHOST = UserID("@discord_1:example.org")
OTHER = UserID("@discord_2:example.org")
BOT = UserID("@passerelle:example.org")
ROOM = RoomID("!room:example.org")
CONTENT = {"msgtype": "m.text", "body": "bonjour"}


def event(
    event_id: str, sender: str = GHOST, ts: int = 1_000, body: str = "bonjour", **extra: Any
) -> dict[str, Any]:
    content = {"msgtype": "m.text", "body": body, **extra}
    return {
        "event_id": event_id,
        "sender": sender,
        "type": "m.room.message",
        "origin_server_ts": ts,
        "content": content,
    }


def test_found_by_sender_timestamp_and_body() -> None:
    events = [event("$other", sender=OTHER), event("$late", ts=2_000), event("$mine")]
    assert find_sent(events, GHOST, "m.room.message", CONTENT, 1_000, 0) == "$mine"


def test_not_found_when_nothing_matches() -> None:
    events = [
        event("$a", body="au revoir"),
        event("$b", sender=OTHER),
        event("$c", ts=999),
        {**event("$d"), "type": "m.reaction"},
        {"event_id": "$e", "sender": GHOST, "type": "m.room.message"},  # no timestamp
    ]
    assert find_sent(events, GHOST, "m.room.message", CONTENT, 1_000, 0) is None


def test_relations_must_match() -> None:
    reply = {"m.in_reply_to": {"event_id": "$root"}}
    events = [event("$plain"), event("$reply", **{"m.relates_to": reply})]
    wanted = {**CONTENT, "m.relates_to": reply}
    assert find_sent(events, GHOST, "m.room.message", wanted, 1_000, 0) == "$reply"
    assert find_sent(events, GHOST, "m.room.message", CONTENT, 1_000, 0) == "$plain"


def test_without_timestamp_only_events_since_the_first_try() -> None:
    first_try = 10 * CLOCK_SLACK_MS
    old = event("$old", ts=first_try - CLOCK_SLACK_MS - 1)
    assert find_sent([old], GHOST, "m.room.message", CONTENT, None, first_try) is None
    new = event("$new", ts=first_try + 5)
    assert find_sent([old, new], GHOST, "m.room.message", CONTENT, None, first_try) == "$new"


def test_uncertain_sends_keep_the_first_try_and_are_bounded() -> None:
    sends = UncertainSends(limit=2)
    sends.mark("t1", 100)
    sends.mark("t1", 200)  # a second uncertain try keeps the first one's time
    assert sends.started("t1") == 100
    sends.mark("t2", 300)
    sends.mark("t3", 400)
    assert len(sends) == 2 and sends.started("t1") is None  # the oldest went
    sends.forget("t2")
    assert sends.started("t2") is None and sends.started("t3") == 400


# -- the transport against a fake homeserver that stores a send and loses its answer --


class LosingHomeserver:
    """Stores the first send and stops before answering (as Synapse stopped
    mid-request); back up at the first read of the room. Repeated transaction IDs are
    not remembered: Synapse forgets a ghost's after a restart."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.sends = 0
        self.lost_one = self.down = False

    async def send(self, request: web.Request) -> web.StreamResponse:
        self.sends += 1
        if self.down:  # stopped: nothing stored, no answer (aiohttp's own retry ends here)
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError
        event_id = f"$e{len(self.events)}"
        self.events.append(
            {
                "event_id": event_id,
                "sender": request.query["user_id"],
                "type": request.match_info["type"],
                "origin_server_ts": int(request.query["ts"]),
                "content": await request.json(),
            }
        )
        if not self.lost_one:  # the first send: stored, then the homeserver stops
            self.lost_one = self.down = True
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError
        return web.json_response({"event_id": event_id})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        assert request.query["dir"] == "b"
        self.down = False  # back up
        return web.json_response({"chunk": list(reversed(self.events))})


async def test_a_lost_answer_is_found_in_the_room_not_sent_twice() -> None:
    hs = LosingHomeserver()
    app = web.Application()
    app.router.add_put("/_matrix/client/v3/rooms/{room}/send/{type}/{txn}", hs.send)
    app.router.add_get("/_matrix/client/v3/rooms/{room}/messages", hs.messages)
    server = TestServer(app)
    await server.start_server()
    transport = MatrixTransport(str(server.make_url("")), "as", BOT, "Bot")
    transport._api = AppServiceAPI(
        base_url=str(server.make_url("")),
        bot_mxid=BOT,
        token="as",
        log=logging.getLogger("test.mautrix"),  # type: ignore[arg-type]
        state_store=transport.state_store,
        client_session=aiohttp.ClientSession(),
    )
    power = {"users": {}, "users_default": 0, "events_default": 0}
    await transport.state_store.set_power_levels(ROOM, power)  # type: ignore[arg-type]
    create = {"type": "m.room.create", "room_id": ROOM, "sender": BOT, "state_key": ""}
    await transport.state_store.set_create(
        {**create, "event_id": "$c", "origin_server_ts": 0, "content": {"room_version": "10"}}
    )
    await transport.state_store.registered(GHOST)
    await transport.state_store.joined(ROOM, GHOST)
    text = MatrixText("bonjour")
    try:
        with pytest.raises(Exception):  # noqa: B017 (whatever the connection error is)
            await transport.send_text(ROOM, GHOST, text, 1_000, txn_id="passerelle.d2m.1.0")
        # The caller's retry: the event is found, not sent again.
        found = await transport.send_text(ROOM, GHOST, text, 1_000, txn_id="passerelle.d2m.1.0")
        assert found == "$e0" and len(hs.events) == 1
        # A later message with the same text is a new event.
        again = await transport.send_text(ROOM, GHOST, text, 2_000, txn_id="passerelle.d2m.2.0")
        assert again == "$e1" and len(hs.events) == 2
    finally:
        await transport.api.session.close()
        await server.close()
