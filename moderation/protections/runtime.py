"""The protections while the bridge runs: built from the config, checked on every
message in memory (:meth:`Protections.check_discord`, :meth:`Protections.check_matrix`),
and, when one answers, carried out (:mod:`moderation.protections.enforce`).

Moderators' switches (``!mod protection <name> on|off``) are kept in the
``protection_switch`` table, read once at start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bridge.config_protections import ProtectionsConfig
from bridge.model import (
    DiscordMessage,
    MatrixEdit,
    MatrixMessage,
    MatrixPollStart,
    MatrixReaction,
)
from moderation.context import ModerationContext
from moderation.protections.core import Guard, Protection, Signals, Verdict, only_known
from moderation.protections.rules import Flooding, Mentions, Newcomers, Repeats
from moderation.protections.signals import from_discord, from_matrix, matrix_other

log = logging.getLogger(__name__)

# A verdict and the message it is about.
Found = tuple[Verdict, Signals]

# DEFAULT and REPLY messages (what bridge.actions.d2m_message relays as text).
CHECKED_TYPES = frozenset({0, 19})
BUILT_IN = ("flooding", "mentions", "newcomers", "repeats")
MAX_JOINS = 20_000  # Matrix join times remembered (the oldest are dropped)


def now_ms() -> int:
    return int(time.time() * 1000)


def build(cfg: ProtectionsConfig, wall_ms: Callable[[], int] = now_ms) -> list[Protection]:
    """The protections of the config, in the order they are checked."""
    return [
        Flooding(
            cfg.flooding.burst, float(cfg.flooding.per_seconds), only_known(cfg.flooding.actions)
        ),
        Mentions(
            cfg.mentions.max_mentions,
            cfg.mentions.max_mass_mentions,
            only_known(cfg.mentions.actions),
        ),
        Newcomers(
            cfg.newcomers.min_account_age_hours,
            cfg.newcomers.min_member_age_minutes,
            wall_ms,
            only_known(cfg.newcomers.actions),
        ),
        Repeats(
            cfg.repeats.max_places,
            cfg.repeats.window_seconds,
            actions=only_known(cfg.repeats.actions),
        ),
    ]


def off_in_config(cfg: ProtectionsConfig) -> set[str]:
    sections = {
        "flooding": cfg.flooding.enabled,
        "mentions": cfg.mentions.enabled,
        "newcomers": cfg.newcomers.enabled,
        "repeats": cfg.repeats.enabled,
    }
    return {name for name, on in sections.items() if not on}


class Protections:
    def __init__(
        self,
        mctx: ModerationContext,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.mctx = mctx
        self.wall_ms = wall_ms
        self.cfg = mctx.config.protections
        self.guard = Guard(build(self.cfg, wall_ms), exempt=self._exempt, clock=clock)
        # Moderators' switches (from the database), over the config file's.
        self.switches: dict[str, bool] = {}
        self._apply_switches()
        # When each Matrix user joined each room, as seen pushed by the homeserver.
        self.joins: dict[tuple[str, str], int] = {}
        # Matrix users' first joins into portal rooms from before this start (the
        # lockdown's first_join table), recent enough to count: after a restart, a
        # newcomer is still one until the room's own join is seen again.
        self.first_joins: dict[str, int] = {}
        # Whether an author turned out to be a moderator (checked on a verdict only).
        self.moderator_cache: dict[str, tuple[bool, float]] = {}
        # Mutes and timeouts in force: author -> what lifts them (see enforce).
        self.lifts: dict[str, Any] = {}
        mctx.state.protections = self  # for the moderators' commands

    async def load(self) -> None:
        self.switches = await self.mctx.stores.protection_switches.all()
        self._apply_switches()
        window_ms = self.cfg.newcomers.min_member_age_minutes * 60_000
        if window_ms > 0:
            since = self.wall_ms() - window_ms
            self.first_joins = await self.mctx.stores.lockdown.first_joins_since("matrix", since)

    def _joined(self, room_id: str, sender: str) -> int | None:
        """When ``sender`` joined ``room_id`` (seen since start-up), else their first
        join into a portal room from before, if recent."""
        joined = self.joins.get((room_id, sender))
        return joined if joined is not None else self.first_joins.get(sender)

    def _apply_switches(self) -> None:
        # Protections added later (not from this config) keep their own state.
        disabled = {n for n in self.guard.disabled if n not in BUILT_IN} | off_in_config(self.cfg)
        for name, on in self.switches.items():
            if on:
                disabled.discard(name)
            else:
                disabled.add(name)
        self.guard.disabled = disabled

    def reconfigure(self) -> None:
        """The config file was reloaded: new thresholds (the counts start afresh)."""
        cfg = self.mctx.config.protections
        if cfg == self.cfg:
            return
        self.cfg = cfg
        extra = [p for p in self.guard.protections if p.name not in BUILT_IN]  # added later
        self.guard.protections = build(cfg, self.wall_ms) + extra
        self._apply_switches()

    async def switch(self, name: str, on: bool, actor: str) -> bool:
        if self.guard.get(name) is None:
            return False
        self.switches[name] = on
        self._apply_switches()
        await self.mctx.stores.protection_switches.set(name, on, actor)
        log.info("protection.switched name=%s on=%s actor=%s", name, on, actor)
        return True

    # -- what is checked ---------------------------------------------------------

    def _exempt(self, author: str) -> bool:
        """The cheap part: the bridge's own users and the configured moderators."""
        if author.startswith("discord:"):
            own = self.mctx.bridge.discord.own_user_id()
            return own is not None and author == f"discord:{own}"
        return self.mctx.namer.is_bridge_owned(author) or author in self.mctx.config.moderators

    def check_discord(self, message: DiscordMessage, *, edit: bool = False) -> Found | None:
        """A Discord message (or its edit) about to be relayed: the verdict, if one
        protection answers."""
        config = self.mctx.bridge.config
        if message.guild_id not in config.discord.guild_ids or message.webhook_id is not None:
            return None
        if message.author.bot or not message.author.id or message.type not in CHECKED_TYPES:
            return None
        if config.bridge.channel(message.thread_parent_id or message.channel_id) is None:
            return None
        signals = replace(from_discord(message), is_edit=edit)
        verdict = self.guard.check(signals)
        return (verdict, signals) if verdict is not None else None

    def check_matrix(
        self, event: MatrixMessage | MatrixEdit | MatrixReaction | MatrixPollStart
    ) -> Found | None:
        """A Matrix event about to be relayed (its room is a portal)."""
        if self.mctx.namer.is_bridge_owned(event.sender):
            return None
        if isinstance(event, MatrixMessage):
            signals = from_matrix(event, self._joined(event.room_id, event.sender))
        elif isinstance(event, MatrixEdit):
            new = replace(event.new, event_id=event.event_id, sender=event.sender)
            joined = self._joined(event.room_id, event.sender)
            signals = replace(from_matrix(new, joined), is_edit=True)
        else:
            signals = matrix_other(event.room_id, event.event_id, event.sender)
        verdict = self.guard.check(signals)
        return (verdict, signals) if verdict is not None else None

    def observe_matrix(self, raw: dict[str, Any]) -> None:
        """Remember when people join rooms (for ``newcomers``)."""
        if raw.get("type") != "m.room.member":
            return
        content, user, room = raw.get("content"), raw.get("state_key"), raw.get("room_id")
        if not isinstance(content, dict) or not isinstance(user, str) or not isinstance(room, str):
            return
        if content.get("membership") != "join":
            self.joins.pop((room, user), None)
            return
        unsigned = raw.get("unsigned")
        prev = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
        if isinstance(prev, dict) and prev.get("membership") == "join":
            return  # a profile change, not an arrival
        at = raw.get("origin_server_ts")
        if isinstance(at, int):
            if len(self.joins) >= MAX_JOINS:
                self.joins.pop(next(iter(self.joins)))
            self.joins[(room, user)] = at
