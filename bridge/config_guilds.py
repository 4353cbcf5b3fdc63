"""The guild part of the configuration: which Discord servers are bridged, how, and
how the party's structure appears on Matrix (spaces, roles as power levels).

Kept apart from :mod:`bridge.config` (which calls it) so each stays small. The same
plain-message rule holds: every error names the key that is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bridge.i18n import cli
from bridge.ids import ChannelID, GuildID, RoomID

if TYPE_CHECKING:
    from bridge.config import _Reader

log = logging.getLogger(__name__)

Access = Literal["public", "members_only"]

# Discord permission names an operator may use in ``bridge.role_power_levels``
# (the bit of each, from Discord's permission flags).
PERMISSION_BITS: dict[str, int] = {
    "administrator": 1 << 3,
    "manage_channels": 1 << 4,
    "manage_guild": 1 << 5,
    "kick_members": 1 << 1,
    "ban_members": 1 << 2,
    "view_audit_log": 1 << 7,
    "manage_messages": 1 << 13,
    "mention_everyone": 1 << 17,
    "manage_nicknames": 1 << 27,
    "manage_roles": 1 << 28,
    "manage_webhooks": 1 << 29,
    "manage_threads": 1 << 34,
    "moderate_members": 1 << 40,
}


@dataclass(frozen=True)
class ChannelConfig:
    discord_channel: ChannelID
    matrix_room: RoomID | None  # None means "create"
    access: Access
    # The guild it belongs to when the config says so (None: bridged by command before
    # several guilds existed; the portal row knows its guild).
    guild_id: GuildID | None = None
    # How it came to be bridged: "channel" (listed), "category", "guild" (a rule of the
    # guild's), or "command" (!bridge add).
    source: str = "channel"


@dataclass(frozen=True)
class CategoryRule:
    """Every text channel in a Discord category, now and later."""

    category_id: ChannelID
    access: Access


@dataclass(frozen=True)
class GuildConfig:
    id: GuildID
    # Channels listed one by one.
    channels: tuple[ChannelConfig, ...] = ()
    # Whole categories bridged (channels created or moved into them later included).
    categories: tuple[CategoryRule, ...] = ()
    # Every text channel of the guild (None: only what is listed above).
    all_channels: Access | None = None
    # Roles whose holders are verified members for this guild's members-only rooms.
    member_roles: tuple[int, ...] = ()
    # The guild's moderators' channel (commands and the moderation log).
    mod_channel: ChannelID | None = None

    def category_access(self, category_id: int | None) -> Access | None:
        """The configured access of a channel in ``category_id`` by this guild's rules
        (a category rule wins over the whole-guild one); None: no rule bridges it."""
        for rule in self.categories:
            if category_id is not None and rule.category_id == category_id:
                return rule.access
        return self.all_channels


@dataclass(frozen=True)
class SpacesConfig:
    """Matrix spaces: one per guild, its categories as sub-spaces, all in a party space."""

    enabled: bool = True
    party: bool = True
    party_name: str = "Passerelle"
    party_topic: str = ""


@dataclass(frozen=True)
class PowerRule:
    """A Discord permission (``permission``) or one role (``role_id``) -> a Matrix level."""

    level: int
    permission: str | None = None
    role_id: int | None = None

    def matches(self, role_ids: frozenset[int], permissions: int) -> bool:
        if self.role_id is not None:
            return self.role_id in role_ids
        bit = PERMISSION_BITS.get(self.permission or "", 0)
        return bool(permissions & bit)


DEFAULT_POWER_RULES = (
    PowerRule(100, permission="administrator"),
    PowerRule(50, permission="ban_members"),
)


def _access(reader: _Reader, name: str, default: str) -> Access:
    from bridge.config import ConfigError

    access = reader.text(name, default)
    if access not in ("public", "members_only"):
        raise ConfigError(
            reader.key(name),
            cli()._("expected public or members_only, got {value}", value=repr(access)),
        )
    return "public" if access == "public" else "members_only"


def parse_channels(
    reader: _Reader, name: str, guild_id: GuildID | None, seen: set[int]
) -> tuple[ChannelConfig, ...]:
    """A ``channels:`` list (of one guild, or the old top-level ``bridge.channels``)."""
    from bridge.config import ROOM_ID_RE, ConfigError, _Reader

    channels: list[ChannelConfig] = []
    for index, raw in enumerate(reader.items(name)):
        key = reader.key(f"{name}[{index}]")
        if not isinstance(raw, Mapping):
            raise ConfigError(
                key, cli()._("expected a mapping with discord_channel and matrix_room")
            )
        item = _Reader(raw, f"{key}.")
        channel_id = item.snowflake("discord_channel")
        if channel_id in seen:
            raise ConfigError(
                item.key("discord_channel"),
                cli()._("channel {id} listed twice", id=channel_id),
            )
        seen.add(channel_id)
        room = item.text("matrix_room", "create")
        if room != "create" and not ROOM_ID_RE.match(room):
            raise ConfigError(
                item.key("matrix_room"),
                cli()._(
                    "expected 'create' or a room ID like !abc:server, got {value}",
                    value=repr(room),
                ),
            )
        channels.append(
            ChannelConfig(
                discord_channel=ChannelID(channel_id),
                matrix_room=None if room == "create" else RoomID(room),
                access=_access(item, "access", "members_only"),
                guild_id=guild_id,
            )
        )
    return tuple(channels)


def _role_ids(reader: _Reader, name: str) -> tuple[int, ...]:
    from bridge.config import ConfigError

    roles: list[int] = []
    for index, value in enumerate(reader.items(name)):
        text = str(value).strip()
        if not text.isdigit() or not 1 <= len(text) <= 20:
            raise ConfigError(
                reader.key(f"{name}[{index}]"),
                cli()._("expected a Discord role ID, got {value}", value=repr(value)),
            )
        roles.append(int(text))
    return tuple(dict.fromkeys(roles))


def _optional_snowflake(reader: _Reader, name: str) -> ChannelID | None:
    if reader.data.get(name) in (None, ""):
        return None
    return ChannelID(reader.snowflake(name))


def parse_guild(reader: _Reader, seen_channels: set[int]) -> GuildConfig:
    """One entry of ``discord.guilds``."""
    from bridge.config import ConfigError, _Reader

    guild_id = GuildID(reader.snowflake("id"))
    categories: list[CategoryRule] = []
    seen_categories: set[int] = set()
    for index, raw in enumerate(reader.items("categories")):
        key = reader.key(f"categories[{index}]")
        if isinstance(raw, str | int) and not isinstance(raw, bool):
            raw = {"id": raw}
        if not isinstance(raw, Mapping):
            raise ConfigError(
                key, cli()._("expected a category ID, or a mapping with id and access")
            )
        item = _Reader(raw, f"{key}.")
        category_id = item.snowflake("id")
        if category_id in seen_categories:
            raise ConfigError(item.key("id"), cli()._("category {id} listed twice", id=category_id))
        seen_categories.add(category_id)
        categories.append(
            CategoryRule(ChannelID(category_id), _access(item, "access", "members_only"))
        )
    all_channels: Access | None = None
    if reader.data.get("all_channels") not in (None, "", False):
        all_channels = _access(reader, "all_channels", "members_only")
    return GuildConfig(
        id=guild_id,
        channels=parse_channels(reader, "channels", guild_id, seen_channels),
        categories=tuple(categories),
        all_channels=all_channels,
        member_roles=_role_ids(reader, "member_roles"),
        mod_channel=_optional_snowflake(reader, "mod_channel"),
    )


def parse_guilds(
    data: Mapping[str, Any], discord: _Reader, bridge: _Reader
) -> tuple[tuple[GuildConfig, ...], tuple[ChannelConfig, ...]]:
    """``discord.guilds`` (or the deprecated single ``discord.guild_id`` with the
    top-level ``bridge.channels``, ``members.role_ids`` and ``moderation.mod_channel``):
    the guilds, and every listed channel of them all in order."""
    from bridge.config import ConfigError, _Reader

    seen: set[int] = set()
    raw_guilds = discord.data.get("guilds")
    if raw_guilds is not None:
        if discord.data.get("guild_id") not in (None, ""):
            raise ConfigError(
                discord.key("guild_id"),
                cli()._(
                    "give either discord.guilds (a list) or the old discord.guild_id, not both"
                ),
            )
        if bridge.items("channels"):
            raise ConfigError(
                bridge.key("channels"),
                cli()._(
                    "with discord.guilds, list each guild's channels under its own entry "
                    "(discord.guilds[N].channels)"
                ),
            )
        guilds: list[GuildConfig] = []
        for index, raw in enumerate(discord.items("guilds")):
            key = discord.key(f"guilds[{index}]")
            if not isinstance(raw, Mapping):
                raise ConfigError(key, cli()._("expected a mapping with at least id"))
            guild = parse_guild(_Reader(raw, f"{key}."), seen)
            if any(g.id == guild.id for g in guilds):
                raise ConfigError(f"{key}.id", cli()._("guild {id} listed twice", id=guild.id))
            guilds.append(guild)
        if not guilds:
            raise ConfigError(discord.key("guilds"), cli()._("list at least one guild"))
        return tuple(guilds), tuple(c for g in guilds for c in g.channels)
    guild_id = GuildID(discord.snowflake("guild_id"))
    log.warning(
        "config.deprecated key=discord.guild_id hint=%s",
        cli()._(
            "list the guild under discord.guilds (with its channels, member_roles and"
            " mod_channel); the old keys keep working"
        ),
    )
    mod = data.get("moderation") if isinstance(data.get("moderation"), Mapping) else {}
    mod_reader = _Reader(mod or {}, "moderation.")
    channels = parse_channels(bridge, "channels", guild_id, seen)
    guild = GuildConfig(
        id=guild_id,
        channels=channels,
        mod_channel=_optional_snowflake(mod_reader, "mod_channel"),
    )
    return (guild,), channels


def parse_spaces(bridge: _Reader) -> SpacesConfig:
    from bridge.config import ConfigError, _Reader

    raw = bridge.data.get("spaces")
    if raw is None:
        return SpacesConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(bridge.key("spaces"), cli()._("expected a mapping (or leave it out)"))
    reader = _Reader(raw, bridge.key("spaces."))
    return SpacesConfig(
        enabled=reader.boolean("enabled", True),
        party=reader.boolean("party", True),
        party_name=reader.text("party_name", "Passerelle"),
        party_topic=str(raw.get("party_topic") or ""),
    )


def parse_power_rules(bridge: _Reader) -> tuple[PowerRule, ...]:
    from bridge.config import ConfigError, _Reader

    if "role_power_levels" not in bridge.data:
        return DEFAULT_POWER_RULES
    rules: list[PowerRule] = []
    for index, raw in enumerate(bridge.items("role_power_levels")):
        key = bridge.key(f"role_power_levels[{index}]")
        if not isinstance(raw, Mapping):
            raise ConfigError(
                key,
                cli()._(
                    "expected a mapping: {example}",
                    example="{permission: ban_members, level: 50}",
                ),
            )
        item = _Reader(raw, f"{key}.")
        level = item.integer("level", lo=0, hi=100)
        has_role, has_permission = "role" in raw, "permission" in raw
        if has_role == has_permission:
            raise ConfigError(
                key, cli()._("give either permission (a Discord permission) or role (an ID)")
            )
        if has_permission:
            name = item.text("permission").lower()
            if name not in PERMISSION_BITS:
                raise ConfigError(
                    item.key("permission"),
                    cli()._(
                        "unknown permission {value}; one of: {known}",
                        value=repr(name),
                        known=", ".join(sorted(PERMISSION_BITS)),
                    ),
                )
            rules.append(PowerRule(level, permission=name))
        else:
            rules.append(PowerRule(level, role_id=item.snowflake("role")))
    return tuple(rules)
