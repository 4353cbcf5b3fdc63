"""Names nobody can borrow, through real Synapse + the Discord emulator + the bridge:
Matrix users whose display names look like somebody else's get their Matrix ID after
their name on Discord, and a Discord user whose name looks like a Matrix user's gets
their username after it on Matrix."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bridge.ids import ChannelID, DiscordUserID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
TRENT = DiscordUserID(2000000000000000005)
AT = "\uff20"  # how "@" shows in a webhook name (it never mentions anyone there)
CYRILLIC_O = "\u043e"
CYRILLIC_CAPITAL_A = "\u0410"


async def public_room(stack: SandboxStack) -> str:
    portal = await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)  # type: ignore[union-attr]
    assert portal is not None
    return str(portal.room_id)


@pytest.fixture
async def namesakes(stack: SandboxStack) -> AsyncIterator[list[MatrixUser]]:
    """Two new Matrix users, joined to the public channel's room."""
    room = await public_room(stack)
    users = []
    suffix = uuid.uuid4().hex[:6]
    for n in (1, 2):
        user_id, token = await stack.synapse.register_or_login(  # type: ignore[union-attr]
            f"namesake{n}_{suffix}", "namesake-password"
        )
        user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
        await user.join(room)
        await user.prime()
        users.append(user)
    try:
        yield users
    finally:
        for user in users:
            await user.client.leave_room(room)  # type: ignore[arg-type]
            await user.close()


async def rename(user: MatrixUser, room: str, name: str) -> None:
    """Set the display name and wait for the room's member event."""
    await user.client.set_displayname(name)
    await user.wait_for_event(
        room,
        lambda e: (
            e["type"] == "m.room.member"
            and e["state_key"] == user.user_id
            and e["content"].get("displayname") == name
        ),
        timeout=30,
    )


async def webhook_name(user: MatrixUser, room: str, bob: DiscordUser) -> str:
    marker = uuid.uuid4().hex[:8]
    await user.send_text(room, f"who am I {marker}")
    message, _ = await bob.wait_for_message(lambda m: marker in m.content, timeout=30)
    assert message.webhook_id is not None
    return str(message.author.name)


async def test_two_matrix_users_with_one_name_show_their_ids_on_discord(
    stack: SandboxStack, namesakes: list[MatrixUser], discord_bob: DiscordUser
) -> None:
    room = await public_room(stack)
    first, second = namesakes
    # Alone with the name: shown as is.
    await rename(first, room, "Zoé Martin")
    await rename(second, room, "Yann Martin")
    assert await webhook_name(first, room, discord_bob) == "Zoé Martin (Matrix)"
    # The second takes the same name: both now show their Matrix IDs, and differ.
    await rename(second, room, "zoé martin")
    names = [await webhook_name(user, room, discord_bob) for user in namesakes]
    assert names[0] == f"Zoé Martin ({AT}{first.user_id[1:]}) (Matrix)"
    assert names[1] == f"zoé martin ({AT}{second.user_id[1:]}) (Matrix)"
    # Both called "alice" (also a Discord member's name): different names on Discord.
    await rename(first, room, "alice")
    await rename(second, room, "alice")
    alices = [await webhook_name(user, room, discord_bob) for user in namesakes]
    assert alices[0] != alices[1]
    for user, name in zip(namesakes, alices, strict=True):
        assert name.startswith("alice (") and user.user_id[1:] in name


async def test_matrix_users_named_like_discord_bob_are_told_apart(
    stack: SandboxStack, namesakes: list[MatrixUser], discord_bob: DiscordUser
) -> None:
    room = await public_room(stack)
    first, second = namesakes
    await rename(first, room, "bob")
    await rename(second, room, f"b{CYRILLIC_O}b")  # a Cyrillic o: looks the same
    plain = await webhook_name(first, room, discord_bob)
    lookalike = await webhook_name(second, room, discord_bob)
    assert plain == f"bob ({AT}{first.user_id[1:]}) (Matrix)"
    assert lookalike == f"b{CYRILLIC_O}b ({AT}{second.user_id[1:]}) (Matrix)"


async def wait_ghost_name(
    alice: MatrixUser, ghost: str, expected: str, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        profile = await alice.client.get_profile(ghost)  # type: ignore[arg-type]
        if profile.displayname == expected:
            return
        assert time.monotonic() < deadline, f"ghost name stayed {profile.displayname!r}"
        await asyncio.sleep(0.2)


async def test_discord_user_named_like_a_matrix_user_gets_a_username_on_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    room = await public_room(stack)
    ghost = stack.config.namer.ghost_mxid(TRENT)  # type: ignore[union-attr]
    token = next(u["token"] for u in stack.seed["users"] if u["username"] == "trent")
    trent = DiscordUser(stack.emulator.api_base, token)  # type: ignore[union-attr]
    await trent.start()
    # Trent calls himself like Matrix alice ("Alice Liddell"), with a Cyrillic A.
    lookalike = f"{CYRILLIC_CAPITAL_A}lice Liddell"
    stack.emulator.update_user(str(TRENT), global_name=lookalike)  # type: ignore[union-attr]
    try:
        await asyncio.sleep(1)  # the member update reaches the bridge's cache
        marker = uuid.uuid4().hex[:8]
        await trent.send(PUBLIC, f"hello {marker}")
        event, _ = await matrix_alice.wait_for_event(
            room, lambda e: marker in e["content"].get("body", ""), timeout=30
        )
        assert event["sender"] == ghost
        await wait_ghost_name(matrix_alice, ghost, f"{lookalike} (@trent) (Discord)")
    finally:
        stack.emulator.update_user(str(TRENT), global_name="Trent")  # type: ignore[union-attr]
    try:
        # His own name again: the plain form comes back.
        await wait_ghost_name(matrix_alice, ghost, "Trent (Discord)")
    finally:
        await trent.close()
