"""Carrying out a protection's verdict: hold, delete on both sides, time out (Discord)
or mute (Matrix), ban; the author told once per burst, the moderators told once per
burst and action, each line saying how to undo it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.actions.languages import for_discord_user, for_matrix_user
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, MessageID, RoomID, UserID
from bridge.model import MatrixText
from moderation import audit
from moderation.bans import ban_discord_user, ban_matrix_user
from moderation.policy import ban_level, discord_may_moderate, user_power_level
from moderation.protections.core import MessageRef, Signals, Verdict
from moderation.protections.notices import author_notice, undo_hint, why
from moderation.protections.runtime import Protections

log = logging.getLogger(__name__)

MODERATOR_CACHE_SECONDS = 300.0
# Log lines: (action done) -> audit action name.
_AUDIT = {
    "hold": "protect-hold",
    "redact": "protect-redact",
    "timeout": "protect-timeout",
    "mute": "protect-mute",
    "ban": "protect-ban",
}


def discord_id(author: str) -> DiscordUserID | None:
    return DiscordUserID(int(author.split(":", 1)[1])) if author.startswith("discord:") else None


async def is_moderator(p: Protections, signals: Signals) -> bool:
    """Moderators are never held back: Ban Members on Discord, members of the
    moderators' room or ban level there on Matrix. Asked only on a verdict, cached."""
    now = p.guard.clock()
    cached = p.moderator_cache.get(signals.author)
    if cached is not None and now - cached[1] < MODERATOR_CACHE_SECONDS:
        return cached[0]
    mctx = p.mctx
    found = False
    user_id = discord_id(signals.author)
    if user_id is not None:
        if signals.guild is not None:
            member = await mctx.discord.member(GuildID(int(signals.guild)), user_id)
            found = member is not None and discord_may_moderate(
                member.permissions, is_owner=member.is_owner
            )
    elif mctx.state.mod_room is not None:
        room = mctx.state.mod_room
        if await mctx.matrix.membership(room, UserID(signals.author)) == "join":
            found = True
        else:
            levels = await mctx.matrix.power_levels(room)
            found = user_power_level(levels, signals.author) >= ban_level(levels)
    p.moderator_cache[signals.author] = (found, now)
    return found


async def carry_out(p: Protections, verdict: Verdict, signals: Signals) -> bool:
    """Act on a verdict; True when the message must not be relayed."""
    if await is_moderator(p, signals):
        return False
    first = p.guard.first_of_burst(signals.author, verdict.protection)
    log.warning(
        "protection.refused name=%s author=%s side=%s message=%s actions=%s first=%s",
        verdict.protection,
        signals.author,
        signals.side,
        signals.ref.id,
        ",".join(verdict.actions),
        first,
    )
    if verdict.holds and signals.side == "discord":  # never read back by backfill
        await p.mctx.stores.protection_held.add(int(signals.ref.id))
    if "redact" in verdict.actions:
        await _delete(p, (signals.ref, *verdict.related))
    if not first:
        return verdict.holds
    minutes = p.cfg.timeout_minutes
    await _tell_author(p, verdict, signals, minutes)
    for action in verdict.actions:
        done = action
        if action == "timeout":
            done = await _timeout(p, signals, minutes, why(verdict, p.mctx.tr))
            if not done:
                continue
        elif action == "ban":
            await _ban(p, signals, why(verdict, p.mctx.tr))
        elif action == "hold" and "redact" in verdict.actions:
            continue  # the deletion line says it
        await _log(p, done, verdict, signals)
    return verdict.holds


async def _tell_author(p: Protections, verdict: Verdict, signals: Signals, minutes: int) -> None:
    mctx = p.mctx
    user_id = discord_id(signals.author)
    if user_id is not None:  # in their own language (bridge.actions.languages)
        tr = await for_discord_user(mctx.bridge, user_id)
        text = author_notice(verdict, signals.name or str(user_id), "discord", tr, minutes)
        if not await mctx.discord.send_dm(user_id, text):
            log.info("protection.author-not-told author=%s reason=dm-refused", signals.author)
        return
    tr = await for_matrix_user(mctx.bridge, signals.author)
    text = author_notice(verdict, signals.author, "matrix", tr, minutes)
    notice = MatrixText(text, msgtype="m.notice", mentioned_user_ids=(UserID(signals.author),))
    try:
        await mctx.bridge.matrix.send_text(
            RoomID(signals.ref.place), mctx.namer.bot_mxid, notice, None
        )
    except Exception:
        log.warning("protection.author-not-told author=%s", signals.author, exc_info=True)


async def _delete(p: Protections, refs: tuple[MessageRef, ...]) -> None:
    """Each message where it was sent, and its copies on the other side."""
    ctx = p.mctx.bridge
    reason = p.mctx.tr._("Removed by the bridge's protections.")
    for ref in refs:
        try:
            if ref.side == "discord":
                rows = await ctx.stores.messages.by_discord(MessageID(int(ref.id)))
                await ctx.discord.delete_message(
                    ChannelID(int(ref.place)), MessageID(int(ref.id)), reason
                )
                for row in rows:
                    await ctx.matrix.redact(row.room_id, row.event_id, reason)
            else:
                rows = await ctx.stores.messages.by_event(EventID(ref.id))
                await ctx.matrix.redact(RoomID(ref.place), EventID(ref.id), reason)
                for row in rows:
                    await ctx.discord.delete_message(
                        row.discord_channel_id, row.discord_message_id, reason
                    )
        except Exception:
            log.warning("protection.delete-failed message=%s", ref.id, exc_info=True)


