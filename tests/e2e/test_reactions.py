"""Reactions relayed both ways through real Synapse + the Discord emulator + the bridge."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest

from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)
EMOJI_ID = 5000000000000000001  # "passerelle" in the demo seed


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


def bot_id(stack: SandboxStack) -> int:
    return int(next(u["id"] for u in stack.seed["users"] if u.get("bot")))


async def portal_room(stack: SandboxStack, channel: ChannelID) -> str:
    portal = await stack.bridge.ctx.stores.portals.by_channel(channel)  # type: ignore[union-attr]
    assert portal is not None, f"no portal for {channel}"
    return portal.room_id


def is_reaction(target: str, key: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def check(event: dict[str, Any]) -> bool:
        relates = event.get("content", {}).get("m.relates_to", {})
        return (
            event["type"] == "m.reaction"
            and relates.get("event_id") == target
            and (key is None or relates.get("key") == key)
        )

    return check


def is_redaction_of(event_id: str) -> Callable[[dict[str, Any]], bool]:
    def check(event: dict[str, Any]) -> bool:
        redacts = event.get("redacts") or event.get("content", {}).get("redacts")
        return event["type"] == "m.room.redaction" and redacts == event_id

    return check


async def eventually(
    probe: Callable[[], Awaitable[Any]], expected: Any, timeout: float = 10
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}, expected {expected!r}")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def matrix_carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """A second Matrix user in the public portal."""
    assert stack.synapse is not None
    user_id = f"@carol:{stack.synapse.server_name}"
    user = MatrixUser(stack.synapse.url, user_id, stack.matrix_tokens[user_id])
    await user.join(await portal_room(stack, PUBLIC))
    await user.prime()
    yield user
    await user.close()


async def discord_message_on_matrix(
    matrix_alice: MatrixUser, discord_bob: DiscordUser, room: str
) -> tuple[discord.Message, str]:
    text = unique("react to this")
    message = await discord_bob.send(PUBLIC, text)
    event, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text
    )
    return message, event["event_id"]


async def test_discord_unicode_reaction_and_its_removal(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    message, target = await discord_message_on_matrix(matrix_alice, discord_bob, room)
    sent = time.perf_counter()
    await discord_bob.react(PUBLIC, message.id, "👍")
    reaction, arrived = await matrix_alice.wait_for_event(room, is_reaction(target, "👍"))
    print(f"\nlatency reaction Discord->Matrix: {(arrived - sent) * 1000:.1f} ms")
    assert reaction["sender"] == stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    # The ghost's reaction is not sent back to Discord: only Bob reacts there.
    await asyncio.sleep(1)
    assert await discord_bob.reactors(PUBLIC, message.id, "👍") == [BOB]
    await discord_bob.unreact(PUBLIC, message.id, "👍")
    await matrix_alice.wait_for_event(room, is_redaction_of(reaction["event_id"]))
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    assert await stores.reactions.by_event(EventID(reaction["event_id"])) is None


async def test_discord_custom_emoji_becomes_image_reaction(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    message, target = await discord_message_on_matrix(matrix_alice, discord_bob, room)
    await discord_bob.react(PUBLIC, message.id, f"passerelle:{EMOJI_ID}")
    reaction, _ = await matrix_alice.wait_for_event(room, is_reaction(target))
    key = reaction["content"]["m.relates_to"]["key"]
    assert key.startswith("mxc://")
    assert reaction["content"]["com.beeper.reaction.shortcode"] == ":passerelle:"
    cached = await stack.bridge.ctx.stores.reactions.emoji_by_id(EMOJI_ID)  # type: ignore[union-attr]
    assert cached is not None and cached.mxc == key
    # A second message reuses the uploaded image.
    message2, target2 = await discord_message_on_matrix(matrix_alice, discord_bob, room)
    await discord_bob.react(PUBLIC, message2.id, f"passerelle:{EMOJI_ID}")
    again, _ = await matrix_alice.wait_for_event(room, is_reaction(target2))
    assert again["content"]["m.relates_to"]["key"] == key
    # A Matrix user reacting with that image puts the custom emoji on Discord.
    await matrix_alice.react(room, target, key)
    await eventually(
        lambda: discord_bob.reactors(PUBLIC, message.id, f"passerelle:{EMOJI_ID}"),
        sorted([BOB, bot_id(stack)]),  # Discord lists reactors by user ID
    )


async def test_matrix_reaction_shown_by_the_bot_until_the_last_reactor_leaves(
    stack: SandboxStack,
    matrix_alice: MatrixUser,
    matrix_carol: MatrixUser,
    discord_bob: DiscordUser,
) -> None:
    room = await portal_room(stack, PUBLIC)
    text = unique("react on Element")
    target = await matrix_alice.send_text(room, text)
    message, _ = await discord_bob.wait_for_message(lambda m: m.content == text)
    bot = bot_id(stack)

    sent = time.perf_counter()
    alice_reaction = await matrix_alice.react(room, target, "🎉")
    await eventually(lambda: discord_bob.reactors(PUBLIC, message.id, "🎉"), [bot])
    print(f"\nlatency reaction Matrix->Discord: {(time.perf_counter() - sent) * 1000:.1f} ms")
    carol_reaction = await matrix_carol.react(room, target, "🎉")
    await asyncio.sleep(1)
    assert await discord_bob.reactors(PUBLIC, message.id, "🎉") == [bot]

    # The bot's reaction on Discord does not come back to Matrix as a ghost reaction.
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room,
            lambda e: (
                is_reaction(target)(e)
                and e["sender"] not in (matrix_alice.user_id, matrix_carol.user_id)
            ),
            timeout=1.5,
        )

    await matrix_alice.redact(room, alice_reaction)
    await asyncio.sleep(1)
    assert await discord_bob.reactors(PUBLIC, message.id, "🎉") == [bot]
    await matrix_carol.redact(room, carol_reaction)
    await eventually(lambda: discord_bob.reactors(PUBLIC, message.id, "🎉"), [])
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    assert await stores.reactions.count_matrix(MessageID(message.id), "🎉") == 0


async def test_matrix_reaction_on_discord_message_and_text_keys_skipped(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    message, target = await discord_message_on_matrix(matrix_alice, discord_bob, room)
    await matrix_alice.react(room, target, "agreed")  # free text: not an emoji on Discord
    thumbs = await matrix_alice.react(room, target, "👍")
    await eventually(lambda: discord_bob.reactors(PUBLIC, message.id, "👍"), [bot_id(stack)])
    assert stack.emulator is not None
    assert set(stack.emulator.state.reactions[str(message.id)]) == {"👍"}
    await matrix_alice.redact(room, thumbs)
    await eventually(lambda: discord_bob.reactors(PUBLIC, message.id, "👍"), [])


async def test_emulator_responses_still_match_the_spec(stack: SandboxStack) -> None:
    assert stack.emulator is not None
    assert stack.emulator.contract_violations == []


async def test_discord_reactions_cleared_by_a_moderator_are_redacted(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    message, target = await discord_message_on_matrix(matrix_alice, discord_bob, room)
    await discord_bob.react(PUBLIC, message.id, "🔥")
    reaction, _ = await matrix_alice.wait_for_event(room, is_reaction(target, "🔥"))
    # Clear every reaction with Manage Messages (the bridge's bot is an administrator).
    assert stack.bridge is not None
    await stack.bridge.discord.client.http.clear_reactions(PUBLIC, message.id)
    await matrix_alice.wait_for_event(room, is_redaction_of(reaction["event_id"]))
