"""Configuration: YAML -> frozen dataclasses, validated with plain messages.

Every error names the key that is wrong (``discord.token``,
``bridge.channels[1].discord_channel`` ...) so that a sysadmin can fix the
file without reading code. Placeholder secrets from the example config are
refused.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bridge.config_guilds import (
    DEFAULT_POWER_RULES,
    Access,
    CategoryRule,
    ChannelConfig,
    GuildConfig,
    PowerRule,
    SpacesConfig,
    parse_guilds,
    parse_power_rules,
    parse_spaces,
)
from bridge.config_keys import KeyTracker, yaml_problem
from bridge.config_lockdown import LockdownConfig, parse_lockdown
from bridge.config_protections import ProtectionsConfig, parse_protections
from bridge.config_reader import (
    ROOM_ALIAS_RE,
    ROOM_ID_RE,
    USER_ID_RE,
    ConfigError,
    ConfigErrors,
    UnknownKeyError,
    _http_url,
    _localpart,
    _Reader,
    _room_or_create,
    _secret,
)
from bridge.config_web import WebConfig, parse_web
from bridge.i18n import LANGUAGES, cli
from bridge.ids import GhostNamer, GuildID, RoomID

__all__ = [
    "Access",
    "CategoryRule",
    "ChannelConfig",
    "Config",
    "ConfigError",
    "ConfigErrors",
    "GuildConfig",
    "PowerRule",
    "SpacesConfig",
    "UnknownKeyError",
    "load_config",
    "parse_config",
]

log = logging.getLogger(__name__)

DISCORD_API_BASE = "https://discord.com/api/v10"
BanScope = Literal["guild", "party"]


@dataclass(frozen=True)
class HomeserverConfig:
    url: str
    server_name: str


@dataclass(frozen=True)
class AppserviceConfig:
    id: str
    listen_host: str
    listen_port: int
    public_url: str
    registration: Path
    bot_localpart: str
    bot_displayname: str
    user_prefix: str
    alias_prefix: str


@dataclass(frozen=True)
class DatabaseConfig:
    url: str
    auto_migrate: bool
    # Handled homeserver transactions are forgotten this many days after the newest one
    # (bridge.prune): far longer than the homeserver may resend one.
    txn_retention_days: int = 7

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith(("sqlite:", "sqlite3:"))


@dataclass(frozen=True)
class DiscordConfig:
    token: str = field(repr=False)
    api_base: str
    # Every bridged guild (the bot is in each), in the config's order.
    guilds: tuple[GuildConfig, ...]

    @property
    def guild_ids(self) -> tuple[GuildID, ...]:
        return tuple(g.id for g in self.guilds)

    def guild(self, guild_id: int | None) -> GuildConfig | None:
        for guild in self.guilds:
            if guild.id == guild_id:
                return guild
        return None

    def mod_channel_guild(self, channel_id: int) -> GuildConfig | None:
        """The guild whose moderators' channel ``channel_id`` is, if any."""
        for guild in self.guilds:
            if guild.mod_channel is not None and guild.mod_channel == channel_id:
                return guild
        return None


@dataclass(frozen=True)
class BridgeConfig:
    ghost_displayname: str
    webhook_name: str
    auto_invite: tuple[str, ...]
    channels: tuple[ChannelConfig, ...]
    # Files above this go to Discord as a link instead of an upload (MiB).
    discord_upload_limit_mb: int = 10
    # Base URL where the homeserver's media is publicly reachable, for those links.
    public_media_url: str | None = None
    # How Matrix users are named on Discord; {name} is their room display name.
    webhook_displayname: str = "{name} (Matrix)"
    # Per Matrix sender: at most ``sender_burst`` messages at once, refilled over
    # ``sender_per_seconds``; more are not relayed (the sender is told).
    sender_burst: int = 10
    sender_per_seconds: int = 10
    # A Matrix sender whose message, edit or deletion Discord refused for good is told
    # so in the room, in plain words (an m.notice replying to the event).
    delivery_error_notices: bool = True
    # How long a poll started in Matrix stays open on Discord (hours, 1 to 768).
    poll_duration_hours: int = 24
    # One Matrix space per guild, categories as sub-spaces, a party space above them.
    spaces: SpacesConfig = field(default_factory=SpacesConfig)
    # Discord roles -> Matrix power levels of the ghosts (highest matching rule wins).
    role_power_levels: tuple[PowerRule, ...] = DEFAULT_POWER_RULES
    # What the bridge says to people: "fr" or "en" (bridge.i18n); a Discord user's own
    # locale wins where Discord tells it.
    language: str = "en"
    # The time zone of the times the bridge writes for people (scheduled events), an
    # IANA name such as "Europe/Paris"; checked when the config is read.
    timezone: str = "UTC"

    @property
    def discord_upload_limit_bytes(self) -> int:
        return self.discord_upload_limit_mb * 1024 * 1024

    def channel(self, channel_id: int) -> ChannelConfig | None:
        for chan in self.channels:
            if chan.discord_channel == channel_id:
                return chan
        return None


