"""discord.py objects in, the bridge's own dataclasses out (bridge.model).

The translation at the Discord edge: messages, authors, threads and reactions as
discord.py builds them from gateway and REST payloads. It never raises on what
discord.py could build (see message_from), so one odd payload never stops the
gateway; nothing beyond the transport sees a discord.py object.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

import discord

from bridge.convert.d2m.limits import valid_unicode
from bridge.convert.names import clean_name
from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID, WebhookID
from bridge.model import (
    DiscordAuthor,
    DiscordMessage,
    DiscordPoll,
    DiscordPollAnswer,
    DiscordPollCreate,
    DiscordPollVote,
    DiscordReaction,
    DiscordThread,
)
from bridge.transport import discord_reactions
from bridge.transport.discord_forwards import forward_from
from bridge.transport.discord_media import attachments_from, embeds_from, stickers_from
from bridge.transport.discord_reactions import reaction_counts_from

log = logging.getLogger(__name__)


def author_from(user: discord.abc.User) -> DiscordAuthor:
    """Names as Discord gives them, except that a nickname or display name with nothing
    visible in it (zero-width characters only ...) is treated as unset, so the next one
    in line is shown; converters neutralise the rest (bidi overrides ...)."""
    nick = user.nick if isinstance(user, discord.Member) else None
    global_name = getattr(user, "global_name", None)
    avatar = user.display_avatar if user.avatar or getattr(user, "guild_avatar", None) else None
    return DiscordAuthor(
        id=DiscordUserID(user.id),
        username=user.name or "",
        global_name=global_name if clean_name(global_name) else None,
        nick=nick if clean_name(nick) else None,
        avatar_url=str(avatar.with_format("png").url) if avatar else None,
        bot=bool(user.bot),
    )


def message_from(msg: discord.Message) -> DiscordMessage:
    """Never raises on what discord.py could build: a message update may lack its author
    and mentions (discord.py then leaves those attributes unset), content may be null,
    a mentioned channel may be one whose permissions cannot be computed (hidden, then:
    fail closed), an attachment, sticker or embed may be unreadable (dropped, the rest
    of the message still crosses)."""
    reference = msg.reference
    reply_to = (
        MessageID(reference.message_id)
        if reference is not None
        and reference.message_id is not None
        and msg.type == discord.MessageType.reply
        else None
    )
    author = getattr(msg, "author", None)

    def visible_to_everyone(channel: discord.abc.GuildChannel | discord.Thread) -> bool:
        try:
            default_role = channel.guild.default_role
            return default_role is not None and channel.permissions_for(default_role).view_channel
        except Exception:
            log.warning("discord.channel-visibility-unknown channel=%s", channel.id)
            return False

    def parts(convert: Callable[[discord.Message], tuple[Any, ...]], what: str) -> tuple[Any, ...]:
        try:
            return convert(msg)
        except Exception:
            log.warning("discord.unreadable-%s message=%s", what, msg.id, exc_info=True)
            return ()

    content = valid_unicode(msg.content or "")  # no lone surrogates: they cannot be sent
    # discord.py finds mentioned channels in the content, and fails on a null one.
    channel_mentions = list(msg.channel_mentions) if msg.content else []
    return DiscordMessage(
        id=MessageID(msg.id),
        channel_id=ChannelID(msg.channel.id),
        guild_id=GuildID(msg.guild.id) if msg.guild else None,
        author=(
            author_from(author)
            if author is not None
            else DiscordAuthor(DiscordUserID(0), "")  # never seen on a message Discord sent
        ),
        content=content,
        timestamp_ms=int(msg.created_at.timestamp() * 1000),
        webhook_id=WebhookID(msg.webhook_id) if msg.webhook_id else None,
        type=msg.type.value,
        edited_ms=int(msg.edited_at.timestamp() * 1000) if msg.edited_at else None,
        mentions=tuple(author_from(u) for u in getattr(msg, "mentions", ())),
        role_mentions=tuple((r.id, r.name) for r in getattr(msg, "role_mentions", ())),
        channel_mentions=tuple((c.id, c.name) for c in channel_mentions),
        hidden_channel_ids=tuple(c.id for c in channel_mentions if not visible_to_everyone(c)),
        mention_everyone=bool(msg.mention_everyone),
        reply_to=reply_to,
        attachments=parts(attachments_from, "attachments"),
        stickers=parts(stickers_from, "stickers"),
        embeds=parts(embeds_from, "embeds"),
        thread_parent_id=(
            ChannelID(msg.channel.parent_id) if isinstance(msg.channel, discord.Thread) else None
        ),
        reactions=parts(reaction_counts_from, "reactions"),
        poll=poll_of(msg),
        poll_result_of=(
            MessageID(reference.message_id)
            if reference is not None
            and reference.message_id is not None
            and msg.type == discord.MessageType.poll_result
            else None
        ),
        member_joined_ms=joined_ms(author),
        flags=msg.flags.value,
        forward=forward_from(msg, _client(msg)),
    )


def _client(msg: discord.Message) -> discord.Client | None:
    """The client whose cache names a forward's origin channel (None in tests)."""
    state = getattr(msg, "_state", None)
    client = getattr(state, "_get_client", None)
    try:
        found = client() if callable(client) else None
    except Exception:
        return None
    return found if isinstance(found, discord.Client) else None


