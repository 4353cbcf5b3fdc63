"""Forum and media posts in the emulator: created by a user with their first message
or by a webhook with ``thread_name`` (responses validated against the OpenAPI spec),
REQUIRE_TAG, the dispatches discord.py sees, and the guild's active threads."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from sandbox.discord import forums
from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import BOB, GUILD, TOKENS


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def forum_of(emu: Emulator, kind: int = 15) -> tuple[str, list[str]]:
    forum = emu.create_channel(
        GUILD,
        "ideas",
        type=kind,
        available_tags=[{"name": "Housing", "emoji_name": "🏠"}, {"name": "Transport"}],
    )
    return forum, [t["id"] for t in emu.state.channels[forum].available_tags]


async def test_a_user_creates_a_post_with_its_first_message(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    forum, tags = forum_of(emu)
    body = {"name": "Cheaper buses", "applied_tags": [tags[1]], "message": {"content": "Hi"}}
    post = await call(
        api, contract, "POST", f"/channels/{forum}/threads", TOKENS[BOB], 201, json=body
    )
    assert post["type"] == 11 and post["parent_id"] == forum and post["owner_id"] == BOB
    assert post["applied_tags"] == [tags[1]] and post["name"] == "Cheaper buses"
    assert post["message"]["id"] == post["id"] and post["message"]["channel_id"] == post["id"]
    assert emu.state.messages_in(post["id"])[0]["content"] == "Hi"
    assert emu.state.channels[forum].last_message_id == post["id"]
    # Nothing can be posted in the forum itself; a webhook must name a post.
    await call(
        api,
        contract,
        "POST",
        f"/channels/{forum}/messages",
        TOKENS[BOB],
        400,
        json={"content": "x"},
    )
    hook = await call(api, contract, "POST", f"/channels/{forum}/webhooks", json={"name": "Relay"})
    base = f"/webhooks/{hook['id']}/{hook['token']}"
    refused = await call(api, contract, "POST", base, None, 400, json={"content": "loose"})
    assert refused["code"] == 220001
    # With thread_name: a new post whose starter is the webhook's message.
    sent = await call(
        api,
        contract,
        "POST",
        base + "?wait=true",
        None,
        json={"content": "From Matrix", "thread_name": "A new idea", "username": "Alice"},
    )
    created = emu.state.channels[sent["id"]]
    assert created.parent_id == forum and created.name == "A new idea"
    assert sent["channel_id"] == sent["id"] and sent["webhook_id"] == hook["id"]
    # Replies with ?thread_id= land in the post.
    reply = await call(
        api,
        contract,
        "POST",
        f"{base}?wait=true&thread_id={post['id']}",
        None,
        json={"content": "Agreed"},
    )
    assert reply["channel_id"] == post["id"]
    active = await call(api, contract, "GET", f"/guilds/{GUILD}/threads/active")
    assert {post["id"], sent["id"]} <= {t["id"] for t in active["threads"]}


async def test_require_tag_and_unknown_tags(api: Api, contract: Contract, emu: Emulator) -> None:
    forum, tags = forum_of(emu)
    emu.state.channels[forum].flags |= forums.REQUIRE_TAG
    path = f"/channels/{forum}/threads"
    bare = {"name": "No tag", "message": {"content": "x"}}
    refused = await call(api, contract, "POST", path, TOKENS[BOB], 400, json=bare)
    assert refused["code"] == 40067
    wrong = {**bare, "applied_tags": ["1"]}
    await call(api, contract, "POST", path, TOKENS[BOB], 400, json=wrong)
    assert [c for c in emu.state.channels.values() if c.parent_id == forum] == []
    await call(api, contract, "POST", path, TOKENS[BOB], 201, json={**bare, "applied_tags": tags})


async def test_discordpy_sees_the_post_then_its_starter(
    emu: Emulator, start_client: StartClient
) -> None:
    forum, tags = forum_of(emu, kind=16)
    watcher = await start_client(TOKENS[BOB])
    created: asyncio.Queue[discord.Thread] = asyncio.Queue()
    watcher.client.event(created_handler(created))
    channel = watcher.client.get_channel(int(forum))
    assert isinstance(channel, discord.ForumChannel) and channel.type.value == 16
    tag = next(t for t in channel.available_tags if str(t.id) == tags[0])
    made = await channel.create_thread(
        name="Poster",
        content="Our new poster",
        applied_tags=[tag],
        file=discord.File(io.BytesIO(b"\x89PNG fake"), filename="poster.png"),
    )
    assert made.message.id == made.thread.id and made.message.attachments
    thread = await asyncio.wait_for(created.get(), 5)
    assert thread.id == made.thread.id and [t.name for t in thread.applied_tags] == ["Housing"]
    message = await watcher.next_message()
    assert message.id == thread.id and message.channel.id == thread.id
    assert message.attachments[0].filename == "poster.png"


def created_handler(queue: asyncio.Queue[discord.Thread]):  # type: ignore[no-untyped-def]
    async def on_thread_create(thread: discord.Thread) -> None:
        queue.put_nowait(thread)

    return on_thread_create