@dataclass(frozen=True)
class ModerationConfig:
    guild_wide_bans: bool = True  # a Matrix ban applies in every bridged room of the guild
    ban_on_discord: bool = True  # a Matrix ban of a ghost bans the Discord user (Ban Members)
    kick_on_discord: bool = True  # a Matrix kick of a ghost kicks the Discord user (Kick Members)
    moderators: tuple[str, ...] = ()  # Matrix user IDs who may moderate everywhere
    policy_room: RoomID | None = None  # the bridge's own policy list; None: the bridge creates it
    subscriptions: tuple[str, ...] = ()  # other policy lists to follow: room IDs or aliases
    mod_room: RoomID | None = None  # moderators' room on Matrix (commands + log); None: created
    command_prefix: str = "!mod"
    # "guild": a ban applies in the guild where it was made (its Discord server and its
    # rooms); "party": in every bridged guild and every portal room.
    ban_scope: BanScope = "guild"
    # What is checked on every message before it is relayed (moderation.protections).
    protections: ProtectionsConfig = field(default_factory=ProtectionsConfig)
    # Lockdown and join waves (bridge.config_lockdown).
    lockdown: LockdownConfig = field(default_factory=LockdownConfig)


@dataclass(frozen=True)
class MembersConfig:
    """Who counts as a verified member (members-only channels), failing closed."""

    role_ids: tuple[int, ...] = ()  # Discord roles whose holders are verified members
    allowlist: tuple[str, ...] = ()  # Matrix users who are members without a Discord link
    auto_invite: bool = True  # invite verified members to members-only portals
    link_code_minutes: int = 15  # how long a linking code is valid


@dataclass(frozen=True)
class Config:
    homeserver: HomeserverConfig
    appservice: AppserviceConfig
    database: DatabaseConfig
    discord: DiscordConfig
    bridge: BridgeConfig
    log_level: str
    path: Path | None = None
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    members: MembersConfig = field(default_factory=MembersConfig)
    # "text": key=value lines; "json": one JSON object per line (for log shippers).
    log_format: str = "text"
    web: WebConfig | None = None  # the members' page (bridge.web); None: off

    def member_roles(self, guild_id: int | None) -> tuple[int, ...]:
        """The roles that make a verified member of ``guild_id``: the guild's own
        ``member_roles`` and the top-level ``members.role_ids`` (role IDs are unique
        across Discord, so a role of another guild never matches)."""
        guild = self.discord.guild(guild_id)
        own = guild.member_roles if guild is not None else ()
        return tuple(dict.fromkeys(own + self.members.role_ids))

    @property
    def namer(self) -> GhostNamer:
        return GhostNamer(
            server_name=self.homeserver.server_name,
            user_prefix=self.appservice.user_prefix,
            alias_prefix=self.appservice.alias_prefix,
            bot_localpart=self.appservice.bot_localpart,
        )


def _timezone(br: _Reader) -> str:
    name = br.text("timezone", "UTC").strip()
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(
            br.key("timezone"),
            cli()._(
                "expected a time zone name such as Europe/Paris or UTC, got {value}",
                value=repr(name),
            ),
        ) from None
    return name


def _language(br: _Reader) -> str:
    language = br.text("language", "en").strip().lower()
    if language not in LANGUAGES:
        raise ConfigError(
            br.key("language"), cli()._("expected fr or en, got {value}", value=repr(language))
        )
    return language


