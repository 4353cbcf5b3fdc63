"""Scheduled events and voice states at the Discord edge, through a real discord.py
``ConnectionState`` fed captured payloads: what reaches the bridge's handlers."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from bridge.convert.d2m.events import ScheduledEvent
from bridge.convert.d2m.voice_state import VoiceState
from bridge.ids import GuildID
from bridge.transport.discord_events import EventHandlers, attach
from tests.transport.test_discord_bad_input import FIXTURES, Gateway, load


class Seen:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def event(self, event: ScheduledEvent) -> None:
        self.calls.append(("event", event))

    async def deleted(self, event: ScheduledEvent) -> None:
        self.calls.append(("deleted", event))

    async def interest(self, guild_id: GuildID, event_id: int) -> None:
        self.calls.append(("interest", (guild_id, event_id)))

    async def voice(self, state: VoiceState) -> None:
        self.calls.append(("voice", state))

    def handlers(self) -> EventHandlers:
        return EventHandlers(self.event, self.deleted, self.interest, self.voice)


def live_gateway(seen: Seen) -> Gateway:
    """The demo guild's ConnectionState, dispatching to the client as when connected."""
    gateway = Gateway()
    gateway.client.loop = asyncio.get_running_loop()
    gateway.state.dispatch = gateway.client.dispatch
    attach(gateway.client, seen.handlers())
    return gateway


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_interest_of_a_user_discord_py_does_not_know_still_counts() -> None:
    seen = Seen()
    gateway = live_gateway(seen)
    parsers = gateway.state.parsers
    parsers["GUILD_SCHEDULED_EVENT_CREATE"](
        load(FIXTURES / "guild_scheduled_event_create_external.json")
    )
    data = copy.deepcopy(load(FIXTURES / "guild_scheduled_event_user_add.json"))
    data["user_id"] = "2999999999999999999"  # never seen: not in discord.py's cache
    parsers["GUILD_SCHEDULED_EVENT_USER_ADD"](data)
    parsers["GUILD_SCHEDULED_EVENT_USER_REMOVE"](data)
    await settle()
    interest = [args for kind, args in seen.calls if kind == "interest"]
    assert interest == [(GuildID(3000000000000000001), 4600000000000000002)] * 2


async def test_a_malformed_interest_payload_is_dropped_quietly() -> None:
    seen = Seen()
    gateway = live_gateway(seen)
    gateway.state.parsers["GUILD_SCHEDULED_EVENT_USER_ADD"]({"guild_id": "1"})
    await settle()
    assert seen.calls == []


async def test_create_update_delete_reach_the_handlers() -> None:
    seen = Seen()
    gateway = live_gateway(seen)
    parsers = gateway.state.parsers
    created = load(FIXTURES / "guild_scheduled_event_create_voice.json")
    parsers["GUILD_SCHEDULED_EVENT_CREATE"](created)
    parsers["GUILD_SCHEDULED_EVENT_UPDATE"]({**created, "name": "Permanence annulée", "status": 4})
    parsers["GUILD_SCHEDULED_EVENT_DELETE"]({**created, "status": 4})
    await settle()
    kinds = [kind for kind, _ in seen.calls]
    assert kinds == ["event", "event", "deleted"]
    updated = seen.calls[1][1]
    assert updated.name == "Permanence annulée" and updated.status == 4
    assert updated.channel_id == 4000000000000000006 and updated.location is None


async def test_a_guild_becoming_available_is_reported() -> None:
    """After a new gateway session, GUILD_CREATE is all there is: the bridge catches up."""
    seen = Seen()
    available: list[GuildID] = []

    async def on_available(guild_id: GuildID) -> None:
        available.append(guild_id)

    gateway = Gateway()
    gateway.client.loop = asyncio.get_running_loop()
    handlers = seen.handlers()
    attach(
        gateway.client,
        EventHandlers(
            handlers.scheduled_event,
            handlers.scheduled_event_deleted,
            handlers.interest,
            handlers.voice_state,
            guild_available=on_available,
        ),
    )
    gateway.client.dispatch("guild_available", gateway.guild)
    await settle()
    assert available == [GuildID(3000000000000000001)]
