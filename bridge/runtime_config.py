"""Configuration changes at runtime (pure): channels bridged or unbridged by command,
and what a reloaded config file changes.

The config file's ``bridge.channels`` is the base; overrides stored by the admin
commands add or remove channels on top of it, across restarts and reloads.
Sections that set up connections (homeserver, appservice, database, discord, the
moderation rooms) only change at a restart; the rest applies at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bridge.config import CategoryRule, ChannelConfig, Config, GuildConfig
from bridge.db.channels import ChannelOverride, RuleOverride
from bridge.i18n import Translator, translator
from bridge.ids import ChannelID, GuildID
from bridge.model import CATEGORY, DiscordChannel


def with_rules(
    guilds: tuple[GuildConfig, ...], overrides: list[RuleOverride]
) -> tuple[GuildConfig, ...]:
    """The guilds' bridging rules: the file's, with those set by command added, changed
    or switched off (``!bridge add|remove category|guild``)."""
    result = []
    for guild in guilds:
        categories = {rule.category_id: rule for rule in guild.categories}
        all_channels = guild.all_channels
        for override in overrides:
            if override.guild_id != guild.id:
                continue
            if override.kind == "guild":
                all_channels = override.access if override.bridged else None
            elif override.bridged:
                category = ChannelID(override.target_id)
                categories[category] = CategoryRule(category, override.access)
            else:
                categories.pop(ChannelID(override.target_id), None)
        result.append(
            replace(guild, categories=tuple(categories.values()), all_channels=all_channels)
        )
    return tuple(result)


def rule_channels(
    guilds: tuple[GuildConfig, ...], listings: Mapping[GuildID, list[DiscordChannel] | None]
) -> tuple[ChannelConfig, ...]:
    """The channels that the guilds' category and whole-guild rules bridge, given each
    guild's channels as Discord lists them (in Discord's order: a category's channels
    after it). Each gets its rule's access, which stays per channel: a public rule
    still makes a channel @everyone cannot view members-only
    (:func:`moderation.members_only.effective_access`). A guild's moderators' channel
    is never bridged."""
    found: list[ChannelConfig] = []
    for guild in guilds:
        if not guild.categories and guild.all_channels is None:
            continue
        channels = listings.get(guild.id) or []
        categories = {c.id: c.position for c in channels if c.type == CATEGORY}
        ordered = sorted(
            (c for c in channels if c.bridgeable),
            key=lambda c: (
                c.parent_id is not None,
                categories.get(c.parent_id, 0) if c.parent_id else 0,
                c.position,
                c.id,
            ),
        )
        for chan in ordered:
            if chan.id == guild.mod_channel:
                continue
            in_category = any(rule.category_id == chan.parent_id for rule in guild.categories)
            access = guild.category_access(chan.parent_id)
            if access is not None:
                source = "category" if in_category else "guild"
                found.append(ChannelConfig(chan.id, None, access, guild.id, source))
    return tuple(found)


def effective_channels(
    from_file: tuple[ChannelConfig, ...],
    overrides: list[ChannelOverride],
    from_rules: tuple[ChannelConfig, ...] = (),
) -> tuple[ChannelConfig, ...]:
    """The channels bridged now: the file's, plus those its category and guild rules
    bridge, plus those bridged by command, minus those unbridged by command (in that
    order)."""
    channels = {chan.discord_channel: chan for chan in from_file}
    for chan in from_rules:
        channels.setdefault(chan.discord_channel, chan)
    for override in overrides:
        if not override.bridged:
            channels.pop(override.channel_id, None)
        elif override.channel_id not in channels:
            channels[override.channel_id] = ChannelConfig(
                override.channel_id, None, override.access or "members_only", source="command"
            )
    return tuple(channels.values())


def with_channels(
    config: Config,
    channels: tuple[ChannelConfig, ...],
    guilds: tuple[GuildConfig, ...] | None = None,
) -> Config:
    """``config`` bridging ``channels`` (and with ``guilds``' rules, when given)."""
    discord = config.discord if guilds is None else replace(config.discord, guilds=guilds)
    return replace(config, bridge=replace(config.bridge, channels=channels), discord=discord)


# (section, attribute, what an operator calls it) that only change at a restart.
_AT_RESTART = (
    ("homeserver", None, "homeserver"),
    ("appservice", None, "appservice"),
    ("database", None, "database"),
    ("discord", "token", "discord.token"),
    ("discord", "api_base", "discord.api_base"),
    ("moderation", "policy_room", "moderation.policy_room"),
    ("moderation", "subscriptions", "moderation.subscriptions"),
    ("moderation", "mod_room", "moderation.mod_room"),
    ("web", None, "web (the members' page)"),
)


@dataclass(frozen=True)
class ConfigChange:
    added: tuple[ChannelID, ...] = ()
    removed: tuple[ChannelID, ...] = ()
    access_changed: tuple[ChannelID, ...] = ()
    # Keys that differ but only take effect at the next restart.
    needs_restart: tuple[str, ...] = ()
    other_changes: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self, tr: Translator | None = None) -> str:
        """What changed, for the log (English) or for moderators (``tr``'s language;
        config keys stay as they are spelt)."""
        tr = tr or translator("en")
        parts = []
        if self.added:
            parts.append(tr._("now bridged: {ids}", ids=", ".join(str(c) for c in self.added)))
        if self.removed:
            ids = ", ".join(str(c) for c in self.removed)
            parts.append(tr._("no longer bridged: {ids}", ids=ids))
        if self.access_changed:
            ids = ", ".join(str(c) for c in self.access_changed)
            parts.append(tr._("access changed: {ids}", ids=ids))
        if self.other_changes:
            parts.append(tr._("other settings applied"))
        if self.needs_restart:
            keys = ", ".join(self.needs_restart)
            parts.append(tr._("needs a restart to apply: {keys}", keys=keys))
        return "; ".join(parts) or tr._("nothing changed")


