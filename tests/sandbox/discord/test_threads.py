"""Threads in the emulator: REST (validated against the OpenAPI spec), permissions,
dispatches, and real discord.py clients starting and using threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from sandbox.discord import permissions as perms
from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import (
    ALICE,
    BOB,
    BOT,
    CAMPAIGN,
    CAROL,
    EVERYONE_ROLE,
    GUILD,
    MEMBERS,
    TOKENS,
    make_seed,
)

THREAD_PERMS = perms.CREATE_PUBLIC_THREADS | perms.CREATE_PRIVATE_THREADS
THREAD_PERMS |= perms.SEND_MESSAGES_IN_THREADS


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """The test world with Discord's default @everyone thread permissions."""
    seed = make_seed()
    for role in seed["guilds"][0]["roles"]:
        if role["id"] == EVERYONE_ROLE:
            role["permissions"] = str(int(role["permissions"]) | THREAD_PERMS)
    emulator = Emulator(seed, validate_responses=True)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.contract_violations == []


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


async def post(api: Api, contract: Contract, channel: str, text: str, who: str = BOB) -> Any:
    body = {"content": text}
    return await call(
        api, contract, "POST", f"/channels/{channel}/messages", TOKENS[who], json=body
    )


async def test_thread_from_message(api: Api, contract: Contract, emu: Emulator) -> None:
    starter = await post(api, contract, CAMPAIGN, "let's discuss")
    thread = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages/{starter['id']}/threads",
        TOKENS[BOB],
        expect=201,
        json={"name": "Discussion", "auto_archive_duration": 60},
    )
    assert thread["id"] == starter["id"]  # Discord: the thread takes the message's id
    assert thread["type"] == 11 and thread["parent_id"] == CAMPAIGN
    assert thread["owner_id"] == BOB and thread["member_count"] == 1
    assert thread["thread_metadata"]["archived"] is False
    assert thread["thread_metadata"]["auto_archive_duration"] == 60
    # The starter message now carries the thread.
    got = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{starter['id']}")
    assert got["thread"]["id"] == thread["id"]
    # Posting in the thread: the thread is the message's channel; positions count up.
    first = await post(api, contract, thread["id"], "first in thread")
    second = await post(api, contract, thread["id"], "second", who=ALICE)
    assert first["channel_id"] == thread["id"]
    assert (first["position"], second["position"]) == (0, 1)
    fetched = await call(api, contract, "GET", f"/channels/{thread['id']}")
    assert fetched["message_count"] == 2 and fetched["total_message_sent"] == 2
    assert fetched["member_count"] == 2  # alice joined by posting
    history = await call(api, contract, "GET", f"/channels/{thread['id']}/messages")
    assert [m["content"] for m in history] == ["second", "first in thread"]
    assert [m["id"] for m in emu.state.messages_in(CAMPAIGN)] == [starter["id"]]
    got = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{starter['id']}")
    assert got["thread"]["message_count"] == 2
    # One thread per message; no thread from a message inside a thread.
    status, body, _ = await api.call(
        "POST",
        f"/channels/{CAMPAIGN}/messages/{starter['id']}/threads",
        TOKENS[BOB],
        json={"name": "again"},
    )
    assert (status, body["code"]) == (400, 160004)
    status, body, _ = await api.call(
        "POST",
        f"/channels/{thread['id']}/messages/{first['id']}/threads",
        TOKENS[BOB],
        json={"name": "nested"},
    )
    assert (status, body["code"]) == (400, 50024)
    status, body, _ = await api.call(
        "POST",
        f"/channels/{CAMPAIGN}/messages/{first['id']}/threads",
        TOKENS[BOB],
        json={"name": "x"},
    )
    assert (status, body["code"]) == (404, 10008)  # the message is in the thread, not here
    other = await post(api, contract, CAMPAIGN, "another")
    status, body, _ = await api.call(
        "POST",
        f"/channels/{CAMPAIGN}/messages/{other['id']}/threads",
        TOKENS[BOB],
        json={"name": ""},
    )
    assert (status, body["code"]) == (400, 50035)


async def test_thread_without_message_and_private_threads(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    public = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/threads",
        TOKENS[BOB],
        expect=201,
        json={"name": "Open topic", "type": 11},
    )
    assert public["type"] == 11 and public["id"] not in emu.state.messages
    # Discord leaves a THREAD_CREATED (type 18) notice in the parent.
    notice = emu.state.messages_in(CAMPAIGN)[-1]
    assert notice["type"] == 18 and notice["message_reference"]["channel_id"] == public["id"]
    await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages")
    private = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/threads",
        TOKENS[BOB],
        expect=201,
        json={"name": "Secret", "type": 12, "invitable": False},
    )
    assert private["type"] == 12 and private["thread_metadata"]["invitable"] is False
    assert emu.state.messages_in(CAMPAIGN)[-1]["id"] == notice["id"]  # no notice
    # A private thread: its members and thread managers only.
    await call(api, contract, "GET", f"/channels/{private['id']}", TOKENS[BOB])
    await call(api, contract, "GET", f"/channels/{private['id']}", TOKENS[BOT])
    await call(api, contract, "GET", f"/channels/{private['id']}", TOKENS[ALICE])  # owner
    status, body, _ = await api.call("GET", f"/channels/{private['id']}", TOKENS[CAROL])
    assert (status, body["code"]) == (403, 50001)
    # Threads of a channel someone cannot see are invisible to them too.
    hidden = await call(
        api,
        contract,
        "POST",
        f"/channels/{MEMBERS}/threads",
        TOKENS[ALICE],
        expect=201,
        json={"name": "members talk", "type": 11},
    )
    status, body, _ = await api.call("GET", f"/channels/{hidden['id']}", TOKENS[BOB])
    assert (status, body["code"]) == (403, 50001)


