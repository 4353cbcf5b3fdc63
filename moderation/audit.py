"""The moderation log: every action, from where, by whom, why, in which guild, and
what it did on each side. Stored in the ``mod_audit`` table and posted, in plain
words, to the Matrix moderators' room (every line) and to the moderators' channel of
the guild the line concerns (a line about no guild in particular, such as a policy
rule added, goes to every guild's channel). An action that applies in several guilds
writes one line per guild."""

from __future__ import annotations

import logging

from bridge.db import AuditEntry
from bridge.i18n import N_, Translator, translator
from bridge.ids import GuildID
from moderation.context import ModerationContext

log = logging.getLogger(__name__)

# One whole sentence per action, with and without the guild it happened in.
_SENTENCES: dict[str, tuple[str, str]] = {
    "ban": (
        N_("[{source}] {actor} banned {target}."),
        N_("[{source}] {actor} banned {target} in {guild}."),
    ),
    "unban": (
        N_("[{source}] {actor} unbanned {target}."),
        N_("[{source}] {actor} unbanned {target} in {guild}."),
    ),
    "kick": (
        N_("[{source}] {actor} kicked {target}."),
        N_("[{source}] {actor} kicked {target} in {guild}."),
    ),
    "rule-add": (
        N_("[{source}] {actor} added a rule for {target}."),
        N_("[{source}] {actor} added a rule for {target} in {guild}."),
    ),
    "rule-remove": (
        N_("[{source}] {actor} removed the rule for {target}."),
        N_("[{source}] {actor} removed the rule for {target} in {guild}."),
    ),
    # The protections (moderation.protections): {actor} is the protection's name.
    "protect-hold": (
        N_("[{source}] The {actor} protection held a message from {target}."),
        N_("[{source}] The {actor} protection held a message from {target} in {guild}."),
    ),
    "protect-redact": (
        N_("[{source}] The {actor} protection deleted a message from {target} on both sides."),
        N_(
            "[{source}] The {actor} protection deleted a message from {target} on both sides, "
            "in {guild}."
        ),
    ),
    "protect-timeout": (
        N_("[{source}] The {actor} protection timed out {target} on Discord."),
        N_("[{source}] The {actor} protection timed out {target} on Discord, in {guild}."),
    ),
    "protect-mute": (
        N_("[{source}] The {actor} protection muted {target} in the bridged rooms."),
        N_("[{source}] The {actor} protection muted {target} in the bridged rooms of {guild}."),
    ),
    "protect-ban": (
        N_("[{source}] The {actor} protection banned {target}."),
        N_("[{source}] The {actor} protection banned {target} in {guild}."),
    ),
    "protect-on": (
        N_("[{source}] {actor} switched the {target} protection on."),
        N_("[{source}] {actor} switched the {target} protection on in {guild}."),
    ),
    "protect-off": (
        N_("[{source}] {actor} switched the {target} protection off."),
        N_("[{source}] {actor} switched the {target} protection off in {guild}."),
    ),
    "protect-unmute": (
        N_("[{source}] {actor} let {target} write again."),
        N_("[{source}] {actor} let {target} write again in {guild}."),
    ),
    "lockdown-on": (
        N_("[{source}] {actor} turned lockdown on."),
        N_("[{source}] {actor} turned lockdown on in {guild}."),
    ),
    "join-alert": (
        N_("[{source}] {actor}: many people are joining at once."),
        N_("[{source}] {actor}: many people are joining {guild} at once."),
    ),
    "lockdown-off": (
        N_("[{source}] {actor} lifted the lockdown."),
        N_("[{source}] {actor} lifted the lockdown in {guild}."),
    ),
    "refused": (
        N_("[{source}] {actor} was refused for {target}."),
        N_("[{source}] {actor} was refused for {target} in {guild}."),
    ),
}


def describe(entry: AuditEntry, guild_name: str | None = None, tr: Translator | None = None) -> str:
    """One line a moderator reads: who did what to whom (in which guild, when the
    bridge serves several), why, and the result (stored already in words)."""
    tr = tr or translator()
    values = {"source": entry.source, "actor": entry.actor, "target": entry.target}
    plain, in_guild = _SENTENCES.get(entry.action, ("", ""))
    if not plain:  # an action without words of its own: shown as it is
        text = f"[{entry.source}] {entry.actor} {entry.action} {entry.target}."
    elif guild_name:
        text = tr._(in_guild, guild=guild_name, **values)
    else:
        text = tr._(plain, **values)
    if entry.reason:
        text += " " + tr._("Reason: {reason}.", reason=entry.reason)
    return f"{text} {entry.outcome}" if entry.outcome else text


async def record(
    mctx: ModerationContext,
    *,
    source: str,
    actor: str,
    action: str,
    target: str,
    reason: str,
    outcome: str,
    guild: GuildID | None = None,
) -> AuditEntry:
    entry = AuditEntry(source, actor, action, target, reason, outcome, guild_id=guild)
    entry_id = await mctx.stores.audit.add(entry)
    log.info(
        "moderation.audit id=%s source=%s action=%s target=%s guild=%s",
        entry_id,
        source,
        action,
        target,
        guild,
    )
    guilds = mctx.bridge.config.discord.guilds
    name = None
    if guild is not None and len(guilds) > 1:
        name = await mctx.discord.guild_name(guild) or mctx.tr._("guild {id}", id=guild)
    line = describe(entry, name, mctx.tr)
    if mctx.state.mod_room is not None:
        await mctx.matrix.notice(mctx.state.mod_room, line)
    for configured in guilds:
        if configured.mod_channel is not None and guild in (None, configured.id):
            await mctx.discord.post(configured.mod_channel, line)
    return entry
