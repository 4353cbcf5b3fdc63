"""``moderation.ban_scope`` through real Synapse + the Discord emulator + the bridge.

With the session stack (scope ``guild``), a Discord ban in Nord bans the ghost in
Nord's rooms only, and a Matrix user banned in Nord still reaches HQ's channels.
Switched to ``party`` (the config file rewritten, then ``!bridge reload``), a Discord
ban in Nord bans on HQ's and Yvelines' servers and in every portal room, with one
moderation-log line per guild; the unban mirrors it. The scope is set back after.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import discord
import pytest
import yaml
from mautrix.types import EventType, RoomID

from bridge.ids import DiscordUserID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.state import User
from sandbox.stack import SandboxStack
from tests.conftest import discord_token, element_moderator, matrix_token
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

HQ, NORD, YVELINES = "3000000000000000001", "3000000000000000002", "3000000000000000003"
HQ_PUBLIC = 4000000000000000001
NORD_ANNONCES = 4100000000000000011
HQ_MODS, NORD_MODS = "4000000000000000003", "4100000000000000014"
TRENT = DiscordUserID(2000000000000000005)  # an HQ member, not in Nord
_fresh = iter(range(2000000000000000901, 2000000000000000999))


def emulator_bans(stack: SandboxStack, guild: str) -> dict[str, str | None]:
    return stack.emulator.state.guilds[guild].bans  # type: ignore[union-attr, no-any-return]


def fresh_discord_user(stack: SandboxStack) -> DiscordUserID:
    """A Discord account that is in no guild (banning it removes nobody's membership)."""
    uid = str(next(_fresh))
    stack.emulator.state.users[uid] = User(uid, f"raider{uid[-3:]}", None, False, f"t{uid}", None)  # type: ignore[union-attr]
    return DiscordUserID(int(uid))


async def rooms_of(stack: SandboxStack, guild: str | None = None) -> list[RoomID]:
    portals = await stack.bridge.ctx.stores.portals.all()  # type: ignore[union-attr]
    return [p.room_id for p in portals if guild is None or str(p.guild_id) == guild]


async def membership(user: MatrixUser, room: RoomID, target: str) -> str | None:
    try:
        member = await user.client.get_state_event(room, EventType.ROOM_MEMBER, target)  # type: ignore[arg-type]
    except Exception:
        return None
    return str(member.membership)


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) == expected


async def _true(value: bool) -> bool:
    return value


@pytest.fixture(scope="module")
async def matrix_carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    user = await element_moderator(stack)
    yield user
    await user.close()


@pytest.fixture(scope="module")
async def discord_carol(stack: SandboxStack) -> AsyncIterator[DiscordUser]:
    """Carol on Discord: Nord's owner and Moderator."""
    user = DiscordUser(stack.emulator.api_base, discord_token(stack, "carol"))  # type: ignore[union-attr]
    await user.start()
    yield user
    await user.close()


def nord(carol: DiscordUser) -> discord.Guild:
    guild = carol.client.get_guild(int(NORD))
    assert guild is not None
    return guild


