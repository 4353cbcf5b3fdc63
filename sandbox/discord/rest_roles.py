"""REST: guild roles: list, get, create, modify, reorder, delete.

As on Discord: every change needs MANAGE_ROLES and respects the role hierarchy (the
owner excepted; ADMINISTRATOR does not bypass it): you may only edit, move or delete
roles strictly below your highest one, only move them below it, and only grant
permissions you have. A new role goes to position 1, just above @everyone (which is
always 0 and cannot be moved or deleted); positions stay 1..N without gaps, and every
role whose position changes gets a GUILD_ROLE_UPDATE. Deleting a role removes it from
its members (no GUILD_MEMBER_UPDATE is sent: clients drop the role themselves on
GUILD_ROLE_DELETE). Audit entries: ROLE_CREATE 30, ROLE_UPDATE 31, ROLE_DELETE 32.

The operations (:func:`create`, :func:`apply`, :func:`reorder`, :func:`delete`) are shared
with the server's test controls.
"""

from __future__ import annotations

import json
import logging
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
from sandbox.discord.gateway import GUILDS
from sandbox.discord.state import Guild, Role, User

log = logging.getLogger(__name__)

MAX_ROLES = 250
AUDITED = ("name", "permissions", "color", "hoist", "mentionable")


def invalid_role() -> errors.ApiError:
    return errors.ApiError(400, 50028, "Invalid Role")


# -- validation -----------------------------------------------------------------------


def role_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A create or modify body as the Role attributes to set (only the keys present)."""
    out: dict[str, Any] = {}
    if body.get("name") is not None:
        name = body["name"]
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise errors.invalid_form(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        out["name"] = name
    if body.get("permissions") is not None:
        raw = body["permissions"]
        if isinstance(raw, bool) or not str(raw).isdigit():
            raise errors.invalid_form(
                "permissions", "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.'
            )
        out["permissions"] = int(raw) & perms.ALL
    color = body.get("color")
    if isinstance(body.get("colors"), dict) and body["colors"].get("primary_color") is not None:
        color = body["colors"]["primary_color"]
    if color is not None:
        if isinstance(color, bool) or not isinstance(color, int) or not 0 <= color <= 0xFFFFFF:
            raise errors.invalid_form(
                "color", "NUMBER_TYPE_MAX", "int value should be between 0 and 16777215."
            )
        out["color"] = color
    for key in ("hoist", "mentionable"):
        if body.get(key) is not None:
            out[key] = bool(body[key])
    return out


def _ordered(guild: Guild) -> list[Role]:
    """The roles above @everyone, lowest first (position, then id)."""
    return sorted(
        (r for r in guild.roles.values() if r.id != guild.id), key=lambda r: (r.position, int(r.id))
    )


# -- operations (shared with the test controls) ---------------------------------------------


def _updated(ctx: Ctx, guild: Guild, role: Role) -> None:
    ctx.hub.dispatch_guild("GUILD_ROLE_UPDATE", payloads.role_event(guild, role), guild.id, GUILDS)


def _renumber(ctx: Ctx, guild: Guild, order: list[Role], skip: str | None = None) -> None:
    """Positions 1..N in ``order``; GUILD_ROLE_UPDATE for each role that moved."""
    for index, role in enumerate(order, start=1):
        if role.position != index:
            role.position = index
            if role.id != skip:
                _updated(ctx, guild, role)


def create(ctx: Ctx, guild: Guild, values: dict[str, Any]) -> Role:
    """A new role at position 1 (the others move up): GUILD_ROLE_CREATE. Its permissions
    default to @everyone's, its name to "new role", as on Discord."""
    if len(guild.roles) >= MAX_ROLES:
        raise errors.ApiError(400, 30005, "Maximum number of guild roles reached (250)")
    everyone = guild.roles.get(guild.id)
    role = Role(
        id=ctx.state.ids.next_str(),
        name="new role",
        permissions=everyone.permissions if everyone else 0,
        position=1,
    )
    for key, value in values.items():
        setattr(role, key, value)
    order = _ordered(guild)
    guild.roles[role.id] = role
    ctx.hub.dispatch_guild("GUILD_ROLE_CREATE", payloads.role_event(guild, role), guild.id, GUILDS)
    _renumber(ctx, guild, [role, *order], skip=role.id)
    log.info("role created id=%s guild=%s", role.id, guild.id)
    return role


def apply(ctx: Ctx, guild: Guild, role: Role, values: dict[str, Any]) -> dict[str, Any]:
    """Set role attributes; GUILD_ROLE_UPDATE when something changed. The changes."""
    changed: dict[str, Any] = {}
    for key, value in values.items():
        old = getattr(role, key)
        if old != value:
            changed[key] = (old, value)
            setattr(role, key, value)
    if changed:
        _updated(ctx, guild, role)
    return changed


def reorder(ctx: Ctx, guild: Guild, moves: dict[str, int]) -> None:
    """Put each role of ``moves`` at its position (lowest targets first); the others keep
    their order around them. GUILD_ROLE_UPDATE for every role whose position changed."""
    moved = [guild.roles[r] for r in moves if r != guild.id]
    order = [r for r in _ordered(guild) if r.id not in moves]
    for role in sorted(moved, key=lambda r: (moves[r.id], int(r.id))):
        index = min(max(moves[role.id], 1), len(order) + 1) - 1
        order.insert(index, role)
    _renumber(ctx, guild, order)


