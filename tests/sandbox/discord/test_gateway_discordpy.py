"""Unmodified discord.py clients against the emulator: login, READY, GUILD_CREATE,
messages, webhooks, edits, deletes, permissions, member chunks and RESUME."""

from __future__ import annotations

import asyncio
import io
import time

import discord
import pytest

from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient, pointed_at
from tests.sandbox.discord.world import ALICE, BOB, BOT, CAMPAIGN, GUILD, MEMBERS, TOKENS, make_seed


async def test_bot_receives_alice_message(start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(TOKENS[ALICE])
    guild = bot.client.get_guild(int(GUILD))
    assert guild is not None and guild.name == "Campaign HQ"
    assert {c.name for c in guild.text_channels} == {"campaign", "members"}
    assert guild.member_count == 4 and guild.get_member(int(ALICE)).nick == "Alice (HQ)"  # type: ignore[union-attr]
    members_channel = guild.get_channel(int(MEMBERS))
    assert isinstance(members_channel, discord.TextChannel)
    assert members_channel.overwrites_for(guild.default_role).view_channel is False
    assert bot.client.application_id == int(BOT)

    channel = alice.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hi")
    got = await bot.next_message()
    assert (got.id, got.content, got.author.id) == (sent.id, "hi", int(ALICE))
    assert got.guild is not None and got.guild.id == int(GUILD)
    assert isinstance(got.author, discord.Member) and got.author.nick == "Alice (HQ)"
    assert got.channel.id == int(CAMPAIGN) and got.webhook_id is None
    echoed = await alice.next_message()  # the author gets its own MESSAGE_CREATE too
    assert echoed.id == sent.id


async def test_webhook_message_arrives_with_webhook_id(start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(TOKENS[ALICE])
    channel = bot.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    hook = await channel.create_webhook(name="Passerelle")
    assert hook.token and hook.user is not None and hook.user.id == int(BOT)
    assert [h.id for h in await channel.webhooks()] == [hook.id]
    partial = discord.Webhook.partial(hook.id, hook.token, client=bot.client)
    sent = await partial.send("relayed", username="Alice Liddell", wait=True)
    got = await alice.next_message()
    assert got.id == sent.id and got.webhook_id == hook.id
    assert got.author.name == "Alice Liddell" and got.author.bot
    assert got.content == "relayed"
    edited = await partial.edit_message(sent.id, content="relayed again")
    assert edited.content == "relayed again"
    update = await asyncio.wait_for(alice.edits.get(), 5)
    assert update.message_id == sent.id and update.data["content"] == "relayed again"


async def test_edit_and_delete_dispatches(start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(TOKENS[ALICE])
    channel = alice.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("draft")
    await bot.next_message()
    await sent.edit(content="final")
    edit = await asyncio.wait_for(bot.edits.get(), 5)
    assert edit.message_id == sent.id and edit.message.content == "final"
    assert edit.message.edited_at is not None
    await sent.delete()
    deleted = await asyncio.wait_for(bot.deletes.get(), 5)
    assert (deleted.message_id, deleted.channel_id, deleted.guild_id) == (
        sent.id,
        int(CAMPAIGN),
        int(GUILD),
    )


async def test_members_only_channel_is_not_dispatched_to_outsiders(
    start_client: StartClient,
) -> None:
    bot = await start_client(TOKENS[BOT])
    bob = await start_client(TOKENS[BOB])
    alice = await start_client(TOKENS[ALICE])
    secret = alice.client.get_channel(int(MEMBERS))
    public = alice.client.get_channel(int(CAMPAIGN))
    assert isinstance(secret, discord.TextChannel) and isinstance(public, discord.TextChannel)
    await secret.send("members only")
    await public.send("everyone")
    assert (await bot.next_message()).content == "members only"
    assert (await bot.next_message()).content == "everyone"
    # Bob's first message is the public one: the members-only one never reached him.
    assert (await bob.next_message()).content == "everyone"
    # ...and he cannot post there either.
    bob_view = bob.client.get_channel(int(MEMBERS))
    assert isinstance(bob_view, discord.TextChannel)
    with pytest.raises(discord.Forbidden):
        await bob_view.send("let me in")


async def test_member_chunks_and_queries(start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    guild = bot.client.get_guild(int(GUILD))
    assert guild is not None
    members = await asyncio.wait_for(guild.chunk(), 5)
    assert {m.id for m in members} == {int(BOT), int(ALICE), int(BOB), 2000000000000000003}
    found = await asyncio.wait_for(guild.query_members("ali"), 5)
    assert [m.id for m in found] == [int(ALICE)]
    by_id = await asyncio.wait_for(guild.query_members(user_ids=[int(BOB)]), 5)
    assert [m.name for m in by_id] == ["bob"]


async def test_bridge_like_client_is_ready_quickly(start_client: StartClient) -> None:
    """Default intents + members, default guild_ready_timeout: no chunk wait of 60 s."""
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    started = time.monotonic()
    bot = await start_client(TOKENS[BOT], intents=intents, guild_ready_timeout=2.0)
    assert time.monotonic() - started < 5
    assert bot.client.get_guild(int(GUILD)).chunked  # type: ignore[union-attr]


async def test_resume_replays_messages_missed_while_disconnected(
    start_client: StartClient, emu: Emulator, api: Api
) -> None:
    bot = await start_client(TOKENS[BOT])
    emu.hold_gateway_connections()  # the outage: reconnects wait
    assert await emu.drop_gateway_connections() == 1
    status, body, _ = await api.call(
        "POST", f"/channels/{CAMPAIGN}/messages", TOKENS[ALICE], json={"content": "while away"}
    )
    assert status == 200
    assert emu.session_count() == 0
    emu.release_gateway_connections()
    await asyncio.wait_for(bot.resumed.wait(), 10)
    got = await bot.next_message()
    assert (got.id, got.content) == (int(body["id"]), "while away")
    assert emu.hub.replayed >= 1
    # Exactly once: nothing else queued.
    await asyncio.sleep(0.2)
    assert bot.messages.empty()


async def test_resume_without_outage(start_client: StartClient, emu: Emulator, api: Api) -> None:
    bot = await start_client(TOKENS[BOT])
    await emu.drop_gateway_connections()
    await api.call("POST", f"/channels/{CAMPAIGN}/messages", TOKENS[ALICE], json={"content": "x"})
    await asyncio.wait_for(bot.resumed.wait(), 10)
    assert (await bot.next_message()).content == "x"
    await asyncio.sleep(0.2)
    assert bot.messages.empty()


async def test_unknown_token_fails_login(emu: Emulator, start_client: StartClient) -> None:
    with pytest.raises(discord.LoginFailure):
        await start_client("not-a-token")


async def test_files_through_discordpy(start_client: StartClient, emu: Emulator) -> None:
    """discord.py's multipart bodies (payload_json + files[n]) for channels and webhooks."""
    bot = await start_client(TOKENS[BOT])
    alice = await start_client(TOKENS[ALICE])
    channel = alice.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("see file", file=discord.File(io.BytesIO(b"abc"), "a.txt"))
    got = await bot.next_message()
    assert got.id == sent.id and [a.filename for a in got.attachments] == ["a.txt"]
    assert await got.attachments[0].read() == b"abc"  # fetched from the emulator's CDN
    hook = await bot.client.get_channel(int(CAMPAIGN)).create_webhook(name="files")  # type: ignore[union-attr]
    relayed = await hook.send(
        "from matrix",
        username="Bob (Matrix)",
        file=discord.File(io.BytesIO(b"\x89PNG fake"), "pic.png"),
        wait=True,
    )
    assert relayed.attachments[0].filename == "pic.png" and relayed.attachments[0].size == 9
    stored = emu.state.messages_in(CAMPAIGN)[-1]
    assert stored["webhook_id"] == str(hook.id) and stored["author"]["username"] == "Bob (Matrix)"


async def test_avatar_asset_is_served(start_client: StartClient) -> None:
    bot = await start_client(TOKENS[BOT])
    alice = await bot.client.fetch_user(int(ALICE))
    assert alice.avatar is not None
    data = await alice.display_avatar.read()
    assert data.startswith(b"\x89PNG")
    bob = await bot.client.fetch_user(int(BOB))
    assert bob.avatar is None and (await bob.display_avatar.read()).startswith(b"\x89PNG")


async def test_fast_heartbeats_keep_the_session(start_client: StartClient) -> None:
    emu = Emulator(make_seed(), validate_responses=True, heartbeat_interval_ms=100)
    await emu.start()
    try:
        with pointed_at(emu):
            bot = await start_client(TOKENS[BOT])
            await asyncio.sleep(0.6)
            assert not bot.resumed.is_set() and emu.session_count() == 1
            assert bot.client.latency < 1
            await bot.client.close()
    finally:
        await emu.stop()
    assert emu.contract_violations == []