def _moderation(
    data: Mapping[str, Any], burst: int = 10, per_seconds: int = 10
) -> ModerationConfig:
    raw = data.get("moderation")
    if raw is None:
        return ModerationConfig(protections=parse_protections(_Reader({}), burst, per_seconds))
    if not isinstance(raw, Mapping):
        raise ConfigError("moderation", cli()._("expected a mapping (or leave the section out)"))
    mod = _Reader(raw, "moderation.")

    moderators: list[str] = []
    for index, value in enumerate(mod.items("moderators")):
        key = mod.key(f"moderators[{index}]")
        mxid = str(value).strip() if isinstance(value, str) else ""
        if not USER_ID_RE.match(mxid):
            raise ConfigError(
                key,
                cli()._(
                    "not a Matrix user ID (like @alice:example.org): {value}", value=repr(value)
                ),
            )
        if mxid in moderators:
            raise ConfigError(key, cli()._("{value} listed twice", value=mxid))
        moderators.append(mxid)

    subscriptions: list[str] = []
    for index, value in enumerate(mod.items("subscriptions")):
        key = mod.key(f"subscriptions[{index}]")
        room = str(value).strip() if isinstance(value, str) else ""
        if not (ROOM_ID_RE.match(room) or ROOM_ALIAS_RE.match(room)):
            raise ConfigError(
                key,
                cli()._(
                    "expected a room ID like !abc:server or an alias like #list:server,"
                    " got {value}",
                    value=repr(value),
                ),
            )
        if room in subscriptions:
            raise ConfigError(key, cli()._("{value} listed twice", value=room))
        subscriptions.append(room)

    if mod.data.get("mod_channel") not in (None, ""):
        mod.snowflake("mod_channel")  # validated here; it belongs to the (old) single guild
    ban_scope = mod.text("ban_scope", "guild")
    if ban_scope not in ("guild", "party"):
        raise ConfigError(
            mod.key("ban_scope"),
            cli()._("expected guild or party, got {value}", value=repr(ban_scope)),
        )

    prefix = mod.text("command_prefix", "!mod")
    if any(char.isspace() for char in prefix):
        raise ConfigError(
            mod.key("command_prefix"),
            cli()._("must not contain spaces, got {value}", value=repr(prefix)),
        )

    return ModerationConfig(
        guild_wide_bans=mod.boolean("guild_wide_bans", True),
        ban_on_discord=mod.boolean("ban_on_discord", True),
        kick_on_discord=mod.boolean("kick_on_discord", True),
        moderators=tuple(moderators),
        policy_room=_room_or_create(mod, "policy_room"),
        subscriptions=tuple(subscriptions),
        mod_room=_room_or_create(mod, "mod_room"),
        command_prefix=prefix,
        ban_scope="party" if ban_scope == "party" else "guild",
        protections=parse_protections(mod, burst, per_seconds),
        lockdown=parse_lockdown(mod),
    )


def _members(data: Mapping[str, Any]) -> MembersConfig:
    raw = data.get("members")
    if raw is None:
        return MembersConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError("members", cli()._("expected a mapping (or leave the section out)"))
    reader = _Reader(raw, "members.")
    roles: list[int] = []
    for index, value in enumerate(reader.items("role_ids")):
        text = str(value).strip()
        if not text.isdigit() or not 1 <= len(text) <= 20:
            raise ConfigError(
                reader.key(f"role_ids[{index}]"),
                cli()._("expected a Discord role ID, got {value}", value=repr(value)),
            )
        roles.append(int(text))
    allowlist: list[str] = []
    for index, value in enumerate(reader.items("allowlist")):
        mxid = str(value).strip() if isinstance(value, str) else ""
        if not USER_ID_RE.match(mxid):
            raise ConfigError(
                reader.key(f"allowlist[{index}]"),
                cli()._(
                    "not a Matrix user ID (like @alice:example.org): {value}", value=repr(value)
                ),
            )
        allowlist.append(mxid)
    return MembersConfig(
        role_ids=tuple(dict.fromkeys(roles)),
        allowlist=tuple(dict.fromkeys(allowlist)),
        auto_invite=reader.boolean("auto_invite", True),
        link_code_minutes=reader.integer("link_code_minutes", 15, lo=1, hi=24 * 60),
    )


