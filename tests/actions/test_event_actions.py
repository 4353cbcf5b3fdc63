"""bridge.actions.d2m_events over fake ports and a real (SQLite) database: where a
notice goes (never a public room for a members-only channel), edits in place,
deletion, coalesced interest counts, and the catch-up at start-up."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_events import EventNotices
from bridge.convert.d2m.events import CANCELED, COMPLETED, EXTERNAL, VOICE, ScheduledEvent
from bridge.db import PortalRow
from bridge.ids import ChannelID, GuildID, RoomID
from bridge.model import DiscordChannel
from tests.actions.fakes import CHANNEL, GUILD, FakeDiscord, fake_context

MEMBERS = ChannelID(4000000000000000002)  # configured members-only
HIDDEN_VOICE = ChannelID(4000000000000000077)  # not bridged, members only
OPEN_VOICE = ChannelID(4000000000000000078)  # not bridged, public
PUBLIC_ROOM = RoomID("!public:example.org")
MEMBERS_ROOM = RoomID("!members:example.org")


class EventDiscord(FakeDiscord):
    def __init__(self) -> None:
        super().__init__()
        self.channels[HIDDEN_VOICE] = DiscordChannel(
            HIDDEN_VOICE, GUILD, "bureau", visibility="members_only", type=2
        )
        self.channels[OPEN_VOICE] = DiscordChannel(
            OPEN_VOICE, GUILD, "permanence", visibility="public", type=2
        )
        self.channels[MEMBERS] = DiscordChannel(
            MEMBERS, GUILD, "members", visibility="members_only"
        )

    async def guild_channels(self, guild_id: GuildID) -> list[DiscordChannel] | None:
        return [c for c in self.channels.values() if c.guild_id == guild_id]


class Reads:
    """What Discord's REST answers for events (with counts)."""

    def __init__(self) -> None:
        self.events: dict[int, ScheduledEvent] = {}
        self.calls = 0

    async def event(self, guild_id: GuildID, event_id: int) -> ScheduledEvent | None:
        self.calls += 1
        return self.events.get(event_id)

    async def guild(self, guild_id: GuildID) -> list[ScheduledEvent]:
        return [e for e in self.events.values() if e.guild_id == guild_id]


async def setup(ctx: BridgeContext) -> None:
    await ctx.stores.portals.upsert(
        PortalRow(CHANNEL, GUILD, PUBLIC_ROOM, "campaign", "", "public")
    )
    await ctx.stores.portals.upsert(
        PortalRow(MEMBERS, GUILD, MEMBERS_ROOM, "members", "", "members_only")
    )


