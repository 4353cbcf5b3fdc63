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
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bridge.actions.backfill import backfill_with_threads
from bridge.actions.context import BridgeContext
from bridge.actions.history_import import PageRunner, import_history
from bridge.actions.languages import run_language_command
from bridge.actions.pins import relay_discord_pins
from bridge.actions.portals import ensure_portal
from bridge.config import Access, Config, ConfigError, load_config
from bridge.convert.language import parse_language
from bridge.db import ImportRow, RuleOverride
from bridge.i18n import Translator, translator
from bridge.ids import ChannelID, GuildID, RoomID, UserID
from bridge.model import CATEGORY, MatrixText
from bridge.runtime_config import ConfigChange

log = logging.getLogger(__name__)

PREFIX = "!bridge"
VERBS = ("status", "channels", "add", "remove", "reload", "resync", "backfill", "import", "help")
CHANNEL_VERBS = ("add", "remove", "resync", "backfill", "import")
# French aliases (accents optional), listed in the help.
ALIASES = {
    "etat": "status",
    "salons": "channels",
    "ajouter": "add",
    "retirer": "remove",
    "recharger": "reload",
    "resynchroniser": "resync",
    "rattraper": "backfill",
    "importer": "import",
    "aide": "help",
    "categorie": "category",
    "serveur": "guild",
    "membres": "members-only",
}


