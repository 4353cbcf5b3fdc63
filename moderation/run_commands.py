"""Moderator commands from the moderators' Matrix room or Discord channel.

``!mod ban <user> [reason]``, ``unban``, ``kick``, ``bans``, ``lists``,
``rule ban <entity> [reason] [--force]``, ``rule unban <entity>``, ``help``
(parsing: :mod:`moderation.commands`). Who may: on Matrix the configured
moderators and users whose power level in the moderators' room reaches its ban
level; on Discord members with Ban Members in that channel's guild (or its owner).
Where a command acts (:mod:`moderation.scope`): one from a guild's moderators'
channel acts in that guild (with ``ban_scope: party``, a ban or unban in every guild)
and looks names up among that guild's members and rooms; one from the Matrix
moderators' room (the party's moderators) acts in every guild. Every answer is a
plain sentence in the same room or channel; every action lands in the log.
"""

from __future__ import annotations

import logging

from bridge.db import BanRow
from bridge.i18n import Translator
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from bridge.model import DiscordMessage
from moderation import audit
from moderation.bans import (
    RULE_USER,
    ban_discord_user,
    ban_matrix_user,
    is_protected,
    rule_state_key,
    unban_discord_user,
    unban_matrix_user,
)
from moderation.commands import (
    Ambiguous,
    Ban,
    Candidate,
    Command,
    CommandError,
    DiscordId,
    Help,
    ListBans,
    ListLists,
    Mxid,
    NotFound,
    RuleBan,
    RuleUnban,
    Unban,
    check_rule,
    classify_target,
    help_text,
    parse_command,
    resolve_name,
    rule_kind,
)
from moderation.context import ModerationContext
from moderation.lists import carry_out, portal_members
from moderation.lockdown import run_lockdown
from moderation.lockdown_command import Lockdown
from moderation.policy import (
    ban_level,
    bridge_namespace,
    discord_may_moderate,
    matrix_may_moderate,
    user_power_level,
)
from moderation.rule_set import mirror_own_write
from moderation.scope import all_guilds, portal_rooms, scope

log = logging.getLogger(__name__)

Target = tuple[str, DiscordUserID | UserID]  # ("discord", id) or ("matrix", mxid)


async def on_matrix_message(
    mctx: ModerationContext, room_id: RoomID, sender: UserID, body: str, html: str | None
) -> bool:
    """A message in the moderators' room; True when it was a command (answered)."""
    if room_id != mctx.state.mod_room or mctx.namer.is_bridge_owned(sender):
        return False
    tr = _tr(mctx)
    parsed = parse_command(body, mctx.config.command_prefix, formatted_body=html, tr=tr)
    if parsed is None:
        return False
    if isinstance(parsed, CommandError):
        await mctx.matrix.notice(room_id, parsed.message)
        return True
    levels = await mctx.matrix.power_levels(room_id)
    if not matrix_may_moderate(
        sender,
        power_level=user_power_level(levels, sender),
        ban_level=ban_level(levels),
        moderators=mctx.config.moderators,
    ):
        await mctx.matrix.notice(room_id, tr._("Only moderators can use moderation commands."))
        return True
    answer = await run(mctx, parsed, actor=sender, source="matrix", tr=tr)
    await mctx.matrix.notice(room_id, answer)
    return True


async def on_discord_message(mctx: ModerationContext, message: DiscordMessage) -> bool:
    """A message in the moderators' channel; True when it was a command (answered)."""
    guild = mctx.bridge.config.discord.mod_channel_guild(message.channel_id)
    if guild is None or guild.mod_channel is None or message.author.bot:
        return False
    channel = guild.mod_channel
    tr = _tr(mctx)
    parsed = parse_command(message.content, mctx.config.command_prefix, tr=tr)
    if parsed is None:
        return False
    if isinstance(parsed, CommandError):
        await mctx.discord.post(ChannelID(channel), parsed.message)
        return True
    member = await mctx.discord.member(guild.id, message.author.id)
    if member is None or not discord_may_moderate(member.permissions, is_owner=member.is_owner):
        await mctx.discord.post(
            channel, tr._("Only members with Ban Members can use these commands.")
        )
        return True
    actor = f"discord:{message.author.id}"
    answer = await run(mctx, parsed, actor=actor, source="discord", where=guild.id, tr=tr)
    await mctx.discord.post(channel, answer)
    return True