def event(channel: ChannelID | None = None, **fields: object) -> ScheduledEvent:
    base = ScheduledEvent(
        id=4600000000000000001,
        guild_id=GUILD,
        name="Permanence",
        start=datetime(2026, 12, 10, 18, 0, tzinfo=UTC),
        entity_type=VOICE if channel is not None else EXTERNAL,
        channel_id=channel,
        location=None if channel is not None else "Bourse du travail",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def make(ctx: BridgeContext, reads: Reads, delay: float = 0.05) -> EventNotices:
    return EventNotices(ctx, reads.event, reads.guild, interest_delay=delay)


async def test_external_event_goes_to_first_public_portal_then_edits(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        reads = Reads()
        notices = make(ctx, reads)
        ev = event(user_count=4)
        row = await notices.relay(ev)
        assert row is not None and row.room_id == PUBLIC_ROOM
        assert len(matrix.sent) == 1
        _, sender, text, _ = matrix.sent[0]
        assert sender == ctx.namer.bot_mxid and text.msgtype == "m.notice"
        assert "Where: Bourse du travail" in text.body and "4 people interested" in text.body

        await notices.relay(ev)  # the same again: nothing sent
        assert len(matrix.sent) == 1 and matrix.edits == []

        await notices.relay(replace(ev, name="Permanence du jeudi", user_count=None))
        assert len(matrix.sent) == 1 and len(matrix.edits) == 1
        edit_room, _, target, edited = matrix.edits[0]
        assert (edit_room, target) == (PUBLIC_ROOM, row.event_id)
        assert "Permanence du jeudi" in edited.body and "4 people interested" in edited.body

        await notices.relay(replace(ev, status=CANCELED))
        assert "This event was cancelled." in matrix.edits[-1][3].body
        await notices.relay(ev, deleted=True)
        assert len(matrix.sent) == 1  # never a second notice
        stored = await ctx.stores.event_notices.get(ev.id)
        assert stored is not None and "This event was cancelled." in stored.body


async def test_members_only_channel_event_stays_out_of_public_rooms(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        notices = make(ctx, Reads())
        assert await notices.relay(event(HIDDEN_VOICE, user_count=0)) is None
        assert matrix.sent == []
        # a bridged members-only channel: its own (members-only) room
        row = await notices.relay(event(MEMBERS, id=2, user_count=0))
        assert row is not None and row.room_id == MEMBERS_ROOM
        # an unbridged public voice channel: the guild's first public portal
        row = await notices.relay(event(OPEN_VOICE, id=3, user_count=0))
        assert row is not None and row.room_id == PUBLIC_ROOM
        assert "Where: the voice channel permanence on Discord" in matrix.sent[-1][2].body


async def test_deleting_an_unknown_event_posts_nothing(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        assert await make(ctx, Reads()).relay(event(), deleted=True) is None
        assert matrix.sent == []


async def test_interest_bursts_are_coalesced_into_one_read_and_one_edit(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        reads = Reads()
        notices = make(ctx, reads, delay=0.2)
        ev = event(user_count=0)
        await notices.relay(ev)
        reads.events[ev.id] = replace(ev, user_count=3)
        for _ in range(5):
            notices.interest_changed(GUILD, ev.id)
        await asyncio.sleep(0.05)
        assert matrix.edits == []  # still quiet
        await notices.flush()
        assert reads.calls == 1
        assert len(matrix.edits) == 1
        assert matrix.edits[0][3].body.endswith("3 people interested")


async def test_unknown_count_is_read_from_discord(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        reads = Reads()
        ev = event()
        reads.events[ev.id] = replace(ev, user_count=7)
        await make(ctx, reads).relay(ev)
        assert matrix.sent[0][2].body.endswith("7 people interested")


async def test_catch_up_edits_what_changed_and_skips_what_ended_unseen(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        reads = Reads()
        shown = event(user_count=1)
        await make(ctx, reads).relay(shown)
        # the bridge restarts; meanwhile the event moved and another one ended unseen
        reads.events[shown.id] = replace(shown, name="Permanence (déplacée)", user_count=1)
        reads.events[9] = event(id=9, status=COMPLETED, user_count=0)
        reads.events[10] = event(id=10, name="Nouvelle", user_count=2)
        changed = await make(ctx, reads).catch_up([GUILD])
        assert changed == 2
        assert len(matrix.sent) == 2  # the first one, and "Nouvelle"
        assert "Nouvelle" in matrix.sent[1][2].body
        assert "déplacée" in matrix.edits[0][3].body
        assert await ctx.stores.event_notices.get(9) is None


async def test_a_recount_read_before_a_change_does_not_bring_the_old_state_back(
    tmp_path: Path,
) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.discord = EventDiscord()
        await setup(ctx)
        reads = Reads()
        notices = make(ctx, reads, delay=0.05)
        ev = event(user_count=0)
        await notices.relay(ev)
        reads.events[ev.id] = replace(ev, user_count=2)  # Discord's REST, before the cancel
        notices.interest_changed(GUILD, ev.id)
        await notices.relay(replace(ev, status=CANCELED))  # the gateway's cancel
        await notices.flush()
        last = matrix.edits[-1][3].body
        assert "This event was cancelled." in last and last.endswith("2 people interested")

        notices.interest_changed(GUILD, ev.id)
        await notices.relay(ev, deleted=True)
        await notices.flush()
        assert "This event was cancelled." in matrix.edits[-1][3].body
        stored = await ctx.stores.event_notices.get(ev.id)
        assert stored is not None and stored.body == matrix.edits[-1][3].body