async def test_guild_scope_a_nord_ban_stays_in_nord(
    stack: SandboxStack, matrix_carol: MatrixUser, discord_carol: DiscordUser
) -> None:
    assert stack.bridge is not None and stack.bridge.config.moderation.ban_scope == "guild"
    public = await room_of(stack, HQ_PUBLIC)  # type: ignore[arg-type]
    trent = DiscordUser(stack.emulator.api_base, discord_token(stack, "trent"))  # type: ignore[union-attr]
    await trent.start()
    try:
        marker = uuid.uuid4().hex[:8]
        await trent.send(HQ_PUBLIC, f"hello from HQ {marker}")
        await matrix_carol.wait_for_event(public, lambda e: marker in e["content"].get("body", ""))
    finally:
        await trent.close()
    ghost = stack.config.namer.ghost_mxid(TRENT)  # type: ignore[union-attr]
    assert await membership(matrix_carol, public, ghost) == "join"
    await nord(discord_carol).ban(discord.Object(TRENT), reason="raid in Nord")
    try:
        for room in await rooms_of(stack, NORD):
            await eventually(
                lambda room=room: _is(membership(matrix_carol, room, ghost), "ban"),
                f"ghost not banned in Nord's room {room}",
            )
        stores = stack.bridge.ctx.stores
        rows = await stores.bans.of("discord", str(TRENT))
        assert [(str(r.guild_id), r.origin) for r in rows] == [(NORD, "discord")]
        # Nothing in HQ: not banned on HQ's server, the ghost still in HQ's room.
        await asyncio.sleep(0.5)
        assert str(TRENT) not in emulator_bans(stack, HQ)
        assert str(TRENT) not in emulator_bans(stack, YVELINES)
        assert await membership(matrix_carol, public, ghost) == "join"
        for room in await rooms_of(stack, HQ) + await rooms_of(stack, YVELINES):
            assert await membership(matrix_carol, room, ghost) != "ban", room
        # The log line names Nord, and goes to Nord's moderators' channel, not HQ's.
        entries = [e for e in await stores.audit.recent(10) if ghost in e.target]
        assert [(e.action, str(e.guild_id)) for e in entries] == [("ban", NORD)]
        posted = stack.emulator.state.messages_in(NORD_MODS)  # type: ignore[union-attr]
        assert any(ghost in m["content"] and "Fédération du Nord" in m["content"] for m in posted)
        hq_posted = stack.emulator.state.messages_in(HQ_MODS)  # type: ignore[union-attr]
        assert not any(ghost in m["content"] and "raid in Nord" in m["content"] for m in hq_posted)
    finally:
        await nord(discord_carol).unban(discord.Object(TRENT))
    for room in await rooms_of(stack, NORD):
        await eventually(
            lambda room=room: _is(membership(matrix_carol, room, ghost), "leave"),
            f"ghost still banned in {room}",
        )
    assert await stack.bridge.ctx.stores.bans.of("discord", str(TRENT)) == []


async def test_guild_scope_a_matrix_user_banned_in_nord_still_reaches_hq(
    stack: SandboxStack, matrix_carol: MatrixUser
) -> None:
    user_id, token = matrix_token(stack, "erin")
    erin = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    public = await room_of(stack, HQ_PUBLIC)  # type: ignore[arg-type]
    annonces = await room_of(stack, NORD_ANNONCES)  # type: ignore[arg-type]
    await erin.join(public)
    await erin.join(annonces)
    await matrix_carol.client.ban_user(annonces, user_id, reason="spam in Nord")
    try:
        for room in await rooms_of(stack, NORD):
            await eventually(
                lambda room=room: _is(membership(matrix_carol, room, user_id), "ban"),
                f"not banned in Nord's room {room}",
            )
        rows = await stack.bridge.ctx.stores.bans.of("matrix", user_id)  # type: ignore[union-attr]
        assert [str(r.guild_id) for r in rows] == [NORD]
        assert await membership(matrix_carol, public, user_id) == "join"
        marker = uuid.uuid4().hex[:8]
        await erin.send_text(public, f"still welcome in HQ {marker}")

        async def relayed() -> bool:
            messages = stack.emulator.state.messages_in(HQ_PUBLIC)  # type: ignore[union-attr]
            return any(marker in m["content"] for m in messages)

        await eventually(relayed, "a Nord ban blocked the relay into HQ")
    finally:
        await matrix_carol.client.unban_user(annonces, user_id, reason="ok")
        await erin.close()
    await eventually(lambda: _is(_stores_of(stack, user_id), []), "the Nord ban was not lifted")


async def _stores_of(stack: SandboxStack, user_id: str) -> list[Any]:
    return await stack.bridge.ctx.stores.bans.of("matrix", user_id)  # type: ignore[union-attr, no-any-return]


@pytest.fixture
async def party_scope(stack: SandboxStack, matrix_carol: MatrixUser) -> AsyncIterator[None]:
    """The running bridge switched to ``ban_scope: party`` by rewriting its config file
    and ``!bridge reload`` in the moderators' room; set back to guild afterwards."""
    assert stack.bridge is not None and stack.bridge.config.path is not None
    path = stack.bridge.config.path
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)

    async def reload(text: str, scope: str) -> None:
        path.write_text(text, encoding="utf-8")
        mod_room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
        await matrix_carol.send_text(mod_room, "!bridge reload")  # type: ignore[arg-type]
        await eventually(
            lambda: _true(stack.bridge.config.moderation.ban_scope == scope),  # type: ignore[union-attr]
            f"ban_scope not {scope} after reload",
        )

    data.setdefault("moderation", {})["ban_scope"] = "party"
    await reload(yaml.safe_dump(data, sort_keys=False), "party")
    try:
        yield
    finally:
        await reload(original, "guild")