def _tr(mctx: ModerationContext) -> Translator:
    """The configured language (Discord messages, unlike interactions, carry no locale)."""
    return mctx.tr


def _lookup_guilds(mctx: ModerationContext, where: GuildID | None) -> tuple[GuildID, ...]:
    """Whose members a name is looked up among: the command's guild, or every guild."""
    return (where,) if where is not None else all_guilds(mctx)


async def resolve(
    mctx: ModerationContext, raw: str, where: GuildID | None = None, tr: Translator | None = None
) -> Target | str:
    """The user a command names, or a sentence saying why it names nobody (or several)."""
    ref = classify_target(raw)
    if isinstance(ref, DiscordId):
        return ("discord", ref.user_id)
    if isinstance(ref, Mxid):
        ghost = mctx.namer.parse_ghost(ref.mxid)
        return ("discord", ghost) if ghost is not None else ("matrix", ref.mxid)
    guilds = _lookup_guilds(mctx, where)
    candidates = [
        Candidate("discord", int(m.id), m.names)
        for guild in guilds
        for m in await mctx.discord.members(guild)
    ]
    rooms = await portal_rooms(mctx, guilds if where is not None else None)
    for user in sorted(await portal_members(mctx, rooms)):
        names = [user, user[1:].split(":", 1)[0]]
        for room_id in rooms:
            name = await mctx.bridge.matrix.displayname(room_id, user)
            if name:
                names.append(name)
                break
        candidates.append(Candidate("matrix", user, tuple(names)))
    found = resolve_name(ref.name, candidates, tr)
    if isinstance(found, NotFound | Ambiguous):
        return found.message
    chosen = found.candidate
    if chosen.kind == "discord":
        return ("discord", DiscordUserID(int(chosen.id)))
    return ("matrix", UserID(str(chosen.id)))


async def run(
    mctx: ModerationContext,
    command: Command,
    *,
    actor: str,
    source: str,
    where: GuildID | None = None,
    tr: Translator | None = None,
) -> str:
    """Carry out a command made in guild ``where``'s moderators' channel (None: in the
    Matrix moderators' room); the answer, in ``tr``'s language (default: configured)."""
    tr = tr or _tr(mctx)
    if isinstance(command, Help):
        return help_text(mctx.config.command_prefix, tr)
    if isinstance(command, ListBans):
        return await _list_bans(mctx, where, tr)
    if isinstance(command, ListLists):
        return _list_lists(mctx, tr)
    if isinstance(command, RuleBan | RuleUnban):
        return await _rule(mctx, command, actor=actor, source=source, tr=tr)
    if isinstance(command, Lockdown):
        return await run_lockdown(mctx, command, actor=actor, source=source, tr=tr)
    target = await resolve(mctx, command.target, where, tr)
    if isinstance(target, str):
        return target
    how = {"actor": actor, "source": source, "where": where, "tr": tr}
    if isinstance(command, Ban):
        return await _ban(mctx, target, command.reason, **how)  # type: ignore[arg-type]
    if isinstance(command, Unban):
        return await _unban(mctx, target, command.reason, **how)  # type: ignore[arg-type]
    return await _kick(mctx, target, command.reason, **how)  # type: ignore[arg-type]


async def _everywhere(mctx: ModerationContext, guilds: tuple[GuildID, ...]) -> bool:
    return set(all_guilds(mctx)) <= set(guilds)


async def _guild_names(mctx: ModerationContext, guilds: tuple[GuildID, ...], tr: Translator) -> str:
    """``HQ, Nord and Yvelines`` (a list in ``tr``'s language)."""
    names = [await mctx.discord.guild_name(g) or tr._("guild {id}", id=g) for g in guilds]
    return tr.join(names)


async def _refuse_discord(
    mctx: ModerationContext,
    user_id: DiscordUserID,
    guilds: tuple[GuildID, ...],
    tr: Translator,
    *,
    kick: bool = False,
) -> str | None:
    if user_id == mctx.bridge.discord.own_user_id():
        return (
            tr._("The bridge cannot kick itself.")
            if kick
            else tr._("The bridge cannot ban itself.")
        )
    for guild in guilds:
        member = await mctx.discord.member(guild, user_id)
        if member is not None and discord_may_moderate(
            member.permissions, is_owner=member.is_owner
        ):
            if kick:
                return tr._(
                    "That Discord user is a moderator; moderators are not kicked by command."
                )
            return tr._("That Discord user is a moderator; moderators are not banned by command.")
    return None