async def test_thread_permissions_follow_the_parent(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    starter = await post(api, contract, CAMPAIGN, "start")
    # Deny thread creation and posting in threads to @everyone in #campaign.
    deny = {"type": 0, "allow": "0", "deny": str(THREAD_PERMS)}
    await call(
        api,
        contract,
        "PUT",
        f"/channels/{CAMPAIGN}/permissions/{EVERYONE_ROLE}",
        expect=204,
        json=deny,
    )
    status, body, _ = await api.call(
        "POST",
        f"/channels/{CAMPAIGN}/messages/{starter['id']}/threads",
        TOKENS[BOB],
        json={"name": "nope"},
    )
    assert (status, body["code"]) == (403, 50013)
    # The bot (administrator) still may; bob may not post in it.
    thread = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages/{starter['id']}/threads",
        expect=201,
        json={"name": "bot thread"},
    )
    status, body, _ = await api.call(
        "POST", f"/channels/{thread['id']}/messages", TOKENS[BOB], json={"content": "hi"}
    )
    assert (status, body["code"]) == (403, 50013)
    # Plain messages in the parent still work (SEND_MESSAGES is separate).
    await post(api, contract, CAMPAIGN, "still here")


async def test_archive_lock_and_delete(api: Api, contract: Contract, emu: Emulator) -> None:
    starter = await post(api, contract, CAMPAIGN, "topic")
    thread = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages/{starter['id']}/threads",
        TOKENS[BOB],
        expect=201,
        json={"name": "Topic"},
    )
    tid = thread["id"]
    # The owner renames and archives; posting unarchives.
    patched = await call(
        api,
        contract,
        "PATCH",
        f"/channels/{tid}",
        TOKENS[BOB],
        json={"name": "Renamed", "archived": True},
    )
    assert patched["name"] == "Renamed" and patched["thread_metadata"]["archived"] is True
    await post(api, contract, tid, "wake up")
    assert emu.state.channels[tid].thread_metadata["archived"] is False  # type: ignore[index]
    # Locking needs MANAGE_THREADS; a locked thread refuses ordinary posters.
    status, body, _ = await api.call(
        "PATCH", f"/channels/{tid}", TOKENS[BOB], json={"locked": True}
    )
    assert (status, body["code"]) == (403, 50013)
    await call(api, contract, "PATCH", f"/channels/{tid}", json={"locked": True})
    status, body, _ = await api.call(
        "POST", f"/channels/{tid}/messages", TOKENS[BOB], json={"content": "let me in"}
    )
    assert (status, body["code"]) == (400, 50083)
    await post(api, contract, tid, "moderator note", who=BOT)
    # Deleting: MANAGE_THREADS; the thread's messages go with it, the starter stays.
    status, body, _ = await api.call("DELETE", f"/channels/{tid}", TOKENS[BOB])
    assert (status, body["code"]) == (403, 50013)
    deleted = await call(api, contract, "DELETE", f"/channels/{tid}")
    assert deleted["id"] == tid
    assert tid not in emu.state.channels and emu.state.messages_in(tid) == []
    got = await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages/{starter['id']}")
    assert "thread" not in got
    # Deleting the parent channel (MANAGE_CHANNELS) takes its threads along.
    other = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/threads",
        json={"name": "x", "type": 11},
        expect=201,
    )
    status, body, _ = await api.call("DELETE", f"/channels/{CAMPAIGN}", TOKENS[BOB])
    assert (status, body["code"]) == (403, 50013)
    await call(api, contract, "DELETE", f"/channels/{CAMPAIGN}")
    assert CAMPAIGN not in emu.state.channels and other["id"] not in emu.state.channels


