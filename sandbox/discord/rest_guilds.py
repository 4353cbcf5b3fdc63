"""REST: guilds (settings, icon) and members (nicknames, roles). Channels:
rest_channels.py; roles: rest_roles.py; bans and kicks: rest_moderation.py."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import secrets
from typing import Any

from aiohttp import web

from sandbox.discord import audit, errors, payloads, rest_moderation
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
from sandbox.discord.gateway import GUILD_MEMBERS, GUILDS
from sandbox.discord.png import image_size
from sandbox.discord.state import Attachment, Guild, Member, User

log = logging.getLogger(__name__)

IMAGE_DATA = re.compile(r"data:(image/(?:png|jpeg|gif));base64,(.*)", re.DOTALL)
MAX_ICON = 10 * 1024 * 1024
# Guild attribute -> audit log change key (Discord logs the icon as icon_hash).
GUILD_AUDIT_KEYS = {
    "name": "name",
    "description": "description",
    "icon": "icon_hash",
    "verification_level": "verification_level",
}


def _need_guild(request: web.Request, guild: Guild, user: User, needed: int) -> None:
    if not perms.has(ctx_of(request).state.guild_permissions(guild.id, user.id), needed):
        raise errors.missing_permissions()


def _member_of(request: web.Request, guild: Guild) -> Member:
    uid = snowflake_param(request, "user_id", errors.unknown_member())
    member = guild.members.get(uid)
    if member is None:
        if uid not in ctx_of(request).state.users:
            raise errors.unknown_user()
        raise errors.unknown_member()
    return member


async def get_guild(request: web.Request) -> web.Response:
    guild = guild_for(request, current_user(request))
    return json_reply(payloads.guild(ctx_of(request).state, guild))


# -- guild settings ----------------------------------------------------------------------


def _icon(ctx: Ctx, guild: Guild, value: Any) -> str | None:
    """An icon given as image data (``data:image/png;base64,...``): stored for the CDN
    under a new hash. None removes the icon."""
    if value is None:
        return None
    found = IMAGE_DATA.fullmatch(value) if isinstance(value, str) else None
    try:
        data = base64.b64decode(found.group(2), validate=True) if found else b""
    except (binascii.Error, ValueError):
        data = b""
    if not data or len(data) > MAX_ICON or image_size(data) is None:
        raise errors.invalid_form("icon", "IMAGE_INVALID", "Invalid image data")
    assert found is not None
    digest = hashlib.md5(data + guild.id.encode(), usedforsecurity=False).hexdigest()
    ctx.state.guild_icons[f"{guild.id}/{digest}"] = Attachment(data, found.group(1))
    return digest


def drawn_icon(guild: Guild) -> str:
    """A new icon hash with no uploaded image: the CDN draws one (a new picture)."""
    return hashlib.md5(
        f"icon:{guild.id}:{secrets.token_hex(4)}".encode(), usedforsecurity=False
    ).hexdigest()


def guild_fields(ctx: Ctx, guild: Guild, body: dict[str, Any]) -> dict[str, Any]:
    """A ``PATCH /guilds/{id}`` body as the Guild attributes to set: name (2-100),
    description (0-300; empty clears it), icon (image data or null), verification_level
    (0-4)."""
    out: dict[str, Any] = {}
    if body.get("name") is not None:
        name = body["name"]
        if not isinstance(name, str) or not 2 <= len(name.strip()) <= 100:
            raise errors.invalid_form(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
            )
        out["name"] = name.strip()
    if "description" in body:
        text = body["description"]
        if text is not None and (not isinstance(text, str) or len(text) > 300):
            raise errors.invalid_form(
                "description", "BASE_TYPE_MAX_LENGTH", "Must be 300 or fewer in length."
            )
        out["description"] = text or None
    if "icon" in body:
        out["icon"] = _icon(ctx, guild, body["icon"])
    if body.get("verification_level") is not None:
        level = body["verification_level"]
        if isinstance(level, bool) or level not in (0, 1, 2, 3, 4):
            raise errors.invalid_form(
                "verification_level", "BASE_TYPE_CHOICES", "Value must be one of {0, 1, 2, 3, 4}."
            )
        out["verification_level"] = level
    return out


def apply_guild(ctx: Ctx, guild: Guild, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set guild attributes; GUILD_UPDATE to its members when something changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for key, value in values.items():
        old = getattr(guild, key)
        if old != value:
            changed[key] = (old, value)
            setattr(guild, key, value)
    if changed:
        data = payloads.guild_update(ctx.state, guild)
        ctx.hub.dispatch_guild("GUILD_UPDATE", data, guild.id, GUILDS)
        log.info("guild updated id=%s changed=%s", guild.id, ",".join(changed))
    return changed


async def patch_guild(request: web.Request) -> web.Response:
    """``PATCH /guilds/{id}`` (MANAGE_GUILD): GUILD_UPDATE and a GUILD_UPDATE (1) audit
    entry; answers the guild (GuildResponse)."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    _need_guild(request, guild, user, perms.MANAGE_GUILD)
    changed = apply_guild(ctx, guild, guild_fields(ctx, guild, await read_json(request)))
    if changed:
        changes = []
        for key, (old, new) in changed.items():
            change: dict[str, Any] = {"key": GUILD_AUDIT_KEYS[key]}
            if old is not None:
                change["old_value"] = old
            if new is not None:
                change["new_value"] = new
            changes.append(change)
        audit.record(
            ctx,
            guild,
            audit.GUILD_UPDATE,
            user_id=user.id,
            target_id=guild.id,
            reason=audit.reason_of(request),
            changes=changes,
        )
    return json_reply(payloads.guild_update(ctx.state, guild))


