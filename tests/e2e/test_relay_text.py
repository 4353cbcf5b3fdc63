"""Text relayed both ways through real Synapse + the Discord emulator + the bridge."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import pytest

from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID
from moderation.protections.rules import Flooding
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import recorded
from tests.matrix_spec import schema_errors

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
MEMBERS = ChannelID(4000000000000000002)
BOB = DiscordUserID(2000000000000000002)
ALICE_DISCORD = DiscordUserID(2000000000000000001)


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


async def portal_room(stack: SandboxStack, channel: ChannelID) -> str:
    portal = await stack.bridge.ctx.stores.portals.by_channel(channel)  # type: ignore[union-attr]
    assert portal is not None, f"no portal for {channel}"
    return portal.room_id


async def test_discord_message_reaches_matrix_from_ghost(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    text = unique("Hello from Discord")
    sent = time.perf_counter()
    message = await discord_bob.send(PUBLIC, text)
    event, arrived = await matrix_alice.wait_for_event(
        room, lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text
    )
    latency_ms = (arrived - sent) * 1000
    print(f"\nlatency Discord->Matrix: {latency_ms:.1f} ms")
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    assert event["sender"] == ghost
    assert event["content"]["msgtype"] == "m.text"
    assert schema_errors("m.room.message$m.text.yaml", event) == []
    # The original Discord timestamp is kept (appservice timestamp massaging).
    assert abs(event["origin_server_ts"] - message.created_at.timestamp() * 1000) < 1000
    profile = await matrix_alice.client.get_profile(ghost)
    assert profile.displayname == "Bob (Discord)"
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_discord(MessageID(message.id)))
    assert [(r.event_id, r.origin, r.room_id) for r in rows] == [
        (event["event_id"], "discord", room)
    ]
    assert latency_ms < 1000


async def test_matrix_message_reaches_discord_through_webhook(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    text = unique("Hello from Element")
    sent = time.perf_counter()
    event_id = await matrix_alice.send_text(room, text)
    message, arrived = await discord_bob.wait_for_message(lambda m: m.content == text)
    latency_ms = (arrived - sent) * 1000
    print(f"\nlatency Matrix->Discord: {latency_ms:.1f} ms")
    assert message.webhook_id is not None
    assert message.author.name == "Alice Liddell (Matrix)"
    assert message.channel.id == PUBLIC
    assert message.webhook_id in stack.bridge.ctx.own_webhooks  # type: ignore[union-attr]
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_event(EventID(event_id)))
    assert [(r.discord_message_id, r.origin) for r in rows] == [(message.id, "matrix")]
    # The webhook message is not echoed back into the room by the bridge.
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room,
            lambda e: (
                e["type"] == "m.room.message"
                and e["content"].get("body") == text
                and e["sender"] != matrix_alice.user_id
            ),
            timeout=1.5,
        )
    assert latency_ms < 1000


async def test_ghost_messages_are_not_sent_back_to_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    text = unique("only once")
    await discord_bob.send(PUBLIC, text)
    await matrix_alice.wait_for_event(room, lambda e: e["content"].get("body") == text)
    await asyncio.sleep(1)
    relayed = [
        m
        for m in stack.emulator.state.messages_in(PUBLIC)  # type: ignore[union-attr]
        if m["content"] == text
    ]
    assert len(relayed) == 1
    assert not relayed[0].get("webhook_id")


async def test_portal_rooms_carry_channel_name_topic_and_access(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    client = matrix_alice.client
    from mautrix.types import EventType

    public = await portal_room(stack, PUBLIC)
    members = await portal_room(stack, MEMBERS)
    assert (await client.get_state_event(public, EventType.ROOM_NAME)).name == "campaign"
    assert (await client.get_state_event(public, EventType.ROOM_TOPIC)).topic == (
        "Public campaign chat"
    )
    assert (await client.get_state_event(members, EventType.ROOM_NAME)).name == "members"
    public_rule = await client.get_state_event(public, EventType.ROOM_JOIN_RULES)
    members_rule = await client.get_state_event(members, EventType.ROOM_JOIN_RULES)
    assert str(public_rule.join_rule) == "public"
    assert str(members_rule.join_rule) == "invite"
    history = await client.get_state_event(members, EventType.ROOM_HISTORY_VISIBILITY)
    assert str(history.history_visibility) == "joined"
    alias = stack.config.namer.portal_alias(PUBLIC)  # type: ignore[union-attr]
    resolved = await client.resolve_room_alias(alias)
    assert resolved.room_id == public


async def test_ghost_gets_avatar_from_discord(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    alice_token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    discord_alice = DiscordUser(stack.emulator.api_base, alice_token)  # type: ignore[union-attr]
    await discord_alice.start()
    try:
        room = await portal_room(stack, PUBLIC)
        text = unique("I have an avatar")
        await discord_alice.send(PUBLIC, text)
        event, _ = await matrix_alice.wait_for_event(
            room, lambda e: e["content"].get("body") == text
        )
    finally:
        await discord_alice.close()
    ghost = stack.config.namer.ghost_mxid(ALICE_DISCORD)  # type: ignore[union-attr]
    assert event["sender"] == ghost
    profile = await matrix_alice.client.get_profile(ghost)
    # Server nickname first: the seed gives Alice the nick "Alice (HQ)".
    assert profile.displayname == "Alice (HQ) (Discord)"
    assert profile.avatar_url and str(profile.avatar_url).startswith("mxc://localhost/")


async def test_running_bridge_refuses_wrong_hs_token(stack: SandboxStack) -> None:
    config = stack.config
    assert config is not None
    url = f"{config.appservice.public_url}/_matrix/app/v1/transactions/forged-1"
    forged = {"events": [{"type": "m.room.message", "room_id": "!x:localhost"}]}
    async with aiohttp.ClientSession() as session:
        async with session.put(
            url, json=forged, headers={"Authorization": "Bearer not-the-token"}
        ) as resp:
            assert resp.status == 403
            assert (await resp.json())["errcode"] == "M_FORBIDDEN"
    assert not await stack.bridge.ctx.stores.txns.seen("passerelle", "forged-1")  # type: ignore[union-attr]


async def test_emulator_responses_matched_discord_openapi(stack: SandboxStack) -> None:
    """Every REST response the bridge and clients got so far validated against the spec."""
    assert stack.emulator is not None
    assert stack.emulator.contract_violations == []


async def test_one_matrix_user_cannot_flood_a_discord_channel(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    """Flood protection: beyond the burst (10 by default) a sender's messages stop at the
    bridge, and the sender is told once in the room."""
    room = await portal_room(stack, PUBLIC)
    flood = unique("flood")
    bridge = stack.bridge
    assert bridge is not None and bridge.protections is not None
    guard = bridge.protections.guard
    relaxed = guard.protections[0]
    assert relaxed.name == "flooding"
    burst = 10
    guard.protections[0] = Flooding(burst, 10)
    try:
        await _flood(stack, matrix_alice, room, flood, burst)
    finally:
        guard.protections[0] = relaxed
        guard.forget(matrix_alice.user_id)


async def _flood(
    stack: SandboxStack, matrix_alice: MatrixUser, room: str, flood: str, burst: int
) -> None:
    for i in range(burst + 3):
        await matrix_alice.send_text(room, f"{flood} #{i}")
    notice, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["sender"] == stack.config.namer.bot_mxid  # type: ignore[union-attr]
            and "not passed on to Discord" in e["content"].get("body", "")
            # Her notice: other tests' authors (e.g. test_protections') are told here too.
            and matrix_alice.user_id in e["content"].get("body", "")
        ),
    )
    assert f"more than {burst} messages" in notice["content"]["body"], notice["content"]["body"]
    await asyncio.sleep(1)
    relayed = [
        m
        for m in stack.emulator.state.messages_in(PUBLIC)  # type: ignore[union-attr]
        if flood in m["content"]
    ]
    assert burst <= len(relayed) < burst + 3