def delete(ctx: Ctx, guild: Guild, role: Role) -> None:
    """Remove a role (from its members too): GUILD_ROLE_DELETE; the roles above move down."""
    if role.id == guild.id or role.managed:
        raise invalid_role()
    del guild.roles[role.id]
    for member in guild.members.values():
        if role.id in member.roles:
            member.roles = [r for r in member.roles if r != role.id]
    data = {"guild_id": guild.id, "role_id": role.id}
    ctx.hub.dispatch_guild("GUILD_ROLE_DELETE", data, guild.id, GUILDS)
    _renumber(ctx, guild, _ordered(guild))
    log.info("role deleted id=%s guild=%s", role.id, guild.id)


# -- permission checks ----------------------------------------------------------------------


def _manager(request: web.Request) -> tuple[Ctx, Guild, User]:
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    if not perms.has(ctx.state.guild_permissions(guild.id, user.id), perms.MANAGE_ROLES):
        raise errors.missing_permissions()
    return ctx, guild, user


def _below_me(ctx: Ctx, guild: Guild, user: User, position: int) -> None:
    """Only roles (and positions) strictly below your highest role; the owner: any."""
    if user.id != guild.owner_id and position >= ctx.state.top_role_position(guild.id, user.id):
        raise errors.missing_permissions()


def _may_grant(ctx: Ctx, guild: Guild, user: User, old: int, new: int) -> None:
    """Only permissions you have may be added to a role."""
    if (new & ~old) & ~ctx.state.guild_permissions(guild.id, user.id):
        raise errors.missing_permissions()


def _role_of(request: web.Request, guild: Guild) -> Role:
    role = guild.roles.get(snowflake_param(request, "role_id", errors.unknown_role()))
    if role is None:
        raise errors.unknown_role()
    return role


def _audit(
    request: web.Request, guild: Guild, action: int, role: Role, changes: list[dict[str, Any]]
) -> None:
    audit.record(
        ctx_of(request),
        guild,
        action,
        user_id=current_user(request).id,
        target_id=role.id,
        reason=audit.reason_of(request),
        changes=changes,
    )


def _audit_value(key: str, value: Any) -> Any:
    return str(value) if key == "permissions" else value


# -- handlers ---------------------------------------------------------------------------------


async def list_roles(request: web.Request) -> web.Response:
    guild = guild_for(request, current_user(request))
    return json_reply([payloads.role(r) for r in guild.roles.values()])


async def get_role(request: web.Request) -> web.Response:
    guild = guild_for(request, current_user(request))
    return json_reply(payloads.role(_role_of(request, guild)))


async def create_role(request: web.Request) -> web.Response:
    """``POST /guilds/{id}/roles``: 200 with the role (as Discord answers)."""
    ctx, guild, user = _manager(request)
    values = role_fields(await read_json(request))
    everyone = guild.roles[guild.id].permissions if guild.id in guild.roles else 0
    _may_grant(ctx, guild, user, 0, values.get("permissions", everyone))
    role = create(ctx, guild, values)
    changes = [{"key": k, "new_value": _audit_value(k, getattr(role, k))} for k in AUDITED]
    _audit(request, guild, audit.ROLE_CREATE, role, changes)
    return json_reply(payloads.role(role))


async def patch_role(request: web.Request) -> web.Response:
    ctx, guild, user = _manager(request)
    role = _role_of(request, guild)
    _below_me(ctx, guild, user, role.position)
    values = role_fields(await read_json(request))
    if role.id == guild.id and values.get("name", role.name) != role.name:
        raise errors.invalid_form("name", "BASE_TYPE_BAD_VALUE", "@everyone cannot be renamed.")
    _may_grant(ctx, guild, user, role.permissions, values.get("permissions", role.permissions))
    changed = apply(ctx, guild, role, values)
    if changed:
        changes = [
            {"key": k, "old_value": _audit_value(k, old), "new_value": _audit_value(k, new)}
            for k, (old, new) in changed.items()
        ]
        _audit(request, guild, audit.ROLE_UPDATE, role, changes)
    return json_reply(payloads.role(role))


async def patch_positions(request: web.Request) -> web.Response:
    """``PATCH /guilds/{id}/roles``: ``[{id, position}]``; answers every role."""
    ctx, guild, user = _manager(request)
    text = await request.text()
    try:
        entries = json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.") from exc
    if not isinstance(entries, list):
        raise errors.invalid_form("_root", "LIST_TYPE_CONVERT", "Must be an array.")
    moves: dict[str, int] = {}
    for i, entry in enumerate(entries):
        raw = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        role = guild.roles.get(str(int(raw))) if raw.isdigit() else None
        if role is None:
            raise errors.unknown_role()
        position = entry.get("position")
        if position is None:
            continue
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise errors.invalid_form(f"{i}.position", "NUMBER_TYPE_COERCE", "Value is not int.")
        if role.id == guild.id:
            raise invalid_role()
        if position != role.position:  # discord.py also lists roles that stay put
            _below_me(ctx, guild, user, role.position)
            _below_me(ctx, guild, user, position)
        moves[role.id] = position
    if moves:
        reorder(ctx, guild, moves)
    return json_reply([payloads.role(r) for r in guild.roles.values()])


async def delete_role(request: web.Request) -> web.Response:
    ctx, guild, user = _manager(request)
    role = _role_of(request, guild)
    _below_me(ctx, guild, user, role.position)
    snapshot = [{"key": k, "old_value": _audit_value(k, getattr(role, k))} for k in AUDITED]
    delete(ctx, guild, role)
    _audit(request, guild, audit.ROLE_DELETE, role, snapshot)
    return no_content()