async def list_emojis(request: web.Request) -> web.Response:
    guild = guild_for(request, current_user(request))
    return json_reply([payloads.emoji(e) for e in guild.emojis.values()])


async def list_members(request: web.Request) -> web.Response:
    state = ctx_of(request).state
    guild = guild_for(request, current_user(request))
    try:
        limit = int(request.query.get("limit", "1"))
        after = int(request.query.get("after", "0"))
    except ValueError as exc:
        raise errors.invalid_form("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from exc
    if not 1 <= limit <= 1000:
        raise errors.invalid_form(
            "limit", "NUMBER_TYPE_MAX", "int value should be between 1 and 1000."
        )
    members = sorted(guild.members.values(), key=lambda m: int(m.user_id))
    chosen = [m for m in members if int(m.user_id) > after][:limit]
    return json_reply([payloads.member(state, m) for m in chosen])


async def get_member(request: web.Request) -> web.Response:
    guild = guild_for(request, current_user(request))
    return json_reply(payloads.member(ctx_of(request).state, _member_of(request, guild)))


def _member_updated(request: web.Request, guild: Guild, member: Member) -> None:
    ctx = ctx_of(request)
    data = {**payloads.member(ctx.state, member), "guild_id": guild.id}
    ctx.hub.dispatch_guild("GUILD_MEMBER_UPDATE", data, guild.id, GUILD_MEMBERS)


async def patch_member(request: web.Request) -> web.Response:
    user = current_user(request)
    guild = guild_for(request, user)
    member = _member_of(request, guild)
    body = await read_json(request)
    nick = member.nick
    if "nick" in body:
        needed = perms.MANAGE_NICKNAMES if member.user_id != user.id else 1 << 26
        _need_guild(request, guild, user, needed)
        if member.user_id != user.id and not _outranks(request, guild, user, member):
            raise errors.missing_permissions()
        nick = body["nick"]
        if nick is not None and (not isinstance(nick, str) or len(nick) > 32):
            raise errors.invalid_form(
                "nick", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        nick = nick or None
    roles = member.roles
    if "roles" in body and body["roles"] is not None:
        _need_guild(request, guild, user, perms.MANAGE_ROLES)
        roles = list(dict.fromkeys(str(r) for r in body["roles"]))
        for r in roles:
            if r not in guild.roles or r == guild.id:
                raise errors.unknown_role()
        _may_assign(request, guild, user, set(roles) ^ set(member.roles))
    reason = audit.reason_of(request)
    if nick != member.nick:
        change = {"key": "nick", "old_value": member.nick, "new_value": nick}
        member.nick = nick
        _audit_member(request, guild, user.id, member, audit.MEMBER_UPDATE, [change], reason)
    _record_role_changes(request, guild, user.id, member, roles, reason)
    _member_updated(request, guild, member)
    return json_reply(payloads.member(ctx_of(request).state, member))


async def put_member_role(request: web.Request) -> web.Response:
    return _change_role(request, add=True)


async def delete_member_role(request: web.Request) -> web.Response:
    return _change_role(request, add=False)


def _change_role(request: web.Request, *, add: bool) -> web.Response:
    user = current_user(request)
    guild = guild_for(request, user)
    member = _member_of(request, guild)
    _need_guild(request, guild, user, perms.MANAGE_ROLES)
    role_id = snowflake_param(request, "role_id", errors.unknown_role())
    if role_id not in guild.roles or role_id == guild.id:
        raise errors.unknown_role()
    _may_assign(request, guild, user, {role_id})
    if add:
        roles = [*member.roles, role_id] if role_id not in member.roles else member.roles
    else:
        roles = [r for r in member.roles if r != role_id]
    _record_role_changes(request, guild, user.id, member, roles, audit.reason_of(request))
    _member_updated(request, guild, member)
    return no_content()


def _outranks(request: web.Request, guild: Guild, user: User, member: Member) -> bool:
    return rest_moderation.outranks(ctx_of(request), guild, user.id, member.user_id)


def _may_assign(request: web.Request, guild: Guild, user: User, role_ids: set[str]) -> None:
    """Role hierarchy: only roles below your highest one (the owner: any), else 50013."""
    if user.id == guild.owner_id or not role_ids:
        return
    top = ctx_of(request).state.top_role_position(guild.id, user.id)
    if any(guild.roles[r].position >= top for r in role_ids):
        raise errors.missing_permissions()


def _audit_member(
    request: web.Request,
    guild: Guild,
    actor_id: str,
    member: Member,
    action: int,
    changes: list[dict[str, Any]],
    reason: str | None,
) -> None:
    audit.record(
        ctx_of(request),
        guild,
        action,
        user_id=actor_id,
        target_id=member.user_id,
        reason=reason,
        changes=changes,
    )


def _record_role_changes(
    request: web.Request,
    guild: Guild,
    actor_id: str,
    member: Member,
    roles: list[str],
    reason: str | None,
) -> None:
    """Set ``member.roles``; a change is a MEMBER_ROLE_UPDATE entry (``$add``/``$remove``)."""
    added = [r for r in roles if r not in member.roles]
    removed = [r for r in member.roles if r not in roles]
    member.roles = list(roles)
    changes = [
        {"key": key, "new_value": [{"id": r, "name": guild.roles[r].name} for r in ids]}
        for key, ids in (("$add", added), ("$remove", removed))
        if ids
    ]
    if changes:
        _audit_member(request, guild, actor_id, member, audit.MEMBER_ROLE_UPDATE, changes, reason)
