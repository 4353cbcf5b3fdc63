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
    parsed = parse_command(body, mctx.config.command_prefix, formatted_body=html)
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
        await mctx.matrix.notice(room_id, "Only moderators can use moderation commands.")
        return True
    await mctx.matrix.notice(room_id, await run(mctx, parsed, actor=sender, source="matrix"))
    return True


async def on_discord_message(mctx: ModerationContext, message: DiscordMessage) -> bool:
    """A message in the moderators' channel; True when it was a command (answered)."""
    guild = mctx.bridge.config.discord.mod_channel_guild(message.channel_id)
    if guild is None or guild.mod_channel is None or message.author.bot:
        return False
    channel = guild.mod_channel
    parsed = parse_command(message.content, mctx.config.command_prefix)
    if parsed is None:
        return False
    if isinstance(parsed, CommandError):
        await mctx.discord.post(ChannelID(channel), parsed.message)
        return True
    member = await mctx.discord.member(guild.id, message.author.id)
    if member is None or not discord_may_moderate(member.permissions, is_owner=member.is_owner):
        await mctx.discord.post(channel, "Only members with Ban Members can use these commands.")
        return True
    actor = f"discord:{message.author.id}"
    answer = await run(mctx, parsed, actor=actor, source="discord", where=guild.id)
    await mctx.discord.post(channel, answer)
    return True


def _lookup_guilds(mctx: ModerationContext, where: GuildID | None) -> tuple[GuildID, ...]:
    """Whose members a name is looked up among: the command's guild, or every guild."""
    return (where,) if where is not None else all_guilds(mctx)


async def resolve(mctx: ModerationContext, raw: str, where: GuildID | None = None) -> Target | str:
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
    found = resolve_name(ref.name, candidates)
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
) -> str:
    """Carry out a command made in guild ``where``'s moderators' channel (None: in the
    Matrix moderators' room); the answer."""
    if isinstance(command, Help):
        return help_text(mctx.config.command_prefix)
    if isinstance(command, ListBans):
        return await _list_bans(mctx, where)
    if isinstance(command, ListLists):
        return _list_lists(mctx)
    if isinstance(command, RuleBan | RuleUnban):
        return await _rule(mctx, command, actor=actor, source=source)
    target = await resolve(mctx, command.target, where)
    if isinstance(target, str):
        return target
    if isinstance(command, Ban):
        return await _ban(mctx, target, command.reason, actor=actor, source=source, where=where)
    if isinstance(command, Unban):
        return await _unban(mctx, target, command.reason, actor=actor, source=source, where=where)
    return await _kick(mctx, target, command.reason, actor=actor, source=source, where=where)


async def _where_words(mctx: ModerationContext, guilds: tuple[GuildID, ...]) -> str:
    """'every bridged room' when the action holds in every guild, else the guilds."""
    if set(all_guilds(mctx)) <= set(guilds):
        return "every bridged room"
    names = [await mctx.discord.guild_name(g) or f"guild {g}" for g in guilds]
    return "the bridged rooms of " + ", ".join(names)


async def _refuse_discord(
    mctx: ModerationContext, user_id: DiscordUserID, guilds: tuple[GuildID, ...]
) -> str | None:
    if user_id == mctx.bridge.discord.own_user_id():
        return "The bridge cannot ban itself."
    for guild in guilds:
        member = await mctx.discord.member(guild, user_id)
        if member is not None and discord_may_moderate(
            member.permissions, is_owner=member.is_owner
        ):
            return "That Discord user is a moderator; moderators are not banned by command."
    return None


async def _ban(
    mctx: ModerationContext,
    target: Target,
    reason: str,
    *,
    actor: str,
    source: str,
    where: GuildID | None,
) -> str:
    kind, who = target
    guilds = scope(mctx, where)
    if kind == "discord":
        user_id = DiscordUserID(int(who))
        refusal = await _refuse_discord(mctx, user_id, guilds)
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
        return (
            f"Banned Discord user {user_id} on Discord and in {await _where_words(mctx, guilds)}."
        )
    if is_protected(mctx, str(who)):
        return f"{who} is a moderator or the bridge; they are not banned by command."
    await ban_matrix_user(
        mctx,
        UserID(str(who)),
        reason=reason,
        actor=actor,
        origin="command",
        source=source,
        where=where,
    )
    return (
        f"Banned {who} from {await _where_words(mctx, guilds)}; "
        "nothing of theirs reaches Discord there now."
        if where is not None and len(all_guilds(mctx)) > 1 and mctx.config.ban_scope == "guild"
        else f"Banned {who} from every bridged room; nothing of theirs reaches Discord now."
    )