def parse_config(data: Any, path: Path | None = None, *, strict: bool = False) -> Config:
    """Validate a loaded YAML document and build the :class:`Config`.

    Keys the parser never reads (misspelt, unknown) are logged with the nearest valid
    key; with ``strict`` they are an error. Placeholder secrets are reported together."""
    if not isinstance(data, Mapping):
        raise ConfigError("(top level)", cli()._("the file must be a YAML mapping"))
    tracker = KeyTracker()
    problems: list[ConfigError] = []
    try:
        config = _parse(tracker.wrap(dict(data)), path, problems)
    except ConfigError as exc:
        if problems:
            raise ConfigErrors([*problems, exc]) from None
        raise
    if problems:
        raise ConfigErrors(problems)
    unknown = tracker.unknown()
    for item in unknown:
        log.warning("config.unknown-key key=%s did_you_mean=%s", item.key, item.suggestion or "-")
    if strict and unknown:
        raise ConfigErrors([UnknownKeyError(u.key, u.problem()) for u in unknown])
    return config


def _parse(data: Mapping[str, Any], path: Path | None, problems: list[ConfigError]) -> Config:
    root = _Reader(data, "", problems)
    base_dir = path.parent if path else Path.cwd()

    hs = root.section("homeserver")
    homeserver = HomeserverConfig(url=_http_url(hs, "url"), server_name=hs.text("server_name"))

    app = root.section("appservice")
    port = app.integer("listen_port", 29330, lo=1, hi=65535)
    host = app.text("listen_host", "127.0.0.1")
    registration = Path(app.text("registration", "registration.yaml"))
    appservice = AppserviceConfig(
        id=app.text("id", "passerelle"),
        listen_host=host,
        listen_port=port,
        public_url=_http_url(app, "public_url", f"http://{host}:{port}"),
        registration=registration if registration.is_absolute() else base_dir / registration,
        bot_localpart=_localpart(app, "bot_localpart", "passerelle"),
        bot_displayname=app.text("bot_displayname", "Passerelle"),
        user_prefix=_localpart(app, "user_prefix", "_discord_"),
        alias_prefix=_localpart(app, "alias_prefix", "_discord_"),
    )
    if appservice.bot_localpart.startswith(appservice.user_prefix):
        raise ConfigError(
            "appservice.bot_localpart",
            cli()._("must not start with appservice.user_prefix (ghost space)"),
        )

    db = root.section("database")
    db_url = db.text("url")
    if db_url.startswith(("sqlite:", "sqlite3:")):
        sqlite_path = re.sub(r"^sqlite3?:(//)?", "", db_url)
        if not sqlite_path:
            raise ConfigError(
                db.key("url"), cli()._("sqlite URL needs a file path: sqlite:///path/to.db")
            )
        if not os.path.isabs(sqlite_path):
            sqlite_path = str(base_dir / sqlite_path)
        db_url = f"sqlite://{sqlite_path}"
    elif not db_url.startswith(("postgres://", "postgresql://")):
        raise ConfigError(db.key("url"), cli()._("expected postgresql://... or sqlite:///path"))
    elif any(marker in db_url.lower() for marker in ("change_me", "changeme")):
        problems.append(
            ConfigError(db.key("url"), cli()._("still holds the example placeholder password"))
        )
    database = DatabaseConfig(
        url=db_url,
        auto_migrate=db.boolean("auto_migrate", True),
        txn_retention_days=db.integer("txn_retention_days", 7, lo=1, hi=3650),
    )

    dc = root.section("discord")
    token = _secret(dc, "token")  # the secret first: the commonest mistake
    br = root.section("bridge")
    guilds, channels = parse_guilds(data, dc, br)
    if isinstance(data.get("moderation"), Mapping) and len(guilds) > 1:
        if data["moderation"].get("mod_channel") not in (None, ""):
            raise ConfigError(
                "moderation.mod_channel",
                cli()._("with several guilds, give each its own discord.guilds[N].mod_channel"),
            )
    discord = DiscordConfig(
        token=token,
        api_base=_http_url(dc, "api_base", DISCORD_API_BASE),
        guilds=guilds,
    )

    template = br.text("ghost_displayname", "{name} (Discord)")
    if "{name}" not in template and "{username}" not in template:
        raise ConfigError(
            br.key("ghost_displayname"),
            cli()._("must contain {name} or {username}", name="{name}", username="{username}"),
        )
    webhook_template = br.text("webhook_displayname", "{name} (Matrix)")
    if "{name}" not in webhook_template:
        raise ConfigError(
            br.key("webhook_displayname"), cli()._("must contain {name}", name="{name}")
        )
    invites = [str(u) for u in br.items("auto_invite")]
    for index, mxid in enumerate(invites):
        if not re.match(r"^@[^:\s]+:\S+$", mxid):
            raise ConfigError(
                br.key(f"auto_invite[{index}]"),
                cli()._("not a Matrix user ID: {value}", value=repr(mxid)),
            )
    bridge = BridgeConfig(
        ghost_displayname=template,
        webhook_name=br.text("webhook_name", "Passerelle"),
        auto_invite=tuple(invites),
        channels=channels,
        discord_upload_limit_mb=br.integer("discord_upload_limit_mb", 10, lo=1, hi=500),
        public_media_url=(
            _http_url(br, "public_media_url") if br.data.get("public_media_url") else None
        ),
        webhook_displayname=webhook_template,
        sender_burst=br.integer("sender_burst", 10, lo=1, hi=10_000),
        sender_per_seconds=br.integer("sender_per_seconds", 10, lo=1, hi=86_400),
        delivery_error_notices=br.boolean("delivery_error_notices", True),
        poll_duration_hours=br.integer("poll_duration_hours", 24, lo=1, hi=768),
        spaces=parse_spaces(br),
        role_power_levels=parse_power_rules(br),
        language=_language(br),
        timezone=_timezone(br),
    )

    logging_section = data.get("logging") or {}
    level = str(logging_section.get("level", "INFO")).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            "logging.level",
            cli()._("expected DEBUG, INFO, WARNING or ERROR, got {value}", value=repr(level)),
        )
    log_format = str(logging_section.get("format", "text")).lower()
    if log_format not in ("text", "json"):
        raise ConfigError(
            "logging.format", cli()._("expected text or json, got {value}", value=repr(log_format))
        )
    moderation = _moderation(data, bridge.sender_burst, bridge.sender_per_seconds)
    return Config(
        homeserver,
        appservice,
        database,
        discord,
        bridge,
        level,
        path,
        moderation,
        _members(data),
        log_format,
        parse_web(data, root.reader),
    )


