"""A restarted bridge keeps its portals, ghosts and webhook, and relays at once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from bridge.ids import ChannelID, DiscordUserID, MessageID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.test_reactions import is_reaction, is_redaction_of
from tests.e2e.waits import eventually, recorded, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)


async def test_restart_reuses_portals_and_webhook(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.bridge is not None and stack.emulator is not None
    portals_before = await stack.bridge.ctx.stores.portals.all()
    room = await room_of(stack, PUBLIC)
    # The channel's webhook exists once a Matrix message has crossed (also when run alone).
    warm_up = f"before restart m2d {uuid.uuid4().hex[:8]}"
    await matrix_alice.send_text(room, warm_up)
    await discord_bob.wait_for_message(lambda m: m.content == warm_up)
    webhook_before = await stack.bridge.ctx.stores.webhooks.get(PUBLIC)
    await stack.stop_bridge()
    bridge = await stack.start_bridge()
    assert await bridge.ctx.stores.portals.all() == portals_before
    # (Channels created by earlier tests may sort before it.)
    room = next(p.room_id for p in portals_before if p.discord_channel_id == PUBLIC)

    text = f"after restart d2m {uuid.uuid4().hex[:8]}"
    await discord_bob.send(PUBLIC, text)
    await matrix_alice.wait_for_event(room, lambda e: e["content"].get("body") == text)

    text = f"after restart m2d {uuid.uuid4().hex[:8]}"
    await matrix_alice.send_text(room, text)
    message, _ = await discord_bob.wait_for_message(lambda m: m.content == text)
    assert webhook_before is not None
    assert message.webhook_id == webhook_before.webhook_id
    hooks = [
        w for w in stack.emulator.state.webhooks.values() if str(w["channel_id"]) == str(PUBLIC)
    ]
    assert len(hooks) == 1, "the bridge must reuse its webhook, not create another"


async def test_replies_and_edits_to_messages_from_before_a_restart(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.bridge is not None
    room = await room_of(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    original = await discord_bob.send(PUBLIC, f"before the restart {marker}")
    first, _ = await matrix_alice.wait_for_event(
        room, lambda e: marker in e["content"].get("body", "")
    )
    await stack.stop_bridge()
    await stack.start_bridge()
    # Discord reply and edit of a pre-restart message map to its Matrix event.
    reply_marker = uuid.uuid4().hex[:8]
    await original.reply(f"reply {reply_marker}")
    reply, _ = await matrix_alice.wait_for_event(
        room, lambda e: reply_marker in e["content"].get("body", "")
    )
    assert reply["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == first["event_id"]
    await original.edit(content=f"edited after restart {marker}")
    edit, _ = await matrix_alice.wait_for_event(
        room, lambda e: "edited after restart" in e["content"].get("body", "")
    )
    assert edit["content"]["m.relates_to"] == {
        "rel_type": "m.replace",
        "event_id": first["event_id"],
    }
    # A Matrix reply to it quotes the right Discord message.
    m2d_marker = uuid.uuid4().hex[:8]
    await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": f"answer {m2d_marker}",
            "m.relates_to": {"m.in_reply_to": {"event_id": first["event_id"]}},
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: m2d_marker in m.content)
    assert f"/{PUBLIC}/{original.id}>)" in message.content.split("\n")[0]


async def test_thread_messages_sent_while_down_are_backfilled(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.bridge is not None
    room = await room_of(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    starter = await discord_bob.send(PUBLIC, f"thread starter {marker}")
    root, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["content"].get("body") == f"thread starter {marker}"
    )
    thread = await discord_bob.start_thread(starter, f"thread {marker}")
    first = await discord_bob.send_in_thread(thread.id, f"in the thread {marker}")
    await matrix_alice.wait_for_event(
        room, lambda e: e["content"].get("body") == f"in the thread {marker}"
    )
    await recorded(lambda: stack.bridge.ctx.stores.messages.by_discord(MessageID(first.id)))  # type: ignore[union-attr]
    await stack.stop_bridge()
    await discord_bob.send_in_thread(thread.id, f"while down {marker}")
    await stack.start_bridge()
    late, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["content"].get("body") == f"while down {marker}"
    )
    relation = late["content"]["m.relates_to"]
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == root["event_id"]


async def test_reactions_made_while_down_are_reconciled(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """Bob adds one reaction and takes back another while the bridge is stopped: after
    the start, the new one is his ghost's and the old one is redacted; Alice's reaction
    (shown on Discord by the bot) is left alone."""
    assert stack.bridge is not None and stack.emulator is not None
    room = await room_of(stack, PUBLIC)
    ghost = stack.bridge.ctx.namer.ghost_mxid(BOB)
    text = f"react while down {uuid.uuid4().hex[:8]}"
    message = await discord_bob.send(PUBLIC, text)
    target_event, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text
    )
    target = target_event["event_id"]
    await discord_bob.react(PUBLIC, message.id, "👍")
    thumbs, _ = await matrix_alice.wait_for_event(room, is_reaction(target, "👍"))
    assert thumbs["sender"] == ghost
    alice_rocket = await matrix_alice.react(room, target, "🚀")
    bot = int(next(u["id"] for u in stack.seed["users"] if u.get("bot")))
    await eventually(
        lambda: discord_bob.reactors(PUBLIC, message.id, "🚀"), "the bot shows Alice's 🚀"
    )
    assert await discord_bob.reactors(PUBLIC, message.id, "🚀") == [bot]
    stores = stack.bridge.ctx.stores
    await eventually(
        lambda: stores.reactions.by_discord_user(MessageID(message.id), "👍", BOB),
        "Bob's 👍 recorded",
    )

    await stack.stop_bridge()
    await discord_bob.unreact(PUBLIC, message.id, "👍")
    await discord_bob.react(PUBLIC, message.id, "🎉")
    bridge = await stack.start_bridge()

    party, _ = await matrix_alice.wait_for_event(room, is_reaction(target, "🎉"), timeout=30)
    assert party["sender"] == ghost
    await matrix_alice.wait_for_event(room, is_redaction_of(thumbs["event_id"]), timeout=30)
    stores = bridge.ctx.stores
    assert await stores.reactions.by_discord_user(MessageID(message.id), "👍", BOB) is None
    row = await stores.reactions.by_discord_user(MessageID(message.id), "🎉", BOB)
    assert row is not None and row.event_id == party["event_id"]

    # Another restart (another backfill) relays nothing twice, and Alice's 🚀 stays on
    # both sides: the bot's reaction is never a ghost's.
    await bridge.d2m_queues.drain()
    await stack.stop_bridge()
    bridge = await stack.start_bridge()
    await bridge.d2m_queues.drain()
    await asyncio.sleep(0.5)
    annotations = await relations(matrix_alice, room, target)
    shown = sorted((a["sender"], a["content"]["m.relates_to"]["key"]) for a in annotations)
    assert shown == sorted([(matrix_alice.user_id, "🚀"), (ghost, "🎉")])
    assert any(a["event_id"] == alice_rocket for a in annotations)
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room,
            lambda e: (
                (is_reaction(target)(e) and e["event_id"] != alice_rocket)
                or is_redaction_of(alice_rocket)(e)
                or is_redaction_of(party["event_id"])(e)
            ),
            timeout=1,
        )
    assert await discord_bob.reactors(PUBLIC, message.id, "🚀") == [bot]
    assert stack.emulator.contract_violations == []


async def relations(user: MatrixUser, room: str, event_id: str) -> list[dict[str, Any]]:
    """The room's current (unredacted) ``m.annotation`` events on ``event_id``."""
    path = f"/_matrix/client/v1/rooms/{room}/relations/{event_id}/m.annotation"
    headers = {"Authorization": f"Bearer {user.client.api.token}"}
    async with user.session.get(f"{user.client.api.base_url}{path}", headers=headers) as resp:
        resp.raise_for_status()
        chunk: list[dict[str, Any]] = (await resp.json())["chunk"]
    return [e for e in chunk if e.get("content", {}).get("m.relates_to")]
