"""Forum (type 15) and media (type 16) channels through real Synapse + the Discord
emulator + the bridge: each post is a Matrix thread in the forum's room, rooted at
its first message under the post's title and tags; replies go both ways; tag and
title changes edit the root; a Matrix message outside any thread creates a post."""

from __future__ import annotations

import io
import uuid
from typing import Any

import discord
import pytest

from bridge.ids import ChannelID, DiscordUserID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.png import solid_png
from sandbox.stack import SandboxStack
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

# #propositions: tags Logement 🏠, Transports, Urgent 🔥, Passerelle (a custom emoji)
FORUM = ChannelID(4000000000000000004)
MEDIA = ChannelID(4000000000000000005)  # #affiches: tag Affiche
BOB = DiscordUserID(2000000000000000002)


async def _true(value: bool) -> bool:
    return value


def tag() -> str:
    return uuid.uuid4().hex[:8]


def has_body(event: dict[str, Any], marker: str) -> bool:
    return event["type"] == "m.room.message" and marker in event["content"].get("body", "")


def thread_of(event: dict[str, Any]) -> str | None:
    relates = event["content"].get("m.relates_to") or {}
    return relates.get("event_id") if relates.get("rel_type") == "m.thread" else None


def edit_of(event: dict[str, Any], target: str) -> bool:
    relates = event["content"].get("m.relates_to") or {}
    return relates.get("rel_type") == "m.replace" and relates.get("event_id") == target


async def forum_channel(user: DiscordUser, channel_id: int) -> discord.ForumChannel:
    channel = user.client.get_channel(channel_id) or await user.client.fetch_channel(channel_id)
    assert isinstance(channel, discord.ForumChannel)
    return channel


def tags_named(channel: discord.ForumChannel, *names: str) -> list[discord.ForumTag]:
    by_name = {t.name: t for t in channel.available_tags}
    return [by_name[n] for n in names]


async def test_a_discord_post_is_a_matrix_thread_both_ways(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, FORUM)
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    marker, reply_marker, answer_marker = tag(), tag(), tag()
    forum = await forum_channel(discord_bob, FORUM)
    made = await forum.create_thread(
        name=f"Cheaper buses {marker}",
        content=f"Half price for students {marker}",
        applied_tags=tags_named(forum, "Logement", "Transports"),
    )
    post = made.thread
    assert made.message.id == post.id
    root, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, marker))
    assert root["sender"] == ghost
    assert root["content"]["body"] == (
        f"Cheaper buses {marker}\nTags: 🏠 Logement, Transports\n\nHalf price for students {marker}"
    )
    assert f"<strong>Cheaper buses {marker}</strong>" in root["content"]["formatted_body"]
    assert "m.relates_to" not in root["content"]  # a thread root, in the forum's room
    # A reply in the post arrives in the root's thread.
    await discord_bob.send_in_thread(post.id, f"me too {reply_marker}")
    reply, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, reply_marker))
    assert reply["sender"] == ghost and thread_of(reply) == root["event_id"]
    # The starter was relayed once: as the root, never again as a message.
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(room, lambda e: has_body(e, marker), 2)
    # Tags and title changed on Discord: the root is edited.
    await post.edit(
        name=f"Free buses {marker}", applied_tags=tags_named(forum, "Transports", "Passerelle")
    )
    edit, _ = await matrix_alice.wait_for_event(room, lambda e: edit_of(e, root["event_id"]))
    assert edit["sender"] == ghost
    assert edit["content"]["m.new_content"]["body"] == (
        f"Free buses {marker}\nTags: Transports, :passerelle: Passerelle\n\n"
        f"Half price for students {marker}"
    )
    # Element answers in the thread: the message lands in the Discord post.
    await matrix_alice.send_in_thread(
        room, root["event_id"], f"answer {answer_marker}", latest=reply["event_id"]
    )
    message, _ = await discord_bob.wait_for_message(lambda m: answer_marker in m.content)
    assert message.content == f"answer {answer_marker}"
    assert isinstance(message.channel, discord.Thread) and message.channel.id == post.id
    assert message.channel.parent_id == FORUM
    assert message.webhook_id in stack.bridge.ctx.own_webhooks  # type: ignore[union-attr]


