"""Discord scheduled events -> one Matrix notice each, edited in place.

Where the notice goes: an event in a voice or stage channel goes to that channel's
portal; when that channel is not bridged, to the guild's first public portal, but
only if @everyone can see the channel on Discord (an event of a members-only channel
never reaches a public room). An external event (a place, not a channel) goes to the
guild's first public portal (config order). No portal: no notice.

The notice's Matrix event ID is kept (``scheduled_event_notice``): an update, a
cancellation, a deletion or a restart edits it (``m.replace``) instead of posting
again. Interest changes (GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE) only say that the
count changed: the count is read back from Discord once a burst is over (coalesced
for ``interest_delay`` seconds), and only the number is shown, never who.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

from bridge.actions.context import BridgeContext
from bridge.convert.d2m.events import SCHEDULED, ScheduledEvent, event_notice
from bridge.db import EventNoticeRow, PortalRow
from bridge.i18n import translator
from bridge.ids import ChannelID, GuildID

log = logging.getLogger(__name__)

INTEREST_DELAY = 5.0  # seconds a burst of interest changes is coalesced


class EventNotices:
    def __init__(
        self,
        ctx: BridgeContext,
        read_event: Callable[[GuildID, int], Awaitable[ScheduledEvent | None]],
        read_guild_events: Callable[[GuildID], Awaitable[list[ScheduledEvent]]],
        interest_delay: float = INTEREST_DELAY,
    ) -> None:
        self.ctx = ctx
        self.read_event = read_event
        self.read_guild_events = read_guild_events
        self.interest_delay = interest_delay
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._counts: dict[int, int] = {}  # event ID -> interested, last read
        # The event as last relayed, and the events deleted: a recount read just before
        # a change or a deletion must not bring the older state back.
        self._latest: dict[int, ScheduledEvent] = {}
        self._deleted: set[int] = set()
        self._pending: dict[int, asyncio.Task[None]] = {}

    # -- where -------------------------------------------------------------------------

    async def _first_public_portal(self, guild_id: GuildID) -> PortalRow | None:
        for chan in self.ctx.config.bridge.channels:
            portal = await self.ctx.stores.portals.by_channel(chan.discord_channel)
            if portal is not None and portal.guild_id == guild_id and portal.access == "public":
                return portal
        return None

    async def room_for(self, event: ScheduledEvent) -> PortalRow | None:
        channel_id = event.channel_id
        if channel_id is None:
            return await self._first_public_portal(event.guild_id)
        if self.ctx.config.bridge.channel(channel_id) is not None:
            return await self.ctx.stores.portals.by_channel(channel_id)
        channel = await self._channel(event.guild_id, channel_id)
        if channel is None or channel[1] != "public":
            return None  # fail closed: a members-only channel's event stays on Discord
        return await self._first_public_portal(event.guild_id)

    async def _channel(self, guild_id: GuildID, channel_id: ChannelID) -> tuple[str, str] | None:
        """(name, visibility) of a guild channel, from the gateway's cache."""
        for channel in await self.ctx.discord.guild_channels(guild_id) or []:
            if channel.id == channel_id:
                return channel.name, channel.visibility
        return None

    # -- what --------------------------------------------------------------------------

    async def _count(self, event: ScheduledEvent) -> int | None:
        if event.user_count is not None:
            self._counts[event.id] = event.user_count
        elif event.id not in self._counts:
            fresh = await self.read_event(event.guild_id, event.id)
            if fresh is not None and fresh.user_count is not None:
                self._counts[event.id] = fresh.user_count
        return self._counts.get(event.id)

    async def relay(self, event: ScheduledEvent, deleted: bool = False) -> EventNoticeRow | None:
        """Post or edit the notice of ``event``; the stored row (None: no room for it)."""
        async with self._locks[event.id]:
            row = await self.ctx.stores.event_notices.get(event.id)
            if deleted:
                self._deleted.add(event.id)
                if row is None:
                    return None
            elif event.id in self._deleted:
                return row  # a late recount of a deleted event
            else:
                self._latest[event.id] = replace(event, user_count=None)
            portal = None if row is not None else await self.room_for(event)
            if row is None and portal is None:
                log.info("d2m.event-no-room event=%s guild=%s", event.id, event.guild_id)
                return None
            named = (
                await self._channel(event.guild_id, event.channel_id)
                if event.channel_id is not None
                else None
            )
            count = None if deleted else await self._count(event)
            tr = translator(self.ctx.config.bridge.language)  # a shared room
            text = event_notice(
                tr,
                event,
                channel_name=named[0] if named else None,
                interested=count,
                deleted=deleted,
                zone=ZoneInfo(self.ctx.config.bridge.timezone),
            )
            bot = self.ctx.namer.bot_mxid
            if row is not None:
                if row.body == text.body:
                    return row
                await self.ctx.matrix.send_edit(row.room_id, bot, row.event_id, text, None)
                row = replace(row, body=text.body)
                log.info("d2m.event-edited event=%s room=%s", event.id, row.room_id)
            else:
                assert portal is not None
                sent = await self.ctx.matrix.send_text(
                    portal.room_id, bot, text, None, txn_id=f"scheduled-event-{event.id}"
                )
                row = EventNoticeRow(event.id, event.guild_id, portal.room_id, sent, text.body)
                log.info("d2m.event-posted event=%s room=%s", event.id, row.room_id)
            await self.ctx.stores.event_notices.put(row)
            if deleted:
                self._counts.pop(event.id, None)
            return row

    # -- interest ----------------------------------------------------------------------

    def interest_changed(self, guild_id: GuildID, event_id: int) -> None:
        """Coalesce: one read and one edit after a quiet ``interest_delay``."""
        if event_id in self._pending and not self._pending[event_id].done():
            return
        self._pending[event_id] = asyncio.create_task(
            self._recount(guild_id, event_id), name=f"event-interest-{event_id}"
        )

    async def _recount(self, guild_id: GuildID, event_id: int) -> None:
        await asyncio.sleep(self.interest_delay)
        self._pending.pop(event_id, None)
        try:
            fresh = await self.read_event(guild_id, event_id)
            if fresh is not None:
                # Only the count is taken from this read; the rest is the event as the
                # gateway last said (it may have changed since the read).
                known = self._latest.get(event_id, fresh)
                await self.relay(replace(known, user_count=fresh.user_count))
        except Exception:
            log.exception("d2m.event-interest-failed event=%s", event_id)

    async def flush(self) -> None:
        """Wait for the coalesced recounts in flight (shutdown, tests)."""
        pending = [t for t in self._pending.values() if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        for task in self._pending.values():
            task.cancel()

    # -- start-up ----------------------------------------------------------------------

    async def catch_up(self, guild_ids: list[GuildID]) -> int:
        """Read back every event of the bridged guilds (created, changed or ended while
        the bridge was away) and bring the notices up to date; returns how many
        notices were posted or edited. An event deleted meanwhile stays as last shown:
        Discord no longer lists it."""
        changed = 0
        for guild_id in guild_ids:
            for event in await self.read_guild_events(guild_id):
                known = await self.ctx.stores.event_notices.get(event.id)
                if known is None and event.status != SCHEDULED and event.over:
                    continue  # ended before we ever showed it
                before = known.body if known is not None else None
                row = await self.relay(event)
                if row is not None and row.body != before:
                    changed += 1
        log.info("d2m.events-caught-up guilds=%s changed=%s", len(guild_ids), changed)
        return changed
