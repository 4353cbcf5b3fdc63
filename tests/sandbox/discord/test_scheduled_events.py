"""Scheduled events and voice states in the emulator: REST checked against the
OpenAPI spec, permissions, state transitions, and what discord.py sees on the gateway
(dispatches, and GUILD_CREATE's guild_scheduled_events and voice_states)."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest

from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import BOB_TOKEN, BOT_TOKEN, call
from tests.sandbox.discord.world import ALICE, BOB, CAMPAIGN, CAROL, GUILD, MEMBERS, VOICE

EVENTS = f"/guilds/{GUILD}/scheduled-events"
START, END = "2026-12-10T18:00:00+00:00", "2026-12-10T20:00:00+00:00"


async def test_rest_lifecycle_with_contract(api: Api, emu: Emulator) -> None:
    contract = Contract.load()
    voice = await call(
        api,
        contract,
        "POST",
        EVENTS,
        json={
            "name": "Permanence",
            "description": "Questions?",
            "scheduled_start_time": START,
            "privacy_level": 2,
            "entity_type": 2,
            "channel_id": VOICE,
        },
    )
    assert (
        voice["channel_id"] == VOICE and voice["status"] == 1 and voice["entity_metadata"] is None
    )
    external = await call(
        api,
        contract,
        "POST",
        EVENTS,
        json={
            "name": "Manif",
            "scheduled_start_time": START,
            "scheduled_end_time": END,
            "privacy_level": 2,
            "entity_type": 3,
            "entity_metadata": {"location": "Place de la République"},
        },
    )
    assert external["channel_id"] is None
    assert external["entity_metadata"] == {"location": "Place de la République"}
    # External events need a place and an end; voice ones a voice channel of the guild.
    for body in (
        {"entity_type": 3, "scheduled_end_time": END},
        {"entity_type": 3, "entity_metadata": {"location": "x"}},
        {"entity_type": 2, "channel_id": CAMPAIGN},
        {"entity_type": 9, "channel_id": VOICE},
    ):
        full = {"name": "x", "scheduled_start_time": START, "privacy_level": 2, **body}
        await call(api, contract, "POST", EVENTS, json=full, expect=400)
    status, reply, _ = await api.call(
        "POST",
        EVENTS,
        BOB_TOKEN,
        json={
            "name": "x",
            "scheduled_start_time": START,
            "privacy_level": 2,
            "entity_type": 2,
            "channel_id": VOICE,
        },
    )
    assert (status, reply["code"]) == (403, 50013)  # Bob lacks MANAGE_EVENTS

    emu.set_event_interest(external["id"], BOB)
    emu.set_event_interest(external["id"], ALICE)
    listed = await call(api, contract, "GET", EVENTS + "?with_user_count=true", BOB_TOKEN)
    counts = {e["id"]: e["user_count"] for e in listed}
    assert counts == {voice["id"]: 0, external["id"]: 2}
    plain = await call(api, contract, "GET", EVENTS)
    assert all("user_count" not in e for e in plain)
    one = await call(api, contract, "GET", f"{EVENTS}/{external['id']}?with_user_count=true")
    assert one["user_count"] == 2 and one["creator"]["id"] is not None

    users = await call(
        api, contract, "GET", f"{EVENTS}/{external['id']}/users?with_member=true&limit=1"
    )
    assert [u["user_id"] for u in users] == [ALICE] and users[0]["member"]["user"]["id"] == ALICE
    users = await call(api, contract, "GET", f"{EVENTS}/{external['id']}/users?after={ALICE}")
    assert [u["user_id"] for u in users] == [BOB] and "member" not in users[0]

    changed = await call(
        api,
        contract,
        "PATCH",
        f"{EVENTS}/{voice['id']}",
        json={"name": "Permanence (jeudi)", "status": 2},
    )
    assert changed["name"] == "Permanence (jeudi)" and changed["status"] == 2
    await call(api, contract, "PATCH", f"{EVENTS}/{voice['id']}", json={"status": 1}, expect=400)
    await call(api, contract, "PATCH", f"{EVENTS}/{voice['id']}", json={"status": 3})
    await call(api, contract, "PATCH", f"{EVENTS}/{external['id']}", json={"status": 4})
    await call(api, contract, "DELETE", f"{EVENTS}/{external['id']}", expect=204)
    await call(api, contract, "GET", f"{EVENTS}/{external['id']}", expect=404)
    await call(api, contract, "GET", f"{EVENTS}/123", expect=404)
    assert external["id"] not in emu.state.event_interest


async def test_members_only_channel_events_are_hidden_from_outsiders(
    api: Api, emu: Emulator
) -> None:
    """An event in a channel Bob cannot view is invisible to him (list and get)."""
    contract = Contract.load()
    secret = emu.create_channel(
        GUILD,
        "bureau",
        type=2,
        overwrites=[{"id": GUILD, "type": 0, "allow": "0", "deny": "1024"}],
    )
    hidden = emu.create_scheduled_event(GUILD, "Bureau", START, channel_id=secret)
    assert hidden in {e["id"] for e in await call(api, contract, "GET", EVENTS)}
    assert hidden not in {e["id"] for e in await call(api, contract, "GET", EVENTS, BOB_TOKEN)}
    await call(api, contract, "GET", f"{EVENTS}/{hidden}", BOB_TOKEN, expect=404)


async def test_gateway_dispatches_as_discord_py_sees_them(
    emu: Emulator, start_client: StartClient
) -> None:
    seen: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    bot = await start_client(BOT_TOKEN)
    client = bot.client

    async def record(name: str, *args: Any) -> None:
        await seen.put((name, args))

    for name in (
        "scheduled_event_create",
        "scheduled_event_update",
        "scheduled_event_delete",
        "scheduled_event_user_add",
        "scheduled_event_user_remove",
        "voice_state_update",
    ):
        setattr(client, f"on_{name}", lambda *a, n=name: record(n, *a))

    async def next_seen() -> tuple[str, Any]:
        return await asyncio.wait_for(seen.get(), 10)

    event_id = emu.create_scheduled_event(
        GUILD, "Manif", START, end=END, location="Bourse du travail", description="Venez"
    )
    name, (event,) = await next_seen()
    assert name == "scheduled_event_create" and event.id == int(event_id)
    assert (
        event.location == "Bourse du travail" and event.entity_type == discord.EntityType.external
    )
    emu.update_scheduled_event(event_id, name="Grande manif")
    name, (_before, after) = await next_seen()
    assert name == "scheduled_event_update" and after.name == "Grande manif"
    assert emu.set_event_interest(event_id, BOB) is True
    assert emu.set_event_interest(event_id, BOB) is False  # already interested: nothing
    name, (event, user) = await next_seen()
    assert name == "scheduled_event_user_add" and user.id == int(BOB)
    emu.set_event_interest(event_id, BOB, False)
    assert (await next_seen())[0] == "scheduled_event_user_remove"
    emu.cancel_scheduled_event(event_id)
    name, (_before, after) = await next_seen()
    assert after.status == discord.EventStatus.cancelled
    emu.delete_scheduled_event(event_id)
    assert (await next_seen())[0] == "scheduled_event_delete"

    emu.set_voice_state(GUILD, CAROL, VOICE, self_mute=True, self_stream=True)
    name, (member, before, after) = await next_seen()
    assert name == "voice_state_update" and member.id == int(CAROL)
    assert before.channel is None and after.channel is not None and after.channel.id == int(VOICE)
    assert after.self_mute is True and after.self_stream is True
    channel = client.get_channel(int(VOICE))
    assert isinstance(channel, discord.VoiceChannel) and set(channel.voice_states) == {int(CAROL)}
    emu.set_voice_state(GUILD, CAROL, None)
    name, (member, before, after) = await next_seen()
    assert before.channel is not None and after.channel is None
    assert channel.voice_states == {}
    with pytest.raises(KeyError):
        emu.set_voice_state(GUILD, CAROL, CAMPAIGN)  # not a voice channel
    with pytest.raises(KeyError):
        emu.set_voice_state(GUILD, CAROL, MEMBERS)


async def test_guild_create_carries_events_and_voice_states(
    emu: Emulator, start_client: StartClient
) -> None:
    emu.set_voice_state(GUILD, BOB, VOICE, self_deaf=True)
    event_id = emu.create_scheduled_event(GUILD, "Permanence", START, channel_id=VOICE)
    emu.set_event_interest(event_id, ALICE)
    bot = await start_client(BOT_TOKEN)
    guild = bot.client.get_guild(int(GUILD))
    assert guild is not None
    event = guild.get_scheduled_event(int(event_id))
    assert event is not None and event.channel_id == int(VOICE) and event.user_count == 1
    channel = guild.get_channel(int(VOICE))
    assert isinstance(channel, discord.VoiceChannel)
    assert list(channel.voice_states) == [int(BOB)]
    assert channel.voice_states[int(BOB)].self_deaf is True
