"""The moderation log: every action, from where, by whom, why, and what it did on
each side. Stored in the ``mod_audit`` table and posted, in plain words, to the
moderators' room and channel."""

from __future__ import annotations

import logging

from bridge.db import AuditEntry
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


def describe(entry: AuditEntry) -> str:
    """One line a moderator reads: who did what to whom, why, and the result."""
    verb = ACTION_WORDS.get(entry.action, entry.action)
    text = f"[{entry.source}] {entry.actor} {verb} {entry.target}"
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
) -> AuditEntry:
    entry = AuditEntry(source, actor, action, target, reason, outcome)
    entry_id = await mctx.stores.audit.add(entry)
    log.info(
        "moderation.audit id=%s source=%s action=%s target=%s", entry_id, source, action, target
    )
    line = describe(entry)
    if mctx.state.mod_room is not None:
        await mctx.matrix.notice(mctx.state.mod_room, line)
    for guild in mctx.bridge.config.discord.guilds:
        if guild.mod_channel is not None:
            await mctx.discord.post(guild.mod_channel, line)
    return entry
