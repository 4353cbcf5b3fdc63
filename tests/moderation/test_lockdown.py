"""Lockdown flows with fake networks and a real (SQLite) database: on, off, what is
saved and restored, missing permissions, restart, auto-lift, join waves, the relay
gate and the author told once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from bridge.model import DiscordAuthor, DiscordMessage
from moderation import run_commands
from moderation.lockdown import LockdownService
from moderation.lockdown_gate import discord_message_paused, is_paused
from moderation.lockdown_rules import DISCORD_EPOCH_MS
from moderation.state import ModerationState
from tests.moderation.fakes import (
    CHANNEL_A,
    CHANNEL_B,
    GUILD,
    MOD_CHANNEL,
    MOD_ROOM,
    MODERATOR,
    ROOM_A,
    ROOM_B,
    Harness,
    moderation_context,
)

NOW = 1_765_000_000.0  # seconds
ROOM_V6 = RoomID("!old-version:example.org")
NEWBIE = UserID("@newbie:raid.example")
REGULAR = UserID("@regular:example.org")


class FakeDiscordLockdown:
    """Slowmode per channel and verification level per guild, as Discord keeps them."""

    def __init__(self) -> None:
        self.slowmodes: dict[ChannelID, int] = {CHANNEL_A: 0, CHANNEL_B: 60}
        self.levels: dict[GuildID, int] = {GUILD: 1}
        self.may_manage_channels = True
        self.may_manage_guild = True
        self.calls: list[tuple[str, int, int]] = []

    async def slowmode(self, channel_id: ChannelID) -> int | None:
        return self.slowmodes.get(channel_id)

    async def set_slowmode(self, channel_id: ChannelID, seconds: int, reason: str) -> bool:
        self.calls.append(("slowmode", channel_id, seconds))
        if not self.may_manage_channels:
            return False
        self.slowmodes[channel_id] = seconds
        return True

    async def verification_level(self, guild_id: GuildID) -> int | None:
        return self.levels.get(guild_id)

    async def set_verification_level(self, guild_id: GuildID, level: int, reason: str) -> bool:
        self.calls.append(("verification", guild_id, level))
        if not self.may_manage_guild:
            return False
        self.levels[guild_id] = level
        return True


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def room_state(join_rule: str, version: str = "10", **extra: Any) -> list[dict[str, Any]]:
    return [
        {"type": "m.room.create", "state_key": "", "content": {"room_version": version}},
        {
            "type": "m.room.join_rules",
            "state_key": "",
            "content": {"join_rule": join_rule, **extra},
        },
    ]


def join_rules_now(h: Harness, room: RoomID) -> dict[str, Any] | None:
    """The last join rules the bridge wrote to ``room``."""
    writes = [
        c for r, t, _k, c in h.matrix.set_state_calls if r == room and t == "m.room.join_rules"
    ]
    return writes[-1] if writes else None


def service(h: Harness, port: FakeDiscordLockdown, clock: Clock) -> LockdownService:
    return LockdownService(h.mctx, port, clock=clock, monotonic=clock)


def setup_rooms(h: Harness) -> None:
    h.matrix.state[ROOM_A] = room_state("public")
    allow = [{"type": "m.room_membership", "room_id": "!space:example.org"}]
    h.matrix.state[ROOM_B] = room_state("restricted", "6", allow=allow)


async def test_lockdown_on_and_off_restores_everything(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        port, clock = FakeDiscordLockdown(), Clock()
        lockdown = service(h, port, clock)
        answer = await run_commands.on_matrix_message(
            h.mctx, MOD_ROOM, MODERATOR, "!mod lockdown on", None
        )
        assert answer
        assert join_rules_now(h, ROOM_A) == {"join_rule": "knock"}
        assert join_rules_now(h, ROOM_B) == {"join_rule": "invite"}  # v6: no knocking
        assert port.slowmodes == {CHANNEL_A: 30, CHANNEL_B: 60}  # 60 s was already slower
        assert port.levels == {GUILD: 3}
        assert h.mctx.state.lockdown.active
        row = await h.stores.lockdown.get()
        assert row is not None and row.active and row.until_ms == int(NOW * 1000) + 1800_000
        # One plain line in the moderators' room and channel, saying how to undo.
        (entry,) = [e for e in await h.audits() if e.action == "lockdown-on"]
        assert "!mod lockdown off" in entry.outcome and "2 rooms" in entry.outcome
        assert any("!mod lockdown off" in text for ch, text in h.discord.posts if ch == MOD_CHANNEL)
        assert any(
            "!mod lockdown off" in text for room, text in h.matrix.notices if room == MOD_ROOM
        )

        status = await run_commands.run(
            h.mctx, parse("!mod lockdown"), actor=MODERATOR, source="matrix"
        )
        assert "Lockdown on since" in status and MODERATOR in status

        await run_commands.on_matrix_message(h.mctx, MOD_ROOM, MODERATOR, "!mod lockdown off", None)
        assert join_rules_now(h, ROOM_A) == {"join_rule": "public"}
        assert join_rules_now(h, ROOM_B) == {
            "join_rule": "restricted",
            "allow": [{"type": "m.room_membership", "room_id": "!space:example.org"}],
        }
        assert port.slowmodes == {CHANNEL_A: 0, CHANNEL_B: 60}
        assert port.levels == {GUILD: 1}
        assert await h.stores.lockdown.saved() == []
        assert not h.mctx.state.lockdown.active
        assert [e.action for e in await h.audits()] == ["lockdown-on", "lockdown-off"]
        assert lockdown.status(h.mctx.tr).startswith("No lockdown now")


def parse(text: str) -> Any:
    from moderation.commands import parse_command

    return parse_command(text)


async def test_members_only_rooms_are_left_alone(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.state[ROOM_A] = room_state("invite")
        h.matrix.state[ROOM_B] = room_state("public")
        lockdown = service(h, FakeDiscordLockdown(), Clock())
        await lockdown.turn_on(actor=MODERATOR, source="matrix")
        assert join_rules_now(h, ROOM_A) is None
        assert join_rules_now(h, ROOM_B) == {"join_rule": "knock"}
        assert [s.target for s in await h.stores.lockdown.saved() if s.kind == "room"] == [ROOM_B]


async def test_missing_discord_permissions_are_reported_not_fatal(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        port = FakeDiscordLockdown()
        port.may_manage_channels = port.may_manage_guild = False
        h.discord.names[GUILD] = "HQ"
        lockdown = service(h, port, Clock())
        text = await lockdown.turn_on(actor=MODERATOR, source="matrix")
        assert "Manage Channels" in text and "Manage Server" in text and "HQ" in text
        assert join_rules_now(h, ROOM_A) == {"join_rule": "knock"}  # Matrix still closed
        assert h.mctx.state.lockdown.active
        port.may_manage_channels = port.may_manage_guild = True
        await lockdown.turn_off(actor=MODERATOR, source="matrix")
        # Nothing was changed on Discord, so what is put back is what was there.
        assert port.slowmodes == {CHANNEL_A: 0, CHANNEL_B: 60} and port.levels == {GUILD: 1}


async def test_restart_keeps_the_lockdown_and_lifts_it_on_time(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        port, clock = FakeDiscordLockdown(), Clock()
        first = service(h, port, clock)
        await first.turn_on(actor=MODERATOR, source="matrix", seconds=600)
        first.cancel_timer()  # the bridge stops

        # A new process: fresh memory, same database.
        h.mctx.bridge.moderation = ModerationState()
        second = service(h, port, clock)
        await second.resume()
        assert h.mctx.state.lockdown.active and h.mctx.state.lockdown.actor == MODERATOR
        assert port.levels == {GUILD: 3}

        clock.now += 601  # down past the end: the next start lifts it at once
        second.cancel_timer()
        h.mctx.bridge.moderation = ModerationState()
        third = service(h, port, clock)
        await third.resume()
        assert not h.mctx.state.lockdown.active
        assert port.levels == {GUILD: 1} and port.slowmodes[CHANNEL_A] == 0
        assert join_rules_now(h, ROOM_A) == {"join_rule": "public"}
        lifts = [e for e in await h.audits() if e.action == "lockdown-off"]
        assert len(lifts) == 1 and lifts[0].source == "auto"


async def test_auto_lift_after_the_configured_time(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, lockdown={"duration_seconds": 1}) as h:
        setup_rooms(h)
        port = FakeDiscordLockdown()
        import time

        lockdown = LockdownService(h.mctx, port)  # the real clock
        await lockdown.turn_on(actor=MODERATOR, source="matrix")
        assert h.mctx.state.lockdown.active and port.levels == {GUILD: 3}
        for _ in range(100):
            if not h.mctx.state.lockdown.active:
                break
            await asyncio.sleep(0.1)
        assert not h.mctx.state.lockdown.active
        assert port.levels == {GUILD: 1}
        assert time.time() * 1000 >= h.mctx.state.lockdown.since_ms + 1000


async def test_join_wave_turns_lockdown_on_once(tmp_path: Path) -> None:
    wave = {"join_wave": {"joins": 5, "seconds": 10}}
    async with moderation_context(tmp_path, lockdown=wave) as h:
        setup_rooms(h)
        port, clock = FakeDiscordLockdown(), Clock()
        lockdown = service(h, port, clock)
        for n in range(3):  # slow joins: no wave
            assert not await lockdown.on_join("discord", str(9000 + n))
            clock.now += 6
        results = []
        for n in range(4):  # a burst on both sides
            results.append(await lockdown.on_join("discord", str(9100 + n)))
            results.append(
                await lockdown.on_matrix_join(ROOM_A, UserID(f"@raider{n}:raid.example")) or False
            )
            clock.now += 0.5
        assert h.mctx.state.lockdown.active
        assert port.levels == {GUILD: 3}
        entries = [e for e in await h.audits() if e.action == "lockdown-on"]
        assert len(entries) == 1 and "5 joins within 10 seconds" in entries[0].reason
        assert await h.stores.lockdown.first_join("matrix", "@raider0:raid.example") is not None


async def test_join_wave_can_be_switched_off(tmp_path: Path) -> None:
    wave = {"join_wave": {"enabled": False, "joins": 2, "seconds": 10}}
    async with moderation_context(tmp_path, lockdown=wave) as h:
        lockdown = service(h, FakeDiscordLockdown(), Clock())
        for n in range(10):
            assert not await lockdown.on_join("discord", str(9000 + n))
        assert not h.mctx.state.lockdown.active


def message_from(user_id: int, *, bot: bool = False) -> DiscordMessage:
    return DiscordMessage(
        id=1,  # type: ignore[arg-type]
        channel_id=CHANNEL_A,
        guild_id=GUILD,
        author=DiscordAuthor(DiscordUserID(user_id), "someone", bot=bot),
        content="hello",
        timestamp_ms=0,
    )


async def test_new_accounts_wait_and_are_told_once(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        import time

        lockdown = LockdownService(h.mctx, FakeDiscordLockdown())
        young = ((int(time.time() * 1000) - 3_600_000) - DISCORD_EPOCH_MS) << 22
        old = ((int(time.time() * 1000) - 400 * 86_400_000) - DISCORD_EPOCH_MS) << 22
        bridge = h.mctx.bridge
        # No lockdown: nobody waits.
        assert not await discord_message_paused(bridge, message_from(young))
        await lockdown.on_join("matrix", NEWBIE)
        await lockdown.turn_on(actor=MODERATOR, source="matrix")
        lockdown.cancel_timer()

        assert await discord_message_paused(bridge, message_from(young))
        assert await discord_message_paused(bridge, message_from(young))
        assert not await discord_message_paused(bridge, message_from(old))
        assert not await discord_message_paused(bridge, message_from(young, bot=True))
        # An old account that just joined the server is new too.
        await lockdown.on_join("discord", str(old + 1))
        assert await discord_message_paused(bridge, message_from(old + 1))
        assert [uid for uid, _text in h.discord.dms] == [young, old + 1]
        assert "Matrix" in h.discord.dms[0][1]

        assert await is_paused(bridge, "matrix", NEWBIE, ROOM_A)
        assert await is_paused(bridge, "matrix", NEWBIE, ROOM_A)
        assert not await is_paused(bridge, "matrix", REGULAR, ROOM_A)  # never seen joining
        assert not await is_paused(bridge, "matrix", MODERATOR, ROOM_A)
        told = [text for room, text in h.matrix.notices if room == ROOM_A]
        assert len(told) == 1 and NEWBIE in told[0]

        await lockdown.turn_off(actor=MODERATOR, source="matrix")
        assert not await is_paused(bridge, "matrix", NEWBIE, ROOM_A)
        assert not await discord_message_paused(bridge, message_from(young))


async def test_discord_moderators_channel_commands(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        from moderation.policy import BAN_MEMBERS

        port = FakeDiscordLockdown()
        service(h, port, Clock())
        mod = h.discord.add_member(5000000000000000009, "mod", permissions=BAN_MEMBERS)
        message = DiscordMessage(
            id=2,  # type: ignore[arg-type]
            channel_id=MOD_CHANNEL,
            guild_id=GUILD,
            author=DiscordAuthor(mod, "mod"),
            content="!mod verrouiller 2h",
            timestamp_ms=0,
        )
        assert await run_commands.on_discord_message(h.mctx, message)
        assert h.mctx.state.lockdown.active and port.levels == {GUILD: 3}
        assert h.mctx.state.lockdown.until_ms == int(NOW * 1000) + 7200_000
        h.mctx.lockdown.cancel_timer()  # type: ignore[union-attr]


async def test_resume_finishes_a_lockdown_cut_short_by_a_stop(tmp_path: Path) -> None:
    from bridge.db import LockdownRow

    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        port, clock = FakeDiscordLockdown(), Clock()
        # The bridge stopped right after recording the lockdown, before closing anything.
        until = int(NOW * 1000) + 600_000
        await h.stores.lockdown.put(LockdownRow(True, int(NOW * 1000), until, MODERATOR, ""))
        lockdown = service(h, port, clock)
        await lockdown.resume()
        assert join_rules_now(h, ROOM_A) == {"join_rule": "knock"}
        assert port.levels == {GUILD: 3} and port.slowmodes[CHANNEL_A] == 30
        lockdown.cancel_timer()
        await lockdown.turn_off(actor=MODERATOR, source="matrix")
        assert join_rules_now(h, ROOM_A) == {"join_rule": "public"} and port.levels == {GUILD: 1}


async def test_a_channel_bridged_during_a_lockdown_is_closed_too(tmp_path: Path) -> None:
    from bridge.db import PortalRow

    async with moderation_context(tmp_path) as h:
        setup_rooms(h)
        port, clock = FakeDiscordLockdown(), Clock()
        lockdown = service(h, port, clock)
        new_room, new_channel = RoomID("!new:example.org"), ChannelID(4000000000000000077)
        h.matrix.state[new_room] = room_state("public")
        port.slowmodes[new_channel] = 0
        row = PortalRow(new_channel, GUILD, new_room, "new", "", "public")
        await lockdown.on_portal_created(row)  # no lockdown: left open
        assert join_rules_now(h, new_room) is None
        await lockdown.turn_on(actor=MODERATOR, source="matrix")
        lockdown.cancel_timer()
        for hook in h.mctx.bridge.portal_created:
            await hook(row)
        assert join_rules_now(h, new_room) == {"join_rule": "knock"}
        assert port.slowmodes[new_channel] == 30
        await lockdown.turn_off(actor=MODERATOR, source="matrix")
        assert join_rules_now(h, new_room) == {"join_rule": "public"}
        assert port.slowmodes[new_channel] == 0
