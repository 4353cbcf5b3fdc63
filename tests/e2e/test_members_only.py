"""The members-only boundary through real Synapse + the Discord emulator + the bridge:
non-members cannot read or join, linking and the Discord member role grant and
withdraw access, and nothing of a members-only channel reaches the public room."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import discord
import pytest
from mautrix.errors import MatrixRequestError
from mautrix.types import EventType, PaginationDirection, RoomAlias, RoomID

from bridge.ids import ChannelID, DiscordUserID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.conftest import matrix_token
from tests.e2e.waits import eventually, room_of, space_of, wait_for_space_child

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
MEMBERS = ChannelID(4000000000000000002)
MOD_CHANNEL = ChannelID(4000000000000000003)
GUILD = 3000000000000000001
MEMBER_ROLE = 3000000000000000011
BOB = DiscordUserID(2000000000000000002)
BOT = 1000000000000000001
BACKWARD = PaginationDirection.BACKWARD


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def membership_of(viewer: MatrixUser, room: RoomID, user: str) -> str | None:
    try:
        member = await viewer.client.get_state_event(room, EventType.ROOM_MEMBER, user)  # type: ignore[arg-type]
    except MatrixRequestError:
        return None
    return str(member.membership)


@pytest.fixture(scope="module")
async def matrix_erin(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """Erin on Element: not on the allowlist, not linked; joined to the public room."""
    user_id, token = matrix_token(stack, "erin")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    await user.join(await room_of(stack, PUBLIC))
    await user.prime()
    yield user
    await user.close()


@pytest.fixture(scope="module")
async def matrix_carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """Carol: allowlisted member and moderator."""
    user_id, token = matrix_token(stack, "carol")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    for channel in (PUBLIC, MEMBERS):
        await user.join(await room_of(stack, channel))
    await user.prime()
    yield user
    await user.close()


@pytest.fixture(scope="module")
async def discord_owner(stack: SandboxStack) -> AsyncIterator[DiscordUser]:
    """Alice on Discord: the guild owner, holding the Member role."""
    token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    user = DiscordUser(stack.emulator.api_base, token)  # type: ignore[union-attr]
    await user.start()
    yield user
    await user.close()


async def test_a_non_member_can_neither_join_nor_read_nor_stay(
    stack: SandboxStack, matrix_erin: MatrixUser, matrix_carol: MatrixUser
) -> None:
    members = await room_of(stack, MEMBERS)
    with pytest.raises(MatrixRequestError):
        await matrix_erin.client.get_messages(members, BACKWARD, limit=10)  # history: joined only
    rules = await matrix_carol.client.get_state_event(members, EventType.ROOM_JOIN_RULES)
    assert str(rules.join_rule) == "invite"
    # A member inviting her does not let her in: the bridge withdraws the invite.
    await matrix_carol.client.invite_user(members, matrix_erin.user_id)
    await eventually(
        lambda: _is(membership_of(matrix_carol, members, matrix_erin.user_id), "leave"),
        "the non-member's invite stayed",
    )


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) == expected


async def test_linking_and_the_member_role_grant_and_withdraw_access(
    stack: SandboxStack,
    matrix_erin: MatrixUser,
    matrix_carol: MatrixUser,
    discord_bob: DiscordUser,
    discord_owner: DiscordUser,
) -> None:
    members = await room_of(stack, MEMBERS)
    bot_mxid = stack.config.namer.bot_mxid  # type: ignore[union-attr]
    # Erin opens a direct chat with the bridge bot and asks for a code.
    dm = await matrix_erin.client.create_room(invitees=[bot_mxid], is_direct=True)
    await eventually(lambda: _is(membership_of(matrix_erin, dm, bot_mxid), "join"), "no bot")
    await matrix_erin.send_text(dm, "!link")
    reply, _ = await matrix_erin.wait_for_event(
        dm, lambda e: e["sender"] == bot_mxid and "Your code is" in e["content"].get("body", "")
    )
    code = reply["content"]["body"].split("Your code is ", 1)[1].split(".", 1)[0]
    # Bob proves it from Discord, in a direct message to the bot.
    bot_user = await discord_bob.client.fetch_user(BOT)
    await bot_user.send(code)
    answer, _ = await discord_bob.wait_for_message(
        lambda m: isinstance(m.channel, discord.DMChannel) and "Linked" in m.content
    )
    assert matrix_erin.user_id in answer.content
    link = await stack.bridge.ctx.stores.links.by_matrix(matrix_erin.user_id)  # type: ignore[union-attr]
    assert link is not None and link.discord_id == BOB
    # Bob has no Member role: no access yet.
    await asyncio.sleep(0.5)
    assert await membership_of(matrix_carol, members, matrix_erin.user_id) in (None, "leave")
    # The owner gives Bob the Member role on Discord: Erin is invited and may join.
    guild = discord_owner.client.get_guild(GUILD)
    assert guild is not None
    member = await guild.fetch_member(BOB)
    role = guild.get_role(MEMBER_ROLE)
    assert role is not None
    await member.add_roles(role)
    try:
        await eventually(
            lambda: _is(membership_of(matrix_carol, members, matrix_erin.user_id), "invite"),
            "the new member was not invited",
        )
        await matrix_erin.join(members)
        marker = tag()
        await matrix_carol.send_text(members, f"members news {marker}")
        await matrix_erin.wait_for_event(members, lambda e: marker in e["content"].get("body", ""))
    finally:
        await member.remove_roles(role)
    # The role removed on Discord: she is removed from the room.
    await eventually(
        lambda: _is(membership_of(matrix_carol, members, matrix_erin.user_id), "leave"),
        "the former member stayed",
    )
    # Unlinking from Discord works too.
    await bot_user.send("!unlink")
    await discord_bob.wait_for_message(
        lambda m: isinstance(m.channel, discord.DMChannel) and "Unlinked" in m.content
    )
    assert await stack.bridge.ctx.stores.links.by_matrix(matrix_erin.user_id) is None  # type: ignore[union-attr]


async def test_alias_query_for_an_unbridged_private_channel_creates_nothing(
    stack: SandboxStack, matrix_erin: MatrixUser
) -> None:
    alias = stack.config.namer.portal_alias(MOD_CHANNEL)  # type: ignore[union-attr]
    with pytest.raises(MatrixRequestError):
        await matrix_erin.client.resolve_room_alias(RoomAlias(alias))
    assert await stack.bridge.ctx.stores.portals.by_channel(MOD_CHANNEL) is None  # type: ignore[union-attr]


async def test_nothing_of_the_members_channel_reaches_the_public_room(
    stack: SandboxStack,
    matrix_erin: MatrixUser,
    matrix_carol: MatrixUser,
    discord_owner: DiscordUser,
) -> None:
    """Every kind of event the bridge relays, made in the members-only channel or room,
    lands there and only there; crafted cross-room relations map to nothing."""
    public = await room_of(stack, PUBLIC)
    members = await room_of(stack, MEMBERS)
    secret = tag()
    channel = discord_owner.client.get_channel(MEMBERS)
    assert isinstance(channel, discord.TextChannel)
    # Discord side: text, reply, edit, reaction, attachment, thread, pin.
    first = await channel.send(f"secret plan {secret}")
    reply = await first.reply(f"secret reply {secret}")
    await reply.edit(content=f"secret reply edited {secret}")
    await first.add_reaction("\N{WHITE HEAVY CHECK MARK}")
    await channel.send(
        f"secret file {secret}", file=discord.File(__file__, filename=f"secret-{secret}.txt")
    )
    thread = await first.create_thread(name=f"secret thread {secret}")
    await thread.send(f"secret in thread {secret}")
    await first.pin()
    seen, _ = await matrix_carol.wait_for_event(
        members, lambda e: f"secret in thread {secret}" in e["content"].get("body", "")
    )
    # Matrix side: text, reply, reaction, edit from the members room.
    event_id = await matrix_carol.send_text(members, f"matrix secret {secret}")
    await matrix_carol.send_content(
        members,
        {
            "msgtype": "m.text",
            "body": f"matrix secret reply {secret}",
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
        },
    )
    await matrix_carol.react(members, event_id, "\N{EYES}")
    # Crafted: a reply in the public room to a members-only event.
    await matrix_erin.send_content(
        public,
        {
            "msgtype": "m.text",
            "body": f"public crafted reply {secret}",
            "m.relates_to": {"m.in_reply_to": {"event_id": seen["event_id"]}},
        },
    )
    crafted = await _discord_message(stack, PUBLIC, f"public crafted reply {secret}")
    assert crafted["content"] == f"public crafted reply {secret}"  # no quote of the secret
    await asyncio.sleep(1)
    # The public room's whole recent timeline holds nothing of it: no event but Erin's
    # own crafted one mentions the secret or relates to a members-only event.
    response = await matrix_erin.client.get_messages(public, BACKWARD, limit=200)
    leaked = [
        e.serialize()
        for e in response.events
        if e.sender != matrix_erin.user_id
        and (secret in str(e.serialize()) or seen["event_id"] in str(e.serialize()))
    ]
    assert leaked == []
    # ...and the public Discord channel holds nothing of the members room.
    for message in stack.emulator.state.messages_in(PUBLIC):  # type: ignore[union-attr]
        if secret in message["content"]:
            assert message["content"] == f"public crafted reply {secret}"
    # While the members room got the Discord side, in its own room.
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    for row in await stores.messages.by_discord(first.id):
        assert row.room_id == members


async def _discord_message(stack: SandboxStack, channel: int, text: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in stack.emulator.state.messages_in(channel):  # type: ignore[union-attr]
            if text in message["content"]:
                return message
        await asyncio.sleep(0.05)
    raise TimeoutError(text)


async def test_a_channel_hidden_on_discord_becomes_members_only_and_back(
    stack: SandboxStack,
    matrix_erin: MatrixUser,
    matrix_carol: MatrixUser,
    discord_owner: DiscordUser,
) -> None:
    """The config says public, but once @everyone cannot view the channel on Discord the
    room closes (fail closed) and non-members leave; reopening the channel reopens it."""
    public = await room_of(stack, PUBLIC)
    channel = discord_owner.client.get_channel(PUBLIC)
    assert isinstance(channel, discord.TextChannel)
    everyone = channel.guild.default_role
    await channel.set_permissions(everyone, view_channel=False)
    try:
        await eventually(
            lambda: _is(_join_rule(matrix_carol, public), "invite"), "the room stayed public"
        )
        await eventually(
            lambda: _is(membership_of(matrix_carol, public, matrix_erin.user_id), "leave"),
            "the non-member stayed",
        )
        portal = await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)  # type: ignore[union-attr]
        assert portal is not None and portal.access == "members_only"
        # The spaces follow: out of the public guild space (whose children anyone can
        # list), into the guild's restricted members space.
        hq_space = await space_of(stack, "guild", portal.guild_id)
        await wait_for_space_child(stack, hq_space, public, present=False)
        members_space = await space_of(stack, "members", portal.guild_id)
        await wait_for_space_child(stack, members_space, public)
    finally:
        await channel.set_permissions(everyone, overwrite=None)
    await eventually(lambda: _is(_join_rule(matrix_carol, public), "public"), "not reopened")
    await wait_for_space_child(stack, hq_space, public)  # back in the public space

    async def reopened() -> bool:
        portal = await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)  # type: ignore[union-attr]
        return portal is not None and portal.access == "public"

    # The room is reopened first, then the portal row records it (see on_channel_access).
    await eventually(reopened, "the portal stayed members-only")
    await matrix_erin.join(public)


async def _join_rule(user: MatrixUser, room: RoomID) -> str:
    rules = await user.client.get_state_event(room, EventType.ROOM_JOIN_RULES)
    return str(rules.join_rule)


NORD = 3000000000000000002
NORD_MEMBERS = ChannelID(4100000000000000013)  # #adherents-nord, hidden from @everyone
NORD_MEMBER_ROLE = 3000000000000000021


async def test_a_member_in_nord_is_not_thereby_a_member_in_hq(
    stack: SandboxStack,
    matrix_erin: MatrixUser,
    matrix_carol: MatrixUser,
    discord_bob: DiscordUser,
) -> None:
    """Each members-only room decides with its own guild: Bob holds the Member role in
    Nord, not in HQ, so Erin (linked to Bob) is invited to #adherents-nord and kept
    there, but refused in HQ's #members; Nord's role removed, she leaves Nord's room."""
    nord_members = await room_of(stack, NORD_MEMBERS)
    hq_members = await room_of(stack, MEMBERS)
    portal = await stack.bridge.ctx.stores.portals.by_room(nord_members)  # type: ignore[union-attr]
    assert portal is not None and portal.access == "members_only" and portal.guild_id == NORD
    await matrix_carol.join(nord_members)  # allowlisted: a member everywhere
    erin = matrix_erin.user_id
    # Erin links her account to Bob's (a code from Discord, sent on Matrix).
    bot_user = await discord_bob.client.fetch_user(BOT)
    await bot_user.send("!link")
    reply, _ = await discord_bob.wait_for_message(
        lambda m: isinstance(m.channel, discord.DMChannel) and "Your code is" in m.content
    )
    code = reply.content.split("Your code is ", 1)[1].split(".", 1)[0]
    bot_mxid = stack.config.namer.bot_mxid  # type: ignore[union-attr]
    dm = await matrix_erin.client.create_room(invitees=[bot_mxid], is_direct=True)
    await eventually(lambda: _is(membership_of(matrix_erin, dm, bot_mxid), "join"), "no bot")
    await matrix_erin.send_text(dm, f"!link {code}")
    await matrix_erin.wait_for_event(
        dm, lambda e: e["sender"] == bot_mxid and "Linked" in e["content"].get("body", "")
    )
    emulator = stack.emulator
    assert emulator is not None
    try:
        # Nord gives Bob its Member role: invited to Nord's members room only.
        emulator.set_member_roles(str(NORD), str(BOB), [str(NORD_MEMBER_ROLE)])
        await eventually(
            lambda: _is(membership_of(matrix_carol, nord_members, erin), "invite"),
            "the Nord member was not invited to Nord's members room",
        )
        await matrix_erin.join(nord_members)
        assert await membership_of(matrix_carol, hq_members, erin) in (None, "leave")
        # Invited to HQ's members room by someone: the bridge withdraws it.
        await matrix_carol.client.invite_user(hq_members, erin)
        await eventually(
            lambda: _is(membership_of(matrix_carol, hq_members, erin), "leave"),
            "a Nord member was let into HQ's members room",
        )
        assert await membership_of(matrix_carol, nord_members, erin) == "join"  # kept
    finally:
        emulator.set_member_roles(str(NORD), str(BOB), [])
    await eventually(
        lambda: _is(membership_of(matrix_carol, nord_members, erin), "leave"),
        "the former Nord member stayed in Nord's members room",
    )
    await matrix_erin.send_text(dm, "!unlink")
    await matrix_erin.wait_for_event(
        dm, lambda e: e["sender"] == bot_mxid and "Unlinked" in e["content"].get("body", "")
    )
