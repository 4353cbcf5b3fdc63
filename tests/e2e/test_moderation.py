"""Shared bans through real Synapse + the Discord emulator + the bridge: Discord bans
reach Matrix, Element bans reach Discord, policy rules apply on both sides,
moderator commands from both sides, and a restart catches up."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from mautrix.types import EventType, RoomID

from bridge.ids import ChannelID, DiscordUserID, GuildID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.conftest import discord_token, element_moderator, matrix_token
from tests.e2e.waits import eventually

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
MEMBERS = ChannelID(4000000000000000002)
MOD_CHANNEL = ChannelID(4000000000000000003)
GUILD = "3000000000000000001"
GUILD_ID = GuildID(int(GUILD))
CAROL_DISCORD = DiscordUserID(2000000000000000003)
MALLORY = DiscordUserID(2000000000000000004)
TRENT = DiscordUserID(2000000000000000005)


@pytest.fixture(scope="module", autouse=True)
async def rejoin_unbanned(stack: SandboxStack) -> AsyncIterator[None]:
    """Members these tests ban and unban join the guild again afterwards, as they would
    through an invite (Discord does not re-add an unbanned member): later modules of the
    session's shared stack expect the seed's members."""
    yield
    emulator = stack.emulator
    assert emulator is not None
    guild = emulator.state.guilds[GUILD]
    for user in (MALLORY, TRENT):
        if str(user) not in guild.members and str(user) not in guild.bans:
            emulator.join_guild(GUILD, str(user))


@pytest.fixture(scope="module")
async def matrix_carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    user = await element_moderator(stack, policy_room=True)
    yield user
    await user.close()


@pytest.fixture(scope="module")
async def matrix_dave(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    user_id, token = matrix_token(stack, "dave")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    for portal in await stack.bridge.ctx.stores.portals.all():  # type: ignore[union-attr]
        await user.join(portal.room_id)
    await user.prime()
    yield user
    await user.close()


@pytest.fixture(scope="module")
async def discord_carol(stack: SandboxStack) -> AsyncIterator[DiscordUser]:
    """Carol on Discord: Moderator role (Ban Members, Kick Members, View Audit Log)."""
    user = DiscordUser(stack.emulator.api_base, discord_token(stack, "carol"))  # type: ignore[union-attr]
    await user.start()
    yield user
    await user.close()


async def rooms(stack: SandboxStack, guild: str | None = GUILD) -> list[RoomID]:
    """The portal rooms of ``guild`` (HQ by default; None: of every guild)."""
    portals = await stack.bridge.ctx.stores.portals.all()  # type: ignore[union-attr]
    return [p.room_id for p in portals if guild is None or str(p.guild_id) == guild]


async def membership(user: MatrixUser, room: RoomID, target: str) -> str | None:
    try:
        member = await user.client.get_state_event(room, EventType.ROOM_MEMBER, target)  # type: ignore[arg-type]
    except Exception:
        return None
    return str(member.membership)


async def rule_for(user: MatrixUser, stack: SandboxStack, entity: str) -> dict[str, Any]:
    policy_room = stack.bridge.ctx.moderation.policy_room  # type: ignore[union-attr]
    try:
        content = await user.client.get_state_event(
            policy_room,  # type: ignore[arg-type]
            EventType.find("m.policy.rule.user", EventType.Class.STATE),
            f"rule:{entity}",
        )
    except Exception:
        return {}
    return dict(content.serialize())


def discord_bans(stack: SandboxStack) -> dict[str, str | None]:
    return stack.emulator.state.guilds[GUILD].bans  # type: ignore[union-attr, no-any-return]


async def test_discord_ban_bans_the_ghost_everywhere_and_redacts_its_messages(
    stack: SandboxStack,
    matrix_alice: MatrixUser,
    matrix_carol: MatrixUser,
    discord_carol: DiscordUser,
) -> None:
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    mallory = DiscordUser(stack.emulator.api_base, discord_token(stack, "mallory"))  # type: ignore[union-attr]
    await mallory.start()
    marker = uuid.uuid4().hex[:8]
    try:
        await mallory.send(PUBLIC, f"buy followers {marker}")
        spam, _ = await matrix_alice.wait_for_event(
            public, lambda e: marker in e["content"].get("body", "")
        )
    finally:
        await mallory.close()
    ghost = stack.config.namer.ghost_mxid(MALLORY)  # type: ignore[union-attr]
    guild = discord_carol.client.get_guild(int(GUILD))
    assert guild is not None
    await guild.ban(
        await discord_carol.client.fetch_user(MALLORY), reason="spam", delete_message_seconds=3600
    )
    # The ghost is banned from every portal room, its spam redacted.
    for room in await rooms(stack):
        await eventually(
            lambda room=room: _is(membership(matrix_carol, room, ghost), "ban"),
            f"ghost not banned in {room}",
        )
    await matrix_alice.wait_for_event(
        public,
        lambda e: (
            e["type"] == "m.room.redaction"
            and (e.get("redacts") or e["content"].get("redacts")) == spam["event_id"]
        ),
    )
    # ban_scope guild: HQ's ban holds in HQ only, so the party's policy list does not
    # carry it (test_ban_scope.py covers the other guilds' rooms) ...
    assert await rule_for(matrix_carol, stack, ghost) == {}
    # ... and the moderation log has it, with who and why.
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]

    async def logged() -> Any:
        return next(
            (e for e in await stores.audit.recent(10) if e.action == "ban" and ghost in e.target),
            None,
        )

    ban = await eventually(logged, "the ban was not logged")
    assert ban.source == "discord" and ban.actor == f"discord:{CAROL_DISCORD}"
    assert ban.reason == "spam"
    mod_room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
    notice, _ = await matrix_carol.wait_for_event(
        mod_room,  # type: ignore[arg-type]
        lambda e: e["content"].get("msgtype") == "m.notice" and ghost in e["content"]["body"],
    )
    assert "spam" in notice["content"]["body"]
    # Unban on Discord: the ghost may come back, the rule is blanked.
    await guild.unban(await discord_carol.client.fetch_user(MALLORY), reason="appeal granted")
    for room in await rooms(stack):
        await eventually(
            lambda room=room: _is(membership(matrix_carol, room, ghost), "leave"),
            f"ghost still banned in {room}",
        )
    await eventually(
        lambda: _is(rule_for(matrix_carol, stack, ghost), {}), "the rule was not removed"
    )
    assert await stack.bridge.ctx.stores.bans.get("discord", str(MALLORY), GUILD_ID) is None  # type: ignore[union-attr]


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) == expected


async def test_element_ban_of_a_ghost_bans_on_discord(
    stack: SandboxStack, matrix_carol: MatrixUser, discord_carol: DiscordUser
) -> None:
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    trent = DiscordUser(stack.emulator.api_base, discord_token(stack, "trent"))  # type: ignore[union-attr]
    await trent.start()
    try:
        marker = uuid.uuid4().hex[:8]
        await trent.send(PUBLIC, f"hello {marker}")
        await matrix_carol.wait_for_event(public, lambda e: marker in e["content"].get("body", ""))
    finally:
        await trent.close()
    ghost = stack.config.namer.ghost_mxid(TRENT)  # type: ignore[union-attr]
    await matrix_carol.client.ban_user(public, ghost, reason="raiding")  # type: ignore[arg-type]
    await eventually(lambda: _is(_async(str(TRENT) in discord_bans(stack)), True), "no Discord ban")
    assert discord_bans(stack)[str(TRENT)] == "@carol:localhost: raiding"
    members = (await stack.bridge.ctx.stores.portals.by_channel(MEMBERS)).room_id  # type: ignore[union-attr]
    await eventually(
        lambda: _is(membership(matrix_carol, members, ghost), "ban"), "not banned guild-wide"
    )
    # And unbanning in Element lifts the Discord ban.
    await matrix_carol.client.unban_user(public, ghost, reason="sorry")  # type: ignore[arg-type]
    await eventually(
        lambda: _is(_async(str(TRENT) not in discord_bans(stack)), True), "Discord ban stayed"
    )
    await eventually(
        lambda: _is(membership(matrix_carol, members, ghost), "leave"), "still banned elsewhere"
    )


async def rejoin(moderator: MatrixUser, user: MatrixUser, *rooms: RoomID) -> None:
    """After an unban: invite-only rooms need a new invite."""
    for room in rooms:
        if await membership(moderator, room, user.user_id) != "join":
            await moderator.client.invite_user(room, user.user_id)
            await user.join(room)


async def _async(value: Any) -> Any:
    return value


async def test_element_ban_of_a_matrix_user_applies_in_every_room_and_stops_relay(
    stack: SandboxStack, matrix_carol: MatrixUser, matrix_dave: MatrixUser
) -> None:
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    members = (await stack.bridge.ctx.stores.portals.by_channel(MEMBERS)).room_id  # type: ignore[union-attr]
    dave = matrix_dave.user_id
    await matrix_carol.client.ban_user(public, dave, reason="flooding")
    await eventually(lambda: _is(membership(matrix_carol, members, dave), "ban"), "not guild-wide")
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    row = await stores.bans.get("matrix", dave, GUILD_ID)
    assert row is not None and row.moderator == "@carol:localhost" and row.reason == "flooding"
    from moderation.gate import relay_blocked

    assert await relay_blocked(stack.bridge.ctx, dave, public)  # type: ignore[union-attr]
    # ban_scope guild: HQ's rooms only; not published in the party's list.
    nord = (await rooms(stack, "3000000000000000002"))[0]
    assert await membership(matrix_carol, nord, dave) == "join"
    assert not await relay_blocked(stack.bridge.ctx, dave, nord)  # type: ignore[union-attr]
    assert await rule_for(matrix_carol, stack, dave) == {}
    await matrix_carol.client.unban_user(public, dave, reason="calmed down")
    await eventually(
        lambda: _is(membership(matrix_carol, members, dave), "leave"), "still banned elsewhere"
    )
    assert not await relay_blocked(stack.bridge.ctx, dave, public)  # type: ignore[union-attr]
    await rejoin(matrix_carol, matrix_dave, members, public)


async def test_policy_rules_apply_on_both_sides_and_removal_lifts_them(
    stack: SandboxStack, matrix_carol: MatrixUser, matrix_dave: MatrixUser
) -> None:
    policy_room = stack.bridge.ctx.moderation.policy_room  # type: ignore[union-attr]
    members = (await stack.bridge.ctx.stores.portals.by_channel(MEMBERS)).room_id  # type: ignore[union-attr]
    rule_type = EventType.find("m.policy.rule.user", EventType.Class.STATE)
    ghost = stack.config.namer.ghost_mxid(TRENT)  # type: ignore[union-attr]
    # A rule naming a ghost bans the Discord user.
    await matrix_carol.client.send_state_event(
        policy_room,
        rule_type,
        {"entity": ghost, "recommendation": "m.ban", "reason": "list"},
        "t1",  # type: ignore[arg-type]
    )
    await eventually(lambda: _is(_async(str(TRENT) in discord_bans(stack)), True), "no Discord ban")
    # A glob rule (Mjolnir's legacy event type) bans matching Matrix users.
    legacy = EventType.find("org.matrix.mjolnir.rule.user", EventType.Class.STATE)
    await matrix_carol.client.send_state_event(
        policy_room,
        legacy,
        {"entity": "@DAV*:localhost", "recommendation": "m.ban", "reason": "glob"},
        "d1",  # type: ignore[arg-type]
    )
    await eventually(
        lambda: _is(membership(matrix_carol, members, matrix_dave.user_id), "ban"), "glob unapplied"
    )
    # A server rule for this homeserver is refused: nobody else is banned.
    server_type = EventType.find("m.policy.rule.server", EventType.Class.STATE)
    await matrix_carol.client.send_state_event(
        policy_room,
        server_type,
        {"entity": "localhost", "recommendation": "m.ban", "reason": "x"},
        "s1",  # type: ignore[arg-type]
    )
    await eventually(
        lambda: _has_refusal(stack, "localhost"), "the own-server rule was not refused"
    )
    assert await membership(matrix_carol, members, "@alice:localhost") == "join"
    # Removing the rules (empty content, as Draupnir does) lifts what they caused.
    for kind, key in ((rule_type, "t1"), (legacy, "d1"), (server_type, "s1")):
        await matrix_carol.client.send_state_event(policy_room, kind, {}, key)  # type: ignore[arg-type]
    await eventually(
        lambda: _is(_async(str(TRENT) not in discord_bans(stack)), True), "Discord ban stayed"
    )
    await eventually(
        lambda: _is(membership(matrix_carol, members, matrix_dave.user_id), "leave"),
        "the glob's ban stayed",
    )
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    await rejoin(matrix_carol, matrix_dave, members, public)


async def _has_refusal(stack: SandboxStack, target: str) -> bool:
    entries = await stack.bridge.ctx.stores.audit.recent(10)  # type: ignore[union-attr]
    return any(e.action == "refused" and e.target == target for e in entries)


async def test_moderator_commands_from_element_and_discord(
    stack: SandboxStack,
    matrix_carol: MatrixUser,
    matrix_dave: MatrixUser,
    discord_carol: DiscordUser,
    discord_bob: DiscordUser,
) -> None:
    mod_room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
    members = (await stack.bridge.ctx.stores.portals.by_channel(MEMBERS)).room_id  # type: ignore[union-attr]

    async def ask(text: str) -> str:
        await matrix_carol.send_text(mod_room, text)  # type: ignore[arg-type]
        reply, _ = await matrix_carol.wait_for_event(
            mod_room,  # type: ignore[arg-type]
            lambda e: (
                e["sender"] == stack.config.namer.bot_mxid  # type: ignore[union-attr]
                and e["content"].get("msgtype") == "m.notice"
                and not e["content"]["body"].startswith("[")
            ),
        )
        return str(reply["content"]["body"])

    assert "ban" in await ask("!mod help")
    answer = await ask(f"!mod ban {matrix_dave.user_id} trolling")
    assert answer.startswith(f"Banned {matrix_dave.user_id}")
    await eventually(
        lambda: _is(membership(matrix_carol, members, matrix_dave.user_id), "ban"), "no ban"
    )
    assert matrix_dave.user_id in await ask("!mod bans")
    assert (await ask("!mod ban @carol:localhost oops")).endswith("not banned by command.")
    assert "localhost" in await ask("!mod rule ban localhost")  # refused: our own server
    assert (await ask(f"!mod unban {matrix_dave.user_id}")).startswith("Unbanned")
    await eventually(
        lambda: _is(membership(matrix_carol, members, matrix_dave.user_id), "leave"), "no unban"
    )
    # From Discord: a moderator bans by mention; a member who is not is refused.
    channel = discord_carol.client.get_channel(MOD_CHANNEL)
    assert channel is not None
    await channel.send(f"!mod ban <@{TRENT}> raid")  # type: ignore[union-attr]
    await eventually(lambda: _is(_async(str(TRENT) in discord_bans(stack)), True), "no Discord ban")
    ghost = stack.config.namer.ghost_mxid(TRENT)  # type: ignore[union-attr]
    await eventually(
        lambda: _is(membership(matrix_carol, members, ghost), "ban"), "ghost not banned"
    )
    await channel.send(f"!mod unban <@{TRENT}>")  # type: ignore[union-attr]
    await eventually(
        lambda: _is(_async(str(TRENT) not in discord_bans(stack)), True), "still banned"
    )
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    await rejoin(matrix_carol, matrix_dave, members, public)


async def test_bans_made_while_the_bridge_was_down_are_applied_at_start(
    stack: SandboxStack, matrix_carol: MatrixUser, discord_carol: DiscordUser
) -> None:
    ghost = stack.config.namer.ghost_mxid(MALLORY)  # type: ignore[union-attr]
    members = (await stack.bridge.ctx.stores.portals.by_channel(MEMBERS)).room_id  # type: ignore[union-attr]
    guild = discord_carol.client.get_guild(int(GUILD))
    assert guild is not None
    mallory = await discord_carol.client.fetch_user(MALLORY)
    await stack.stop_bridge()
    try:
        await guild.ban(mallory, reason="while you slept", delete_message_seconds=0)
    finally:
        await stack.start_bridge()
    await eventually(lambda: _is(membership(matrix_carol, members, ghost), "ban"), "missed ban")
    row = await stack.bridge.ctx.stores.bans.get("discord", str(MALLORY), GUILD_ID)  # type: ignore[union-attr]
    assert row is not None and row.origin == "startup" and row.reason == "while you slept"
    await stack.stop_bridge()
    try:
        await guild.unban(mallory)
    finally:
        await stack.start_bridge()
    await eventually(lambda: _is(membership(matrix_carol, members, ghost), "leave"), "missed unban")


async def test_element_kick_of_a_ghost_kicks_on_discord(
    stack: SandboxStack, matrix_carol: MatrixUser
) -> None:
    oscar_id = DiscordUserID(2000000000000000006)
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    oscar = DiscordUser(stack.emulator.api_base, discord_token(stack, "oscar"))  # type: ignore[union-attr]
    await oscar.start()
    try:
        marker = uuid.uuid4().hex[:8]
        await oscar.send(PUBLIC, f"hi {marker}")
        await matrix_carol.wait_for_event(public, lambda e: marker in e["content"].get("body", ""))
    finally:
        await oscar.close()
    ghost = stack.config.namer.ghost_mxid(oscar_id)  # type: ignore[union-attr]
    await matrix_carol.client.kick_user(public, ghost, reason="cool off")  # type: ignore[arg-type]
    guild = stack.emulator.state.guilds[GUILD]  # type: ignore[union-attr]
    await eventually(lambda: _async(str(oscar_id) not in guild.members), "not kicked on Discord")
    assert str(oscar_id) not in discord_bans(stack)  # a kick, not a ban
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]

    async def logged() -> Any:
        return next((e for e in await stores.audit.recent(5) if e.action == "kick"), None)

    kick = await eventually(logged, "the kick was not logged")
    assert kick.actor == "@carol:localhost" and kick.reason == "cool off"
    assert "kicked from the server" in kick.outcome


async def test_a_followed_list_applies_its_rules_and_their_removal(
    stack: SandboxStack, matrix_carol: MatrixUser, matrix_dave: MatrixUser
) -> None:
    """A community list (another room) named in moderation.subscriptions is joined at
    start-up, its existing rules applied, and later changes followed live."""
    members = (await stack.bridge.ctx.stores.portals.by_channel(MEMBERS)).room_id  # type: ignore[union-attr]
    public = (await stack.bridge.ctx.stores.portals.by_channel(PUBLIC)).room_id  # type: ignore[union-attr]
    bot = stack.config.namer.bot_mxid  # type: ignore[union-attr]
    community = await matrix_carol.client.create_room(name="Community ban list", invitees=[bot])
    rule_type = EventType.find("m.policy.rule.user", EventType.Class.STATE)
    await matrix_carol.client.send_state_event(
        community,
        rule_type,
        {"entity": matrix_dave.user_id, "recommendation": "m.ban", "reason": "known raider"},
        "rule:dave",
    )
    config = stack.config
    assert config is not None
    await stack.stop_bridge()
    stack.config = dataclasses.replace(
        config,
        moderation=dataclasses.replace(config.moderation, subscriptions=(str(community),)),
    )
    try:
        await stack.start_bridge()
    finally:
        stack.config = config
    await eventually(
        lambda: _is(membership(matrix_carol, members, matrix_dave.user_id), "ban"),
        "the followed list's rule was not applied at start-up",
    )
    row = await stack.bridge.ctx.stores.bans.get("matrix", matrix_dave.user_id, GUILD_ID)  # type: ignore[union-attr]
    assert row is not None and row.origin == "policy" and row.rule_room == community
    # Blanking the rule in the community list lifts the ban, live.
    await matrix_carol.client.send_state_event(community, rule_type, {}, "rule:dave")
    await eventually(
        lambda: _is(membership(matrix_carol, members, matrix_dave.user_id), "leave"),
        "the ban stayed after the rule was removed",
    )
    await rejoin(matrix_carol, matrix_dave, members, public)
