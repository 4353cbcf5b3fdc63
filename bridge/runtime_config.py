"""Configuration changes at runtime (pure): channels bridged or unbridged by command,
and what a reloaded config file changes.

The config file's ``bridge.channels`` is the base; overrides stored by the admin
commands add or remove channels on top of it, across restarts and reloads.
Sections that set up connections (homeserver, appservice, database, discord, the
moderation rooms) only change at a restart; the rest applies at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bridge.config import ChannelConfig, Config
from bridge.db.channels import ChannelOverride
from bridge.ids import ChannelID


def effective_channels(
    from_file: tuple[ChannelConfig, ...], overrides: list[ChannelOverride]
) -> tuple[ChannelConfig, ...]:
    """The channels bridged now: the file's, plus those bridged by command, minus those
    unbridged by command (in the file's order, then in the order they were bridged)."""
    channels = {chan.discord_channel: chan for chan in from_file}
    for override in overrides:
        if not override.bridged:
            channels.pop(override.channel_id, None)
        elif override.channel_id not in channels:
            channels[override.channel_id] = ChannelConfig(
                override.channel_id, None, override.access or "members_only"
            )
    return tuple(channels.values())


def with_channels(config: Config, channels: tuple[ChannelConfig, ...]) -> Config:
    return replace(config, bridge=replace(config.bridge, channels=channels))


# (section, attribute, what an operator calls it) that only change at a restart.
_AT_RESTART = (
    ("homeserver", None, "homeserver"),
    ("appservice", None, "appservice"),
    ("database", None, "database"),
    ("discord", None, "discord"),
    ("moderation", "policy_room", "moderation.policy_room"),
    ("moderation", "subscriptions", "moderation.subscriptions"),
    ("moderation", "mod_room", "moderation.mod_room"),
    ("moderation", "mod_channel", "moderation.mod_channel"),
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

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append("now bridged: " + ", ".join(str(c) for c in self.added))
        if self.removed:
            parts.append("no longer bridged: " + ", ".join(str(c) for c in self.removed))
        if self.access_changed:
            parts.append("access changed: " + ", ".join(str(c) for c in self.access_changed))
        if self.other_changes:
            parts.append("other settings applied")
        if self.needs_restart:
            parts.append("needs a restart to apply: " + ", ".join(self.needs_restart))
        return "; ".join(parts) or "nothing changed"


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
    live_old = replace(old, bridge=replace(old.bridge, channels=()), path=None)
    live_new = replace(new, bridge=replace(new.bridge, channels=()), path=None)
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
        mod_channel=running.moderation.mod_channel,
    )
    return replace(
        new,
        homeserver=running.homeserver,
        appservice=running.appservice,
        database=running.database,
        discord=running.discord,
        moderation=moderation,
    )