async def test_webhook_posts_edits_and_deletes_in_a_thread(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    hook = await call(
        api, contract, "POST", f"/channels/{CAMPAIGN}/webhooks", json={"name": "Relay"}
    )
    base = f"/webhooks/{hook['id']}/{hook['token']}"
    starter = await post(api, contract, CAMPAIGN, "root")
    thread = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages/{starter['id']}/threads",
        expect=201,
        json={"name": "Root"},
    )
    tid = thread["id"]
    sent = await call(
        api,
        contract,
        "POST",
        f"{base}?wait=true&thread_id={tid}",
        None,
        json={"content": "from Matrix", "username": "Alice (Matrix)"},
    )
    assert sent["channel_id"] == tid and sent["webhook_id"] == hook["id"]
    assert emu.state.messages_in(tid)[-1]["id"] == sent["id"]
    # A thread message is only found with its thread_id.
    status, body, _ = await api.call("GET", f"{base}/messages/{sent['id']}")
    assert (status, body["code"]) == (404, 10008)
    msg_path = f"{base}/messages/{sent['id']}"
    await call(api, contract, "GET", f"{msg_path}?thread_id={tid}", None)
    edited = await call(
        api, contract, "PATCH", f"{msg_path}?thread_id={tid}", None, json={"content": "edited"}
    )
    assert edited["content"] == "edited" and edited["channel_id"] == tid
    await call(api, contract, "DELETE", f"{msg_path}?thread_id={tid}", None, expect=204)
    assert emu.state.messages_in(tid) == []
    # Only threads of the webhook's own channel.
    other = await call(
        api,
        contract,
        "POST",
        f"/channels/{MEMBERS}/threads",
        TOKENS[ALICE],
        expect=201,
        json={"name": "elsewhere", "type": 11},
    )
    status, body, _ = await api.call(
        "POST", f"{base}?wait=true&thread_id={other['id']}", json={"content": "x"}
    )
    assert (status, body["code"]) == (404, 10003)


async def test_discordpy_clients_start_and_use_threads(
    start_client: StartClient, emu: Emulator
) -> None:
    bot = await start_client(TOKENS[BOT])
    bob = await start_client(TOKENS[BOB])
    created: asyncio.Queue[discord.Thread] = asyncio.Queue()
    updated: asyncio.Queue[discord.Thread] = asyncio.Queue()
    removed: asyncio.Queue[discord.RawThreadDeleteEvent] = asyncio.Queue()

    @bot.client.event
    async def on_thread_create(thread: discord.Thread) -> None:
        created.put_nowait(thread)

    @bot.client.event
    async def on_thread_update(before: discord.Thread, after: discord.Thread) -> None:
        updated.put_nowait(after)

    @bot.client.event
    async def on_raw_thread_delete(event: discord.RawThreadDeleteEvent) -> None:
        removed.put_nowait(event)

    channel = bob.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    starter = await channel.send("a message worth a thread")
    await bot.next_message()
    thread = await starter.create_thread(name="Worth it")
    assert thread.id == starter.id and thread.parent_id == int(CAMPAIGN)
    seen = await asyncio.wait_for(created.get(), 5)
    assert seen.id == thread.id and seen.name == "Worth it" and seen.owner_id == int(BOB)
    await thread.send("inside the thread")
    inside = await bot.next_message()
    assert isinstance(inside.channel, discord.Thread)
    assert inside.channel.id == thread.id and inside.channel.parent_id == int(CAMPAIGN)
    assert inside.content == "inside the thread"
    # A thread without a starter message, then archived and deleted.
    loose = await channel.create_thread(name="Loose", type=discord.ChannelType.public_thread)
    assert (await asyncio.wait_for(created.get(), 5)).id == loose.id
    await loose.edit(archived=True)
    assert (await asyncio.wait_for(updated.get(), 5)).archived is True
    assert bot.client.get_channel(loose.id) is None  # discord.py drops archived threads
    bot_side = await bot.client.fetch_channel(loose.id)
    assert isinstance(bot_side, discord.Thread) and bot_side.archived
    await bot_side.delete()
    assert (await asyncio.wait_for(removed.get(), 5)).thread_id == loose.id
    # A client connecting now gets the live threads in GUILD_CREATE.
    late = await start_client(TOKENS[ALICE])
    guild = late.client.get_guild(int(GUILD))
    assert guild is not None and [t.id for t in guild.threads] == [thread.id]
    # A webhook through discord.py posts into the thread.
    bot_channel = bot.client.get_channel(int(CAMPAIGN))
    assert isinstance(bot_channel, discord.TextChannel)
    hook = await bot_channel.create_webhook(name="Relay")
    via = await hook.send("hooked", thread=discord.Object(thread.id), wait=True)
    assert via.channel.id == thread.id
    await hook.edit_message(via.id, content="rehooked", thread=discord.Object(thread.id))
    await hook.delete_message(via.id, thread=discord.Object(thread.id))
    assert [m["content"] for m in emu.state.messages_in(thread.id)] == ["inside the thread"]


async def test_thread_dispatches_respect_visibility(
    start_client: StartClient, emu: Emulator, api: Api
) -> None:
    bob = await start_client(TOKENS[BOB])
    events: list[str] = []

    @bob.client.event
    async def on_thread_create(thread: discord.Thread) -> None:
        events.append(f"create:{thread.name}")

    # alice opens a thread in #members, which bob cannot see, then one in #campaign.
    for channel, name in ((MEMBERS, "hidden"), (CAMPAIGN, "visible")):
        status, _, _ = await api.call(
            "POST", f"/channels/{channel}/threads", TOKENS[ALICE], json={"name": name, "type": 11}
        )
        assert status == 201
    for _ in range(50):
        if events:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert events == ["create:visible"]