async def test_a_matrix_message_outside_threads_creates_a_post(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, FORUM)
    marker, answer_marker = tag(), tag()
    event_id = await matrix_alice.send_text(
        room, f"Night buses {marker}\nThe last bus leaves too early."
    )
    message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
    post = message.channel
    assert isinstance(post, discord.Thread) and post.parent_id == FORUM
    assert post.name == f"Night buses {marker}" and message.id == post.id
    assert message.content == f"Night buses {marker}\nThe last bus leaves too early."
    assert message.webhook_id in stack.bridge.ctx.own_webhooks  # type: ignore[union-attr]
    # Bob answers in the post: the answer is in the Matrix thread of Alice's message.
    await discord_bob.send_in_thread(post.id, f"good idea {answer_marker}")
    answer, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, answer_marker))
    assert thread_of(answer) == event_id
    # Alice's own message does not come back from Discord.
    with pytest.raises(TimeoutError):
        await matrix_alice.wait_for_event(
            room, lambda e: has_body(e, marker) and e["sender"] != matrix_alice.user_id, 2
        )
    # Her edit reaches the post's first message (the forum's webhook, in the post).
    await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": f"* Night buses {marker}\nEdited.",
            "m.new_content": {"msgtype": "m.text", "body": f"Night buses {marker}\nEdited."},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )
    assert stack.emulator is not None
    state = stack.emulator.state
    await eventually(
        lambda: _true(state.messages[str(post.id)]["content"] == f"Night buses {marker}\nEdited."),
        "the edit did not reach the post",
    )


async def test_a_media_channel_post_with_an_attachment(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, MEDIA)
    marker = tag()
    media = await forum_channel(discord_bob, MEDIA)
    assert media.type == discord.ChannelType.media
    picture = solid_png((200, 40, 40))
    made = await media.create_thread(
        name=f"Poster {marker}",
        applied_tags=tags_named(media, "Affiche"),
        file=discord.File(io.BytesIO(picture), filename=f"poster-{marker}.png"),
    )
    root, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, f"Poster {marker}"))
    assert root["content"]["body"] == f"Poster {marker}\nTags: Affiche"
    image, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["content"].get("msgtype") == "m.image"
            and e["content"].get("body") == f"poster-{marker}.png"
        ),
    )
    assert thread_of(image) == root["event_id"]
    data, _ = await matrix_alice.download(image["content"]["url"])
    assert data == picture
    assert made.message.attachments[0].filename == f"poster-{marker}.png"


async def test_a_post_created_while_the_bridge_was_away_is_read_back(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, FORUM)
    known, marker, reply_marker = tag(), tag(), tag()
    forum = await forum_channel(discord_bob, FORUM)
    # A post Matrix has seen (backfill reads back posts newer than the newest seen).
    await forum.create_thread(name=f"Seen {known}", content=f"seen {known}")
    await matrix_alice.wait_for_event(room, lambda e: has_body(e, known))
    await stack.stop_bridge()
    try:
        made = await forum.create_thread(
            name=f"Meanwhile {marker}",
            content=f"posted while away {marker}",
            applied_tags=tags_named(forum, "Transports"),
        )
        await discord_bob.send_in_thread(made.thread.id, f"reply while away {reply_marker}")
    finally:
        await stack.start_bridge()
    root, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, marker), 30)
    assert root["content"]["body"] == (
        f"Meanwhile {marker}\nTags: Transports\n\nposted while away {marker}"
    )
    reply, _ = await matrix_alice.wait_for_event(room, lambda e: has_body(e, reply_marker), 30)
    assert thread_of(reply) == root["event_id"]
    assert reply["origin_server_ts"] >= root["origin_server_ts"]


async def test_a_forum_requiring_tags_refuses_matrix_posts_with_a_plain_notice(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    from sandbox.discord.forums import REQUIRE_TAG

    assert stack.emulator is not None
    room = await room_of(stack, FORUM)
    forum = stack.emulator.state.channels[str(FORUM)]
    forum.flags |= REQUIRE_TAG  # set on Discord by a moderator
    try:
        event_id = await matrix_alice.send_text(room, f"Untagged idea {tag()}")
        notice, _ = await matrix_alice.wait_for_event(
            room,
            lambda e: (
                e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
                == event_id
            ),
            timeout=30,
        )
    finally:
        forum.flags &= ~REQUIRE_TAG
    assert notice["sender"] == stack.config.namer.bot_mxid  # type: ignore[union-attr]
    assert "requires tags on new posts" in notice["content"]["body"]
    assert "reply in a post's thread instead" in notice["content"]["body"]
