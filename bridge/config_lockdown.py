"""The ``moderation.lockdown:`` part of the configuration: what a lockdown does and
when a join wave turns it on. Every key has a default; the section may be left out.

Kept apart from :mod:`bridge.config` (which calls it), like the other sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.i18n import cli

if TYPE_CHECKING:
    from bridge.config import _Reader


@dataclass(frozen=True)
class JoinWaveConfig:
    enabled: bool = True
    joins: int = 20  # this many joins (Discord server or bridged Matrix rooms) ...
    seconds: int = 30  # ... within this many seconds turn lockdown on
    # From this many joins within ``seconds`` (0: off; default a quarter of ``joins``), the
    # messages of the people who just joined wait until the joins calm down: a raid's
    # first accounts do not get through before the wave is complete.
    alert_joins: int = 5


@dataclass(frozen=True)
class LockdownConfig:
    # Lifted by itself after this long (a moderator may give another time); 0: never.
    duration_seconds: int = 1800
    # Discord slowmode on every bridged channel during a lockdown (0: unchanged).
    slowmode_seconds: int = 30
    # The guild's verification level during a lockdown (0 none .. 4 very high; 3 is
    # "high": members must have been on the server for 10 minutes).
    verification_level: int = 3
    # Who is new while a lockdown holds: a Discord account younger than this many days,
    # or anyone who first joined less than this many minutes ago.
    new_account_days: int = 7
    new_member_minutes: int = 1440
    join_wave: JoinWaveConfig = field(default_factory=JoinWaveConfig)


def parse_lockdown(mod: _Reader) -> LockdownConfig:
    from bridge.config import ConfigError

    raw = mod.data.get("lockdown")
    if raw is None:
        return LockdownConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            mod.key("lockdown"), cli()._("expected a mapping (or leave the section out)")
        )
    lock = mod.reader(raw, mod.key("lockdown."))
    wave_raw: Any = raw.get("join_wave")
    if wave_raw is None:
        wave = JoinWaveConfig()
    elif not isinstance(wave_raw, Mapping):
        raise ConfigError(lock.key("join_wave"), cli()._("expected a mapping (or leave it out)"))
    else:
        reader = lock.reader(wave_raw, lock.key("join_wave."))
        joins = reader.integer("joins", 20, lo=2, hi=100_000)
        alert = reader.integer("alert_joins", max(joins // 4, 1), lo=0, hi=100_000)
        if alert >= joins:
            raise ConfigError(
                lock.key("join_wave.alert_joins"),
                cli()._("must be less than joins ({joins}), or 0 to switch it off", joins=joins),
            )
        wave = JoinWaveConfig(
            enabled=reader.boolean("enabled", True),
            joins=joins,
            seconds=reader.integer("seconds", 30, lo=1, hi=86_400),
            alert_joins=alert,
        )
    return LockdownConfig(
        duration_seconds=lock.integer("duration_seconds", 1800, lo=0, hi=30 * 86_400),
        slowmode_seconds=lock.integer("slowmode_seconds", 30, lo=0, hi=21_600),
        verification_level=lock.integer("verification_level", 3, lo=0, hi=4),
        new_account_days=lock.integer("new_account_days", 7, lo=0, hi=3650),
        new_member_minutes=lock.integer("new_member_minutes", 1440, lo=0, hi=525_600),
        join_wave=wave,
    )
