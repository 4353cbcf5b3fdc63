"""Pins both ways through real Synapse + the Discord emulator + the bridge."""

from __future__ import annotations

import asyncio
import uuid

import discord
import pytest
from mautrix.types import EventType, RoomID

from bridge.ids import ChannelID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)


async def pinned_on_matrix(alice: MatrixUser, room: RoomID) -> list[str]:
    try:
        content = await alice.client.get_state_event(room, EventType.ROOM_PINNED_EVENTS)
    except Exception:
        return []
    return list(content.serialize().get("pinned", []))


async def test_discord_pin_and_unpin_show_on_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    message = await discord_bob.send(PUBLIC, f"pin-worthy {marker}")
    event, _ = await matrix_alice.wait_for_event(
        room, lambda e: marker in e["content"].get("body", "")
    )
    owner_token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    owner = DiscordUser(stack.emulator.api_base, owner_token)  # type: ignore[union-attr]
    await owner.start()
    try:
        channel = owner.client.get_channel(PUBLIC)
        assert isinstance(channel, discord.TextChannel)
        target = channel.get_partial_message(message.id)
        await target.pin()

        async def pinned() -> bool:
            return event["event_id"] in await pinned_on_matrix(matrix_alice, room)

        await eventually(pinned, "the Discord pin never reached Matrix")
        await target.unpin()

        async def unpinned() -> bool:
            return event["event_id"] not in await pinned_on_matrix(matrix_alice, room)

        await eventually(unpinned, "the Discord unpin never reached Matrix")
    finally:
        await owner.close()


async def test_matrix_pin_and_unpin_show_on_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    bot = stack.bridge.matrix.bot  # type: ignore[union-attr]
    levels = await bot.get_power_levels(room)
    levels.users[matrix_alice.user_id] = 50  # may change room state such as pins
    await bot.set_power_levels(room, levels)
    pins = stack.emulator.state.pins  # type: ignore[union-attr]
    try:
        marker = uuid.uuid4().hex[:8]
        message = await discord_bob.send(PUBLIC, f"pin me from Element {marker}")
        event, _ = await matrix_alice.wait_for_event(
            room, lambda e: marker in e["content"].get("body", "")
        )
        current = await pinned_on_matrix(matrix_alice, room)
        await matrix_alice.client.send_state_event(
            room, EventType.ROOM_PINNED_EVENTS, {"pinned": [*current, event["event_id"]]}
        )

        async def pinned() -> bool:
            return str(message.id) in pins.get(str(PUBLIC), {})

        await eventually(pinned, "the Matrix pin never reached Discord")
        await matrix_alice.client.send_state_event(
            room, EventType.ROOM_PINNED_EVENTS, {"pinned": current}
        )

        async def unpinned() -> bool:
            return str(message.id) not in pins.get(str(PUBLIC), {})

        await eventually(unpinned, "the Matrix unpin never reached Discord")
        # The echo (CHANNEL_PINS_UPDATE back to the bridge) changes nothing on Matrix.
        await asyncio.sleep(0.5)
        assert await pinned_on_matrix(matrix_alice, room) == current
    finally:
        levels.users.pop(matrix_alice.user_id, None)
        await bot.set_power_levels(room, levels)
