"""REST: guild moderation: bans (single and bulk), kicks, and the role hierarchy.

As on Discord: banning needs BAN_MEMBERS, kicking KICK_MEMBERS; nobody may act
on themselves or on the guild owner, and a member may only act on members whose
highest role is strictly below their own (the owner may act on anyone). Each
refusal is ``403 {"code": 50013, "message": "Missing Permissions"}``.

A ban may delete the user's recent messages (``delete_message_seconds`` 0-604800,
or the legacy ``delete_message_days`` 0-7, in the JSON body or, as discord.py
sends it, the query string): every message of theirs in the guild's channels
and threads newer than the window is removed, with one MESSAGE_DELETE_BULK per
channel (MESSAGE_DELETE when only one message goes).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from sandbox.discord import audit, errors, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    ctx_of,
    current_user,
    guild_for,
    json_reply,
    no_content,
    read_json,
    snowflake_param,
)
from sandbox.discord.gateway import GUILD_MEMBERS, GUILD_MESSAGES, GUILD_MODERATION
from sandbox.discord.snowflake import DISCORD_EPOCH_MS
from sandbox.discord.state import Guild, User

MAX_DELETE_SECONDS = 7 * 24 * 3600
MAX_BULK_BAN = 200


def need_permission(ctx: Ctx, guild: Guild, user: User, needed: int) -> None:
    if not perms.has(ctx.state.guild_permissions(guild.id, user.id), needed):
        raise errors.missing_permissions()


def outranks(ctx: Ctx, guild: Guild, actor_id: str, target_id: str) -> bool:
    """May ``actor_id`` moderate ``target_id``? Discord's role hierarchy.

    Never yourself nor the owner; the owner may act on anyone else; otherwise the
    actor's highest role must be above the target's (a non-member target is fine).
    """
    if target_id in (actor_id, guild.owner_id):
        return False
    if actor_id == guild.owner_id or target_id not in guild.members:
        return True
    state = ctx.state
    return state.top_role_position(guild.id, actor_id) > state.top_role_position(
        guild.id, target_id
    )


def remove_member(ctx: Ctx, guild: Guild, user_id: str) -> bool:
    """Drop a member: GUILD_MEMBER_REMOVE to the guild, GUILD_DELETE to the user."""
    if guild.members.pop(user_id, None) is None:
        return False
    data = {"guild_id": guild.id, "user": payloads.user(ctx.state.users[user_id])}
    ctx.hub.dispatch_guild("GUILD_MEMBER_REMOVE", data, guild.id, GUILD_MEMBERS)
    ctx.hub.dispatch_user("GUILD_DELETE", {"id": guild.id}, user_id)
    return True


def delete_recent_messages(ctx: Ctx, guild: Guild, user_id: str, seconds: int) -> int:
    """Delete ``user_id``'s messages in the guild sent in the last ``seconds``; how many."""
    if seconds <= 0:
        return 0
    cutoff_ms = int(time.time() * 1000) - seconds * 1000
    state = ctx.state
    deleted = 0
    for channel in [c for c in state.channels.values() if c.guild_id == guild.id]:
        ids = [
            m["id"]
            for m in state.messages_in(channel.id)
            if m["author"]["id"] == user_id
            and not m.get("webhook_id")
            and (int(m["id"]) >> 22) + DISCORD_EPOCH_MS >= cutoff_ms
        ]
        for mid in ids:
            state.remove_message(mid)
        deleted += len(ids)
        if len(ids) == 1:
            data: dict[str, Any] = {"id": ids[0], "channel_id": channel.id, "guild_id": guild.id}
            ctx.hub.dispatch_channel("MESSAGE_DELETE", data, channel.id, GUILD_MESSAGES)
        elif ids:
            data = {"ids": ids, "channel_id": channel.id, "guild_id": guild.id}
            ctx.hub.dispatch_channel("MESSAGE_DELETE_BULK", data, channel.id, GUILD_MESSAGES)
    return deleted