def compare(old: Config, new: Config) -> ConfigChange:
    """What applying ``new`` over ``old`` changes (both with effective channels)."""
    old_channels = {c.discord_channel: c for c in old.bridge.channels}
    new_channels = {c.discord_channel: c for c in new.bridge.channels}
    added = tuple(c for c in new_channels if c not in old_channels)
    removed = tuple(c for c in old_channels if c not in new_channels)
    access_changed = tuple(
        c
        for c, chan in new_channels.items()
        if c in old_channels and old_channels[c].access != chan.access
    )
    needs_restart = []
    for section, attribute, name in _AT_RESTART:
        before, after = getattr(old, section), getattr(new, section)
        if attribute is not None:
            before, after = getattr(before, attribute), getattr(after, attribute)
        if before != after:
            needs_restart.append(name)
    if old.discord.guild_ids != new.discord.guild_ids:
        needs_restart.append("discord.guilds (which guilds are bridged)")
    live_old = replace(old, bridge=replace(old.bridge, channels=()), path=None)
    live_new = replace(new, bridge=replace(new.bridge, channels=()), path=None)
    # A guild's channels are compared above; its other settings apply at once.
    live_old = replace(live_old, discord=replace(old.discord, guilds=_settings(old)))
    live_new = replace(live_new, discord=replace(new.discord, guilds=_settings(new)))
    for section, attribute, _ in _AT_RESTART:  # already reported above
        if attribute is None:
            live_new = replace(live_new, **{section: getattr(live_old, section)})
        else:
            inner = replace(
                getattr(live_new, section),
                **{attribute: getattr(getattr(live_old, section), attribute)},
            )
            live_new = replace(live_new, **{section: inner})
    return ConfigChange(
        added, removed, access_changed, tuple(needs_restart), other_changes=live_old != live_new
    )


def keep_restart_sections(running: Config, new: Config) -> Config:
    """``new`` with what only changes at a restart kept as it runs now."""
    moderation = replace(
        new.moderation,
        policy_room=running.moderation.policy_room,
        subscriptions=running.moderation.subscriptions,
        mod_room=running.moderation.mod_room,
    )
    discord = replace(new.discord, token=running.discord.token, api_base=running.discord.api_base)
    if new.discord.guild_ids != running.discord.guild_ids:
        discord = running.discord
    return replace(
        new,
        homeserver=running.homeserver,
        appservice=running.appservice,
        database=running.database,
        web=running.web,
        discord=discord,
        moderation=moderation,
    )


def _settings(config: Config) -> tuple[GuildConfig, ...]:
    """The guilds' settings without their listed channels (compared on their own)."""
    return tuple(replace(guild, channels=()) for guild in config.discord.guilds)
