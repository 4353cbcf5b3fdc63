"""discord.py reactions -> our dataclasses, and reading who reacted to a message.

Kept beside :mod:`bridge.transport.discord` so that module stays small.
"""

from __future__ import annotations

import logging
from typing import Literal

import discord

from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID
from bridge.model import DiscordAuthor, DiscordReaction, DiscordReactionCount

log = logging.getLogger(__name__)

# Discord's largest page of reactors.
PAGE = 100
NORMAL: Literal[0] = 0  # ReactionType
BURST: Literal[1] = 1


def reaction_of(
    payload: discord.RawReactionActionEvent,
    member: DiscordAuthor | None,
    thread_parent_id: ChannelID | None,
) -> DiscordReaction:
    """``member`` as translated by the caller (the transport's ``author_from``)."""
    emoji = payload.emoji
    custom = emoji.id is not None
    return DiscordReaction(
        channel_id=ChannelID(payload.channel_id),
        guild_id=GuildID(payload.guild_id) if payload.guild_id else None,
        message_id=MessageID(payload.message_id),
        user_id=DiscordUserID(payload.user_id),
        emoji_name=emoji.name or "_",
        emoji_id=emoji.id,
        animated=emoji.animated,
        emoji_url=emoji.url if custom else None,
        member=member,
        thread_parent_id=thread_parent_id,
    )


def emoji_api_form(emoji: discord.PartialEmoji) -> str:
    """``name:id`` for a custom emoji, else the unicode emoji itself."""
    return f"{emoji.name or '_'}:{emoji.id}" if emoji.id else (emoji.name or "")


def reaction_counts_from(msg: discord.Message) -> tuple[DiscordReactionCount, ...]:
    """A message's ``reactions`` summary. discord.py gives a unicode emoji as a string
    or a PartialEmoji, a custom one as an Emoji (when cached) or a PartialEmoji, and
    None for one with neither name nor ID."""
    counts = []
    for reaction in msg.reactions:
        emoji = reaction.emoji
        if emoji is None:  # neither name nor ID: nothing can address it
            continue
        if isinstance(emoji, str):
            name, emoji_id, animated, url = emoji, None, False, None
        else:
            name, emoji_id, animated = emoji.name, emoji.id, bool(emoji.animated)
            url = str(emoji.url) if emoji_id else None
        burst = max(int(reaction.burst_count or 0), 0)
        counts.append(
            DiscordReactionCount(
                emoji_name=name or "_",
                emoji_id=emoji_id,
                animated=animated,
                emoji_url=url,
                # ``count`` is normal + super; older payloads have no count_details.
                count=max(int(reaction.count or 0), burst),
                burst_count=burst,
                me=bool(reaction.me),
            )
        )
    return tuple(counts)


async def reactors(
    client: discord.Client,
    channel_id: ChannelID,
    message_id: MessageID,
    emoji: str,
    limit: int,
    burst: bool = False,
) -> list[discord.User | discord.Member] | None:
    """Who reacted with ``emoji``, by ascending user ID, at most ``limit`` (paged with
    ``after``); members when the guild's cache has them. None if Discord refused
    (message or emoji gone, no access): then nothing can be concluded."""
    channel = client.get_channel(channel_id)
    guild = getattr(channel, "guild", None)
    state = client._connection  # discord.py builds its User objects with it
    found: list[discord.User | discord.Member] = []
    after: int | None = None
    while len(found) < limit:
        asked = min(PAGE, limit - len(found))
        try:
            page = await client.http.get_reaction_users(
                channel_id, message_id, emoji, asked, after=after, type=BURST if burst else NORMAL
            )
        except discord.HTTPException as exc:
            log.warning(
                "discord.reactors-failed message=%s emoji=%s status=%s code=%s",
                message_id,
                emoji,
                exc.status,
                exc.code,
            )
            return None
        for raw in page:
            member = guild.get_member(int(raw["id"])) if isinstance(guild, discord.Guild) else None
            found.append(member or discord.User(state=state, data=raw))
        if len(page) < asked:
            break
        after = int(page[-1]["id"])
    return found