def joined_ms(author: object) -> int | None:
    """When a guild member joined (ms since the epoch); None for a user or unknown."""
    joined = getattr(author, "joined_at", None) if isinstance(author, discord.Member) else None
    return int(joined.timestamp() * 1000) if joined is not None else None


def poll_of(msg: discord.Message) -> DiscordPoll | None:
    """The message's poll; None when it has none or it is unreadable (logged)."""
    poll = msg.poll
    if poll is None:
        return None
    try:
        return DiscordPoll(
            question=valid_unicode(poll.question or ""),
            answers=tuple(
                DiscordPollAnswer(a.id, valid_unicode(a.text or ""), a.vote_count)
                for a in poll.answers
            ),
            allow_multiselect=bool(poll.multiple),
            finalized=poll.is_finalized(),
        )
    except Exception:
        log.warning("discord.unreadable-poll message=%s", msg.id, exc_info=True)
        return None


def poll_vote_from(
    payload: discord.RawPollVoteActionEvent,
    added: bool,
    voter: discord.abc.User | None,
    thread_parent_id: ChannelID | None,
) -> DiscordPollVote:
    return DiscordPollVote(
        channel_id=ChannelID(payload.channel_id),
        guild_id=GuildID(payload.guild_id) if payload.guild_id else None,
        message_id=MessageID(payload.message_id),
        user_id=DiscordUserID(payload.user_id),
        answer_id=payload.answer_id,
        added=added,
        voter=author_from(voter) if voter is not None else None,
        thread_parent_id=thread_parent_id,
    )


def thread_from(thread: discord.Thread) -> DiscordThread:
    return DiscordThread(
        id=ChannelID(thread.id),
        guild_id=GuildID(thread.guild.id) if thread.guild else None,
        parent_id=ChannelID(thread.parent_id),
        name=clean_name(thread.name),  # "" when nothing visible: shown as "unnamed"
        owner_id=DiscordUserID(thread.owner_id) if thread.owner_id else None,
        applied_tags=tuple(tag.id for tag in thread.applied_tags),
    )


def thread_update_from(payload: discord.RawThreadUpdateEvent) -> DiscordThread:
    """THREAD_UPDATE as Discord sent it (name and a post's tags as they are now)."""
    name = payload.data.get("name")
    tags = payload.data.get("applied_tags")
    return DiscordThread(
        id=ChannelID(payload.thread_id),
        guild_id=GuildID(payload.guild_id),
        parent_id=ChannelID(payload.parent_id),
        name=clean_name(name if isinstance(name, str) else ""),
        applied_tags=tuple(int(t) for t in tags or () if str(t).isdigit()),
    )


def reaction_from(
    payload: discord.RawReactionActionEvent, thread_parent_id: ChannelID | None = None
) -> DiscordReaction:
    member = author_from(payload.member) if payload.member is not None else None
    return discord_reactions.reaction_of(payload, member, thread_parent_id)


def _profile_changed(before: discord.abc.User, after: discord.abc.User) -> bool:
    return author_from(before) != author_from(after)


def poll_object(create: DiscordPollCreate) -> discord.Poll:
    """The other way, for a send: discord.py's Poll for a webhook execution (texts
    already within Discord's limits)."""
    poll = discord.Poll(
        create.question,
        datetime.timedelta(hours=create.duration_hours),
        multiple=create.allow_multiselect,
    )
    for text in create.answers:
        poll.add_answer(text=text)
    return poll