def _lines(stack: SandboxStack, channel: str, marker: str) -> Iterator[str]:
    for message in stack.emulator.state.messages_in(channel):  # type: ignore[union-attr]
        if marker in message["content"]:
            yield str(message["content"])


async def test_party_scope_a_nord_ban_applies_in_every_guild(
    stack: SandboxStack,
    matrix_carol: MatrixUser,
    discord_carol: DiscordUser,
    party_scope: None,
) -> None:
    raider = fresh_discord_user(stack)
    ghost = stack.config.namer.ghost_mxid(raider)  # type: ignore[union-attr]
    reason = f"coordinated raid {uuid.uuid4().hex[:6]}"
    await nord(discord_carol).ban(discord.Object(raider), reason=reason)
    # Banned on HQ's and Yvelines' servers by the bridge...
    for guild in (HQ, YVELINES):
        await eventually(
            lambda guild=guild: _true(str(raider) in emulator_bans(stack, guild)),
            f"not banned on {guild}'s server",
        )
    # ...and the ghost in every portal room of every guild.
    for room in await rooms_of(stack):
        await eventually(
            lambda room=room: _is(membership(matrix_carol, room, ghost), "ban"),
            f"ghost not banned in {room}",
        )
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await stores.bans.of("discord", str(raider))
    assert {str(r.guild_id): r.origin for r in rows} == {
        HQ: "party",
        NORD: "discord",
        YVELINES: "party",
    }

    async def bans_logged() -> list[Any]:
        entries = [e for e in await stores.audit.recent(20) if e.reason == reason]
        return entries if len(entries) >= 3 else []

    entries = await eventually(bans_logged, "not one log line per guild")
    assert sorted((e.action, str(e.guild_id)) for e in entries) == [
        ("ban", HQ),
        ("ban", NORD),
        ("ban", YVELINES),
    ]
    # Each guild's line in its own moderators' channel (Yvelines has none)...
    await eventually(lambda: _true(len(list(_lines(stack, HQ_MODS, reason))) == 1), "HQ line")
    await eventually(lambda: _true(len(list(_lines(stack, NORD_MODS, reason))) == 1), "Nord line")
    assert "Campaign HQ" in next(_lines(stack, HQ_MODS, reason))
    assert "Fédération du Nord" in next(_lines(stack, NORD_MODS, reason))
    # ...and all three in the Matrix moderators' room.
    mod_room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
    seen: set[str] = set()
    for _ in range(3):
        event, _ = await matrix_carol.wait_for_event(
            mod_room,  # type: ignore[arg-type]
            lambda e: reason in e["content"].get("body", "") and e["event_id"] not in seen,
        )
        seen.add(event["event_id"])
    # The unban mirrors it: lifted on Nord's Discord, lifted everywhere.
    await nord(discord_carol).unban(discord.Object(raider))
    for guild in (HQ, YVELINES):
        await eventually(
            lambda guild=guild: _true(str(raider) not in emulator_bans(stack, guild)),
            f"still banned on {guild}'s server",
        )
    for room in await rooms_of(stack):
        await eventually(
            lambda room=room: _is(membership(matrix_carol, room, ghost), "leave"),
            f"ghost still banned in {room}",
        )
    assert await stores.bans.of("discord", str(raider)) == []
    unbans = [e for e in await stores.audit.recent(20) if e.action == "unban" and ghost in e.target]
    assert sorted(str(e.guild_id) for e in unbans) == [HQ, NORD, YVELINES]


async def test_back_in_guild_scope_after_the_party_test(
    stack: SandboxStack, discord_carol: DiscordUser, matrix_carol: MatrixUser
) -> None:
    """The scope is live: set back to guild, a Nord ban stays in Nord again."""
    assert stack.bridge is not None and stack.bridge.config.moderation.ban_scope == "guild"
    raider = fresh_discord_user(stack)
    await nord(discord_carol).ban(discord.Object(raider), reason="guild again")
    stores = stack.bridge.ctx.stores

    async def recorded() -> list[Any]:
        return await stores.bans.of("discord", str(raider))

    await eventually(recorded, "the Nord ban was not recorded")
    await asyncio.sleep(0.5)
    assert [str(r.guild_id) for r in await recorded()] == [NORD]
    assert str(raider) not in emulator_bans(stack, HQ)
    assert str(raider) not in emulator_bans(stack, YVELINES)
    await nord(discord_carol).unban(discord.Object(raider))
    await eventually(lambda: _is(recorded(), []), "not unbanned")
