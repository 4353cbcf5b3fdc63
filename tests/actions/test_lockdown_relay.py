"""The relay during a lockdown (fake networks, SQLite): a new account's message is not
relayed either way and its author is told once; an old member's crosses; nothing
waits once the lockdown is lifted."""

from __future__ import annotations

import time
from pathlib import Path

from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.portals import ensure_portal
from bridge.ids import DiscordUserID, EventID, MessageID, RoomID, UserID
from bridge.model import DiscordAuthor, DiscordMessage, MatrixMessage
from moderation.lockdown_rules import DISCORD_EPOCH_MS, JoinWave
from tests.actions.fakes import CHANNEL, GUILD, fake_context

OLD = DiscordUserID(2000000000000000002)  # a seeded, long-standing member
YOUNG = DiscordUserID(((int(time.time() * 1000) - 3_600_000) - DISCORD_EPOCH_MS) << 22)
NEWCOMER = UserID("@newcomer:example.org")
REGULAR = UserID("@regular:example.org")


def from_discord(mid: int, author: DiscordUserID) -> DiscordMessage:
    return DiscordMessage(
        id=MessageID(mid),
        channel_id=CHANNEL,
        guild_id=GUILD,
        author=DiscordAuthor(author, f"user{mid}"),
        content=f"message {mid}",
        timestamp_ms=1_700_000_000_000,
    )


def from_matrix(room: RoomID, event: str, sender: UserID) -> MatrixMessage:
    return MatrixMessage(room, EventID(event), sender, "m.text", "hello")


async def test_new_accounts_wait_both_ways_during_a_lockdown(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        await ctx.stores.lockdown.note_join("matrix", NEWCOMER, int(time.time() * 1000))
        told: list[tuple[str, str, str]] = []

        async def tell(side: str, user: str, where: str) -> None:
            told.append((side, user, where))

        state = ctx.moderation.lockdown
        state.tell = tell
        # No lockdown: everyone crosses.
        assert await relay_discord_message(ctx, from_discord(1, YOUNG)) is not None
        assert await relay_matrix_message(ctx, from_matrix(portal.room_id, "$1", NEWCOMER))

        state.active = True
        assert await relay_discord_message(ctx, from_discord(2, YOUNG)) is None
        assert await relay_discord_message(ctx, from_discord(3, YOUNG)) is None
        assert await relay_discord_message(ctx, from_discord(4, OLD)) is not None
        assert await relay_matrix_message(ctx, from_matrix(portal.room_id, "$2", NEWCOMER)) == []
        assert await relay_matrix_message(ctx, from_matrix(portal.room_id, "$3", REGULAR))
        assert await ctx.stores.messages.by_discord(MessageID(2)) == []
        assert told == [
            ("discord", str(YOUNG), str(CHANNEL)),
            ("matrix", NEWCOMER, portal.room_id),
        ]

        state.active = False
        assert await relay_discord_message(ctx, from_discord(5, YOUNG)) is not None
        assert len(discord.executed) == 2 and len(matrix.sent) == 3


async def test_a_building_wave_holds_its_newcomers_before_any_lockdown(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        wave = JoinWave(joins=20, seconds=30, alert=2)
        clock = [100.0]
        told: list[tuple[str, str, str]] = []

        async def tell(side: str, user: str, where: str) -> None:
            told.append((side, user, where))

        state = ctx.moderation.lockdown
        state.tell = tell
        state.suspect = lambda who: wave.suspect(clock[0], who)
        wave.add(clock[0], f"discord:{YOUNG}")
        # One join is no alert: the newcomer's message crosses.
        assert await relay_discord_message(ctx, from_discord(1, YOUNG)) is not None
        wave.add(clock[0], f"matrix:{NEWCOMER}")  # the second join: the wave is suspected
        assert not state.active
        assert await relay_discord_message(ctx, from_discord(2, YOUNG)) is None
        assert await relay_matrix_message(ctx, from_matrix(portal.room_id, "$1", NEWCOMER)) == []
        # Who did not join in the wave crosses, young or not.
        assert await relay_discord_message(ctx, from_discord(3, OLD)) is not None
        assert await relay_matrix_message(ctx, from_matrix(portal.room_id, "$2", REGULAR))
        assert told == [
            ("discord", str(YOUNG), str(CHANNEL)),
            ("matrix", NEWCOMER, portal.room_id),
        ]
        # The joins calm down (the window passed): the newcomers' messages cross again.
        clock[0] += 31
        assert await relay_discord_message(ctx, from_discord(4, YOUNG)) is not None
        assert len(discord.executed) == 1 and len(matrix.sent) == 3