async def _ban(
    mctx: ModerationContext,
    target: Target,
    reason: str,
    *,
    actor: str,
    source: str,
    where: GuildID | None,
    tr: Translator,
) -> str:
    kind, who = target
    guilds = scope(mctx, where)
    if kind == "discord":
        user_id = DiscordUserID(int(who))
        refusal = await _refuse_discord(mctx, user_id, guilds, tr)
        if refusal:
            return refusal
        await ban_discord_user(
            mctx,
            user_id,
            reason=reason,
            actor=actor,
            origin="command",
            source=source,
            where=where,
        )
        if await _everywhere(mctx, guilds):
            return tr._(
                "Banned Discord user {id} on Discord and in every bridged room.", id=user_id
            )
        return tr._(
            "Banned Discord user {id} on Discord and in the bridged rooms of {guilds}.",
            id=user_id,
            guilds=await _guild_names(mctx, guilds, tr),
        )
    if is_protected(mctx, str(who)):
        return tr._("{who} is a moderator or the bridge; they are not banned by command.", who=who)
    await ban_matrix_user(
        mctx,
        UserID(str(who)),
        reason=reason,
        actor=actor,
        origin="command",
        source=source,
        where=where,
    )
    if where is not None and len(all_guilds(mctx)) > 1 and mctx.config.ban_scope == "guild":
        if await _everywhere(mctx, guilds):
            return tr._(
                "Banned {who} from every bridged room; nothing of theirs reaches Discord "
                "there now.",
                who=who,
            )
        return tr._(
            "Banned {who} from the bridged rooms of {guilds}; nothing of theirs reaches "
            "Discord there now.",
            who=who,
            guilds=await _guild_names(mctx, guilds, tr),
        )
    return tr._(
        "Banned {who} from every bridged room; nothing of theirs reaches Discord now.", who=who
    )


async def _unban(
    mctx: ModerationContext,
    target: Target,
    reason: str,
    *,
    actor: str,
    source: str,
    where: GuildID | None,
    tr: Translator,
) -> str:
    kind, who = target
    guilds = scope(mctx, where)
    if kind == "discord":
        user_id = DiscordUserID(int(who))
        done = await unban_discord_user(
            mctx, user_id, reason=reason, actor=actor, source=source, where=where
        )
        if not done:  # not recorded (e.g. banned before the bridge): lift on Discord anyway
            for guild in guilds:
                await mctx.discord.unban(guild, user_id, f"{actor}: {reason}")
        return tr._("Unbanned Discord user {id} on both sides.", id=who)
    if not await unban_matrix_user(
        mctx, UserID(str(who)), reason=reason, actor=actor, source=source, where=where
    ):
        return tr._("{who} has no shared ban.", who=who)
    if await _everywhere(mctx, guilds):
        return tr._("Unbanned {who} in every bridged room.", who=who)
    return tr._(
        "Unbanned {who} in the bridged rooms of {guilds}.",
        who=who,
        guilds=await _guild_names(mctx, guilds, tr),
    )


async def _kick(
    mctx: ModerationContext,
    target: Target,
    reason: str,
    *,
    actor: str,
    source: str,
    where: GuildID | None,
    tr: Translator,
) -> str:
    """A kick acts where the command was made (the Matrix moderators' room: every
    guild), whatever ``ban_scope``: kicks leave no record to share."""
    kind, who = target
    guilds = _lookup_guilds(mctx, where)
    if kind == "discord":
        user_id = DiscordUserID(int(who))
        refusal = await _refuse_discord(mctx, user_id, guilds, tr, kick=True)
        if refusal:
            return refusal
        kicked = 0
        for guild in guilds:
            if len(guilds) > 1 and await mctx.discord.member(guild, user_id) is None:
                continue  # not in that guild: nothing to kick
            kicked += await mctx.discord.kick(
                guild, user_id, f"{actor}: {reason}" if reason else actor
            )
        outcome = tr._("kicked from the server") if kicked else tr._("could not kick")
        if len(guilds) > 1 and kicked:
            outcome = tr.ngettext("kicked from {n} server", "kicked from {n} servers", kicked)
    else:
        if is_protected(mctx, str(who)):
            return tr._(
                "{who} is a moderator or the bridge; they are not kicked by command.", who=who
            )
        rooms = 0
        for room_id in await portal_rooms(mctx, guilds):
            joined = await mctx.matrix.joined_members(room_id)
            if who in joined:
                rooms += await mctx.matrix.kick(room_id, UserID(str(who)), reason or "Kicked")
        outcome = tr.ngettext("kicked from {n} room", "kicked from {n} rooms", rooms)
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="kick",
        target=str(who),
        reason=reason,
        outcome=outcome,
        guild=where,
    )
    return tr._("{who}: {outcome}.", who=who, outcome=outcome)


