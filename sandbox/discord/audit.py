"""The guild audit log: entries recorded by moderation actions, ``GET
/guilds/{id}/audit-logs`` and the GUILD_AUDIT_LOG_ENTRY_CREATE dispatch.

Entries are kept per guild, oldest first, shaped like the spec's
``AuditLogEntryResponse``: ``id`` (a snowflake), ``action_type``, ``user_id``
(who acted), ``target_id``, optional ``reason`` (the ``X-Audit-Log-Reason``
header, percent-decoded as discord.py percent-encodes it), ``changes`` and
``options`` (string values, as Discord sends them).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import Ctx, ctx_of, current_user, guild_for, int_query, json_reply
from sandbox.discord.gateway import GUILD_MODERATION
from sandbox.discord.state import Guild

# Discord's audit log action types (the ones the emulator records).
GUILD_UPDATE = 1
CHANNEL_CREATE = 10
CHANNEL_UPDATE = 11
CHANNEL_DELETE = 12
CHANNEL_OVERWRITE_CREATE = 13
CHANNEL_OVERWRITE_UPDATE = 14
CHANNEL_OVERWRITE_DELETE = 15
MEMBER_KICK = 20
MEMBER_BAN_ADD = 22
MEMBER_BAN_REMOVE = 23
MEMBER_UPDATE = 24
MEMBER_ROLE_UPDATE = 25
ROLE_CREATE = 30
ROLE_UPDATE = 31
ROLE_DELETE = 32
MESSAGE_DELETE = 72
MESSAGE_BULK_DELETE = 73

MAX_REASON = 512
DEFAULT_LIMIT = 50


def reason_of(request: web.Request) -> str | None:
    """The request's ``X-Audit-Log-Reason``, percent-decoded; None when absent or blank."""
    raw = request.headers.get("X-Audit-Log-Reason")
    if raw is None:
        return None
    text = unquote(raw).strip()
    return text[:MAX_REASON] or None


def record(
    ctx: Ctx,
    guild: Guild,
    action_type: int,
    *,
    user_id: str | None,
    target_id: str | None,
    reason: str | None = None,
    changes: list[dict[str, Any]] | None = None,
    options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Add an entry to ``guild``'s audit log and dispatch GUILD_AUDIT_LOG_ENTRY_CREATE.

    Like Discord, the dispatch goes to sessions with the GUILD_MODERATION intent
    whose user may VIEW_AUDIT_LOG in the guild.
    """
    entry: dict[str, Any] = {
        "id": ctx.state.ids.next_str(),
        "action_type": action_type,
        "user_id": user_id,
        "target_id": target_id,
    }
    if changes:
        entry["changes"] = changes
    if options:
        entry["options"] = options
    if reason is not None:
        entry["reason"] = reason
    ctx.state.audit_logs.setdefault(guild.id, []).append(entry)
    ctx.hub.dispatch_guild_permitted(
        "GUILD_AUDIT_LOG_ENTRY_CREATE",
        {**entry, "guild_id": guild.id},
        guild.id,
        GUILD_MODERATION,
        perms.VIEW_AUDIT_LOG,
    )
    return entry


def _snowflake_query(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
    return int(raw)


def select(
    entries: list[dict[str, Any]],
    *,
    user_id: int | None = None,
    target_id: int | None = None,
    action_type: int | None = None,
    before: int | None = None,
    after: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """Filter a guild's entries (kept oldest first) the way Discord pages them.

    Newest first; with ``after`` and no ``before``, the ``limit`` entries right after
    ``after``, oldest first (what discord.py's ``oldest_first`` paging expects).
    """
    chosen = [
        e
        for e in entries
        if (user_id is None or e["user_id"] == str(user_id))
        and (target_id is None or e["target_id"] == str(target_id))
        and (action_type is None or e["action_type"] == action_type)
        and (before is None or int(e["id"]) < before)
        and (after is None or int(e["id"]) > after)
    ]
    if after is not None and before is None:
        return chosen[:limit]
    return list(reversed(chosen))[:limit]


async def list_audit_log(request: web.Request) -> web.Response:
    """``GET /guilds/{id}/audit-logs`` (needs VIEW_AUDIT_LOG)."""
    state = ctx_of(request).state
    user = current_user(request)
    guild = guild_for(request, user)
    if not perms.has(state.guild_permissions(guild.id, user.id), perms.VIEW_AUDIT_LOG):
        raise errors.missing_permissions()
    action = int_query(request, "action_type", 0, 0, 1 << 31)
    entries = select(
        state.audit_logs.get(guild.id, []),
        user_id=_snowflake_query(request, "user_id"),
        target_id=_snowflake_query(request, "target_id"),
        action_type=action or None,
        before=_snowflake_query(request, "before"),
        after=_snowflake_query(request, "after"),
        limit=int_query(request, "limit", DEFAULT_LIMIT, 1, 100),
    )
    user_ids: dict[str, None] = {}
    for e in entries:
        for uid in (e["user_id"], e["target_id"]):
            if uid is not None and uid in state.users:
                user_ids[uid] = None
    return json_reply(
        {
            "audit_log_entries": entries,
            "users": [payloads.user(state.users[u]) for u in user_ids],
            "integrations": [],
            "webhooks": [],
            "guild_scheduled_events": [],
            "threads": [],
            "application_commands": [],
            "auto_moderation_rules": [],
        }
    )
