"""Bridge administration from the moderators' room: ``!bridge <verb>``.

Only the Matrix users listed in ``moderation.moderators`` may use it. Verbs:
``status``, ``channels``, ``add <channel> [public|members-only]``,
``remove <channel>``, ``add|remove category <id> [public|members-only]`` and
``add|remove guild <id> [public|members-only]`` (every channel of a category or a
guild, now and later), ``reload``, ``resync <channel>``, ``backfill <channel>``,
``import <channel>`` (the whole history, with progress notices). Parsing is
pure (:func:`parse_admin`); :class:`Admin` runs the commands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bridge.actions.backfill import backfill_with_threads
from bridge.actions.context import BridgeContext
from bridge.actions.history_import import PageRunner, import_history
from bridge.actions.pins import relay_discord_pins
from bridge.actions.portals import ensure_portal
from bridge.config import Access, Config, ConfigError, load_config
from bridge.db import ImportRow, RuleOverride
from bridge.ids import ChannelID, GuildID, RoomID, UserID
from bridge.model import CATEGORY, MatrixText
from bridge.runtime_config import ConfigChange

log = logging.getLogger(__name__)

PREFIX = "!bridge"
VERBS = ("status", "channels", "add", "remove", "reload", "resync", "backfill", "import", "help")
CHANNEL_VERBS = ("add", "remove", "resync", "backfill", "import")
HELP = (
    f"{PREFIX} status — is everything connected, what is waiting\n"
    f"{PREFIX} channels — the bridged channels and their rooms\n"
    f"{PREFIX} add <channel id> [public|members-only] — bridge a channel "
    "(members-only unless said; Discord's permissions must agree for public)\n"
    f"{PREFIX} remove <channel id> — stop bridging a channel (its room stays)\n"
    f"{PREFIX} add category <category id> [public|members-only] — bridge every channel "
    "of a Discord category, and those created or moved there later\n"
    f"{PREFIX} add guild <guild id> [public|members-only] — the same for a whole server\n"
    f"{PREFIX} remove category|guild <id> — stop that rule (rooms stay)\n"
    f"{PREFIX} reload — read the config file again and apply what can be\n"
    f"{PREFIX} resync <channel id> — refresh a portal's room (name, topic, pins)\n"
    f"{PREFIX} backfill <channel id> — relay what Discord has that Matrix misses\n"
    f"{PREFIX} import <channel id> — copy the channel's whole history (resumable)"
)


RULE_KINDS = ("category", "guild")


@dataclass(frozen=True)
class AdminCommand:
    verb: str
    channel_id: ChannelID | None = None
    access: Access | None = None
    # "channel", or a rule: "category" (channel_id holds the category's ID) or "guild"
    # (channel_id holds the guild's ID).
    kind: str = "channel"


def parse_admin(body: str) -> AdminCommand | str | None:
    """The command in ``body``; a plain error message; or None if it is not one."""
    words = body.split()
    if not words or words[0].casefold() != PREFIX:
        return None
    verb = words[1].casefold() if len(words) > 1 else "help"
    if verb not in VERBS:
        return f"Unknown command '{verb}'. Try: {PREFIX} help"
    if verb in CHANNEL_VERBS:
        kind = "channel"
        if verb in ("add", "remove") and len(words) > 2 and words[2].casefold() in RULE_KINDS:
            kind = words[2].casefold()
            del words[2]
        what = "channel id" if kind == "channel" else f"{kind} id"
        arg = words[2].strip("<#>") if len(words) > 2 else ""
        if not arg.isdigit():
            example = "" if kind == "channel" else f"{kind} "
            return (
                f"Usage: {PREFIX} {verb} {example}<{what}> "
                f"(e.g. {PREFIX} {verb} {example}123456789)"
            )
        access: Access | None = None
        if verb == "add":
            option = words[3].casefold().replace("_", "-") if len(words) > 3 else "members-only"
            if option not in ("public", "members-only"):
                example = "" if kind == "channel" else f"{kind} "
                return f"Usage: {PREFIX} add {example}<{what}> [public|members-only]"
            access = "public" if option == "public" else "members_only"
        return AdminCommand(verb, ChannelID(int(arg)), access, kind)
    return AdminCommand(verb)


@dataclass
class AdminState:
    """What status reports: filled in by the bridge."""

    started_at: float
    discord_ready: Callable[[], bool]
    d2m_depth: Callable[[], int]
    outbox_counts: Callable[[], Awaitable[tuple[int, int]]]  # (pending, dead)
    run_page: PageRunner
    # Apply a reloaded config file (or, with None, the stored channel overrides).
    reconfigure: Callable[[Config | None], Awaitable[ConfigChange]]


class Admin:
    def __init__(self, ctx: BridgeContext, state: AdminState) -> None:
        self.ctx = ctx
        self.state = state
        self.imports: dict[ChannelID, asyncio.Task[ImportRow]] = {}

    async def on_message(self, room_id: RoomID, sender: UserID, body: str) -> bool:
        """True when ``body`` was an admin command (answered in the room)."""
        parsed = parse_admin(body)
        if parsed is None:
            return False
        if sender not in self.ctx.config.moderation.moderators:
            await self._say(room_id, "Only the bridge's configured moderators can do this.")
        elif isinstance(parsed, str):
            await self._say(room_id, parsed)
        else:
            await self._say(room_id, await self.run(parsed, room_id, sender))
        return True

    async def _say(self, room_id: RoomID, text: str) -> None:
        await self.ctx.matrix.send_text(
            room_id, self.ctx.namer.bot_mxid, MatrixText(text, msgtype="m.notice"), None
        )

    async def run(self, command: AdminCommand, room_id: RoomID, actor: str = "") -> str:
        if command.verb == "help":
            return HELP
        if command.verb == "status":
            return await self._status()
        if command.verb == "channels":
            return await self._channels()
        if command.verb == "reload":
            return await self._reload()
        channel_id = command.channel_id
        assert channel_id is not None
        if command.verb in ("add", "remove") and command.kind != "channel":
            return await self._add_remove_rule(command, channel_id, actor)
        if command.verb in ("add", "remove"):
            return await self._add_remove(command, channel_id, actor)
        if self.ctx.config.bridge.channel(channel_id) is None:
            return f"Channel {channel_id} is not bridged. See: {PREFIX} channels"
        if command.verb == "resync":
            portal = await ensure_portal(self.ctx, channel_id)
            if portal is None:
                return f"Channel {channel_id} could not be found on Discord."
            await relay_discord_pins(self.ctx, channel_id)
            return f"Resynced channel {channel_id} ({portal.room_id})."
        if command.verb == "backfill":

            async def backfill() -> int:
                return (await backfill_with_threads(self.ctx, channel_id)).new

            done = await self.state.run_page(channel_id, backfill)
            return f"Backfill of channel {channel_id}: {done} new message(s) relayed."
        return self._start_import(channel_id, room_id)

    async def _reload(self) -> str:
        path = self.ctx.config.path
        if path is None:
            return "This bridge was not started from a config file: nothing to reload."
        try:
            config = await asyncio.to_thread(load_config, path)
        except ConfigError as exc:
            return f"The config file was not applied: {exc}"
        change = await self.state.reconfigure(config)
        log.info("config.reloaded %s", change.summary())
        return f"Config reloaded: {change.summary()}."

    async def _add_remove(self, command: AdminCommand, channel_id: ChannelID, actor: str) -> str:
        bridged = self.ctx.config.bridge.channel(channel_id) is not None
        if command.verb == "add":
            if bridged:
                return f"Channel {channel_id} is already bridged."
            channel = await self.ctx.discord.channel(channel_id)
            if channel is None or channel.guild_id not in self.ctx.config.discord.guild_ids:
                return f"The bot cannot see a text channel {channel_id} in this server."
        elif not bridged:
            return f"Channel {channel_id} is not bridged."
        add = command.verb == "add"
        await self.ctx.stores.channel_overrides.put(channel_id, add, command.access, actor)
        await self.state.reconfigure(None)
        if not add:
            return f"Channel {channel_id} is no longer bridged; its room stays as it is."
        portal = await self.ctx.stores.portals.by_channel(channel_id)
        where = f" in {portal.room_id}" if portal else ""
        return f"Channel {channel_id} is now bridged ({command.access}){where}."

    async def _rule_guild(self, command: AdminCommand, target: int) -> GuildID | None:
        """The configured guild a rule command names (the guild, or the category's)."""
        guild_ids = self.ctx.config.discord.guild_ids
        if command.kind == "guild":
            return GuildID(target) if target in guild_ids else None
        for guild_id in guild_ids:
            for chan in await self.ctx.discord.guild_channels(guild_id) or []:
                if chan.id == target and chan.type == CATEGORY:
                    return guild_id
        return None

    async def _add_remove_rule(self, command: AdminCommand, target: int, actor: str) -> str:
        guild_id = await self._rule_guild(command, target)
        if guild_id is None:
            where = "a bridged server" if command.kind == "category" else "discord.guilds"
            return f"No {command.kind} {target} in {where}."
        add = command.verb == "add"
        before = {c.discord_channel for c in self.ctx.config.bridge.channels}
        rule = RuleOverride(command.kind, target, guild_id, add, command.access or "members_only")
        await self.ctx.stores.rule_overrides.put(rule, actor)
        change = await self.state.reconfigure(None)
        after = {c.discord_channel for c in self.ctx.config.bridge.channels}
        if add:
            return (
                f"The {command.kind} {target} is now bridged ({rule.access}): "
                f"{len(after - before)} channel(s) added; channels created or moved there "
                "later will be bridged too."
            )
        log.info("rule.removed kind=%s target=%s %s", command.kind, target, change.summary())
        return (
            f"The {command.kind} {target} is no longer bridged as a whole: "
            f"{len(before - after)} channel(s) stopped; their rooms stay as they are."
        )

    def _start_import(self, channel_id: ChannelID, room_id: RoomID) -> str:
        running = self.imports.get(channel_id)
        if running is not None and not running.done():
            return f"An import of channel {channel_id} is already running."

        async def progress(row: ImportRow) -> None:
            if row.imported and row.imported % 500 < 100:  # about every 500 messages
                await self._say(room_id, f"Import of {channel_id}: {row.imported} so far...")

        async def run() -> ImportRow:
            try:
                row = await import_history(self.ctx, channel_id, progress, self.state.run_page)
            except Exception as exc:
                log.exception("import.failed channel=%s", channel_id)
                await self._say(
                    room_id,
                    f"Import of {channel_id} stopped ({type(exc).__name__}); "
                    f"'{PREFIX} import {channel_id}' resumes it.",
                )
                raise
            await self._say(room_id, f"Import of {channel_id} done: {row.imported} message(s).")
            return row

        self.imports[channel_id] = asyncio.create_task(run(), name=f"import:{channel_id}")
        return f"Importing channel {channel_id}'s history; progress will follow here."

    async def _status(self) -> str:
        pending, dead = await self.state.outbox_counts()
        portals = await self.ctx.stores.portals.all()
        uptime = int(time.monotonic() - self.state.started_at)
        imports = [str(c) for c, t in self.imports.items() if not t.done()]
        lines = [
            f"Up {uptime // 3600}h{uptime % 3600 // 60:02d}m; portals: {len(portals)}.",
            f"Discord gateway: {'connected' if self.state.discord_ready() else 'NOT connected'}.",
            f"Waiting: {self.state.d2m_depth()} Discord->Matrix job(s), "
            f"{pending} Matrix->Discord event(s); undeliverable: {dead}.",
        ]
        if imports:
            lines.append(f"Imports running: {', '.join(imports)}.")
        return "\n".join(lines)

    async def _channels(self) -> str:
        rooms = {p.discord_channel_id: p for p in await self.ctx.stores.portals.all()}
        lines = []
        for chan in self.ctx.config.bridge.channels:
            portal = rooms.get(chan.discord_channel)
            where = f"{portal.name} -> {portal.room_id}" if portal else "no room yet"
            how = "" if chan.source == "channel" else f", by {chan.source}"
            lines.append(f"{chan.discord_channel} ({chan.access}{how}): {where}")
        for guild in self.ctx.config.discord.guilds:
            if guild.all_channels is not None:
                lines.append(f"Rule: every channel of guild {guild.id} ({guild.all_channels})")
            for rule in guild.categories:
                lines.append(
                    f"Rule: every channel of category {rule.category_id} in guild {guild.id}"
                    f" ({rule.access})"
                )
        return "\n".join(lines) or "No channels are bridged."