def load_config(path: str | Path, *, strict: bool = False) -> Config:
    """Read and validate a config file; raises ConfigError with a plain message.

    ``strict``: unknown (misspelt) keys are errors, not warnings."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("(file)", cli()._("{file} does not exist", file=file)) from None
    except OSError as exc:
        raise ConfigError(
            "(file)", cli()._("cannot read {file}: {error}", file=file, error=exc.strerror)
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", yaml_problem(file, exc)) from None
    check_permissions(file)
    return parse_config(data, file.resolve(), strict=strict)


def configured_language(path: str | Path) -> str | None:
    """``bridge.language`` of a config file as far as it can be read, before (or
    without) validating the rest: the command line speaks it. None when the file,
    its YAML or the key is missing or wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    section = data.get("bridge") if isinstance(data, Mapping) else None
    language = section.get("language") if isinstance(section, Mapping) else None
    if isinstance(language, str) and language.strip().lower() in LANGUAGES:
        return language.strip().lower()
    return None


def check_permissions(file: Path) -> None:
    """The config holds the bot token: refuse a file anyone may change, warn when others
    may read it (``chmod 600`` it)."""
    mode = file.stat().st_mode
    if mode & stat.S_IWOTH:
        raise ConfigError(
            "(file)",
            cli()._(
                "{file} can be changed by any user of this machine: run chmod 600 on it", file=file
            ),
        )
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP):
        log.warning(
            "config.permissions file=%s mode=%s hint=%s",
            file,
            oct(mode & 0o777),
            cli()._("it holds secrets: run chmod 600 on it"),
        )