async def _rule(
    mctx: ModerationContext,
    command: RuleBan | RuleUnban,
    *,
    actor: str,
    source: str,
    tr: Translator,
) -> str:
    room = mctx.state.policy_room
    if room is None:
        return tr._("The bridge has no policy list yet.")
    kind = rule_kind(command.entity)
    event_type = RULE_USER if kind == "user" else "m.policy.rule.server"
    key = rule_state_key(command.entity)
    if isinstance(command, RuleUnban):
        event_id = await mctx.matrix.set_state(room, event_type, key, {})
        await audit.record(
            mctx,
            source=source,
            actor=actor,
            action="rule-remove",
            target=command.entity,
            reason="",
            outcome=tr._("Rule removed from the bridge's list; the bans it caused are lifted."),
        )
        await carry_out(mctx, *await mirror_own_write(mctx, room, event_type, key, {}, event_id))
        return tr._("Removed the rule for {entity}.", entity=command.entity)
    refusal = check_rule(
        command,
        own_server=mctx.namer.server_name,
        bridge_ids=(
            mctx.namer.bot_mxid,
            bridge_namespace(mctx.namer.user_prefix, mctx.namer.server_name),
        ),
        moderators=mctx.config.moderators,
    )
    if refusal is not None:
        return tr._(refusal.template, **refusal.values)
    content = {"entity": command.entity, "recommendation": "m.ban", "reason": command.reason}
    event_id = await mctx.matrix.set_state(room, event_type, key, content)
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="rule-add",
        target=command.entity,
        reason=command.reason,
        outcome=tr._("Rule published in the bridge's list; it applies on both sides."),
    )
    # The echo of the bridge's own write changes nothing: apply the rule now.
    await carry_out(mctx, *await mirror_own_write(mctx, room, event_type, key, content, event_id))
    return tr._("Published a ban rule for {entity}.", entity=command.entity)


async def _list_bans(mctx: ModerationContext, where: GuildID | None, tr: Translator) -> str:
    """The shared bans (of the command's guild), each with the guilds it holds in when
    the bridge serves several."""
    rows = await mctx.stores.bans.all()
    if where is not None:
        rows = [r for r in rows if r.guild_id == where]
    several = len(all_guilds(mctx)) > 1
    held: dict[tuple[str, str], list[GuildID]] = {}
    first: dict[tuple[str, str], BanRow] = {}
    for row in rows:
        held.setdefault((row.side, row.target), []).append(row.guild_id)
        first.setdefault((row.side, row.target), row)
    if not first:
        return tr._("No shared bans.")
    lines = []
    for key, r in list(first.items())[:50]:
        who = tr._("Discord user {id}", id=r.target) if r.side == "discord" else r.target
        if r.reason:
            line = tr._(
                "- {who} by {moderator}: {reason}", who=who, moderator=r.moderator, reason=r.reason
            )
        else:
            line = tr._("- {who} by {moderator}", who=who, moderator=r.moderator)
        if several and where is None:
            line += " " + tr._(
                "(in {guilds})", guilds=await _guild_names(mctx, tuple(held[key]), tr)
            )
        lines.append(line)
    if len(first) > 50:
        lines.append(tr.ngettext("... and {n} more", "... and {n} more", len(first) - 50))
    header = tr.ngettext("{n} shared ban:", "{n} shared bans:", len(first))
    return header + "\n" + "\n".join(lines)


def _list_lists(mctx: ModerationContext, tr: Translator) -> str:
    counts: dict[str, int] = {}
    for rule in mctx.state.policy:
        counts[rule.source_room] = counts.get(rule.source_room, 0) + 1
    lines = [
        tr.ngettext(
            "- {name} ({room}): {n} rule",
            "- {name} ({room}): {n} rules",
            counts.get(room_id, 0),
            name=name,
            room=room_id,
        )
        for room_id, name in mctx.state.list_rooms.items()
    ]
    if not lines:
        return tr._("No policy lists.")
    return tr._("Policy lists followed:") + "\n" + "\n".join(lines)
