"""Lockdown and hashed policy rules through real Synapse + the Discord emulator + the
bridge: ``!mod lockdown on`` from Element closes the public rooms (knock), slows the
Discord channels and raises the verification level, holds a new Discord account's
message while an old member's passes; ``!mod lockdown off`` puts everything back; a
join wave of Discord accounts turns it on by itself; a short lockdown lifts itself; a
hashed (MSC4205) ban rule bans a Discord user on both sides; a restart keeps the
lockdown and still lifts it on time.

These run on the shared stack: every test lifts the lockdown it caused, even on failure.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mautrix.types import EventType, RoomID

from bridge.ids import ChannelID, DiscordUserID
from moderation.lockdown_rules import LockdownState
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.conftest import element_moderator
from tests.e2e.waits import eventually, room_of, state_content

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
MEMBERS = ChannelID(4000000000000000002)
GUILD = "3000000000000000001"


def lockdown(stack: SandboxStack) -> LockdownState:
    return stack.bridge.ctx.moderation.lockdown  # type: ignore[union-attr]


def emulator(stack: SandboxStack) -> Any:
    assert stack.emulator is not None
    return stack.emulator


@pytest.fixture(scope="module")
async def matrix_carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    user = await element_moderator(stack, policy_room=True)
    yield user
    await user.close()


@pytest.fixture
async def lifted(stack: SandboxStack) -> AsyncIterator[None]:
    """Whatever happens in the test, no lockdown is left for the next ones."""
    yield
    service = stack.bridge.lockdown  # type: ignore[union-attr]
    if service is not None and lockdown(stack).active:
        await service.turn_off(actor="tests", source="tests")


async def command(carol: MatrixUser, stack: SandboxStack, text: str) -> None:
    mod_room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
    await carol.send_text(mod_room, text)  # type: ignore[arg-type]


def new_discord_account(stack: SandboxStack, name: str) -> tuple[str, str]:
    """A Discord account made just now that joins HQ (GUILD_MEMBER_ADD): (id, token)."""
    emu = emulator(stack)
    user_id = emu.state.ids.next_str()
    token = f"{name}-{uuid.uuid4().hex[:8]}-token"
    emu.add_user(user_id, f"{name}{user_id[-4:]}", token, guilds={GUILD: []})
    return user_id, token


async def join_rule(stack: SandboxStack, room: RoomID) -> str | None:
    content = await state_content(stack, room, "m.room.join_rules")
    rule = content.get("join_rule")
    return rule if isinstance(rule, str) else None


async def closed(stack: SandboxStack, room: RoomID, rule: str) -> bool:
    return await join_rule(stack, room) == rule


def slowmode(stack: SandboxStack, channel: ChannelID) -> int:
    return int(emulator(stack).state.channels[str(channel)].rate_limit_per_user)


def verification(stack: SandboxStack) -> int:
    return int(emulator(stack).state.guilds[GUILD].verification_level)


async def _true(value: bool) -> bool:
    return value


async def test_lockdown_from_element_closes_both_sides_and_holds_new_accounts(
    stack: SandboxStack,
    matrix_carol: MatrixUser,
    matrix_alice: MatrixUser,
    discord_bob: DiscordUser,
    lifted: None,
) -> None:
    public, members = await room_of(stack, PUBLIC), await room_of(stack, MEMBERS)
    assert await join_rule(stack, public) == "public"
    members_rule = await join_rule(stack, members)
    assert members_rule == "invite"
    await command(matrix_carol, stack, "!mod lockdown on 10m")
    await eventually(lambda: _true(lockdown(stack).active), "lockdown not on", 30)
    await eventually(lambda: closed(stack, public, "knock"), "public room not knock-only", 30)
    await eventually(lambda: _true(verification(stack) == 3), "verification level not raised", 30)
    assert slowmode(stack, PUBLIC) == 30
    assert await join_rule(stack, members) == members_rule  # members-only: already closed
    mod_room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
    notice, _ = await matrix_carol.wait_for_event(
        mod_room,  # type: ignore[arg-type]
        lambda e: "!mod lockdown off" in str(e.get("content", {}).get("body", "")),
        timeout=30,
    )
    assert "lockdown" in notice["content"]["body"].lower()

    # A Discord account made minutes ago waits; Bob, an old member, does not.
    newbie_id, token = new_discord_account(stack, "newbie")
    newbie = DiscordUser(emulator(stack).api_base, token)
    await newbie.start()
    try:
        tag = uuid.uuid4().hex[:8]
        raid = await newbie.send(PUBLIC, f"raid message {tag}")
        await discord_bob.send(PUBLIC, f"regular message {tag}")
        await matrix_alice.wait_for_event(
            public, lambda e: e.get("content", {}).get("body") == f"regular message {tag}", 30
        )
        # The channel's messages are relayed in order: the raid message would be there.
        stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
        assert await stores.messages.by_discord(raid.id) == []
        told, _ = await newbie.wait_for_message(
            lambda m: m.guild is None and "Matrix" in m.content, timeout=30
        )
        assert "lockdown" in told.content

        await command(matrix_carol, stack, "!mod lockdown off")
        await eventually(lambda: _true(not lockdown(stack).active), "lockdown not lifted", 30)
        await eventually(lambda: closed(stack, public, "public"), "join rule not restored", 30)
        await eventually(lambda: _true(verification(stack) == 0), "verification not restored", 30)
        assert slowmode(stack, PUBLIC) == 0
        # After the lift the new account's messages cross again.
        await newbie.send(PUBLIC, f"after the lift {tag}")
        await matrix_alice.wait_for_event(
            public, lambda e: e.get("content", {}).get("body") == f"after the lift {tag}", 30
        )
        assert newbie_id  # made just now: young by its ID
    finally:
        await newbie.close()


async def test_a_join_wave_turns_lockdown_on_by_itself(
    stack: SandboxStack, matrix_carol: MatrixUser, lifted: None
) -> None:
    public = await room_of(stack, PUBLIC)
    wave = stack.config.moderation.lockdown.join_wave  # type: ignore[union-attr]
    assert wave.enabled and wave.joins == 20
    for n in range(wave.joins):
        new_discord_account(stack, f"raider{n}")
    await eventually(lambda: _true(lockdown(stack).active), "the join wave did not lock", 60)
    assert lockdown(stack).actor == "the join-wave protection"
    await eventually(lambda: closed(stack, public, "knock"), "public room not knock-only", 30)
    await command(matrix_carol, stack, "!mod lockdown off")
    await eventually(lambda: closed(stack, public, "public"), "join rule not restored", 30)
    assert verification(stack) == 0 and slowmode(stack, PUBLIC) == 0


async def test_a_short_lockdown_lifts_itself(
    stack: SandboxStack, matrix_carol: MatrixUser, lifted: None
) -> None:
    public = await room_of(stack, PUBLIC)
    await command(matrix_carol, stack, "!mod lockdown on 5s")
    await eventually(lambda: closed(stack, public, "knock"), "public room not knock-only", 30)
    assert lockdown(stack).until_ms is not None
    await eventually(lambda: _true(not lockdown(stack).active), "not lifted by itself", 60)
    await eventually(lambda: closed(stack, public, "public"), "join rule not restored", 30)
    assert verification(stack) == 0 and slowmode(stack, PUBLIC) == 0
    entries = await stack.bridge.ctx.stores.audit.recent(5)  # type: ignore[union-attr]
    assert entries[0].action == "lockdown-off" and entries[0].source == "auto"


async def test_a_restart_keeps_the_lockdown_and_lifts_it_on_time(
    stack: SandboxStack, matrix_carol: MatrixUser, lifted: None
) -> None:
    public = await room_of(stack, PUBLIC)
    await command(matrix_carol, stack, "!mod lockdown on 25s")
    await eventually(lambda: closed(stack, public, "knock"), "public room not knock-only", 30)
    until = lockdown(stack).until_ms
    await stack.stop_bridge()
    await stack.start_bridge()
    # The new process read the lockdown back: still on, same end, rooms still closed.
    assert lockdown(stack).active and lockdown(stack).until_ms == until
    assert await join_rule(stack, public) == "knock" and verification(stack) == 3
    await eventually(lambda: _true(not lockdown(stack).active), "not lifted after restart", 90)
    await eventually(lambda: closed(stack, public, "public"), "join rule not restored", 30)
    assert verification(stack) == 0 and slowmode(stack, PUBLIC) == 0


async def membership(user: MatrixUser, room: RoomID, target: str) -> str | None:
    try:
        member = await user.client.get_state_event(room, EventType.ROOM_MEMBER, target)  # type: ignore[arg-type]
    except Exception:
        return None
    return str(member.membership)


async def test_a_hashed_ban_rule_bans_on_both_sides(
    stack: SandboxStack, matrix_carol: MatrixUser
) -> None:
    user_id, _token = new_discord_account(stack, "hashed")
    client = stack.bridge.discord.client  # type: ignore[union-attr]

    async def known() -> bool:
        guild = client.get_guild(int(GUILD))
        return guild is not None and guild.get_member(int(user_id)) is not None

    await eventually(known, "the bridge never saw the new member", 30)
    ghost = stack.config.namer.ghost_mxid(DiscordUserID(int(user_id)))  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(ghost.encode()).digest()).decode()
    policy_room = stack.bridge.ctx.moderation.policy_room  # type: ignore[union-attr]
    rule_type = EventType.find("m.policy.rule.user", EventType.Class.STATE)
    content = {
        "org.matrix.msc4205.hashes": {"sha256": digest},
        "recommendation": "org.matrix.msc4204.takedown",
    }
    await matrix_carol.client.send_state_event(policy_room, rule_type, content, "hashed-1")  # type: ignore[arg-type]
    bans = emulator(stack).state.guilds[GUILD].bans
    await eventually(lambda: _true(user_id in bans), "no Discord ban from the hashed rule", 30)
    public = await room_of(stack, PUBLIC)

    async def ghost_banned() -> bool:
        return await membership(matrix_carol, public, ghost) == "ban"

    await eventually(ghost_banned, "the ghost is not banned on Matrix", 30)
    # Blanking the rule (as Draupnir does) lifts both bans.
    await matrix_carol.client.send_state_event(policy_room, rule_type, {}, "hashed-1")  # type: ignore[arg-type]
    await eventually(lambda: _true(user_id not in bans), "the Discord ban stayed", 30)
