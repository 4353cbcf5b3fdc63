"""Reading a channel's history: backfill after downtime, and finding sends in flight."""

from __future__ import annotations

import logging

import discord

from bridge.ids import ChannelID, MessageID

log = logging.getLogger(__name__)


async def messages_after(
    client: discord.Client,
    channel_id: ChannelID,
    after: MessageID,
    limit: int,
    until: MessageID | None = None,
) -> list[discord.Message]:
    """Up to ``limit`` messages newer than ``after`` (and not newer than ``until``),
    oldest first; [] if the channel is gone or hidden from the bot."""
    channel = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            log.warning("discord.history-unavailable channel=%s", channel_id)
            return []
    if not isinstance(channel, discord.TextChannel | discord.Thread):
        return []
    found: list[discord.Message] = []
    try:
        async for message in channel.history(
            limit=limit, after=discord.Object(after), oldest_first=True
        ):
            if until is not None and message.id > until:
                break
            found.append(message)
    except discord.Forbidden:
        log.warning("discord.history-forbidden channel=%s", channel_id)
    return found


async def active_threads(client: discord.Client, channel_id: ChannelID) -> list[discord.Thread]:
    """The channel's active (unarchived) threads, a forum's open posts; [] when Discord
    would not say."""
    channel = client.get_channel(channel_id)
    if not isinstance(channel, discord.abc.GuildChannel):
        return []
    try:
        threads = await channel.guild.active_threads()
    except discord.HTTPException as exc:
        log.warning("discord.active-threads-failed channel=%s status=%s", channel_id, exc.status)
        return []
    return [t for t in threads if t.parent_id == channel_id]
