"""The moderation log: every action, from where, by whom, why, in which guild, and
what it did on each side. Stored in the ``mod_audit`` table and posted, in plain
words, to the Matrix moderators' room (every line) and to the moderators' channel of
the guild the line concerns (a line about no guild in particular, such as a policy
rule added, goes to every guild's channel). An action that applies in several guilds
writes one line per guild."""

from __future__ import annotations

import logging

from bridge.db import AuditEntry
from bridge.ids import GuildID
from moderation.context import ModerationContext

log = logging.getLogger(__name__)

ACTION_WORDS = {
    "ban": "banned",
    "unban": "unbanned",
    "kick": "kicked",
    "rule-add": "added a rule for",
    "rule-remove": "removed the rule for",
    "refused": "was refused for",
}


def describe(entry: AuditEntry, guild_name: str | None = None) -> str:
    """One line a moderator reads: who did what to whom (in which guild, when the
    bridge serves several), why, and the result."""
    verb = ACTION_WORDS.get(entry.action, entry.action)
    text = f"[{entry.source}] {entry.actor} {verb} {entry.target}"
    if guild_name:
        text += f" in {guild_name}"
    if entry.reason:
        text += f" (reason: {entry.reason})"
    return f"{text}. {entry.outcome}" if entry.outcome else text + "."


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
        name = await mctx.discord.guild_name(guild) or f"guild {guild}"
    line = describe(entry, name)
    if mctx.state.mod_room is not None:
        await mctx.matrix.notice(mctx.state.mod_room, line)
    for configured in guilds:
        if configured.mod_channel is not None and guild in (None, configured.id):
            await mctx.discord.post(configured.mod_channel, line)
    return entry