async def _unban(
    mctx: ModerationContext,
    target: Target,
    reason: str,
    *,
    actor: str,
    source: str,
    where: GuildID | None,
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
        return f"Unbanned Discord user {who} on both sides."
    if not await unban_matrix_user(
        mctx, UserID(str(who)), reason=reason, actor=actor, source=source, where=where
    ):
        return f"{who} has no shared ban."
    return f"Unbanned {who} in {await _where_words(mctx, guilds)}."


async def _kick(
    mctx: ModerationContext,
    target: Target,
    reason: str,
    *,
    actor: str,
    source: str,
    where: GuildID | None,
) -> str:
    """A kick acts where the command was made (the Matrix moderators' room: every
    guild), whatever ``ban_scope``: kicks leave no record to share."""
    kind, who = target
    guilds = _lookup_guilds(mctx, where)
    if kind == "discord":
        user_id = DiscordUserID(int(who))
        refusal = await _refuse_discord(mctx, user_id, guilds)
        if refusal:
            return refusal.replace("banned", "kicked")
        kicked = 0
        for guild in guilds:
            if len(guilds) > 1 and await mctx.discord.member(guild, user_id) is None:
                continue  # not in that guild: nothing to kick
            kicked += await mctx.discord.kick(
                guild, user_id, f"{actor}: {reason}" if reason else actor
            )
        outcome = "kicked from the server" if kicked else "could not kick"
        if len(guilds) > 1 and kicked:
            outcome = f"kicked from {kicked} server(s)"
    else:
        if is_protected(mctx, str(who)):
            return f"{who} is a moderator or the bridge; they are not kicked by command."
        rooms = 0
        for room_id in await portal_rooms(mctx, guilds):
            joined = await mctx.matrix.joined_members(room_id)
            if who in joined:
                rooms += await mctx.matrix.kick(room_id, UserID(str(who)), reason or "Kicked")
        outcome = f"kicked from {rooms} room(s)"
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
    return f"{who}: {outcome}."


async def _rule(
    mctx: ModerationContext, command: RuleBan | RuleUnban, *, actor: str, source: str
) -> str:
    room = mctx.state.policy_room
    if room is None:
        return "The bridge has no policy list yet."
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
            outcome="Rule removed from the bridge's list; the bans it caused are lifted.",
        )
        await carry_out(mctx, *await mirror_own_write(mctx, room, event_type, key, {}, event_id))
        return f"Removed the rule for {command.entity}."
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
        return refusal.message
    content = {"entity": command.entity, "recommendation": "m.ban", "reason": command.reason}
    event_id = await mctx.matrix.set_state(room, event_type, key, content)
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="rule-add",
        target=command.entity,
        reason=command.reason,
        outcome="Rule published in the bridge's list; it applies on both sides.",
    )
    # The echo of the bridge's own write changes nothing: apply the rule now.
    await carry_out(mctx, *await mirror_own_write(mctx, room, event_type, key, content, event_id))
    return f"Published a ban rule for {command.entity}."


async def _list_bans(mctx: ModerationContext, where: GuildID | None) -> str:
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
        return "No shared bans."
    lines = []
    for key, r in list(first.items())[:50]:
        line = (
            f"- {'Discord user ' + r.target if r.side == 'discord' else r.target}"
            f" by {r.moderator}{': ' + r.reason if r.reason else ''}"
        )
        if several and where is None:
            names = [await mctx.discord.guild_name(g) or f"guild {g}" for g in held[key]]
            line += " (in " + ", ".join(names) + ")"
        lines.append(line)
    more = f"\n... and {len(first) - 50} more" if len(first) > 50 else ""
    return f"{len(first)} shared ban(s):\n" + "\n".join(lines) + more


def _list_lists(mctx: ModerationContext) -> str:
    counts: dict[str, int] = {}
    for rule in mctx.state.policy:
        counts[rule.source_room] = counts.get(rule.source_room, 0) + 1
    lines = [
        f"- {name} ({room_id}): {counts.get(room_id, 0)} rule(s)"
        for room_id, name in mctx.state.list_rooms.items()
    ]
    return "Policy lists followed:\n" + "\n".join(lines) if lines else "No policy lists."
