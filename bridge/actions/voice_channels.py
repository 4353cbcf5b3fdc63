"""Discord voice (and stage) channels: who is in voice, shown as room state.

The portal of a bridged voice channel gets one ``org.passerelle.voice`` state event
per member who was in voice (state key: their Discord user ID; see
:mod:`bridge.convert.d2m.voice_state`), and a topic that says who is in voice now and
that Matrix users cannot join the call. Nothing is posted as a message. Topic
changes are coalesced (``topic_delay`` seconds), so a burst of joins is one change.

The text chat of a voice channel is bridged like any channel's (its portal is an
ordinary portal: messages, edits, reactions, webhooks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.convert.d2m.voice_state import (
    VOICE_EVENT_TYPE,
    VoiceState,
    member_content,
    voice_topic,
)
from bridge.db import PortalRow
from bridge.i18n import translator
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID

log = logging.getLogger(__name__)

TOPIC_DELAY = 2.0


class VoiceRooms:
    def __init__(
        self,
        ctx: BridgeContext,
        read_voice_states: Callable[[RoomID], Awaitable[dict[str, dict[str, Any]]]],
        topic_delay: float = TOPIC_DELAY,
    ) -> None:
        self.ctx = ctx
        self.read_voice_states = read_voice_states
        self.topic_delay = topic_delay
        # channel -> member -> (state, since ms)
        self.roster: defaultdict[ChannelID, dict[DiscordUserID, tuple[VoiceState, int]]] = (
            defaultdict(dict)
        )
        self.where: dict[tuple[GuildID, DiscordUserID], ChannelID] = {}
        self._topics: dict[ChannelID, str] = {}
        self._pending: dict[ChannelID, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()

    async def _portal(self, channel_id: ChannelID) -> PortalRow | None:
        if self.ctx.config.bridge.channel(channel_id) is None:
            return None
        return await self.ctx.stores.portals.by_channel(channel_id)

    async def _publish(
        self, portal: PortalRow, user_id: DiscordUserID, state: VoiceState | None, since: int
    ) -> None:
        # Keyed by the Discord user ID: a state key that is a Matrix ID may only be set
        # by that user, and the bot sets these.
        content = member_content(state, user_id, since)
        content["matrix_user_id"] = self.ctx.namer.ghost_mxid(user_id)
        await self.ctx.matrix.set_room_state(
            portal.room_id, VOICE_EVENT_TYPE, str(user_id), content
        )

    async def on_voice_state(self, state: VoiceState) -> None:
        async with self._lock:
            key = (state.guild_id, state.user_id)
            old = self.where.get(key)
            new = state.channel_id
            if old is not None and old != new:
                self.roster[old].pop(state.user_id, None)
                portal = await self._portal(old)
                if portal is not None:
                    await self._publish(portal, state.user_id, None, 0)
                    self._schedule_topic(old)
            if new is None:
                self.where.pop(key, None)
                return
            previous = self.roster[new].get(state.user_id)
            since = previous[1] if previous is not None else int(time.time() * 1000)
            self.roster[new][state.user_id] = (state, since)
            self.where[key] = new
            portal = await self._portal(new)
            if portal is not None:
                await self._publish(portal, state.user_id, state, since)
                if previous is None:
                    self._schedule_topic(new)
        log.info(
            "d2m.voice user=%s from=%s to=%s", state.user_id, old, new
        )  # IDs only, never names

    # -- topic -------------------------------------------------------------------------

    def _schedule_topic(self, channel_id: ChannelID) -> None:
        if channel_id in self._pending and not self._pending[channel_id].done():
            return
        self._pending[channel_id] = asyncio.create_task(
            self._topic_later(channel_id), name=f"voice-topic-{channel_id}"
        )

    async def _topic_later(self, channel_id: ChannelID) -> None:
        await asyncio.sleep(self.topic_delay)
        self._pending.pop(channel_id, None)
        try:
            await self.update_topic(channel_id)
        except Exception:
            log.exception("d2m.voice-topic-failed channel=%s", channel_id)

    async def _names(self, guild_id: GuildID, channel_id: ChannelID) -> list[str]:
        names = []
        for user_id in self.roster.get(channel_id, {}):
            author = await self.ctx.discord.member_profile(guild_id, user_id)
            names.append(author.display_name if author is not None else str(user_id))
        return names

    async def update_topic(self, channel_id: ChannelID) -> bool:
        """Set the portal's topic to who is in voice now; False when unchanged."""
        portal = await self._portal(channel_id)
        if portal is None:
            return False
        tr = translator(self.ctx.config.bridge.language)  # a shared room
        topic = voice_topic(tr, portal.topic, await self._names(portal.guild_id, channel_id))
        if self._topics.get(channel_id) == topic:
            return False
        await self.ctx.matrix.set_room_state(portal.room_id, "m.room.topic", "", {"topic": topic})
        self._topics[channel_id] = topic
        return True

    async def flush(self) -> None:
        pending = [t for t in self._pending.values() if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        for task in self._pending.values():
            task.cancel()

    # -- start-up ----------------------------------------------------------------------

    async def sync_channel(self, channel_id: ChannelID, states: list[VoiceState]) -> None:
        """Bring a voice portal in line with who is in voice now (GUILD_CREATE's
        voice_states): members shown in voice who are gone are set out of voice."""
        portal = await self._portal(channel_id)
        if portal is None:
            return
        async with self._lock:
            now = int(time.time() * 1000)
            present = {s.user_id for s in states}
            for user_id in list(self.roster.get(channel_id, {})):
                if user_id not in present:
                    self.roster[channel_id].pop(user_id)
            for state in states:
                previous = self.roster[channel_id].get(state.user_id)
                since = previous[1] if previous is not None else now
                self.roster[channel_id][state.user_id] = (state, since)
                self.where[(state.guild_id, state.user_id)] = channel_id
                await self._publish(portal, state.user_id, state, since)
            shown = await self.read_voice_states(portal.room_id)
            for key, content in shown.items():
                if key.isdigit() and content.get("in_voice"):
                    gone = DiscordUserID(int(key))
                    if gone not in present:
                        await self._publish(portal, gone, None, 0)
        await self.update_topic(channel_id)

    async def sync_all(
        self,
        voice_states: Callable[[ChannelID], list[VoiceState] | None],
        guild_id: GuildID | None = None,
    ) -> None:
        """Sync every bridged voice portal (of ``guild_id`` only, when given)."""
        for portal in await self.ctx.stores.portals.all():
            if self.ctx.config.bridge.channel(portal.discord_channel_id) is None:
                continue
            if guild_id is not None and portal.guild_id != guild_id:
                continue
            states = voice_states(portal.discord_channel_id)
            if states is None:
                continue  # not a voice channel
            try:
                await self.sync_channel(portal.discord_channel_id, states)
            except Exception:
                log.exception("d2m.voice-sync-failed channel=%s", portal.discord_channel_id)
