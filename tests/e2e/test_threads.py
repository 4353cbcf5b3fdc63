"""Threads through real Synapse + the Discord emulator + the bridge: Discord threads
are Matrix threads (``m.thread``) in the parent channel's portal room, both ways."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import discord
import pytest

from bridge.ids import ChannelID, DiscordUserID, EventID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import recorded

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)
BOT = "1000000000000000001"


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def room_of(stack: SandboxStack, channel: ChannelID) -> str:
    portal = await stack.bridge.ctx.stores.portals.by_channel(channel)  # type: ignore[union-attr]
    assert portal is not None
    return portal.room_id


def has_body(event: dict[str, Any], marker: str) -> bool:
    return event["type"] == "m.room.message" and marker in event["content"].get("body", "")


def thread_of(event: dict[str, Any]) -> str | None:
    relates = event["content"].get("m.relates_to") or {}
    return relates.get("event_id") if relates.get("rel_type") == "m.thread" else None


async def test_discord_thread_becomes_a_matrix_thread_and_back(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    root_marker, inside_marker, reply_marker = tag(), tag(), tag()
    starter = await discord_bob.send(PUBLIC, f"thread starter {root_marker}")
    root, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, root_marker))
    thread = await discord_bob.start_thread(starter, f"Talk {root_marker}")
    assert thread.id == starter.id
    await discord_bob.send_in_thread(thread.id, f"inside {inside_marker}")
    inside, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, inside_marker))
    assert inside["sender"] == ghost
    relates = inside["content"]["m.relates_to"]
    assert relates["rel_type"] == "m.thread" and relates["event_id"] == root["event_id"]
    assert relates["is_falling_back"] is True
    # Element replies in the thread: the message lands in the Discord thread.
    event_id = await matrix_alice.send_in_thread(
        room, root["event_id"], f"reply {reply_marker}", latest=inside["event_id"]
    )
    message, _ = await discord_bob.wait_for_message(lambda m: reply_marker in m.content)
    assert message.content == f"reply {reply_marker}"  # no quote: the fallback is no reply
    assert isinstance(message.channel, discord.Thread) and message.channel.id == thread.id
    assert message.webhook_id in stack.bridge.ctx.own_webhooks  # type: ignore[union-attr]
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_event(EventID(event_id)))
    assert [(r.discord_message_id, r.discord_channel_id) for r in rows] == [(message.id, thread.id)]
    # Nothing echoes back: the webhook message does not come back to Matrix.
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room, lambda e: has_body(e, reply_marker) and e["sender"] != matrix_alice.user_id, 2
        )
    # A Matrix edit and redaction of the thread message reach the thread's message.
    emu = stack.emulator
    assert emu is not None
    await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": f"* edited {reply_marker}",
            "m.new_content": {"msgtype": "m.text", "body": f"edited {reply_marker}"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )
    await _until(lambda: emu.state.messages[str(message.id)]["content"] == f"edited {reply_marker}")
    await matrix_alice.redact(room, event_id)
    await _until(lambda: str(message.id) not in emu.state.messages)


async def test_matrix_thread_on_discord_message_starts_a_discord_thread(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    root_marker, first_marker, second_marker = tag(), tag(), tag()
    starter = await discord_bob.send(PUBLIC, f"Let us plan the march {root_marker}")
    root, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, root_marker))
    await matrix_alice.send_in_thread(room, root["event_id"], f"first {first_marker}")
    message, _ = await discord_bob.wait_for_message(lambda m: first_marker in m.content)
    assert isinstance(message.channel, discord.Thread)
    assert message.channel.id == starter.id and message.channel.parent_id == PUBLIC
    emu = stack.emulator
    assert emu is not None
    thread = emu.state.channels[str(starter.id)]
    assert thread.owner_id == BOT and thread.name == f"Let us plan the march {root_marker}"
    assert emu.state.messages[str(starter.id)]["thread"]["id"] == str(starter.id)
    # The next Matrix message goes into the same thread; bob answers there, and his
    # answer comes back into the Matrix thread.
    await matrix_alice.send_in_thread(room, root["event_id"], f"second {second_marker}")
    second, _ = await discord_bob.wait_for_message(lambda m: second_marker in m.content)
    assert second.channel.id == starter.id
    assert [t for t in emu.state.channels.values() if t.parent_id == str(PUBLIC)].count(thread) == 1
    answer_marker = tag()
    await discord_bob.send_in_thread(starter.id, f"answer {answer_marker}")
    answer, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, answer_marker))
    assert thread_of(answer) == root["event_id"]
    # No echo of the Matrix messages posted into the thread.
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room, lambda e: has_body(e, first_marker) and e["sender"] != matrix_alice.user_id, 2
        )


async def test_discord_thread_without_starter_gets_a_root(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker, inside_marker = tag(), tag()
    channel = discord_bob.client.get_channel(PUBLIC)
    assert isinstance(channel, discord.TextChannel)
    thread = await channel.create_thread(
        name=f"Loose {marker}", type=discord.ChannelType.public_thread
    )
    root, _ = await matrix_alice.wait_for_event(
        room, lambda e: has_body(e, f"Thread: Loose {marker}")
    )
    assert root["sender"] == stack.config.namer.bot_mxid  # type: ignore[union-attr]
    assert root["content"]["msgtype"] == "m.notice"
    await discord_bob.send_in_thread(thread.id, f"loose talk {inside_marker}")
    inside, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, inside_marker))
    assert thread_of(inside) == root["event_id"]


async def _until(check: Any, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_media_and_reactions_stay_in_their_thread(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    from sandbox.discord.png import solid_png

    room = await room_of(stack, PUBLIC)
    root_marker, file_marker = tag(), tag()
    starter = await discord_bob.send(PUBLIC, f"pictures here {root_marker}")
    root, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, root_marker))
    thread = await discord_bob.start_thread(starter, f"Pictures {root_marker}")
    # Discord -> Matrix: a text with an image in the thread: both events in the thread.
    picture = solid_png((10, 120, 200))
    discord_thread = discord_bob.client.get_channel(
        thread.id
    ) or await discord_bob.client.fetch_channel(thread.id)
    assert isinstance(discord_thread, discord.Thread)
    posted = await discord_thread.send(
        f"look {file_marker}", file=discord.File(io.BytesIO(picture), filename="blue.png")
    )
    text, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, file_marker))
    image, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["content"].get("msgtype") == "m.image" and e["content"].get("body") == "blue.png"
        ),
    )
    assert thread_of(text) == root["event_id"] and thread_of(image) == root["event_id"]
    assert image["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == text["event_id"]
    # A Discord reaction on the thread message reaches Matrix.
    await discord_bob.react(thread.id, posted.id, "\N{THUMBS UP SIGN}")
    reaction, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == "m.reaction"
            and e["content"].get("m.relates_to", {}).get("event_id") == text["event_id"]
        ),
    )
    assert reaction["content"]["m.relates_to"]["key"] == "\N{THUMBS UP SIGN}"
    # Matrix -> Discord: an image sent in the Matrix thread lands in the Discord thread.
    mxc = await matrix_alice.upload(picture, "image/png", "reply.png")
    await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.image",
            "body": "reply.png",
            "url": mxc,
            "info": {"mimetype": "image/png", "size": len(picture)},
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root["event_id"],
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": image["event_id"]},
            },
        },
    )
    message, _ = await discord_bob.wait_for_message(
        lambda m: any(a.filename == "reply.png" for a in m.attachments)
    )
    assert isinstance(message.channel, discord.Thread) and message.channel.id == thread.id
    assert await message.attachments[0].read() == picture


def redacts(event: dict[str, Any]) -> str | None:
    if event["type"] != "m.room.redaction":
        return None
    return event.get("redacts") or event["content"].get("redacts")


async def test_thread_renamed_then_deleted_on_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """A rename edits the bot's root; a deletion (by a moderator) takes the thread off
    Matrix too: its messages, a Matrix reply in it, and the root are redacted."""
    room = await room_of(stack, PUBLIC)
    marker, inside_marker, reply_marker = tag(), tag(), tag()
    channel = discord_bob.client.get_channel(PUBLIC)
    assert isinstance(channel, discord.TextChannel)
    thread = await channel.create_thread(
        name=f"Draft {marker}", type=discord.ChannelType.public_thread
    )
    root, _ = await matrix_alice.wait_for_event(
        room, lambda e: has_body(e, f"Thread: Draft {marker}")
    )
    await discord_bob.send_in_thread(thread.id, f"inside {inside_marker}")
    inside, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, inside_marker))
    reply = await matrix_alice.send_in_thread(
        room, root["event_id"], f"reply {reply_marker}", inside["event_id"]
    )
    await discord_bob.wait_for_message(lambda m: reply_marker in m.content)

    await thread.edit(name=f"Final {marker}")
    edit, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
            and e["content"]["m.relates_to"].get("event_id") == root["event_id"]
        ),
    )
    assert edit["sender"] == stack.config.namer.bot_mxid  # type: ignore[union-attr]
    assert edit["content"]["m.new_content"]["body"] == f"Thread: Final {marker}"
    # Archiving is a THREAD_UPDATE too, but with the same name: nothing is sent.
    await thread.edit(archived=True)

    owner_token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    owner = DiscordUser(stack.emulator.api_base, owner_token)  # type: ignore[union-attr]
    await owner.start()
    try:
        await owner.client.http.delete_channel(thread.id)
    finally:
        await owner.close()
    expected = {inside["event_id"], reply, root["event_id"]}
    seen: set[str] = set()
    while seen != expected:  # (the room is shared with other tests' redactions)
        redaction, _ = await matrix_alice.wait_for_event(room, lambda e: redacts(e) in expected)
        assert redaction["content"].get("reason") == "Thread deleted on Discord"
        seen.add(str(redacts(redaction)))
    # The archive did not produce a second edit of the root.
    assert not any(
        e["content"].get("m.relates_to", {}).get("event_id") == root["event_id"]
        and e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
        for _, e in matrix_alice._backlog
    )
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    assert await stores.threads.by_thread(ChannelID(thread.id)) is None
    assert await stores.messages.in_channel(ChannelID(thread.id)) == []
