"""Scheduled events and voice states at the Discord edge: discord.py's
``on_scheduled_event_*`` and ``on_voice_state_update`` translated into
:class:`bridge.convert.d2m.events.ScheduledEvent` and
:class:`bridge.convert.d2m.voice_state.VoiceState`, and the REST reads the actions
need (a guild's events with their interest counts, who is in a voice channel now).

Intents GUILD_SCHEDULED_EVENTS and GUILD_VOICE_STATES are in discord.py's defaults.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord

from bridge.convert.d2m.events import EXTERNAL, ScheduledEvent
from bridge.convert.d2m.voice_state import VoiceState
from bridge.ids import ChannelID, DiscordUserID, GuildID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventHandlers:
    # An event was created or changed (GUILD_SCHEDULED_EVENT_CREATE / _UPDATE).
    scheduled_event: Callable[[ScheduledEvent], Awaitable[None]]
    # An event was deleted (GUILD_SCHEDULED_EVENT_DELETE).
    scheduled_event_deleted: Callable[[ScheduledEvent], Awaitable[None]]
    # Someone marked an event interested or no longer (guild, event ID): only that.
    interest: Callable[[GuildID, int], Awaitable[None]]
    # A member joined, left, moved or muted in voice (VOICE_STATE_UPDATE).
    voice_state: Callable[[VoiceState], Awaitable[None]]
    # A guild's GUILD_CREATE arrived (at start, or after a new gateway session: what
    # changed meanwhile came with it, without events of its own).
    guild_available: Callable[[GuildID], Awaitable[None]] | None = None


def event_from(event: discord.ScheduledEvent, with_count: bool = False) -> ScheduledEvent:
    """``with_count``: the object came from REST with ``with_user_count`` (discord.py
    says 0 when a gateway payload carries no count: that is not a count)."""
    start = event.start_time or datetime.now(UTC)
    return ScheduledEvent(
        id=event.id,
        guild_id=GuildID(event.guild_id),
        name=event.name or str(event.id),
        start=start,
        end=event.end_time,
        description=event.description or "",
        status=int(event.status.value),
        entity_type=int(event.entity_type.value),
        channel_id=ChannelID(event.channel_id) if event.channel_id else None,
        location=event.location if int(event.entity_type.value) == EXTERNAL else None,
        user_count=int(event.user_count) if with_count and event.user_count is not None else None,
    )


def voice_from(member: discord.Member, state: discord.VoiceState) -> VoiceState:
    channel = state.channel
    return VoiceState(
        guild_id=GuildID(member.guild.id),
        user_id=DiscordUserID(member.id),
        channel_id=ChannelID(channel.id) if channel is not None else None,
        self_mute=bool(state.self_mute),
        self_deaf=bool(state.self_deaf),
        mute=bool(state.mute),
        deaf=bool(state.deaf),
        streaming=bool(state.self_stream),
        video=bool(state.self_video),
    )


def attach(client: discord.Client, handlers: EventHandlers) -> None:
    """Listen for the events (instance attributes: discord.py looks up ``on_<event>``
    on the client)."""

    async def on_scheduled_event_create(event: discord.ScheduledEvent) -> None:
        await handlers.scheduled_event(event_from(event))

    async def on_scheduled_event_update(
        before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        await handlers.scheduled_event(event_from(after))

    async def on_scheduled_event_delete(event: discord.ScheduledEvent) -> None:
        await handlers.scheduled_event_deleted(event_from(event))

    async def on_passerelle_event_interest(guild_id: int, event_id: int) -> None:
        await handlers.interest(GuildID(guild_id), event_id)

    async def on_voice_state_update(
        member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        await handlers.voice_state(voice_from(member, after))

    async def on_guild_available(guild: discord.Guild) -> None:
        if handlers.guild_available is not None:
            await handlers.guild_available(GuildID(guild.id))

    for listener in (
        on_guild_available,
        on_scheduled_event_create,
        on_scheduled_event_update,
        on_scheduled_event_delete,
        on_passerelle_event_interest,
        on_voice_state_update,
    ):
        setattr(client, listener.__name__, listener)
    _raw_interest(client)


def _raw_interest(client: discord.Client) -> None:
    """GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE straight from the payload: discord.py
    drops them when the user is not in its cache (members are not chunked at start-up),
    and only "the count changed" matters here, never who."""
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers
    for name in ("GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE"):
        original = parsers.get(name)

        def parse(data: Any, original: Callable[[Any], None] | None = original) -> None:
            try:
                if original is not None:
                    original(data)  # discord.py's own cache of the event's users
            except Exception:
                log.exception("discord.bad-dispatch event=scheduled-event-user")
            try:
                guild_id, event_id = int(data["guild_id"]), int(data["guild_scheduled_event_id"])
            except (KeyError, TypeError, ValueError):
                log.warning("discord.bad-dispatch event=scheduled-event-user dropped")
                return
            client.dispatch("passerelle_event_interest", guild_id, event_id)

        parsers[name] = parse


async def guild_events(client: discord.Client, guild_id: GuildID) -> list[ScheduledEvent]:
    """Every scheduled event of a guild with its interest count (REST); [] when the
    guild is unknown or the read fails."""
    guild = client.get_guild(guild_id)
    if guild is None:
        return []
    try:
        found = await guild.fetch_scheduled_events(with_counts=True)
    except discord.HTTPException as exc:
        log.warning("discord.events-read-failed guild=%s status=%s", guild_id, exc.status)
        return []
    return [event_from(e, with_count=True) for e in found]


async def guild_event(
    client: discord.Client, guild_id: GuildID, event_id: int
) -> ScheduledEvent | None:
    guild = client.get_guild(guild_id)
    if guild is None:
        return None
    try:
        found = await guild.fetch_scheduled_event(event_id, with_counts=True)
    except discord.NotFound:
        return None
    except discord.HTTPException as exc:
        log.warning("discord.event-read-failed event=%s status=%s", event_id, exc.status)
        return None
    return event_from(found, with_count=True)


def channel_voice_states(client: discord.Client, channel_id: ChannelID) -> list[VoiceState] | None:
    """Who is in a voice or stage channel now (from GUILD_CREATE's voice_states and the
    updates since); None when it is not a voice channel the bot sees."""
    channel = client.get_channel(channel_id)
    if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
        return None
    states = []
    for member_id, state in channel.voice_states.items():
        member = channel.guild.get_member(member_id)
        if member is not None:
            states.append(voice_from(member, state))
    return states
