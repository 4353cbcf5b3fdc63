"""Profiles and typing through real Synapse + the Discord emulator + the bridge:
ghosts follow Discord profile changes, Matrix users are named on Discord with
the configured suffix, typing crosses both ways."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import discord
import pytest
from mautrix.types import ContentURI, RoomID

from bridge.ids import ChannelID, DiscordUserID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.png import solid_png
from sandbox.stack import SandboxStack

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)
GUILD = 3000000000000000001


async def room_of(stack: SandboxStack, channel: ChannelID) -> RoomID:
    portal = await stack.bridge.ctx.stores.portals.by_channel(channel)  # type: ignore[union-attr]
    assert portal is not None
    return portal.room_id


async def bob_has_spoken(stack: SandboxStack, alice: MatrixUser, bob: DiscordUser) -> str:
    room = await room_of(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    await bob.send(PUBLIC, f"hello {marker}")
    await alice.wait_for_event(room, lambda e: marker in e["content"].get("body", ""))
    return room


async def wait_profile(
    alice: MatrixUser, ghost: str, check: object, timeout: float = 10
) -> tuple[str | None, str | None]:
    deadline = time.monotonic() + timeout
    while True:
        profile = await alice.client.get_profile(ghost)  # type: ignore[arg-type]
        got = (profile.displayname, str(profile.avatar_url) if profile.avatar_url else None)
        if check(got):  # type: ignore[operator]
            return got
        assert time.monotonic() < deadline, f"ghost profile stayed {got}"
        await asyncio.sleep(0.1)


async def test_ghost_follows_discord_profile_changes(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    await bob_has_spoken(stack, matrix_alice, discord_bob)
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    before = await wait_profile(matrix_alice, ghost, lambda p: True)
    # A new global name and avatar, made in the Discord client.
    stack.emulator.update_user(str(BOB), global_name="Robert", new_avatar=True)  # type: ignore[union-attr]
    _, avatar = await wait_profile(matrix_alice, ghost, lambda p: p[0] == "Robert (Discord)")
    assert avatar is not None and avatar != before[1]
    # A server nickname, set by the guild owner, wins over the global name.
    owner_token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    owner = DiscordUser(stack.emulator.api_base, owner_token)  # type: ignore[union-attr]
    await owner.start()
    try:
        guild = owner.client.get_guild(GUILD)
        assert guild is not None
        member = await guild.fetch_member(BOB)
        await member.edit(nick="Bobby")
        await wait_profile(matrix_alice, ghost, lambda p: p[0] == "Bobby (Discord)")
        await member.edit(nick=None)
        await wait_profile(matrix_alice, ghost, lambda p: p[0] == "Robert (Discord)")
    finally:
        await owner.close()
        stack.emulator.update_user(str(BOB), global_name="Bob")  # type: ignore[union-attr]
    await wait_profile(matrix_alice, ghost, lambda p: p[0] == "Bob (Discord)")


async def rename(alice: MatrixUser, room: str, name: str) -> None:
    """Set the display name and wait for the room's member event (Synapse updates
    rooms in the background, so a message sent at once may still carry the old name)."""
    await alice.client.set_displayname(name)
    await alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == "m.room.member"
            and e["state_key"] == alice.user_id
            and e["content"].get("displayname") == name
        ),
    )


async def test_matrix_display_name_changes_follow_on_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    await rename(matrix_alice, room, "Alice Pleasance")
    try:
        marker = uuid.uuid4().hex[:8]
        await matrix_alice.send_text(room, f"renamed {marker}")
        message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
        assert message.author.name == "Alice Pleasance (Matrix)"
        # Someone calling themselves after a Discord member is still marked as Matrix,
        # and their Matrix ID follows the name (tests/e2e/test_names.py).
        await rename(matrix_alice, room, "Bob")
        marker = uuid.uuid4().hex[:8]
        await matrix_alice.send_text(room, f"not bob {marker}")
        message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
        assert message.author.name == f"Bob (\uff20{matrix_alice.user_id[1:]}) (Matrix)"
    finally:
        await rename(matrix_alice, room, "Alice Liddell")


async def test_discord_typing_shows_on_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await bob_has_spoken(stack, matrix_alice, discord_bob)
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    channel = discord_bob.client.get_channel(PUBLIC)
    assert isinstance(channel, discord.TextChannel)
    await channel.typing()
    await matrix_alice.wait_for_ephemeral(
        room, lambda e: e["type"] == "m.typing" and ghost in e["content"]["user_ids"]
    )
    # The message ends the typing notice.
    await channel.send("done typing")
    await matrix_alice.wait_for_ephemeral(
        room, lambda e: e["type"] == "m.typing" and ghost not in e["content"]["user_ids"]
    )


async def test_matrix_typing_shows_the_bridge_bot_typing_on_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    bot_id = next(u["id"] for u in stack.seed["users"] if u.get("bot"))
    waiter = asyncio.create_task(
        discord_bob.client.wait_for(
            "raw_typing",
            check=lambda p: p.channel_id == PUBLIC and str(p.user_id) == str(bot_id),
            timeout=10,
        )
    )
    await asyncio.sleep(0)
    await matrix_alice.client.set_typing(room, timeout=5000)
    try:
        await waiter
    finally:
        await matrix_alice.client.set_typing(room, timeout=0)


async def test_webhook_avatar_is_the_matrix_avatar_served_by_the_bridge(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    picture = solid_png((200, 30, 90))
    mxc = await matrix_alice.upload(picture, "image/png", "me.png")
    await matrix_alice.client.set_avatar_url(ContentURI(mxc))
    await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == "m.room.member"
            and e["state_key"] == matrix_alice.user_id
            and e["content"].get("avatar_url") == mxc
        ),
    )
    try:
        marker = uuid.uuid4().hex[:8]
        await matrix_alice.send_text(room, f"with a face {marker}")
        message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
        url = stack.emulator.state.webhook_avatar_urls[str(message.id)]  # type: ignore[union-attr]
        assert url.startswith(stack.config.bridge.public_media_url + "/_passerelle/media/")  # type: ignore[union-attr, operator]
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as resp:  # no Matrix token: Discord has none
                assert resp.status == 200
                assert resp.content_type == "image/png"
                assert await resp.read() == picture
            forged = url.replace("/avatar", "").rsplit("/", 1)[0] + "/" + "0" * 32 + "/avatar"
            async with http.get(forged) as resp:
                assert resp.status == 404
    finally:
        await matrix_alice.client.set_avatar_url(ContentURI(""))
