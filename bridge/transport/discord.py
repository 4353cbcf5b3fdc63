"""Discord side: a discord.py client translated into our dataclasses at the edge.

Implements :class:`bridge.ports.DiscordPort` (the REST calls, here); the gateway's
events are handed to callbacks as :class:`bridge.model` dataclasses by the client in
:mod:`bridge.transport.discord_client`. Nothing beyond the ``bridge.transport.discord*``
modules sees a discord.py object.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from bridge import relay_clock
from bridge.convert.emoji_pack import GuildExpressions
from bridge.db import WebhookRow
from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID, WebhookID
from bridge.model import (
    DiscordAuthor,
    DiscordChannel,
    DiscordGuild,
    DiscordMessage,
    DiscordSend,
    DiscordThread,
)
from bridge.ports import MediaTooLarge, WebhookGone
from bridge.transport import discord_guilds, discord_history, discord_patches, discord_reactions
from bridge.transport.discord_client import DiscordHandlers, GatewayClient
from bridge.transport.discord_emoji import guild_expressions
from bridge.transport.discord_endpoints import use_api_base
from bridge.transport.discord_gateway import harden_parsers
from bridge.transport.discord_guilds import channel_from, guild_from
from bridge.transport.discord_media import (
    files_for,
)
from bridge.transport.discord_objects import (
    author_from,
    message_from,
    poll_object,
    reaction_from,
    thread_from,
)
from bridge.transport.discord_voice import send_voice

# Re-exported: the converters are reached through this module by tests and callers.
__all__ = [
    "DiscordHandlers",
    "DiscordTransport",
    "author_from",
    "message_from",
    "reaction_from",
    "thread_from",
]

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = 10003
THREAD_ALREADY_CREATED = 160004


def _thread_object(thread_id: ChannelID | None) -> discord.abc.Snowflake:
    return discord.Object(thread_id) if thread_id is not None else discord.utils.MISSING


class DiscordTransport:
    def __init__(self, token: str, api_base: str, handlers: DiscordHandlers) -> None:
        use_api_base(api_base)
        discord_patches.apply()  # heartbeat latency measured right; no voice warning
        self._token = token
        self.handlers = handlers
        self.client = GatewayClient(self)
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
