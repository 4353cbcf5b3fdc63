"""Wiring of the guild activity that is not messages: scheduled events
(bridge/actions/d2m_events.py) and who is in voice (bridge/actions/voice_channels.py).

Kept out of bridge/app.py: the Bridge creates one :class:`GuildActivity`, attaches its
Discord listeners when it builds the transport, and starts it once the portals exist.
Jobs run in two queues of their own (no channel has these IDs), retried like relays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_events import EventNotices
from bridge.actions.voice_channels import VoiceRooms
from bridge.convert.d2m.events import ScheduledEvent
from bridge.convert.d2m.voice_state import VoiceState
from bridge.db import PortalRow
from bridge.ids import ChannelID, GuildID
from bridge.transport import discord_events, matrix_voice
from bridge.transport.discord import DiscordTransport
from bridge.transport.matrix import MatrixTransport

log = logging.getLogger(__name__)

EVENTS_QUEUE = ChannelID(2)
VOICE_QUEUE = ChannelID(3)

Queue = Callable[[ChannelID, Callable[[], Awaitable[object]]], None]


class GuildActivity:
    def __init__(
        self,
        discord: DiscordTransport,
        matrix: MatrixTransport,
        queue: Queue,
        interest_delay: float | None = None,
        topic_delay: float | None = None,
    ) -> None:
        self.discord = discord
        self.matrix = matrix
        self.queue = queue
        self.interest_delay = interest_delay
        self.topic_delay = topic_delay
        self.events: EventNotices | None = None
        self.voice: VoiceRooms | None = None
        self._startup: asyncio.Task[None] | None = None
        discord_events.attach(
            discord.client,
            discord_events.EventHandlers(
                scheduled_event=self._on_event,
                scheduled_event_deleted=self._on_event_deleted,
                interest=self._on_interest,
                voice_state=self._on_voice_state,
                guild_available=self._on_guild_available,
            ),
        )

    def start(self, ctx: BridgeContext) -> None:
        client = self.discord.client
        self.events = EventNotices(
            ctx,
            lambda guild, event: discord_events.guild_event(client, guild, event),
            lambda guild: discord_events.guild_events(client, guild),
            **({"interest_delay": self.interest_delay} if self.interest_delay is not None else {}),
        )
        self.voice = VoiceRooms(
            ctx,
            lambda room: matrix_voice.voice_states(self.matrix.bot, room),
            **({"topic_delay": self.topic_delay} if self.topic_delay is not None else {}),
        )
        ctx.portal_created.append(self._on_portal_created)
        events, voice = self.events, self.voice

        async def catch_up() -> None:
            guilds = list(ctx.config.discord.guild_ids)
            try:
                await events.catch_up([GuildID(g) for g in guilds])
            except Exception:
                log.exception("activity.events-catch-up-failed")
            try:
                await voice.sync_all(lambda c: discord_events.channel_voice_states(client, c))
            except Exception:
                log.exception("activity.voice-sync-failed")

        self._startup = asyncio.create_task(catch_up(), name="activity-startup")

    async def stop(self) -> None:
        if self._startup is not None:
            self._startup.cancel()
        if self.events is not None:
            self.events.stop()
        if self.voice is not None:
            self.voice.stop()

    async def _on_portal_created(self, row: PortalRow) -> None:
        states = discord_events.channel_voice_states(self.discord.client, row.discord_channel_id)
        voice = self.voice
        if states is not None and voice is not None:
            self.queue(VOICE_QUEUE, lambda: voice.sync_channel(row.discord_channel_id, states))

    async def _on_guild_available(self, guild_id: GuildID) -> None:
        """After a new gateway session (not at start-up: start() reads everything once
        the portals exist), catch up with what changed while disconnected."""
        events, voice = self.events, self.voice
        if events is None or voice is None or guild_id not in events.ctx.config.discord.guild_ids:
            return
        client = self.discord.client
        self.queue(EVENTS_QUEUE, lambda: events.catch_up([guild_id]))
        self.queue(
            VOICE_QUEUE,
            lambda: voice.sync_all(
                lambda c: discord_events.channel_voice_states(client, c), guild_id
            ),
        )

    async def _on_event(self, event: ScheduledEvent) -> None:
        events = self.events
        if events is not None:
            self.queue(EVENTS_QUEUE, lambda: events.relay(event))

    async def _on_event_deleted(self, event: ScheduledEvent) -> None:
        events = self.events
        if events is not None:
            self.queue(EVENTS_QUEUE, lambda: events.relay(event, deleted=True))

    async def _on_interest(self, guild_id: GuildID, event_id: int) -> None:
        if self.events is not None:
            self.events.interest_changed(guild_id, event_id)

    async def _on_voice_state(self, state: VoiceState) -> None:
        voice = self.voice
        if voice is not None:
            self.queue(VOICE_QUEUE, lambda: voice.on_voice_state(state))
