"""The discord.py client of the bridge: the gateway's events, each translated into our
dataclasses (bridge.transport.discord_objects) and handed to its handler.

Split from bridge.transport.discord, which owns the client and makes the REST calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID
from bridge.model import (
    DiscordAuthor,
    DiscordDeletion,
    DiscordDM,
    DiscordMessage,
    DiscordPollVote,
    DiscordReaction,
    DiscordReactionClear,
    DiscordThread,
    DiscordThreadDeletion,
)
from bridge.transport.discord_objects import (
    _profile_changed,
    author_from,
    message_from,
    poll_vote_from,
    reaction_from,
    thread_from,
    thread_update_from,
)
from bridge.transport.discord_reactions import emoji_api_form

if TYPE_CHECKING:
    from bridge.transport.discord import DiscordTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscordHandlers:
    """Where the transport delivers what it receives, already translated."""

    message: Callable[[DiscordMessage], Awaitable[None]]
    edit: Callable[[DiscordMessage], Awaitable[None]]
    deletion: Callable[[DiscordDeletion], Awaitable[None]]
    reaction_add: Callable[[DiscordReaction], Awaitable[None]] | None = None
    reaction_remove: Callable[[DiscordReaction], Awaitable[None]] | None = None
    reaction_clear: Callable[[DiscordReactionClear], Awaitable[None]] | None = None
    # A member's nick/avatar or a user's name/avatar changed (configured guild only).
    profile: Callable[[DiscordAuthor], Awaitable[None]] | None = None
    # The channel's pins changed (CHANNEL_PINS_UPDATE).
    pins: Callable[[ChannelID], Awaitable[None]] | None = None
    # A user was banned from / unbanned in a guild (guild, user).
    ban: Callable[[GuildID, DiscordUserID], Awaitable[None]] | None = None
    unban: Callable[[GuildID, DiscordUserID], Awaitable[None]] | None = None
    # A member's roles changed, or they left (guild, member): members-only access and
    # their ghost's power levels are re-checked.
    roles: Callable[[GuildID, DiscordUserID], Awaitable[None]] | None = None
    # A member joined a guild (guild, member, when they joined in ms): join waves.
    member_join: Callable[[GuildID, DiscordUserID, int | None], Awaitable[None]] | None = None
    # A guild's structure changed: a channel created, moved, renamed or deleted, or the
    # guild's name, description or icon (spaces follow; category rules are re-applied).
    structure: Callable[[GuildID], Awaitable[None]] | None = None
    # A guild's custom emoji or stickers changed: its image pack follows.
    expressions: Callable[[GuildID], Awaitable[None]] | None = None
    # A guild's roles changed (created, edited, deleted): power levels are recomputed.
    guild_roles: Callable[[GuildID], Awaitable[None]] | None = None
    # A guild channel was deleted on Discord.
    channel_deleted: Callable[[ChannelID, GuildID], Awaitable[None]] | None = None
    # A channel's permissions may have changed (CHANNEL_UPDATE, @everyone role update).
    channel_access: Callable[[ChannelID], Awaitable[None]] | None = None
    # A direct message to the bot.
    dm: Callable[[DiscordDM], Awaitable[None]] | None = None
    # A user started typing in a channel (channel, user).
    typing: Callable[[ChannelID, DiscordUserID], Awaitable[None]] | None = None
    # A thread was created (THREAD_CREATE with newly_created).
    thread: Callable[[DiscordThread], Awaitable[None]] | None = None
    # A thread's settings changed (THREAD_UPDATE: a rename, archiving, locking...).
    thread_update: Callable[[DiscordThread], Awaitable[None]] | None = None
    # A thread was deleted, with every message in it (THREAD_DELETE).
    thread_delete: Callable[[DiscordThreadDeletion], Awaitable[None]] | None = None
    # A poll vote was added or removed (MESSAGE_POLL_VOTE_ADD / _REMOVE).
    poll_vote: Callable[[DiscordPollVote], Awaitable[None]] | None = None
    # A new gateway session began (READY: at start, or after a re-IDENTIFY); events
    # missed meanwhile are only in the channels' history.
    ready: Callable[[], Awaitable[None]] | None = None


class GatewayClient(discord.Client):
    """The events the bridge listens to, handed to ``owner.handlers``."""

    def __init__(self, owner: DiscordTransport) -> None:
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
        intents.guild_polls = True  # poll votes (in the defaults; relied upon)
        super().__init__(intents=intents, chunk_guilds_at_startup=False)
        self.owner = owner

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("discord.ready user=%s guilds=%s", self.user.id, len(self.guilds))
        self.owner.ready.set()

    async def on_socket_event_type(self, event_type: str) -> None:
        # READY as it arrives, before the session's first events are dispatched (on_ready
        # comes later, after the guilds streamed in, with messages already dispatched).
        if event_type == "READY" and self.owner.handlers.ready is not None:
            await self.owner.handlers.ready()

    async def on_resumed(self) -> None:
        log.info("discord.resumed")  # the gateway replays what was missed

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if _profile_changed(before, after):
            self.owner.names.changed(after.guild.id, after.id)
        if self.owner.handlers.profile is not None and _profile_changed(before, after):
            await self.owner.handlers.profile(author_from(after))
        roles = self.owner.handlers.roles
        if roles is not None and {r.id for r in before.roles} != {r.id for r in after.roles}:
            await roles(GuildID(after.guild.id), DiscordUserID(after.id))

    async def on_member_join(self, member: discord.Member) -> None:
        self.owner.names.changed(member.guild.id, member.id)
        if self.owner.handlers.member_join is not None:
            joined = member.joined_at
            at = int(joined.timestamp() * 1000) if joined is not None else None
            await self.owner.handlers.member_join(
                GuildID(member.guild.id), DiscordUserID(member.id), at
            )
        if self.owner.handlers.roles is not None:
            await self.owner.handlers.roles(GuildID(member.guild.id), DiscordUserID(member.id))

    async def on_member_remove(self, member: discord.Member) -> None:
        self.owner.names.changed(member.guild.id, member.id)
        if self.owner.handlers.roles is not None:
            await self.owner.handlers.roles(GuildID(member.guild.id), DiscordUserID(member.id))

    async def _structure(self, guild_id: int) -> None:
        if self.owner.handlers.structure is not None:
            await self.owner.handlers.structure(GuildID(guild_id))

    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        await self._structure(channel.guild.id)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self.owner.handlers.channel_deleted is not None:
            await self.owner.handlers.channel_deleted(
                ChannelID(channel.id), GuildID(channel.guild.id)
            )
        await self._structure(channel.guild.id)

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        if self.owner.handlers.channel_access is not None:
            await self.owner.handlers.channel_access(ChannelID(after.id))
        await self._structure(after.guild.id)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        await self._structure(after.id)

    async def on_guild_emojis_update(self, guild: discord.Guild, *_: object) -> None:
        if self.owner.handlers.expressions is not None:
            await self.owner.handlers.expressions(GuildID(guild.id))

    async def on_guild_stickers_update(self, guild: discord.Guild, *_: object) -> None:
        await self.on_guild_emojis_update(guild)

    async def _roles_changed(self, role: discord.Role) -> None:
        if self.owner.handlers.guild_roles is not None:
            await self.owner.handlers.guild_roles(GuildID(role.guild.id))

    async def on_guild_role_create(self, role: discord.Role) -> None:
        await self._roles_changed(role)

    async def on_guild_role_delete(self, role: discord.Role) -> None:
        await self._roles_changed(role)

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        if self.owner.handlers.channel_access is not None and after.is_default():
            for channel in after.guild.channels:
                if not isinstance(channel, discord.CategoryChannel):
                    await self.owner.handlers.channel_access(ChannelID(channel.id))
        await self._roles_changed(after)

    async def on_user_update(self, before: discord.User, after: discord.User) -> None:
        for guild in self.guilds:
            if guild.get_member(after.id) is not None:
                self.owner.names.changed(guild.id, after.id)
        if self.owner.handlers.profile is None or not _profile_changed(before, after):
            return
        for guild in self.guilds:
            member = guild.get_member(after.id)
            if member is not None:
                await self.owner.handlers.profile(author_from(member))

    async def on_guild_channel_pins_update(
        self, channel: discord.abc.GuildChannel | discord.Thread, last_pin: object
    ) -> None:
        if self.owner.handlers.pins is not None:
            await self.owner.handlers.pins(ChannelID(channel.id))

    async def on_thread_create(self, thread: discord.Thread) -> None:
        if self.owner.handlers.thread is not None:
            await self.owner.handlers.thread(thread_from(thread))

    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        if self.owner.handlers.thread_update is not None:
            await self.owner.handlers.thread_update(thread_update_from(payload))

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        if self.owner.handlers.thread_delete is not None:
            await self.owner.handlers.thread_delete(
                DiscordThreadDeletion(
                    thread_id=ChannelID(payload.thread_id),
                    parent_id=ChannelID(payload.parent_id),
                    guild_id=GuildID(payload.guild_id),
                )
            )

    async def on_member_ban(self, guild: discord.Guild, user: discord.abc.User) -> None:
        if self.owner.handlers.ban is not None:
            await self.owner.handlers.ban(GuildID(guild.id), DiscordUserID(user.id))

    async def on_member_unban(self, guild: discord.Guild, user: discord.abc.User) -> None:
        if self.owner.handlers.unban is not None:
            await self.owner.handlers.unban(GuildID(guild.id), DiscordUserID(user.id))

    async def on_raw_typing(self, payload: discord.RawTypingEvent) -> None:
        if self.owner.handlers.typing is None or self.user is None:
            return
        if payload.user_id != self.user.id:
            await self.owner.handlers.typing(
                ChannelID(payload.channel_id), DiscordUserID(payload.user_id)
            )

    async def on_message(self, message: discord.Message) -> None:
        if isinstance(message.channel, discord.DMChannel):
            me = self.user
            if self.owner.handlers.dm is not None and me is not None and message.author != me:
                await self.owner.handlers.dm(
                    DiscordDM(DiscordUserID(message.author.id), message.content)
                )
            return
        await self.owner.handlers.message(message_from(message))

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.owner.handlers.edit(message_from(payload.message))

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.owner.handlers.deletion(
            DiscordDeletion(
                channel_id=ChannelID(payload.channel_id),
                guild_id=GuildID(payload.guild_id) if payload.guild_id else None,
                message_ids=(MessageID(payload.message_id),),
            )
        )

    def _thread_parent(self, channel_id: int) -> ChannelID | None:
        """The parent of a cached thread, so its reactions queue behind its messages."""
        channel = self.get_channel(channel_id)
        return ChannelID(channel.parent_id) if isinstance(channel, discord.Thread) else None

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if self.owner.handlers.reaction_add is not None:
            parent = self._thread_parent(payload.channel_id)
            await self.owner.handlers.reaction_add(reaction_from(payload, parent))

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if self.owner.handlers.reaction_remove is not None:
            parent = self._thread_parent(payload.channel_id)
            await self.owner.handlers.reaction_remove(reaction_from(payload, parent))

    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._poll_vote(payload, True)

    async def on_raw_poll_vote_remove(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._poll_vote(payload, False)

    async def _poll_vote(self, payload: discord.RawPollVoteActionEvent, added: bool) -> None:
        if self.owner.handlers.poll_vote is None:
            return
        guild = self.get_guild(payload.guild_id) if payload.guild_id else None
        voter = guild.get_member(payload.user_id) if guild is not None else None
        parent = self._thread_parent(payload.channel_id)
        await self.owner.handlers.poll_vote(poll_vote_from(payload, added, voter, parent))

    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        if self.owner.handlers.reaction_clear is not None:
            await self.owner.handlers.reaction_clear(
                DiscordReactionClear(
                    channel_id=ChannelID(payload.channel_id),
                    guild_id=GuildID(payload.guild_id) if payload.guild_id else None,
                    message_id=MessageID(payload.message_id),
                    thread_parent_id=self._thread_parent(payload.channel_id),
                )
            )

    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        if self.owner.handlers.reaction_clear is not None:
            await self.owner.handlers.reaction_clear(
                DiscordReactionClear(
                    channel_id=ChannelID(payload.channel_id),
                    guild_id=GuildID(payload.guild_id) if payload.guild_id else None,
                    message_id=MessageID(payload.message_id),
                    thread_parent_id=self._thread_parent(payload.channel_id),
                    emoji=emoji_api_form(payload.emoji),
                )
            )

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.owner.handlers.deletion(
            DiscordDeletion(
                channel_id=ChannelID(payload.channel_id),
                guild_id=GuildID(payload.guild_id) if payload.guild_id else None,
                message_ids=tuple(MessageID(i) for i in sorted(payload.message_ids)),
            )
        )
