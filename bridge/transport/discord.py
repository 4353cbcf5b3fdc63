"""Discord side: a discord.py client translated into our dataclasses at the edge.

Implements :class:`bridge.ports.DiscordPort`, and hands incoming messages to a
callback as :class:`bridge.model.DiscordMessage`. Nothing beyond this module
sees a discord.py object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bridge import relay_clock
from bridge.convert.emoji_pack import GuildExpressions
from bridge.db import WebhookRow
from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID, WebhookID
from bridge.model import (
    DiscordAuthor,
    DiscordChannel,
    DiscordDeletion,
    DiscordDM,
    DiscordGuild,
    DiscordMessage,
    DiscordPollVote,
    DiscordReaction,
    DiscordReactionClear,
    DiscordSend,
    DiscordThread,
    DiscordThreadDeletion,
)
from bridge.ports import MediaTooLarge, WebhookGone
from bridge.transport import discord_guilds, discord_history, discord_patches, discord_reactions
from bridge.transport.discord_emoji import guild_expressions
from bridge.transport.discord_endpoints import use_api_base
from bridge.transport.discord_gateway import harden_parsers
from bridge.transport.discord_guilds import channel_from, guild_from
from bridge.transport.discord_media import (
    files_for,
)
from bridge.transport.discord_objects import (
    _profile_changed,
    author_from,
    message_from,
    poll_object,
    poll_vote_from,
    reaction_from,
    thread_from,
    thread_update_from,
)
from bridge.transport.discord_reactions import emoji_api_form
from bridge.transport.discord_voice import send_voice

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = 10003
THREAD_ALREADY_CREATED = 160004


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


def _thread_object(thread_id: ChannelID | None) -> discord.abc.Snowflake:
    return discord.Object(thread_id) if thread_id is not None else discord.utils.MISSING


class _Client(discord.Client):
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


class DiscordTransport:
    def __init__(self, token: str, api_base: str, handlers: DiscordHandlers) -> None:
        use_api_base(api_base)
        discord_patches.apply()  # heartbeat latency measured right; no voice warning
        self._token = token
        self.handlers = handlers
        self.client = _Client(self)
        harden_parsers(self.client)
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Shown names of guild members (bridge.transport.discord_guilds.MemberNames).
        self.names = discord_guilds.MemberNames(self.client)
        self.member_names = self.names.members
        self.members_version = self.names.version
        self.member_changes = self.names.since

    async def start(self, ready_within: float = 60) -> None:
        """Log in and connect; returns once READY arrived."""
        await self.client.login(self._token)
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord")
        ready = asyncio.create_task(self.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=ready_within, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()  # raise the connection error
            raise TimeoutError("Discord gateway did not become ready")

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except (TimeoutError, asyncio.CancelledError, discord.DiscordException):
                pass

    # -- DiscordPort -----------------------------------------------------

    async def _text_channel(
        self, channel_id: ChannelID
    ) -> (
        discord.TextChannel
        | discord.ForumChannel
        | discord.VoiceChannel
        | discord.StageChannel
        | None
    ):
        """A channel that can hold a portal: text and announcement channels, forums and
        media channels (discord.py's ForumChannel covers both), voice and stage channels
        (their text chat)."""
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
        portal_types = (
            discord.TextChannel | discord.ForumChannel | discord.VoiceChannel | discord.StageChannel
        )
        return channel if isinstance(channel, portal_types) else None

    async def channel(self, channel_id: ChannelID) -> DiscordChannel | None:
        channel = await self._text_channel(channel_id)
        return channel_from(channel) if channel is not None else None

    async def guild(self, guild_id: GuildID) -> DiscordGuild | None:
        guild = self.client.get_guild(guild_id)
        return guild_from(guild) if guild is not None else None

    async def guild_channels(self, guild_id: GuildID) -> list[DiscordChannel] | None:
        return discord_guilds.guild_channels(self.client, guild_id)

    async def guild_expressions(self, guild_id: GuildID) -> GuildExpressions | None:
        return guild_expressions(self.client, guild_id)

    async def member_roles(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[frozenset[int], int, bool] | None:
        return discord_guilds.member_roles(self.client, guild_id, user_id)

    async def guild_members(
        self, guild_id: GuildID
    ) -> dict[DiscordUserID, tuple[frozenset[int], int, bool]] | None:
        return await discord_guilds.guild_members(self.client, guild_id)

    async def member_profile(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> DiscordAuthor | None:
        return discord_guilds.member_author(self.client, guild_id, user_id)

    def bot_name(self) -> str | None:
        user = self.client.user
        return (user.global_name or user.name) if user is not None else None

    async def find_webhook(self, channel_id: ChannelID, name: str) -> WebhookRow | None:
        channel = await self._text_channel(channel_id)
        if channel is None:
            raise LookupError(f"Discord channel {channel_id} not found")
        me = self.client.user
        for hook in await channel.webhooks():
            owned = hook.user is not None and me is not None and hook.user.id == me.id
            if hook.name == name and hook.token and owned:
                return WebhookRow(channel_id, WebhookID(hook.id), hook.token)
        return None

    async def create_webhook(self, channel_id: ChannelID, name: str) -> WebhookRow:
        channel = await self._text_channel(channel_id)
        if channel is None:
            raise LookupError(f"Discord channel {channel_id} not found")
        hook = await channel.create_webhook(name=name, reason="Passerelle Matrix bridge")
        if hook.token is None:
            raise RuntimeError("Discord returned a webhook without a token")
        return WebhookRow(channel_id, WebhookID(hook.id), hook.token)

    def _hook(self, webhook: WebhookRow) -> discord.Webhook:
        return discord.Webhook.partial(
            webhook.webhook_id, webhook.webhook_token, client=self.client
        )

    @staticmethod
    def _mentions(send: DiscordSend) -> discord.AllowedMentions:
        return discord.AllowedMentions(
            everyone=send.mention_everyone,
            roles=False,
            users=[discord.Object(u) for u in send.allowed_mention_users],
        )

    async def execute_webhook(self, webhook: WebhookRow, send: DiscordSend) -> int:
        hook = self._hook(webhook)
        mentions = self._mentions(send)
        relay_clock.request_starts()
        try:
            if send.voice is not None:  # discord_voice: flags and waveform, no text
                thread = discord.Object(send.thread_id) if send.thread_id is not None else None
                return await send_voice(hook, send, thread)
            sent = await hook.send(
                content=send.content or discord.utils.MISSING,
                username=send.username,
                avatar_url=send.avatar_url or discord.utils.MISSING,
                allowed_mentions=mentions,
                files=files_for(send) if send.files else discord.utils.MISSING,
                thread=_thread_object(send.thread_id),
                thread_name=send.thread_name or discord.utils.MISSING,
                poll=poll_object(send.poll) if send.poll else discord.utils.MISSING,
                wait=True,
            )
        except discord.NotFound as exc:
            if send.thread_id is not None and exc.code == UNKNOWN_CHANNEL:
                raise  # the thread is gone, not the webhook
            raise WebhookGone(str(webhook.webhook_id)) from exc
        except discord.HTTPException as exc:
            if exc.status == 413 and send.files:  # over the server's upload limit
                raise MediaTooLarge(0) from exc
            raise
        return sent.id

    async def edit_webhook_message(
        self, webhook: WebhookRow, message_id: MessageID, send: DiscordSend
    ) -> None:
        try:
            await self._hook(webhook).edit_message(
                message_id,
                content=send.content,
                allowed_mentions=self._mentions(send),
                thread=_thread_object(send.thread_id),
            )
        except discord.NotFound:
            log.warning("discord.edit-target-gone message=%s", message_id)

    async def delete_webhook_message(
        self, webhook: WebhookRow, message_id: MessageID, thread_id: ChannelID | None = None
    ) -> None:
        try:
            await self._hook(webhook).delete_message(message_id, thread=_thread_object(thread_id))
        except discord.NotFound:
            log.info("discord.delete-target-gone message=%s", message_id)

    async def end_poll(self, channel_id: ChannelID, message_id: MessageID) -> bool:
        try:
            await self.client.http.end_poll(channel_id, message_id)
        except discord.Forbidden as exc:  # not the poll's author (a webhook's poll)
            log.info("discord.end-poll-refused message=%s code=%s", message_id, exc.code)
            return False
        except discord.NotFound:
            log.info("discord.end-poll-target-gone message=%s", message_id)
            return False
        return True

    async def create_thread(
        self, channel_id: ChannelID, message_id: MessageID, name: str
    ) -> ChannelID:
        try:
            data = await self.client.http.start_thread_with_message(
                channel_id,
                message_id,
                name=name[:100] or "Thread",
                auto_archive_duration=10080,  # archived after a week of silence
                reason="Matrix thread",
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:  # its ID is the message's
                log.info("discord.thread-exists channel=%s message=%s", channel_id, message_id)
                return ChannelID(message_id)
            raise
        log.info("discord.thread-created channel=%s thread=%s", channel_id, data["id"])
        return ChannelID(int(data["id"]))

    async def active_threads(self, channel_id: ChannelID) -> list[DiscordThread]:
        found = await discord_history.active_threads(self.client, channel_id)
        return [thread_from(t) for t in found]

    async def thread(self, channel_id: ChannelID) -> DiscordThread | None:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
        return thread_from(channel) if isinstance(channel, discord.Thread) else None

    async def pinned_messages(self, channel_id: ChannelID) -> list[MessageID]:
        try:
            data = await self.client.http.pins_from(channel_id, limit=50)
        except discord.HTTPException as exc:
            log.warning("discord.pins-failed channel=%s status=%s", channel_id, exc.status)
            return []
        items = data.get("items", []) if isinstance(data, dict) else data
        return [
            MessageID(int(item["message"]["id"] if "message" in item else item["id"]))
            for item in items
        ]

    async def set_pinned(
        self, channel_id: ChannelID, message_id: MessageID, pinned: bool, reason: str
    ) -> bool:
        http = self.client.http
        try:
            if pinned:
                await http.pin_message(channel_id, message_id, reason=reason)
            else:
                await http.unpin_message(channel_id, message_id, reason=reason)
        except discord.NotFound:
            return True
        except discord.Forbidden:
            return False
        return True

    async def trigger_typing(self, channel_id: ChannelID) -> None:
        try:
            await self.client.http.send_typing(channel_id)
        except discord.HTTPException as exc:  # best effort
            log.info("discord.typing-failed channel=%s status=%s", channel_id, exc.status)

    async def delete_message(
        self, channel_id: ChannelID, message_id: MessageID, reason: str
    ) -> bool:
        try:
            await self.client.http.delete_message(channel_id, message_id, reason=reason)
        except discord.NotFound:
            return True
        except discord.Forbidden:
            return False
        return True

    async def messages_after(
        self, channel_id: ChannelID, after: MessageID, limit: int, until: MessageID | None = None
    ) -> list[DiscordMessage]:
        found = await discord_history.messages_after(self.client, channel_id, after, limit, until)
        return [message_from(m) for m in found]

    async def reactors(
        self,
        channel_id: ChannelID,
        message_id: MessageID,
        emoji: str,
        limit: int,
        burst: bool = False,
    ) -> list[DiscordAuthor] | None:
        found = await discord_reactions.reactors(
            self.client, channel_id, message_id, emoji, limit, burst
        )
        return None if found is None else [author_from(u) for u in found]

    def own_user_id(self) -> DiscordUserID | None:
        user = self.client.user
        return DiscordUserID(user.id) if user is not None else None

    async def add_reaction(self, channel_id: ChannelID, message_id: MessageID, emoji: str) -> bool:
        """The bot reacts with ``emoji`` (unicode, or ``name:id``); False if refused."""
        try:
            await self.client.http.add_reaction(channel_id, message_id, emoji)
        except discord.HTTPException as exc:
            log.warning(
                "discord.reaction-add-failed message=%s status=%s code=%s",
                message_id,
                exc.status,
                exc.code,
            )
            return False
        return True

    async def remove_own_reaction(
        self, channel_id: ChannelID, message_id: MessageID, emoji: str
    ) -> bool:
        try:
            await self.client.http.remove_own_reaction(channel_id, message_id, emoji)
        except discord.NotFound:
            return True  # message or reaction already gone
        except discord.HTTPException as exc:
            log.warning(
                "discord.reaction-remove-failed message=%s status=%s code=%s",
                message_id,
                exc.status,
                exc.code,
            )
            return False
        return True