async def _timeout(p: Protections, signals: Signals, minutes: int, reason: str) -> str:
    """Discord: a timeout in the guild; Matrix: a mute in every portal room. The action
    done ("timeout" or "mute"), or "" when nothing could be done."""
    user_id = discord_id(signals.author)
    if user_id is not None:
        if signals.guild is None:
            return ""
        until = datetime.now(UTC) + timedelta(minutes=minutes)
        guild = GuildID(int(signals.guild))
        if not await p.mctx.discord.timeout(guild, user_id, until.isoformat(), reason):
            return ""
        return "timeout"
    rooms = await mute(p, UserID(signals.author))
    if not rooms:
        return ""
    until_ms = p.wall_ms() + minutes * 60_000
    await p.mctx.stores.protection_mutes.add(signals.author, until_ms)
    lift_at(p, UserID(signals.author), until_ms)
    return "mute"


def lift_at(p: Protections, user: UserID, until_ms: int) -> None:
    """Lift ``user``'s mute at ``until_ms`` (now, if it is past)."""
    task = p.lifts.pop(user, None)
    if task is not None:
        task.cancel()
    delay = max(0.0, (until_ms - p.wall_ms()) / 1000)
    p.lifts[user] = asyncio.get_running_loop().create_task(_lift_later(p, user, delay))


HELD_KEPT_MS = 14 * 24 * 3_600_000  # backfill never reads back further than this


async def resume_mutes(p: Protections) -> int:
    """At start: the mutes of a previous run are lifted on time (or now); held
    messages too old for any backfill are forgotten."""
    await p.mctx.stores.protection_held.forget_before(p.wall_ms() - HELD_KEPT_MS)
    stored = await p.mctx.stores.protection_mutes.all()
    for user, until_ms in stored.items():
        lift_at(p, UserID(user), until_ms)
    return len(stored)


async def mute(p: Protections, user: UserID) -> list[RoomID]:
    """Lower ``user`` below the level needed to write, in every portal room."""
    muted: list[RoomID] = []
    for portal in await p.mctx.stores.portals.all():
        levels = await p.mctx.matrix.power_levels(portal.room_id)
        write = _events_default(levels)
        if user_power_level(levels, user) < write:
            continue
        if await p.mctx.matrix.set_user_level(portal.room_id, user, write - 1):
            muted.append(portal.room_id)
    log.info("protection.muted user=%s rooms=%s", user, len(muted))
    return muted


async def unmute(p: Protections, user: UserID) -> int:
    """Give back the default level to ``user`` where they are muted; rooms changed."""
    task = p.lifts.pop(user, None)
    if task is not None and task is not asyncio.current_task():
        task.cancel()
    lifted = 0
    for portal in await p.mctx.stores.portals.all():
        levels = await p.mctx.matrix.power_levels(portal.room_id)
        if user_power_level(levels, user) >= _events_default(levels):
            continue
        if await p.mctx.matrix.set_user_level(portal.room_id, user, None):
            lifted += 1
    await p.mctx.stores.protection_mutes.remove(user)
    log.info("protection.unmuted user=%s rooms=%s", user, lifted)
    return lifted


async def untimeout(p: Protections, user_id: DiscordUserID) -> int:
    """Lift a Discord timeout in every bridged guild; guilds where it worked."""
    lifted = 0
    for guild in p.mctx.bridge.config.discord.guild_ids:
        if await p.mctx.discord.member(guild, user_id) is None:
            continue
        reason = p.mctx.tr._("Lifted by a moderator.")
        lifted += await p.mctx.discord.timeout(guild, user_id, None, reason)
    return lifted


async def _lift_later(p: Protections, user: UserID, seconds: float) -> None:
    await asyncio.sleep(seconds)
    try:
        await unmute(p, user)
    except Exception:
        log.warning("protection.unmute-failed user=%s", user, exc_info=True)


def _events_default(levels: Mapping[str, Any]) -> int:
    value = levels.get("events_default", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


async def _ban(p: Protections, signals: Signals, reason: str) -> None:
    mctx = p.mctx
    actor = str(mctx.namer.bot_mxid)
    user_id = discord_id(signals.author)
    if user_id is not None:
        where = GuildID(int(signals.guild)) if signals.guild is not None else None
        await ban_discord_user(
            mctx, user_id, reason=reason, actor=actor, origin="command", source="protection",
            where=where,
        )  # fmt: skip
    else:
        await ban_matrix_user(
            mctx, UserID(signals.author), reason=reason, actor=actor, origin="command",
            source="protection",
        )  # fmt: skip


def target_label(signals: Signals) -> tuple[str, str]:
    """(how the log names the author, what a command takes to name them)."""
    user_id = discord_id(signals.author)
    if user_id is None:
        return signals.author, signals.author
    label = f"{signals.name} ({user_id})" if signals.name else str(user_id)
    return label, str(user_id)


async def _log(p: Protections, action: str, verdict: Verdict, signals: Signals) -> None:
    mctx = p.mctx
    label, handle = target_label(signals)
    hint = undo_hint(action, verdict.protection, handle, mctx.config.command_prefix, mctx.tr)
    await audit.record(
        mctx,
        source=signals.side,
        actor=verdict.protection,
        action=_AUDIT.get(action, action),
        target=label,
        reason=why(verdict, mctx.tr),
        outcome=hint,
        guild=GuildID(int(signals.guild)) if signals.guild is not None else None,
    )
