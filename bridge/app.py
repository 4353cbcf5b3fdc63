"""The running bridge: wires config, database, transports and actions together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_delete import relay_discord_deletion
from bridge.actions.d2m_edit import relay_discord_edit
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_reaction import (
    relay_discord_reaction_add,
    relay_discord_reaction_clear,
    relay_discord_reaction_remove,
)
from bridge.actions.d2m_thread import relay_discord_thread
from bridge.actions.m2d_edit import relay_matrix_edit
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.m2d_reaction import relay_matrix_reaction, relay_matrix_reaction_redaction
from bridge.actions.m2d_redact import relay_matrix_redaction
from bridge.actions.pins import relay_discord_pins, relay_matrix_pins
from bridge.actions.portals import ensure_all_portals, ensure_portal
from bridge.actions.puppets import refresh_puppet
from bridge.actions.typing import relay_discord_typing, relay_matrix_typing
from bridge.config import Config
from bridge.db import Database, Stores, open_database
from bridge.db.migrate import current_revision, head_revision, upgrade_head
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from bridge.media_links import link_key
from bridge.model import (
    DiscordAuthor,
    DiscordDeletion,
    DiscordDM,
    DiscordMessage,
    DiscordReaction,
    DiscordReactionClear,
    DiscordThread,
    MatrixEdit,
    MatrixMessage,
    MatrixPins,
    MatrixReaction,
    MatrixRedaction,
    MatrixText,
)
from bridge.queues import KeyedSerialQueues
from bridge.ratelimit import SenderLimiter
from bridge.registration import Tokens
from bridge.transport.appservice_http import AppserviceHandlers, build_appservice_app
from bridge.transport.discord import DiscordHandlers, DiscordTransport
from bridge.transport.discord_moderation import DiscordModeration
from bridge.transport.matrix import MatrixTransport
from bridge.transport.matrix_moderation import MatrixModeration
from moderation.context import ModerationContext
from moderation.dispatch import ModerationDispatch
from moderation.membership import start_members
from moderation.startup import start_moderation

log = logging.getLogger(__name__)

# Profile updates and moderation are not tied to a channel: they run in queues of
# their own (no channel has these IDs).
PROFILE_QUEUE = ChannelID(0)
MODERATION_QUEUE = ChannelID(1)


class SchemaOutdated(RuntimeError):
    pass


async def prepare_schema(config: Config) -> None:
    url = config.database.url
    if config.database.auto_migrate:
        await asyncio.to_thread(upgrade_head, url)
        return
    current, head = await current_revision(url), head_revision()
    if current != head:
        raise SchemaOutdated(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `python -m bridge migrate -c CONFIG`"
        )


class Bridge:
    def __init__(self, config: Config, tokens: Tokens) -> None:
        self.config = config
        self.tokens = tokens
        self.db: Database | None = None
        self.matrix = MatrixTransport(
            config.homeserver.url,
            tokens.as_token,
            config.namer.bot_mxid,
            config.appservice.bot_displayname,
        )
        self.discord = DiscordTransport(
            config.discord.token,
            config.discord.api_base,
            DiscordHandlers(
                message=self._on_discord_message,
                edit=self._on_discord_edit,
                deletion=self._on_discord_deletion,
                reaction_add=self._on_discord_reaction_add,
                reaction_remove=self._on_discord_reaction_remove,
                reaction_clear=self._on_discord_reaction_clear,
                profile=self._on_discord_profile,
                typing=self._on_discord_typing,
                pins=self._on_discord_pins,
                thread=self._on_discord_thread,
                ban=self._on_discord_ban,
                unban=self._on_discord_unban,
                roles=self._on_discord_roles,
                channel_access=self._on_channel_access,
                dm=self._on_discord_dm,
            ),
        )
        self.discord_moderation = DiscordModeration(self.discord.client, config.discord.guild_id)
        self.matrix_moderation = MatrixModeration(self.matrix)
        self._moderation: ModerationDispatch | None = None
        self.media_key = link_key(tokens.as_token)
        self.sender_limiter = SenderLimiter(
            config.bridge.sender_burst, config.bridge.sender_per_seconds
        )
        self.d2m_queues = KeyedSerialQueues("d2m")
        self._runner: web.AppRunner | None = None
        self._ctx: BridgeContext | None = None
        self.started = asyncio.Event()

    @property
    def ctx(self) -> BridgeContext:
        if self._ctx is None:
            raise RuntimeError("bridge not started")
        return self._ctx

    async def start(self) -> None:
        await prepare_schema(self.config)
        self.db = open_database(self.config.database.url)
        await self.db.start()
        stores = Stores(self.db)
        self._ctx = BridgeContext(self.config, stores, self.matrix, self.discord)
        self._ctx.media_key = self.media_key
        self._ctx.own_webhooks |= await stores.webhooks.all_ids()
        # Listen before anything makes the homeserver push events to us.
        await self._start_http()
        await self.matrix.start()
        await self.matrix.ping_homeserver(self.config.appservice.id)
        await self.discord.start()
        portals = await ensure_all_portals(self._ctx)
        mctx = ModerationContext(self._ctx, self.discord_moderation, self.matrix_moderation)
        try:
            await start_moderation(mctx)
            await start_members(mctx)
        except Exception:  # relay keeps working; the log says what is wrong
            log.exception("moderation.start-failed")
        self._moderation = ModerationDispatch(mctx)
        log.info("bridge.started portals=%s", len(portals))
        self.started.set()

    async def _start_http(self) -> None:
        handlers = AppserviceHandlers(
            hs_token=self.tokens.hs_token,
            seen=self._txn_seen,
            transaction=self._handle_transaction,
            query_user=self._query_user,
            query_alias=self._query_alias,
            ephemeral=self._handle_ephemeral,
            media_key=self.media_key,
            open_media=self.matrix.open_media,
        )
        self._runner = web.AppRunner(build_appservice_app(handlers), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.config.appservice.listen_host, self.config.appservice.listen_port
        )
        await site.start()
        log.info(
            "appservice.listening host=%s port=%s",
            self.config.appservice.listen_host,
            self.config.appservice.listen_port,
        )

    async def stop(self) -> None:
        log.info("bridge.stopping")
        await self.discord.stop()
        await self.d2m_queues.drain()
        await self.d2m_queues.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.matrix.stop()
        if self.db is not None:
            await self.db.stop()
        log.info("bridge.stopped")

    # -- Discord -> Matrix -----------------------------------------------

    async def _on_discord_message(self, message: DiscordMessage) -> None:
        if self._ctx is None:
            return
        if message.channel_id == self.config.moderation.mod_channel:
            self._moderate(lambda m: m.on_discord_message(message))  # commands, never relayed
            return
        # A thread's messages queue behind its parent's: the starter is relayed first.
        self.d2m_queues.submit(
            message.thread_parent_id or message.channel_id,
            lambda: relay_discord_message(self.ctx, message),
        )

    async def _on_discord_edit(self, message: DiscordMessage) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(message.channel_id, lambda: relay_discord_edit(self.ctx, message))

    async def _on_discord_deletion(self, deletion: DiscordDeletion) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(
            deletion.channel_id, lambda: relay_discord_deletion(self.ctx, deletion)
        )

    async def _on_discord_reaction_add(self, reaction: DiscordReaction) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(
            reaction.channel_id, lambda: relay_discord_reaction_add(self.ctx, reaction)
        )

    async def _on_discord_reaction_remove(self, reaction: DiscordReaction) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(
            reaction.channel_id, lambda: relay_discord_reaction_remove(self.ctx, reaction)
        )

    async def _on_discord_reaction_clear(self, clear: DiscordReactionClear) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(
            clear.channel_id, lambda: relay_discord_reaction_clear(self.ctx, clear)
        )

    async def _on_discord_profile(self, author: DiscordAuthor) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(PROFILE_QUEUE, lambda: refresh_puppet(self.ctx, author))

    async def _on_discord_thread(self, thread: DiscordThread) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(thread.parent_id, lambda: relay_discord_thread(self.ctx, thread))

    async def _on_discord_typing(self, channel_id: ChannelID, user_id: DiscordUserID) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(
            channel_id, lambda: relay_discord_typing(self.ctx, channel_id, user_id)
        )

    async def _on_discord_pins(self, channel_id: ChannelID) -> None:
        if self._ctx is None:
            return
        self.d2m_queues.submit(channel_id, lambda: relay_discord_pins(self.ctx, channel_id))

    async def _on_discord_ban(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        if guild_id == self.config.discord.guild_id:
            self._moderate(lambda m: m.on_discord_ban(user_id))

    async def _on_discord_unban(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        if guild_id == self.config.discord.guild_id:
            self._moderate(lambda m: m.on_discord_unban(user_id))

    def _moderate(self, job: Callable[[ModerationDispatch], Awaitable[None]]) -> None:
        moderation = self._moderation
        if moderation is not None:
            self.d2m_queues.submit(MODERATION_QUEUE, lambda: job(moderation))

    async def _on_discord_roles(self, user_id: DiscordUserID) -> None:
        self._moderate(lambda m: m.on_discord_roles(user_id))

    async def _on_channel_access(self, channel_id: ChannelID) -> None:
        self._moderate(lambda m: m.on_channel_access(channel_id))

    async def _on_discord_dm(self, dm: DiscordDM) -> None:
        self._moderate(lambda m: m.on_discord_dm(dm))

    # -- Matrix -> Discord -----------------------------------------------

    async def _handle_ephemeral(self, events: list[dict[str, Any]]) -> None:
        for raw in events:
            content = raw.get("content")
            room_id = raw.get("room_id")
            if raw.get("type") != "m.typing" or not isinstance(content, dict):
                continue
            user_ids = content.get("user_ids")
            if isinstance(room_id, str) and isinstance(user_ids, list):
                typing = [UserID(u) for u in user_ids if isinstance(u, str)]
                await relay_matrix_typing(self.ctx, RoomID(room_id), typing)

    async def _txn_seen(self, txn_id: str) -> bool:
        return await self.ctx.stores.txns.seen(self.config.appservice.id, txn_id)

    async def _handle_transaction(self, txn_id: str, events: list[dict[str, Any]]) -> None:
        for raw in events:
            try:
                await self.matrix.observe_state(raw)
                await self._relay_matrix_event(raw)
            except Exception:
                log.exception(
                    "m2d.failed txn=%s event=%s type=%s",
                    txn_id,
                    raw.get("event_id"),
                    raw.get("type"),
                )
        await self.ctx.stores.txns.mark(self.config.appservice.id, txn_id)

    async def _relay_matrix_event(self, raw: dict[str, Any]) -> None:
        moderation = self._moderation
        if moderation is not None:
            if await moderation.on_matrix_event(raw):
                return  # a moderator command, answered in the moderators' room
            sender = raw.get("sender")
            if isinstance(sender, str) and await moderation.blocked(sender):
                log.info("m2d.blocked event=%s reason=banned", raw.get("event_id"))
                return
        event = self.matrix.parse_event(raw)
        if isinstance(event, MatrixMessage | MatrixReaction) and await self._flooding(event):
            return
        if isinstance(event, MatrixMessage):
            await relay_matrix_message(self.ctx, event)
        elif isinstance(event, MatrixEdit):
            await relay_matrix_edit(self.ctx, event)
        elif isinstance(event, MatrixReaction):
            await relay_matrix_reaction(self.ctx, event)
        elif isinstance(event, MatrixPins):
            await relay_matrix_pins(self.ctx, event)
        elif isinstance(event, MatrixRedaction):
            if not await relay_matrix_reaction_redaction(self.ctx, event):
                await relay_matrix_redaction(self.ctx, event)

    async def _flooding(self, event: MatrixMessage | MatrixReaction) -> bool:
        """Per-sender flood protection; True when the event must not be relayed."""
        sender = event.sender
        if self.config.namer.is_bridge_owned(sender) or self.sender_limiter.allow(sender):
            return False
        log.warning("m2d.rate-limited sender=%s event=%s", sender, event.event_id)
        if self.sender_limiter.first_refusal(sender):
            limit = self.sender_limiter
            text = (
                f"{sender}: you are sending faster than {limit.burst} messages per "
                f"{limit.per_seconds:g} seconds; the rest is not relayed to Discord."
            )
            bot = self.config.namer.bot_mxid
            await self.matrix.send_text(
                event.room_id, bot, MatrixText(text, msgtype="m.notice"), None
            )
        return True

    async def _query_user(self, user_id: str) -> bool:
        if self.config.namer.parse_ghost(user_id) is None:
            return False
        await self.matrix.ensure_ghost(user_id, None, None)  # type: ignore[arg-type]
        return True

    async def _query_alias(self, alias: str) -> bool:
        channel_id = self.config.namer.parse_alias(alias)
        if channel_id is None:
            return False
        chan_cfg = self.config.bridge.channel(channel_id)
        if chan_cfg is None or chan_cfg.matrix_room is not None:
            return False  # never create rooms for channels that are not configured
        if not self.discord.ready.is_set():
            return False
        portal = await ensure_portal(self.ctx, channel_id)
        return portal is not None