def _bounded_int(raw: Any, name: str, high: int) -> int | None:
    """An optional integer option 0..high, from JSON or a query string (50035 otherwise)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = int(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", "Value is not int.")
    if not 0 <= raw <= high:
        raise errors.invalid_form(
            name, "NUMBER_TYPE_MAX", f"int value should be between 0 and {high}."
        )
    return raw


def delete_seconds(body: dict[str, Any], query: Any) -> int:
    """``delete_message_seconds`` (or legacy ``delete_message_days``), body before query."""
    seconds = _bounded_int(
        body.get("delete_message_seconds", query.get("delete_message_seconds")),
        "delete_message_seconds",
        MAX_DELETE_SECONDS,
    )
    if seconds is not None:
        return seconds
    days = _bounded_int(
        body.get("delete_message_days", query.get("delete_message_days")),
        "delete_message_days",
        7,
    )
    return (days or 0) * 24 * 3600


def ban(ctx: Ctx, guild: Guild, actor: User, uid: str, reason: str | None, seconds: int) -> None:
    """Ban ``uid`` (already checked): audit entry, GUILD_BAN_ADD, member removal, purge."""
    if uid in guild.bans:  # Discord answers 204 and changes nothing
        return
    guild.bans[uid] = reason
    audit.record(ctx, guild, audit.MEMBER_BAN_ADD, user_id=actor.id, target_id=uid, reason=reason)
    data = {"guild_id": guild.id, "user": payloads.user(ctx.state.users[uid])}
    ctx.hub.dispatch_guild("GUILD_BAN_ADD", data, guild.id, GUILD_MODERATION)
    remove_member(ctx, guild, uid)
    delete_recent_messages(ctx, guild, uid, seconds)


# -- handlers --------------------------------------------------------------------------


def _ban_entry(ctx: Ctx, guild: Guild, uid: str) -> dict[str, Any]:
    return {"user": payloads.user(ctx.state.users[uid]), "reason": guild.bans[uid]}


def _query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
    return int(raw)


async def list_bans(request: web.Request) -> web.Response:
    """``GET /guilds/{id}/bans?limit&before&after``: ascending by user id, like Discord."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    need_permission(ctx, guild, user, perms.BAN_MEMBERS)
    limit = _bounded_int(request.query.get("limit"), "limit", 1000)
    if limit == 0:
        raise errors.invalid_form("limit", "NUMBER_TYPE_MIN", "int value should be at least 1.")
    limit = limit or 1000
    before, after = _query_id(request, "before"), _query_id(request, "after")
    ids = sorted(guild.bans, key=int)
    if after is not None:
        ids = [u for u in ids if int(u) > after]
    if before is not None:
        ids = [u for u in ids if int(u) < before]
        chosen = ids[-limit:] if after is None else ids[:limit]
    else:
        chosen = ids[:limit]
    return json_reply([_ban_entry(ctx, guild, u) for u in chosen])


async def get_ban(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    need_permission(ctx, guild, user, perms.BAN_MEMBERS)
    uid = snowflake_param(request, "user_id", errors.unknown_ban())
    if uid not in guild.bans:
        raise errors.unknown_ban()
    return json_reply(_ban_entry(ctx, guild, uid))


async def put_ban(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    need_permission(ctx, guild, user, perms.BAN_MEMBERS)
    seconds = delete_seconds(await read_json(request), request.query)
    uid = snowflake_param(request, "user_id", errors.unknown_user())
    if uid not in ctx.state.users:
        raise errors.unknown_user()
    if not outranks(ctx, guild, user.id, uid):
        raise errors.missing_permissions()
    ban(ctx, guild, user, uid, audit.reason_of(request), seconds)
    return no_content()


async def bulk_ban(request: web.Request) -> web.Response:
    """``POST /guilds/{id}/bulk-ban``: up to 200 users (BAN_MEMBERS and MANAGE_GUILD).

    Users who cannot be banned (unknown, yourself, the owner, above you, already
    banned) are listed in ``failed_users``; when nobody could be banned Discord
    answers 500000 "Failed to ban users".
    """
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    need_permission(ctx, guild, user, perms.BAN_MEMBERS | perms.MANAGE_GUILD)
    body = await read_json(request)
    raw_ids = body.get("user_ids")
    if not isinstance(raw_ids, list) or not 1 <= len(raw_ids) <= MAX_BULK_BAN:
        raise errors.invalid_form(
            "user_ids", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_BULK_BAN} in length."
        )
    if not all(isinstance(i, str | int) and str(i).isdigit() for i in raw_ids):
        raise errors.invalid_form("user_ids", "NUMBER_TYPE_COERCE", "Value is not snowflake.")
    seconds = delete_seconds({"delete_message_seconds": body.get("delete_message_seconds")}, {})
    reason = audit.reason_of(request)
    banned: list[str] = []
    failed: list[str] = []
    for uid in dict.fromkeys(str(int(i)) for i in raw_ids):
        ok = uid in ctx.state.users and uid not in guild.bans and outranks(ctx, guild, user.id, uid)
        if ok:
            ban(ctx, guild, user, uid, reason, seconds)
            banned.append(uid)
        else:
            failed.append(uid)
    if not banned:
        raise errors.ApiError(403, 500000, "Failed to ban users")
    return json_reply({"banned_users": banned, "failed_users": failed})


async def delete_ban(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    need_permission(ctx, guild, user, perms.BAN_MEMBERS)
    uid = snowflake_param(request, "user_id", errors.unknown_ban())
    if uid not in guild.bans:
        raise errors.unknown_ban()
    del guild.bans[uid]
    audit.record(
        ctx,
        guild,
        audit.MEMBER_BAN_REMOVE,
        user_id=user.id,
        target_id=uid,
        reason=audit.reason_of(request),
    )
    data = {"guild_id": guild.id, "user": payloads.user(ctx.state.users[uid])}
    ctx.hub.dispatch_guild("GUILD_BAN_REMOVE", data, guild.id, GUILD_MODERATION)
    return no_content()


async def kick_member(request: web.Request) -> web.Response:
    """``DELETE /guilds/{id}/members/{user}``: KICK_MEMBERS and the role hierarchy."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    uid = snowflake_param(request, "user_id", errors.unknown_member())
    if uid not in guild.members:
        raise errors.unknown_user() if uid not in ctx.state.users else errors.unknown_member()
    need_permission(ctx, guild, user, perms.KICK_MEMBERS)
    if not outranks(ctx, guild, user.id, uid):
        raise errors.missing_permissions()
    audit.record(
        ctx,
        guild,
        audit.MEMBER_KICK,
        user_id=user.id,
        target_id=uid,
        reason=audit.reason_of(request),
    )
    remove_member(ctx, guild, uid)
    return no_content()
