"""The running bridge: wires config, database, transports and actions together."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bridge import relay_clock
from bridge.actions.backfill import backfill_with_threads
from bridge.actions.channels import apply_config, unbridged_room
from bridge.actions.context import BridgeContext
from bridge.actions.d2m_delete import relay_discord_deletion
from bridge.actions.d2m_edit import relay_discord_edit
from bridge.actions.d2m_forum import relay_thread_update
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_poll import relay_discord_poll_end, relay_discord_poll_vote
from bridge.actions.d2m_reaction import (
    relay_discord_reaction_add,
    relay_discord_reaction_clear,
    relay_discord_reaction_remove,
)
from bridge.actions.d2m_thread import relay_discord_thread, relay_discord_thread_deletion
from bridge.actions.emoji_pack import EmojiPacks, install_emoji_packs
from bridge.actions.m2d_events import portal_for_alias, relay_ephemeral, relay_matrix_kind
from bridge.actions.m2d_fast import first_part_marks
from bridge.actions.m2d_poll import ignore_matrix_vote
from bridge.actions.m2d_undelivered import notify_undelivered
from bridge.actions.pins import relay_discord_pins
from bridge.actions.portals import ensure_all_portals
from bridge.actions.power import config_changed, install_power
from bridge.actions.puppets import refresh_puppet
from bridge.actions.spaces import install_spaces, on_member_event
from bridge.actions.typing import relay_discord_typing
from bridge.activity import GuildActivity
from bridge.admin import Admin, AdminState
from bridge.config import Config
from bridge.db import Database, Stores, open_database
from bridge.db.migrate import SchemaOutdated, prepare_schema
from bridge.health import HealthCheck, database_probe, discord_probe, homeserver_probe
from bridge.ids import ChannelID, DiscordUserID, GuildID
from bridge.media_links import link_key
from bridge.metrics import Metrics
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
    MatrixEdit,
    MatrixMessage,
    MatrixPollStart,
    MatrixReaction,
)
from bridge.outbox import Outbox, Stopping, with_retries
from bridge.prune import prune_forever
from bridge.queues import KeyedSerialQueues
from bridge.registration import Tokens
from bridge.retry import Verdict
from bridge.runtime_config import ConfigChange
from bridge.structure import StructureEvents
from bridge.transport.appservice_http import AppserviceHandlers, build_appservice_app
from bridge.transport.discord import DiscordHandlers, DiscordTransport
from bridge.transport.discord_lockdown import DiscordLockdown
from bridge.transport.discord_moderation import DiscordModeration
from bridge.transport.matrix import MatrixTransport
from bridge.transport.matrix_moderation import MatrixModeration
from bridge.txn_order import TxnOrder
from bridge.web.app import start_web
from moderation.context import ModerationContext
from moderation.dispatch import ModerationDispatch
from moderation.lockdown import LockdownService
from moderation.membership import start_members
from moderation.protections.enforce import carry_out, resume_mutes
from moderation.protections.runtime import Found, Protections
from moderation.startup import start_moderation

__all__ = ["Bridge", "SchemaOutdated"]

log = logging.getLogger(__name__)

# Profile updates and moderation are not tied to a channel: they run in queues of
# their own (no channel has these IDs).
PROFILE_QUEUE = ChannelID(0)
MODERATION_QUEUE = ChannelID(1)


class Bridge:
    def __init__(self, config: Config, tokens: Tokens) -> None:
        self.config = config
        # The config file as read; self.config adds the channels bridged by command.
        self.file_config = config
        self.tokens = tokens
        self.db: Database | None = None
        self.matrix = MatrixTransport(
            config.homeserver.url,
            tokens.as_token,
            config.namer.bot_mxid,
            config.appservice.bot_displayname,
        )
        self.structure = StructureEvents(
            lambda: self._ctx,
            lambda key, job: self._d2m(key, job),
            lambda: self.reconfigure(None),
            self._until_started,
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
                poll_vote=self._on_discord_poll_vote,
                profile=self._on_discord_profile,
                typing=self._on_discord_typing,
                pins=self._on_discord_pins,
                thread=self._on_discord_thread,
                thread_update=self._on_discord_thread_update,
                thread_delete=self._on_discord_thread_delete,
                ban=self._on_discord_ban,
                unban=self._on_discord_unban,
                roles=self._on_discord_roles,
                member_join=self._on_discord_member_join,
                structure=self.structure.on_structure,
                guild_roles=self.structure.on_guild_roles,
                expressions=self._on_discord_expressions,
                channel_deleted=self.structure.on_channel_deleted,
                channel_access=self._on_channel_access,
                dm=self._on_discord_dm,
                ready=self._on_discord_ready,
            ),
        )
        # Scheduled events and who is in voice (bridge/activity.py).
        self.activity = GuildActivity(self.discord, self.matrix, self._d2m)
        self.discord_moderation = DiscordModeration(self.discord.client)
        self.matrix_moderation = MatrixModeration(self.matrix)
        self._moderation: ModerationDispatch | None = None
        self.lockdown: LockdownService | None = None
        self.media_key = link_key(tokens.as_token)
        # Checked on every message both ways (moderation.protections), once started.
        self.protections: Protections | None = None
        self.d2m_queues = KeyedSerialQueues("d2m")
        self.metrics = Metrics()
        self.metrics.track_queue("d2m", self.d2m_queues.depth)
        self.metrics.track_queue("m2d_outbox", lambda: self.outbox.depth() if self.outbox else 0)
        self.outbox: Outbox | None = None
        # Set at shutdown: retries stop waiting, undelivered work stays for the next start.
        self.stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._web: web.AppRunner | None = None  # the members' page (bridge.web)
        self._ctx: BridgeContext | None = None
        self.admin: Admin | None = None
        self.started = asyncio.Event()
        self.emoji_packs: EmojiPacks | None = None  # bridge.actions.emoji_pack
        self._pruner: asyncio.Task[None] | None = None  # bridge.prune, in the background

    @property
    def ctx(self) -> BridgeContext:
        if self._ctx is None:
            raise RuntimeError("bridge not started")
        return self._ctx

    async def start(self) -> None:
        await prepare_schema(self.config.database.url, self.config.database.auto_migrate)
        self.db = open_database(self.config.database.url)
        await self.db.start()
        stores = Stores(self.db)
        self._ctx = BridgeContext(self.config, stores, self.matrix, self.discord)
        self._ctx.media_key = self.media_key
        self._ctx.own_webhooks |= await stores.webhooks.all_ids()
        # What a previous run left undelivered goes first, then the homeserver's pushes;
        # nothing is delivered before start-up is complete (see _deliver_matrix_event).
        ctx = self._ctx
        self.outbox = Outbox(
            stores.outbox,
            self.config.appservice.id,
            self._deliver_matrix_event,
            self.metrics,
            on_dead=lambda raw, exc: notify_undelivered(ctx, raw, exc),
        )
        await self.outbox.resume(observe=self.matrix.observe_state)
        # Listen before anything makes the homeserver push events to us.
        await self._start_http()
        await self.matrix.start()
        await self.matrix.ping_homeserver(self.config.appservice.id)
        await self.discord.start()
        await apply_config(self._ctx, self.file_config, self._set_config, announce=False)
        portals = await ensure_all_portals(self._ctx)
        await install_spaces(self._ctx, lambda: self.reconfigure(None))
        # After the spaces (the pack's avatar is the guild space's); in the background.
        self.emoji_packs = await install_emoji_packs(self._ctx)
        await install_power(self._ctx)  # roles -> power levels, kept current
        mctx = ModerationContext(self._ctx, self.discord_moderation, self.matrix_moderation)
        self.lockdown = LockdownService(mctx, DiscordLockdown(self.discord.client))
        self._ctx.member_joined.append(self.lockdown.on_matrix_join)
        try:
            await self.lockdown.resume()  # a lockdown from before the restart holds again
            await start_moderation(mctx)
            await start_members(mctx)
        except Exception:  # relay keeps working; the log says what is wrong
            log.exception("moderation.start-failed")
        self._moderation = ModerationDispatch(mctx)
        self.protections = Protections(mctx)
        try:
            await self.protections.load()  # moderators' switches
            await resume_mutes(self.protections)  # mutes of the last run end on time
        except Exception:
            log.exception("protections.load-failed")
        moderation = self._moderation
        self._ctx.portal_created.append(lambda _row: moderation.on_portals_changed())
        self.activity.start(self._ctx)  # event notices caught up, voice rooms synced
        self.admin = Admin(
            self._ctx,
            AdminState(
                started_at=time.monotonic(),
                discord_ready=self.discord.ready.is_set,
                d2m_depth=self.d2m_queues.depth,
                outbox_counts=self._outbox_counts,
                run_page=self.in_channel_queue,
                reconfigure=self.reconfigure,
            ),
        )
        if self.config.web is not None:
            self._web = await start_web(self.config.web, mctx)
        log.info("bridge.started portals=%s", len(portals))
        self.started.set()
        self._pruner = asyncio.create_task(
            prune_forever(
                stores,
                self.config.appservice.id,
                lambda: self.config.database.txn_retention_days,
            )
        )

    async def _start_http(self) -> None:
        assert self.db is not None
        health = HealthCheck(
            {
                "discord": discord_probe(self.discord.ready, self.discord.client),
                "homeserver": homeserver_probe(self.config.homeserver.url),
                "database": database_probe(self.db),
            },
            timeout=5.0,
        )
        handlers = AppserviceHandlers(
            metrics=self.metrics,
            health=health,
            hs_token=self.tokens.hs_token,
            seen=self._txn_seen,
            order=TxnOrder.after(
                await self.ctx.stores.txns.last_handled(self.config.appservice.id)
            ),
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

    def _set_config(self, config: Config) -> None:
        """Swap in a new running config (see bridge.runtime_config for what may change)."""
        old = self.config
        self.config = config
        if self._ctx is not None:
            self._ctx.config = config
        if self.protections is not None and config.moderation != old.moderation:
            self.protections.reconfigure()  # new thresholds
        logging.getLogger().setLevel(config.log_level)

    async def reconfigure(self, file_config: Config | None = None) -> ConfigChange:
        """Apply a reloaded config file (or, with None, changed channel overrides)."""
        if file_config is not None:
            self.file_config = file_config
        change = await apply_config(self.ctx, self.file_config, self._set_config)
        await config_changed(self.ctx, change)  # power levels: rules, moderators
        if self._moderation is not None and change.other_changes:  # moderators may differ
            await self._moderation.on_portals_changed()  # (new portals: portal_created)
        return change

    async def stop(self, grace: float = 10.0) -> None:
        """Drain: stop taking work, finish what is in progress (up to ``grace`` s each
        way); what is left stays stored (Matrix -> Discord) or is read back from Discord's
        history at the next start (Discord -> Matrix)."""
        log.info("bridge.stopping")
        self.stopping.set()
        if self._pruner is not None:
            self._pruner.cancel()
            self._pruner = None
        if self.emoji_packs is not None:
            self.emoji_packs.close()
        if self.lockdown is not None:
            self.lockdown.cancel_timer()  # the lockdown table keeps it for the next start
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self._runner is not None:
            await self._runner.cleanup()  # the homeserver keeps new transactions for later
            self._runner = None
        await self.activity.stop()
        await self.discord.stop()
        try:
            await asyncio.wait_for(self.d2m_queues.drain(), grace)
        except TimeoutError:
            log.warning("d2m.stop-timeout grace=%ss", grace)
            self.d2m_queues.cancel()  # backfill reads back what was cut short
        await self.d2m_queues.close()
        if self.outbox is not None:
            await self.outbox.stop(grace)
        await self.matrix.stop()
        if self.db is not None:
            await self.db.stop()
        log.info("bridge.stopped")

    # -- Discord -> Matrix -----------------------------------------------

    async def _on_discord_ready(self) -> None:
        """A new gateway session: read back each channel's history first (queued ahead
        of the session's live events, so order is kept)."""
        for chan in self.config.bridge.channels:
            channel_id = chan.discord_channel
            self._d2m(channel_id, functools.partial(self._backfill, channel_id))

    async def _backfill(self, channel_id: ChannelID) -> None:
        if not self.started.is_set():
            await self._until_started()
        if self.stopping.is_set():
            return
        await backfill_with_threads(self.ctx, channel_id)

    async def _on_discord_expressions(self, guild_id: GuildID) -> None:
        """GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE: the guild's image pack follows."""
        await self._until_started()
        if self.emoji_packs is not None and not self.stopping.is_set():
            await self.emoji_packs.sync_guild(guild_id)

    async def _until_started(self) -> None:
        started = asyncio.ensure_future(self.started.wait())
        stopping = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({started, stopping}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        stopping.cancel()

    async def _on_discord_message(self, message: DiscordMessage) -> None:
        if self._ctx is None:
            return
        if self.config.discord.mod_channel_guild(message.channel_id) is not None:
            self._moderate(lambda m: m.on_discord_message(message))  # commands, never relayed
            return
        found = self.protections.check_discord(message) if self.protections else None
        # A thread's messages queue behind its parent's: the starter is relayed first.
        self._d2m(
            message.thread_parent_id or message.channel_id,
            lambda: self._protected(found, lambda: relay_discord_message(self.ctx, message)),
            relay=True,
        )

    async def _protected(
        self, found: Found | None, relay: Callable[[], Awaitable[object]]
    ) -> object:
        """Relay, unless a protection's verdict holds the message back."""
        if found is not None and self.protections is not None:
            if await carry_out(self.protections, *found):
                self.metrics.failed("d2m" if found[1].side == "discord" else "m2d", "protection")
                return None
        return await relay()

    async def _on_discord_edit(self, message: DiscordMessage) -> None:
        if self._ctx is None:
            return
        found = self.protections.check_discord(message, edit=True) if self.protections else None
        self._d2m(
            message.channel_id,
            lambda: self._protected(found, lambda: relay_discord_edit(self.ctx, message)),
        )
        if message.poll is not None and message.poll.finalized:  # the poll is over: after
            queue = message.thread_parent_id or message.channel_id  # its votes (same queue)
            self._d2m(queue, lambda: relay_discord_poll_end(self.ctx, message))

    async def _on_discord_poll_vote(self, vote: DiscordPollVote) -> None:
        """Votes queue behind the poll's message (a thread's: behind its parent)."""
        if self._ctx is None:
            return
        queue = vote.thread_parent_id or vote.channel_id
        self._d2m(queue, lambda: relay_discord_poll_vote(self.ctx, vote))

    async def _on_discord_deletion(self, deletion: DiscordDeletion) -> None:
        if self._ctx is None:
            return
        self._d2m(deletion.channel_id, lambda: relay_discord_deletion(self.ctx, deletion))

    async def _on_discord_reaction_add(self, reaction: DiscordReaction) -> None:
        """Reactions in a thread queue behind its parent, as the thread's messages do
        (and its backfill)."""
        if self._ctx is None:
            return
        queue = reaction.thread_parent_id or reaction.channel_id
        self._d2m(queue, lambda: relay_discord_reaction_add(self.ctx, reaction))

    async def _on_discord_reaction_remove(self, reaction: DiscordReaction) -> None:
        if self._ctx is None:
            return
        queue = reaction.thread_parent_id or reaction.channel_id
        self._d2m(queue, lambda: relay_discord_reaction_remove(self.ctx, reaction))

    async def _on_discord_reaction_clear(self, clear: DiscordReactionClear) -> None:
        if self._ctx is None:
            return
        queue = clear.thread_parent_id or clear.channel_id
        self._d2m(queue, lambda: relay_discord_reaction_clear(self.ctx, clear))

    async def _on_discord_profile(self, author: DiscordAuthor) -> None:
        if self._ctx is None:
            return
        self._d2m(PROFILE_QUEUE, lambda: refresh_puppet(self.ctx, author))

    async def _on_discord_thread(self, thread: DiscordThread) -> None:
        if self._ctx is None:
            return
        self._d2m(thread.parent_id, lambda: relay_discord_thread(self.ctx, thread))

    async def _on_discord_thread_update(self, thread: DiscordThread) -> None:
        if self._ctx is None:
            return
        self._d2m(thread.parent_id, lambda: relay_thread_update(self.ctx, thread))

    async def _on_discord_thread_delete(self, deletion: DiscordThreadDeletion) -> None:
        if self._ctx is None:
            return
        self._d2m(deletion.parent_id, lambda: relay_discord_thread_deletion(self.ctx, deletion))

    async def _on_discord_typing(self, channel_id: ChannelID, user_id: DiscordUserID) -> None:
        if self._ctx is None:
            return
        self._d2m(channel_id, lambda: relay_discord_typing(self.ctx, channel_id, user_id))

    async def _on_discord_pins(self, channel_id: ChannelID) -> None:
        if self._ctx is None:
            return
        self._d2m(channel_id, lambda: relay_discord_pins(self.ctx, channel_id))

    async def _on_discord_ban(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        if guild_id in self.config.discord.guild_ids:
            self._moderate(lambda m: m.on_discord_ban(guild_id, user_id))

    async def _on_discord_unban(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        if guild_id in self.config.discord.guild_ids:
            self._moderate(lambda m: m.on_discord_unban(guild_id, user_id))

    def _d2m(
        self, key: ChannelID, job: Callable[[], Awaitable[object]], *, relay: bool = False
    ) -> None:
        """Queue a Discord -> Matrix job behind its channel's, retried while the
        homeserver or the database is unavailable (``relay``: count it as a message)."""
        submitted = time.monotonic()

        async def run() -> None:
            if self.stopping.is_set():
                return  # at the next start, backfill reads it back from Discord
            clock = relay_clock.start(submitted) if relay else None  # inside_ms, logged
            try:
                ok = await with_retries(
                    job, f"direction=d2m queue={key}", self.stopping, on_failure=self._d2m_retry
                )
            except Stopping:
                return
            finally:
                if clock is not None:
                    relay_clock.stop(clock)
            if not ok:
                self.metrics.failed("d2m", "dropped")
            elif relay:
                self.metrics.relayed("d2m", time.monotonic() - submitted)

        self.d2m_queues.submit(key, run)

    async def _d2m_retry(self, verdict: Verdict, attempt: int, delay: float) -> None:
        self.metrics.failed("d2m", "retry")
        if verdict.reason.endswith("-429"):
            self.metrics.rate_limited("d2m", delay)

    async def in_channel_queue(self, key: ChannelID, job: Callable[[], Awaitable[int]]) -> int:
        """Run ``job`` in the channel's queue (after what is queued, never racing live
        events), retried like any relay; its result."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def once() -> None:
            done.set_result(await job())

        async def run() -> None:
            try:
                if not await with_retries(once, f"direction=d2m queue={key}", self.stopping):
                    done.set_exception(RuntimeError("gave up, see the log"))
            except Exception as exc:  # Stopping included: the caller learns why
                done.set_exception(exc)

        self.d2m_queues.submit(key, run)
        return await done

    def _moderate(self, job: Callable[[ModerationDispatch], Awaitable[None]]) -> None:
        moderation = self._moderation
        if moderation is not None:
            self._d2m(MODERATION_QUEUE, lambda: job(moderation))

    async def _on_discord_roles(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        if guild_id not in self.config.discord.guild_ids:
            return
        self._moderate(lambda m: m.on_discord_roles(guild_id, user_id))
        await self.structure.on_member_roles(guild_id, user_id)

    async def _on_discord_member_join(
        self, guild_id: GuildID, user_id: DiscordUserID, joined_at_ms: int | None
    ) -> None:
        """A member joined a bridged guild: first joins and join waves (lockdown)."""
        lockdown = self.lockdown
        if lockdown is None or guild_id not in self.config.discord.guild_ids:
            return
        # Counted now (in memory): the message that often follows at once is relayed
        # on its channel's queue, which may run before the moderation queue's job.
        made_wave = lockdown.count_join("discord", str(user_id))
        job = functools.partial(lockdown.on_join, "discord", str(user_id), joined_at_ms, made_wave)
        self._d2m(MODERATION_QUEUE, job)

    async def _on_channel_access(self, channel_id: ChannelID) -> None:
        self._moderate(lambda m: m.on_channel_access(channel_id))

    async def _on_discord_dm(self, dm: DiscordDM) -> None:
        self._moderate(lambda m: m.on_discord_dm(dm))

    # -- Matrix -> Discord -----------------------------------------------

    async def _handle_ephemeral(self, events: list[dict[str, Any]]) -> None:
        await relay_ephemeral(self.ctx, events)

    async def _txn_seen(self, txn_id: str, digest: str | None) -> bool:
        return await self.ctx.stores.txns.seen(self.config.appservice.id, txn_id, digest)

    async def _handle_transaction(self, txn_id: str, events: list[dict[str, Any]]) -> bool:
        """Store the transaction durably; the homeserver gets its 200 only after this.

        If the database cannot take it, this raises and the homeserver retries later.
        False: handled before (a replay), nothing stored."""
        received = time.monotonic()
        for raw in events:
            await self.matrix.observe_state(raw)
        assert self.outbox is not None
        marks = (  # plain messages' first parts: one commit fewer (bridge.actions.m2d_fast)
            await first_part_marks(self.ctx, self.matrix.parse_event, events, self.outbox.idle)
            if self.started.is_set() and self._ctx is not None
            else []
        )
        return await self.outbox.accept(txn_id, events, received, marks)

    async def _deliver_matrix_event(self, raw: dict[str, Any]) -> None:
        """One stored event, in its room's order (retried by the outbox on failure)."""
        await self.started.wait()
        await self._relay_matrix_event(raw)
        sent = raw.get("origin_server_ts")
        if isinstance(sent, int) and raw.get("type") == "m.room.message":
            self.metrics.relayed("m2d", max(0.0, time.time() - sent / 1000))

    async def _outbox_counts(self) -> tuple[int, int]:
        outbox = self.ctx.stores.outbox
        return await outbox.count(), await outbox.count(dead=True)

    async def _relay_matrix_event(self, raw: dict[str, Any]) -> None:
        if self.admin is not None and await self.admin.on_event(raw):
            return
        if ignore_matrix_vote(raw.get("type"), raw.get("event_id"), raw.get("sender")):
            return
        moderation = self._moderation
        if moderation is not None:
            if await moderation.on_matrix_event(raw):
                return  # a moderator command, answered in the moderators' room
            sender = raw.get("sender")
            if isinstance(sender, str) and await moderation.blocked(sender, raw.get("room_id")):
                log.info("m2d.blocked event=%s reason=banned", raw.get("event_id"))
                return
        await on_member_event(self.ctx, raw)  # spaces: newcomers are invited
        if self.protections is not None:
            self.protections.observe_matrix(raw)  # join times (protections)
        if await unbridged_room(self.ctx, raw.get("room_id"), raw.get("event_id")):
            return
        event = self.matrix.parse_event(raw)
        checked = isinstance(event, MatrixMessage | MatrixEdit | MatrixReaction | MatrixPollStart)
        if checked and self.protections is not None:
            found = self.protections.check_matrix(event)  # type: ignore[arg-type]
            if found is not None and await self._protected(found, _nothing) is None:
                return
        await relay_matrix_kind(self.ctx, event)

    async def _query_user(self, user_id: str) -> bool:
        if self.config.namer.parse_ghost(user_id) is None:
            return False
        await self.matrix.ensure_ghost(user_id, None, None)  # type: ignore[arg-type]
        return True

    async def _query_alias(self, alias: str) -> bool:
        return await portal_for_alias(self.ctx, alias, self.discord.ready.is_set())


async def _nothing() -> bool:
    return True