def help_text(tr: Translator | None = None) -> str:
    tr = tr or translator()
    p = PREFIX
    return "\n".join(
        [
            tr._("{p} status (or: {p} etat): is everything connected, what is waiting", p=p),
            tr._("{p} channels (or: {p} salons): the bridged channels and their rooms", p=p),
            tr._(
                "{p} add <channel id> [public|members-only] (or: {p} ajouter ... [public|membres]):"
                " bridge a channel (members-only unless said; Discord's permissions must agree"
                " for public)",
                p=p,
            ),
            tr._(
                "{p} remove <channel id> (or: {p} retirer): stop bridging a channel "
                "(its room stays)",
                p=p,
            ),
            tr._(
                "{p} add category <category id> [public|members-only] (or: {p} ajouter categorie):"
                " bridge every channel of a Discord category, and those created or moved there"
                " later",
                p=p,
            ),
            tr._(
                "{p} add guild <guild id> [public|members-only] (or: {p} ajouter serveur):"
                " the same for a whole server",
                p=p,
            ),
            tr._("{p} remove category|guild <id>: stop that rule (rooms stay)", p=p),
            tr._(
                "{p} reload (or: {p} recharger): read the config file again and apply what can be",
                p=p,
            ),
            tr._(
                "{p} resync <channel id> (or: {p} resynchroniser): refresh a portal's room "
                "(name, topic, pins)",
                p=p,
            ),
            tr._(
                "{p} backfill <channel id> (or: {p} rattraper): relay what Discord has that "
                "Matrix misses",
                p=p,
            ),
            tr._(
                "{p} import <channel id> (or: {p} importer): copy the channel's whole history "
                "(resumable)",
                p=p,
            ),
            tr._(
                "{p} language fr|en|default (or: {p} langue fr|en|defaut): the language the"
                " bridge writes to you in (answers to you, your notices); this room keeps the"
                " bridge's language",
                p=p,
            ),
        ]
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


def _word(word: str) -> str:
    """The English word for ``word`` (itself, or a French alias; accents optional)."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return ALIASES.get(plain, word.casefold())


def parse_admin(body: str, tr: Translator | None = None) -> AdminCommand | str | None:
    """The command in ``body``; a plain error message (in ``tr``'s language); or None
    if it is not one."""
    tr = tr or translator()
    words = body.split()
    if not words or words[0].casefold() != PREFIX:
        return None
    typed = words[1].casefold() if len(words) > 1 else "help"
    verb = _word(typed)
    if verb not in VERBS:
        return tr._("Unknown command '{verb}'. Try: {help}", verb=typed, help=f"{PREFIX} help")
    if verb in CHANNEL_VERBS:
        kind = "channel"
        if verb in ("add", "remove") and len(words) > 2 and _word(words[2]) in RULE_KINDS:
            kind = _word(words[2])
            del words[2]
        arg = words[2].strip("<#>") if len(words) > 2 else ""
        if not arg.isdigit():
            return _usage(verb, kind, tr)
        access: Access | None = None
        if verb == "add":
            option = _word(words[3]).replace("_", "-") if len(words) > 3 else "members-only"
            if option not in ("public", "members-only"):
                return _usage(verb, kind, tr, access=True)
            access = "public" if option == "public" else "members_only"
        return AdminCommand(verb, ChannelID(int(arg)), access, kind)
    return AdminCommand(verb)


def _usage(verb: str, kind: str, tr: Translator, *, access: bool = False) -> str:
    command = f"{PREFIX} {verb}" + ("" if kind == "channel" else f" {kind}")
    if access:
        if kind == "channel":
            return tr._("Usage: {command} <channel id> [public|members-only]", command=command)
        if kind == "category":
            return tr._("Usage: {command} <category id> [public|members-only]", command=command)
        return tr._("Usage: {command} <guild id> [public|members-only]", command=command)
    if kind == "channel":
        return tr._("Usage: {command} <channel id> (e.g. {command} 123456789)", command=command)
    if kind == "category":
        return tr._("Usage: {command} <category id> (e.g. {command} 123456789)", command=command)
    return tr._("Usage: {command} <guild id> (e.g. {command} 123456789)", command=command)


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

    async def on_event(self, raw: dict[str, Any]) -> bool:
        """True when ``raw`` was an admin command in the moderators' room (answered)."""
        room_id, sender, content = raw.get("room_id"), raw.get("sender"), raw.get("content")
        if raw.get("type") != "m.room.message" or not isinstance(content, dict):
            return False
        if room_id is None or room_id != self.ctx.moderation.mod_room:
            return False
        body = content.get("body")
        if not isinstance(body, str) or not isinstance(sender, str):
            return False
        return await self.on_message(RoomID(str(room_id)), UserID(sender), body)

    async def on_message(self, room_id: RoomID, sender: UserID, body: str) -> bool:
        """True when ``body`` was an admin command (answered in the room)."""
        language = parse_language(body)
        if language is not None:  # anyone's own language; the answer is in it
            await self._say(
                room_id, await run_language_command(self.ctx, "matrix", sender, language)
            )
            return True
        parsed = parse_admin(body, self.tr)
        if parsed is None:
            return False
        if sender not in self.ctx.config.moderation.moderators:
            await self._say(
                room_id, self.tr._("Only the bridge's configured moderators can do this.")
            )
        elif isinstance(parsed, str):
            await self._say(room_id, parsed)
        else:
            await self._say(room_id, await self.run(parsed, room_id, sender))
        return True

    @property
    def tr(self) -> Translator:
        """The configured language (read at each use: a reload may change it)."""
        return translator(self.ctx.config.bridge.language)

    async def _say(self, room_id: RoomID, text: str) -> None:
        await self.ctx.matrix.send_text(
            room_id, self.ctx.namer.bot_mxid, MatrixText(text, msgtype="m.notice"), None
        )

    async def run(self, command: AdminCommand, room_id: RoomID, actor: str = "") -> str:
        tr = self.tr
        if command.verb == "help":
            return help_text(tr)
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
            return tr._(
                "Channel {id} is not bridged. See: {command}",
                id=channel_id,
                command=f"{PREFIX} channels",
            )
        if command.verb == "resync":
            portal = await ensure_portal(self.ctx, channel_id)
            if portal is None:
                return tr._("Channel {id} could not be found on Discord.", id=channel_id)
            await relay_discord_pins(self.ctx, channel_id)
            return tr._("Resynced channel {id} ({room}).", id=channel_id, room=portal.room_id)
        if command.verb == "backfill":

            async def backfill() -> int:
                return (await backfill_with_threads(self.ctx, channel_id)).new

            done = await self.state.run_page(channel_id, backfill)
            return tr.ngettext(
                "Backfill of channel {id}: {n} new message relayed.",
                "Backfill of channel {id}: {n} new messages relayed.",
                done,
                id=channel_id,
            )
        return self._start_import(channel_id, room_id)

    async def _reload(self) -> str:
        path, tr = self.ctx.config.path, self.tr
        if path is None:
            return tr._("This bridge was not started from a config file: nothing to reload.")
        try:
            config = await asyncio.to_thread(load_config, path)
        except ConfigError as exc:
            return tr._("The config file was not applied: {error}", error=exc)
        change = await self.state.reconfigure(config)
        log.info("config.reloaded %s", change.summary())
        tr = self.tr  # the reloaded config's language
        return tr._("Config reloaded: {summary}.", summary=change.summary(tr))

    async def _add_remove(self, command: AdminCommand, channel_id: ChannelID, actor: str) -> str:
        bridged = self.ctx.config.bridge.channel(channel_id) is not None
        tr = self.tr
        if command.verb == "add":
            if bridged:
                return tr._("Channel {id} is already bridged.", id=channel_id)
            channel = await self.ctx.discord.channel(channel_id)
            if channel is None or channel.guild_id not in self.ctx.config.discord.guild_ids:
                return tr._("The bot cannot see a text channel {id} in this server.", id=channel_id)
        elif not bridged:
            return tr._("Channel {id} is not bridged.", id=channel_id)
        add = command.verb == "add"
        await self.ctx.stores.channel_overrides.put(channel_id, add, command.access, actor)
        await self.state.reconfigure(None)
        if not add:
            return tr._(
                "Channel {id} is no longer bridged; its room stays as it is.", id=channel_id
            )
        portal = await self.ctx.stores.portals.by_channel(channel_id)
        access = _access(command.access, tr)
        if portal:
            return tr._(
                "Channel {id} is now bridged ({access}) in {room}.",
                id=channel_id,
                access=access,
                room=portal.room_id,
            )
        return tr._("Channel {id} is now bridged ({access}).", id=channel_id, access=access)

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
        tr = self.tr
        if guild_id is None:
            if command.kind == "category":
                return tr._("No category {id} in a bridged server.", id=target)
            return tr._("No guild {id} in discord.guilds.", id=target)
        add = command.verb == "add"
        before = {c.discord_channel for c in self.ctx.config.bridge.channels}
        rule = RuleOverride(command.kind, target, guild_id, add, command.access or "members_only")
        await self.ctx.stores.rule_overrides.put(rule, actor)
        change = await self.state.reconfigure(None)
        after = {c.discord_channel for c in self.ctx.config.bridge.channels}
        access = _access(rule.access, tr)
        if add and command.kind == "category":
            return tr.ngettext(
                "The category {id} is now bridged ({access}): {n} channel added; channels "
                "created or moved there later will be bridged too.",
                "The category {id} is now bridged ({access}): {n} channels added; channels "
                "created or moved there later will be bridged too.",
                len(after - before),
                id=target,
                access=access,
            )
        if add:
            return tr.ngettext(
                "The guild {id} is now bridged ({access}): {n} channel added; channels "
                "created there later will be bridged too.",
                "The guild {id} is now bridged ({access}): {n} channels added; channels "
                "created there later will be bridged too.",
                len(after - before),
                id=target,
                access=access,
            )
        log.info("rule.removed kind=%s target=%s %s", command.kind, target, change.summary())
        if command.kind == "category":
            return tr.ngettext(
                "The category {id} is no longer bridged as a whole: {n} channel stopped; "
                "their rooms stay as they are.",
                "The category {id} is no longer bridged as a whole: {n} channels stopped; "
                "their rooms stay as they are.",
                len(before - after),
                id=target,
            )
        return tr.ngettext(
            "The guild {id} is no longer bridged as a whole: {n} channel stopped; "
            "their rooms stay as they are.",
            "The guild {id} is no longer bridged as a whole: {n} channels stopped; "
            "their rooms stay as they are.",
            len(before - after),
            id=target,
        )

    def _start_import(self, channel_id: ChannelID, room_id: RoomID) -> str:
        running = self.imports.get(channel_id)
        tr = self.tr
        if running is not None and not running.done():
            return tr._("An import of channel {id} is already running.", id=channel_id)

        async def progress(row: ImportRow) -> None:
            if row.imported and row.imported % 500 < 100:  # about every 500 messages
                await self._say(
                    room_id,
                    tr.ngettext(
                        "Import of {id}: {n} message so far...",
                        "Import of {id}: {n} messages so far...",
                        row.imported,
                        id=channel_id,
                    ),
                )

        async def run() -> ImportRow:
            try:
                row = await import_history(self.ctx, channel_id, progress, self.state.run_page)
            except Exception as exc:
                log.exception("import.failed channel=%s", channel_id)
                await self._say(
                    room_id,
                    tr._(
                        "Import of {id} stopped ({error}); '{command}' resumes it.",
                        id=channel_id,
                        error=type(exc).__name__,
                        command=f"{PREFIX} import {channel_id}",
                    ),
                )
                raise
            await self._say(
                room_id,
                tr.ngettext(
                    "Import of {id} done: {n} message.",
                    "Import of {id} done: {n} messages.",
                    row.imported,
                    id=channel_id,
                ),
            )
            return row

        self.imports[channel_id] = asyncio.create_task(run(), name=f"import:{channel_id}")
        return tr._("Importing channel {id}'s history; progress will follow here.", id=channel_id)

    async def _status(self) -> str:
        pending, dead = await self.state.outbox_counts()
        portals = await self.ctx.stores.portals.all()
        uptime = int(time.monotonic() - self.state.started_at)
        imports = [str(c) for c, t in self.imports.items() if not t.done()]
        tr = self.tr
        lines = [
            tr._(
                "Running for {uptime}; portals: {portals}.",
                uptime=tr.duration(uptime),
                portals=tr.number(len(portals)),
            ),
            tr._("Discord gateway: connected.")
            if self.state.discord_ready()
            else tr._("Discord gateway: NOT connected."),
            tr._(
                "Waiting: Discord->Matrix jobs: {d2m}; Matrix->Discord events: {m2d}; "
                "undeliverable: {dead}.",
                d2m=tr.number(self.state.d2m_depth()),
                m2d=tr.number(pending),
                dead=tr.number(dead),
            ),
        ]
        if imports:
            lines.append(tr._("Imports running: {channels}.", channels=", ".join(imports)))
        return "\n".join(lines)

    async def _channels(self) -> str:
        rooms = {p.discord_channel_id: p for p in await self.ctx.stores.portals.all()}
        lines = []
        tr = self.tr
        for chan in self.ctx.config.bridge.channels:
            portal = rooms.get(chan.discord_channel)
            where = f"{portal.name} -> {portal.room_id}" if portal else tr._("no room yet")
            access = _access(chan.access, tr)
            if chan.source == "channel":
                how = access
            else:
                how = tr._("{access}, by {source}", access=access, source=chan.source)
            lines.append(f"{chan.discord_channel} ({how}): {where}")
        for guild in self.ctx.config.discord.guilds:
            if guild.all_channels is not None:
                lines.append(
                    tr._(
                        "Rule: every channel of guild {guild} ({access})",
                        guild=guild.id,
                        access=_access(guild.all_channels, tr),
                    )
                )
            for rule in guild.categories:
                lines.append(
                    tr._(
                        "Rule: every channel of category {category} in guild {guild} ({access})",
                        category=rule.category_id,
                        guild=guild.id,
                        access=_access(rule.access, tr),
                    )
                )
        return "\n".join(lines) or tr._("No channels are bridged.")


def _access(access: str | None, tr: Translator) -> str:
    """``public`` / ``members_only`` in words (the English keeps the config's values)."""
    if access == "public":
        return tr.pgettext("access", "public")
    return tr.pgettext("access", "members_only")
