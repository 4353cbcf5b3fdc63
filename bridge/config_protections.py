"""The ``moderation.protections:`` part of the configuration: the protections run on
every message before it is relayed (:mod:`moderation.protections`), each with its
thresholds and the actions it takes. Every protection is on unless ``enabled: false``.

Kept apart from :mod:`bridge.config` (which calls it). ``bridge.sender_burst`` and
``bridge.sender_per_seconds``, the older flood limit of Matrix senders only, are
still read: they are the flooding protection's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.i18n import cli

if TYPE_CHECKING:
    from bridge.config import _Reader

ACTIONS = ("hold", "redact", "timeout", "ban")


@dataclass(frozen=True)
class FloodingConfig:
    enabled: bool = True
    burst: int = 10  # messages at once ...
    per_seconds: int = 10  # ... refilled over this many seconds
    actions: tuple[str, ...] = ("hold",)


@dataclass(frozen=True)
class MentionsConfig:
    enabled: bool = True
    max_mentions: int = 8  # distinct people in one message
    max_mass_mentions: int = 1  # role pings and @everyone / @here / @room
    actions: tuple[str, ...] = ("hold", "timeout")


@dataclass(frozen=True)
class NewcomersConfig:
    enabled: bool = True
    min_account_age_hours: int = 72  # Discord accounts younger than this ...
    min_member_age_minutes: int = 60  # ... or members who joined less than this ago
    actions: tuple[str, ...] = ("hold",)


@dataclass(frozen=True)
class RepeatsConfig:
    enabled: bool = True
    max_places: int = 2  # the same message in more channels/rooms than this ...
    window_seconds: int = 60  # ... within this many seconds
    actions: tuple[str, ...] = ("hold", "redact")


@dataclass(frozen=True)
class ProtectionsConfig:
    flooding: FloodingConfig = field(default_factory=FloodingConfig)
    mentions: MentionsConfig = field(default_factory=MentionsConfig)
    newcomers: NewcomersConfig = field(default_factory=NewcomersConfig)
    repeats: RepeatsConfig = field(default_factory=RepeatsConfig)
    # How long a timeout (Discord) or a mute (Matrix) lasts.
    timeout_minutes: int = 10


def _actions(reader: _Reader, default: tuple[str, ...]) -> tuple[str, ...]:
    from bridge.config import ConfigError

    if reader.data.get("actions") is None:
        return default
    chosen: list[str] = []
    for index, value in enumerate(reader.items("actions")):
        action = str(value).strip().lower()
        if action not in ACTIONS:
            raise ConfigError(
                reader.key(f"actions[{index}]"),
                cli()._(
                    "expected one of {choices}, got {value}",
                    choices=", ".join(ACTIONS),
                    value=repr(value),
                ),
            )
        if action not in chosen:
            chosen.append(action)
    return tuple(chosen)


def _sub(reader: _Reader, name: str) -> _Reader:
    from bridge.config import ConfigError

    raw: Any = reader.data.get(name)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(reader.key(name), cli()._("expected a mapping (or leave it out)"))
    return reader.reader(raw, f"{reader.key(name)}.")


def parse_protections(
    mod: _Reader, sender_burst: int = 10, sender_per_seconds: int = 10
) -> ProtectionsConfig:
    """``moderation.protections``; the flood defaults come from the older
    ``bridge.sender_burst`` / ``bridge.sender_per_seconds``."""
    section = _sub(mod, "protections")
    flood = _sub(section, "flooding")
    mentions = _sub(section, "mentions")
    newcomers = _sub(section, "newcomers")
    repeats = _sub(section, "repeats")
    defaults = ProtectionsConfig()
    return ProtectionsConfig(
        flooding=FloodingConfig(
            enabled=flood.boolean("enabled", True),
            burst=flood.integer("burst", sender_burst, lo=1, hi=10_000),
            per_seconds=flood.integer("per_seconds", sender_per_seconds, lo=1, hi=86_400),
            actions=_actions(flood, defaults.flooding.actions),
        ),
        mentions=MentionsConfig(
            enabled=mentions.boolean("enabled", True),
            max_mentions=mentions.integer("max_mentions", 8, lo=1, hi=1000),
            max_mass_mentions=mentions.integer("max_mass_mentions", 1, lo=0, hi=1000),
            actions=_actions(mentions, defaults.mentions.actions),
        ),
        newcomers=NewcomersConfig(
            enabled=newcomers.boolean("enabled", True),
            min_account_age_hours=newcomers.integer("min_account_age_hours", 72, lo=0, hi=24 * 365),
            min_member_age_minutes=newcomers.integer(
                "min_member_age_minutes", 60, lo=0, hi=60 * 24 * 365
            ),
            actions=_actions(newcomers, defaults.newcomers.actions),
        ),
        repeats=RepeatsConfig(
            enabled=repeats.boolean("enabled", True),
            max_places=repeats.integer("max_places", 2, lo=1, hi=1000),
            window_seconds=repeats.integer("window_seconds", 60, lo=1, hi=86_400),
            actions=_actions(repeats, defaults.repeats.actions),
        ),
        timeout_minutes=section.integer("timeout_minutes", 10, lo=1, hi=40_320),
    )
