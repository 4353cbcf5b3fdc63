"""Lockdown: close the doors on both sides at once during a raid, and open them again.

Turned on by ``!mod lockdown on [duration]`` (moderators' room or channel) or by a
join wave (``moderation.lockdown.join_wave``: N joins within T seconds, Discord
server and bridged Matrix rooms counted together, one per person). While it holds:

- portal rooms that anyone (or any space member) could join switch to ``knock``
  (``invite`` when the room version has no knocking); members-only rooms are already
  invite-only and are left as they are;
- every bridged Discord channel gets a slowmode (``slowmode_seconds``) and each guild
  a raised verification level (``verification_level``), where the bot may (Manage
  Channels, Manage Server); what it may not do is said plainly, not fatal;
- new accounts' messages are not relayed (:mod:`moderation.lockdown_gate`), their
  authors told once.

Every value changed is saved first (``lockdown_saved``) and put back when the
lockdown is lifted, by a moderator (``!mod lockdown off``) or by itself after
``duration_seconds``. The state is in the ``lockdown`` table: a restart keeps the
lockdown and lifts it on time. Every step lands in the moderation log, with how to undo.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from bridge.db import LockdownRow, PortalRow
from bridge.db.lockdown import JoinSide
from bridge.i18n import N_, Translator
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from moderation import audit
from moderation.context import ModerationContext
from moderation.lockdown_command import Lockdown
from moderation.lockdown_rules import JoinWave, LockdownState, locked_join_rule

log = logging.getLogger(__name__)

# How a lockdown names who turned it on when nobody typed a command.
JOIN_WAVE_ACTOR = N_("the join-wave protection")
AUTO_ACTOR = N_("the timer")


class DiscordLockdownPort(Protocol):
    async def slowmode(self, channel_id: ChannelID) -> int | None: ...

    async def set_slowmode(self, channel_id: ChannelID, seconds: int, reason: str) -> bool: ...

    async def verification_level(self, guild_id: GuildID) -> int | None: ...

    async def set_verification_level(self, guild_id: GuildID, level: int, reason: str) -> bool: ...


@dataclass
class Report:
    """What one lockdown step did, for the sentence moderators read."""

    rooms: int = 0
    channels: int = 0
    guilds: int = 0
    failed_rooms: int = 0
    failed_channels: int = 0
    failed_guilds: list[str] = field(default_factory=list)


def _hhmm(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")


class LockdownService:
    """One per running bridge; the clock is passed in so tests can move time."""

    def __init__(
        self,
        mctx: ModerationContext,
        port: DiscordLockdownPort | None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mctx = mctx
        self.port = port
        self.clock = clock
        self.monotonic = monotonic
        wave = mctx.config.lockdown.join_wave
        self.wave = JoinWave(wave.joins, wave.seconds, wave.alert_joins if wave.enabled else 0)
        self._alerted = False  # moderators told of the wave building (until it calms)
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        # Registers itself: the relay's gate tells held authors through it, commands
        # find it on the context, and portals bridged during a lockdown are closed too.
        mctx.state.lockdown.tell = self.tell
        mctx.state.lockdown.suspect = lambda who: self.wave.suspect(self.monotonic(), who)
        mctx.lockdown = self
        mctx.bridge.portal_created.append(self.on_portal_created)

    @property
    def state(self) -> LockdownState:
        return self.mctx.state.lockdown

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- start-up and timer

    async def resume(self) -> None:
        """At start-up: the lockdown that held before the restart holds again (and is
        lifted at once when its time passed meanwhile); rooms, channels and guilds it
        had not closed yet when the bridge stopped are closed now."""
        row = await self.mctx.stores.lockdown.get()
        if row is None or not row.active:
            return
        state = self.state
        state.active, state.since_ms, state.until_ms = True, row.since_ms, row.until_ms
        state.actor, state.reason = row.actor, row.reason
        log.info("lockdown.resumed since=%s until=%s", row.since_ms, row.until_ms)
        if state.expired(self.now_ms()):
            await self.turn_off(actor=self.mctx.tr._(AUTO_ACTOR), source="auto")
            return
        # Finish what a stop may have cut short (closing is idempotent: what is closed
        # already, or slowed enough, is left as it is).
        async with self._lock:
            await self._close(state.reason or self.mctx.tr._("lockdown"))
        self._schedule()

    def _schedule(self) -> None:
        self.cancel_timer()
        until = self.state.until_ms
        if until is None:
            return
        delay = max(0.0, (until - self.now_ms()) / 1000)
        self._timer = asyncio.get_running_loop().create_task(self._lift_later(delay))

    def cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _lift_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            if self.state.expired(self.now_ms() + 1000):
                await self.turn_off(actor=self.mctx.tr._(AUTO_ACTOR), source="auto")
        except Exception:
            log.exception("lockdown.auto-lift-failed")

    # -- on

    async def turn_on(
        self, *, actor: str, source: str, seconds: int | None = None, reason: str = ""
    ) -> str:
        """Lock down (or extend the one in force); the answer for the moderator."""
        mctx, tr = self.mctx, self.mctx.tr
        async with self._lock:
            state = self.state
            duration = seconds if seconds is not None else mctx.config.lockdown.duration_seconds
            now = self.now_ms()
            until = now + duration * 1000 if duration else None
            extended = state.active
            if not extended:
                state.since_ms, state.actor, state.reason = now, actor, reason
                state.told.clear()
            state.active, state.until_ms = True, until
            await mctx.stores.lockdown.put(
                LockdownRow(True, state.since_ms, until, state.actor, state.reason)
            )
            report = await self._close(reason or tr._("lockdown"))
            self._schedule()
            outcome = self._on_sentence(report, until, extended, tr)
            await audit.record(
                mctx,
                source=source,
                actor=actor,
                action="lockdown-on",
                target="",
                reason=reason,
                outcome=outcome,
            )
        log.info("lockdown.on actor=%s until=%s rooms=%s", actor, until, report.rooms)
        return outcome

    async def _close(self, reason: str) -> Report:
        report = Report()
        mctx, cfg = self.mctx, self.mctx.config.lockdown
        store = mctx.stores.lockdown
        portals = await mctx.stores.portals.all()  # read once for rooms and channels
        for portal in portals:
            try:
                done = await self._lock_room(portal.room_id)
            except Exception:
                log.exception("lockdown.room-failed room=%s", portal.room_id)
                done = False
            report.rooms += done is True
            report.failed_rooms += done is False
        if self.port is None:
            return report
        for portal in portals if cfg.slowmode_seconds > 0 else []:
            channel = portal.discord_channel_id
            current = await self.port.slowmode(channel)
            if current is not None and current >= cfg.slowmode_seconds:
                continue
            if current is not None:
                await store.save("channel", str(channel), str(current))
            if current is not None and await self.port.set_slowmode(
                channel, cfg.slowmode_seconds, reason
            ):
                report.channels += 1
            else:
                report.failed_channels += 1
        for guild in mctx.bridge.config.discord.guild_ids:
            current = await self.port.verification_level(guild)
            if current is not None and current >= cfg.verification_level:
                continue
            if current is not None:
                await store.save("guild", str(guild), str(current))
            if current is not None and await self.port.set_verification_level(
                guild, cfg.verification_level, reason
            ):
                report.guilds += 1
            else:
                name = await mctx.discord.guild_name(guild) or mctx.tr._("guild {id}", id=guild)
                report.failed_guilds.append(name)
        return report

    async def on_portal_created(self, portal: PortalRow) -> None:
        """A channel bridged while a lockdown holds is closed like the others."""
        if not self.state.active:
            return
        async with self._lock:
            await self._lock_room(portal.room_id)
            slowmode = self.mctx.config.lockdown.slowmode_seconds
            if self.port is None or slowmode <= 0:
                return
            channel = portal.discord_channel_id
            current = await self.port.slowmode(channel)
            if current is not None and current < slowmode:
                await self.mctx.stores.lockdown.save("channel", str(channel), str(current))
                await self.port.set_slowmode(channel, slowmode, self.mctx.tr._("lockdown"))

    async def _lock_room(self, room_id: RoomID) -> bool | None:
        """True: closed now; None: nothing to do (already closed); False: refused."""
        join_rules: dict[str, object] = {"join_rule": "invite"}
        version = "1"
        for event in await self.mctx.matrix.room_state(room_id):
            content = event.get("content")
            if event.get("state_key") != "" or not isinstance(content, dict):
                continue
            if event.get("type") == "m.room.join_rules":
                join_rules = content
            elif event.get("type") == "m.room.create":
                version = str(content.get("room_version") or "1")
        wanted = locked_join_rule(str(join_rules.get("join_rule", "invite")), version)
        if wanted is None:
            return None
        await self.mctx.stores.lockdown.save("room", room_id, json.dumps(join_rules))
        await self.mctx.matrix.set_state(room_id, "m.room.join_rules", "", {"join_rule": wanted})
        return True

    def _on_sentence(
        self, report: Report, until: int | None, extended: bool, tr: Translator
    ) -> str:
        cfg = self.mctx.config.lockdown
        parts = [tr._("Lockdown extended.") if extended else tr._("Lockdown is on.")]
        if report.rooms:
            parts.append(
                tr.ngettext(
                    "{count} room now asks newcomers to knock or to be invited.",
                    "{count} rooms now ask newcomers to knock or to be invited.",
                    report.rooms,
                    count=report.rooms,
                )
            )
        if report.channels:
            parts.append(
                tr.ngettext(
                    "Slowmode of {seconds} s on {count} Discord channel.",
                    "Slowmode of {seconds} s on {count} Discord channels.",
                    report.channels,
                    count=report.channels,
                    seconds=cfg.slowmode_seconds,
                )
            )
        if report.guilds:
            parts.append(
                tr._("Discord verification level raised to {level}.", level=cfg.verification_level)
            )
        if report.failed_rooms:
            parts.append(
                tr.ngettext(
                    "{count} room could not be closed.",
                    "{count} rooms could not be closed.",
                    report.failed_rooms,
                    count=report.failed_rooms,
                )
            )
        if report.failed_channels:
            parts.append(
                tr.ngettext(
                    "The bot may not set the slowmode of {count} channel "
                    "(it needs Manage Channels).",
                    "The bot may not set the slowmode of {count} channels "
                    "(it needs Manage Channels).",
                    report.failed_channels,
                    count=report.failed_channels,
                )
            )
        for name in report.failed_guilds:
            parts.append(
                tr._(
                    "The bot may not raise the verification level of {guild} "
                    "(it needs Manage Server).",
                    guild=name,
                )
            )
        parts.append(tr._("Messages from new accounts are held until it ends."))
        if until is not None:
            parts.append(tr._("It ends by itself at {time} UTC.", time=_hhmm(until)))
        else:
            parts.append(tr._("It lasts until a moderator lifts it."))
        parts.append(
            tr._("To undo: {command}", command=f"{self.mctx.config.command_prefix} lockdown off")
        )
        return " ".join(parts)

    # -- off

    async def turn_off(self, *, actor: str, source: str) -> str:
        """Lift the lockdown: put back every value it changed; the answer."""
        mctx, tr = self.mctx, self.mctx.tr
        async with self._lock:
            state = self.state
            if not state.active:
                return tr._("There is no lockdown to lift.")
            self.cancel_timer()
            failed = await self._restore()
            state.active, state.until_ms = False, None
            state.told.clear()
            await mctx.stores.lockdown.put(
                LockdownRow(False, state.since_ms, None, state.actor, state.reason)
            )
            outcome = tr._(
                "Lockdown lifted: rooms, slowmode and verification level are back as they were."
            )
            if failed:
                outcome += " " + tr.ngettext(
                    "{count} setting could not be put back; the next lift tries again.",
                    "{count} settings could not be put back; the next lift tries again.",
                    failed,
                    count=failed,
                )
            await audit.record(
                mctx,
                source=source,
                actor=actor,
                action="lockdown-off",
                target="",
                reason="",
                outcome=outcome,
            )
        log.info("lockdown.off actor=%s failed=%s", actor, failed)
        return outcome

    async def _restore(self) -> int:
        store, failed = self.mctx.stores.lockdown, 0
        reason = self.mctx.tr._("end of the lockdown")
        for saved in await store.saved():
            try:
                if saved.kind == "room":
                    content = json.loads(saved.previous)
                    await self.mctx.matrix.set_state(
                        RoomID(saved.target), "m.room.join_rules", "", content
                    )
                    done = True
                elif self.port is None:
                    done = False
                elif saved.kind == "channel":
                    done = await self.port.set_slowmode(
                        ChannelID(int(saved.target)), int(saved.previous), reason
                    )
                else:
                    done = await self.port.set_verification_level(
                        GuildID(int(saved.target)), int(saved.previous), reason
                    )
            except Exception:
                log.exception("lockdown.restore-failed kind=%s target=%s", saved.kind, saved.target)
                done = False
            if done:
                await store.forget(saved.kind, saved.target)
            else:
                failed += 1
        return failed

    # -- status

    def status(self, tr: Translator) -> str:
        state, prefix = self.state, self.mctx.config.command_prefix
        if not state.active:
            return tr._("No lockdown now. To start one: {command}", command=f"{prefix} lockdown on")
        text = tr._(
            "Lockdown on since {since} UTC, turned on by {actor}.",
            since=_hhmm(state.since_ms),
            actor=state.actor,
        )
        if state.until_ms is not None:
            text += " " + tr._("It ends by itself at {time} UTC.", time=_hhmm(state.until_ms))
        return text + " " + tr._("To undo: {command}", command=f"{prefix} lockdown off")

    # -- joins

    def count_join(self, side: str, user_id: str) -> bool:
        """Count a join in the wave at once (no I/O); True when it completes a wave.
        Called where the join is received, before any queue: the newcomer's first
        message, often sent right after the join, must already find them in the wave."""
        joined_side = "discord" if side == "discord" else "matrix"
        return self.wave.add(self.monotonic(), f"{joined_side}:{user_id}")

    async def on_join(
        self,
        side: str,
        user_id: str,
        joined_at_ms: int | None = None,
        counted: bool | None = None,
    ) -> bool:
        """Someone joined (Discord server, or a bridged Matrix room); True when this join
        made a wave and turned lockdown on. ``counted``: what :meth:`count_join` said
        when the join was received (None: count it now)."""
        at = joined_at_ms if joined_at_ms is not None else self.now_ms()
        joined_side: JoinSide = "discord" if side == "discord" else "matrix"
        wave = self.mctx.config.lockdown.join_wave
        joined = self.count_join(side, user_id) if counted is None else counted
        await self.mctx.stores.lockdown.note_join(joined_side, user_id, at)
        if not joined:
            await self._alert_if_rising()
        if not wave.enabled or not joined or self.state.active:
            return False
        self._alerted = False
        log.warning("lockdown.join-wave joins=%s seconds=%s", wave.joins, wave.seconds)
        tr = self.mctx.tr
        await self.turn_on(
            actor=tr._(JOIN_WAVE_ACTOR),
            source="auto",
            reason=tr._(
                "{joins} joins within {seconds} seconds", joins=wave.joins, seconds=wave.seconds
            ),
        )
        return True

    async def _alert_if_rising(self) -> None:
        """Tell the moderators once when joins reach the alert level (the newcomers'
        messages wait from then on), and again after the joins have calmed down."""
        rising = self.wave.alerting(self.monotonic())
        if not rising or self.state.active:
            self._alerted = rising and self._alerted
            return
        if self._alerted:
            return
        self._alerted = True
        wave, tr = self.mctx.config.lockdown.join_wave, self.mctx.tr
        log.warning("lockdown.join-alert joins=%s seconds=%s", wave.alert_joins, wave.seconds)
        await audit.record(
            self.mctx,
            source="auto",
            actor=tr._(JOIN_WAVE_ACTOR),
            action="join-alert",
            target="",
            reason=tr._(
                "{joins} joins within {seconds} seconds",
                joins=wave.alert_joins,
                seconds=wave.seconds,
            ),
            outcome=tr._(
                "Messages from the people who just joined wait; at {joins} joins the "
                "lockdown starts. To start it now: {command}",
                joins=wave.joins,
                command=f"{self.mctx.config.command_prefix} lockdown on",
            ),
        )

    async def on_matrix_join(self, room_id: RoomID, user_id: UserID) -> None:
        """The bridge's member-joined hook: only joins into portal rooms count."""
        if await self.mctx.stores.portals.by_room(room_id) is not None:
            await self.on_join("matrix", user_id)

    # -- telling the held author

    async def tell(self, side: str, user_id: str, where: str) -> None:
        tr = self.mctx.tr
        if not self.state.active:  # a wave is building: no lockdown yet
            await self._tell_alert(side, user_id, where)
            return
        if side == "discord":
            text = tr._(
                "The server is in lockdown because of a wave of new accounts: messages from "
                "new accounts are not passed on to Matrix for now. Please try again later."
            )
            await self.mctx.discord.send_dm(DiscordUserID(int(user_id)), text)
            return
        text = tr._(
            "{user}: the rooms are in lockdown because of a wave of new accounts: messages "
            "from new accounts are not passed on to Discord for now. Please try again later.",
            user=user_id,
        )
        await self.mctx.matrix.notice(RoomID(where), text)

    async def _tell_alert(self, side: str, user_id: str, where: str) -> None:
        tr = self.mctx.tr
        if side == "discord":
            text = tr._(
                "Many new accounts are arriving at once: messages from accounts that have "
                "just arrived are not passed on to Matrix for a few minutes. Please try "
                "again later."
            )
            await self.mctx.discord.send_dm(DiscordUserID(int(user_id)), text)
            return
        text = tr._(
            "{user}: many new accounts are arriving at once: messages from accounts that "
            "have just arrived are not passed on to Discord for a few minutes. Please try "
            "again later.",
            user=user_id,
        )
        await self.mctx.matrix.notice(RoomID(where), text)


async def run_lockdown(
    mctx: ModerationContext, command: Lockdown, *, actor: str, source: str, tr: Translator
) -> str:
    """A ``!mod lockdown`` command; the answer for the moderator."""
    service = mctx.lockdown
    if service is None:
        return tr._("Lockdown is not available: the bridge is still starting.")
    if command.action == "status":
        return service.status(tr)
    if command.action == "off":
        return await service.turn_off(actor=actor, source=source)
    return await service.turn_on(actor=actor, source=source, seconds=command.seconds)


__all__ = [
    "DiscordLockdownPort",
    "LockdownService",
    "Report",
    "run_lockdown",
]
