"""REST: guild channels (text, voice, category, announcement, forum, media): get, create,
modify (name, topic, position, parent category, overwrites, forum settings), bulk
positions, delete, and permission overwrites. Threads: :mod:`sandbox.discord.rest_threads`;
forum posts and tags: :mod:`sandbox.discord.forums`.

The operations (:func:`create`, :func:`apply`, :func:`delete`) take a :class:`Ctx` so the
server's test controls do what a Discord client would (same dispatches, no audit entry);
the handlers add permission checks and audit entries as Discord writes them: CHANNEL_CREATE
10, CHANNEL_UPDATE 11, CHANNEL_DELETE 12, CHANNEL_OVERWRITE_CREATE/UPDATE/DELETE 13/14/15.
Channel dispatches (CHANNEL_CREATE / UPDATE / DELETE) go to every guild member with the
GUILDS intent, as GUILD_CREATE lists every channel.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from sandbox.discord import audit, errors, forums, payloads, rest_threads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    channel_for,
    ctx_of,
    current_user,
    guild_for,
    json_reply,
    no_content,
    read_json,
    snowflake_param,
)
from sandbox.discord.gateway import GUILDS
from sandbox.discord.state import CATEGORY, Channel, Guild, User

log = logging.getLogger(__name__)

GUILD_CHANNEL_TYPES = (0, 2, 4, 5, 15, 16)
FORUM_FLAGS = forums.REQUIRE_TAG | (1 << 15)  # REQUIRE_TAG, HIDE_MEDIA_DOWNLOAD_OPTIONS
# Channel attribute -> audit log / REST key, for the fields the emulator keeps.
AUDIT_KEYS = {
    "name": "name",
    "type": "type",
    "topic": "topic",
    "nsfw": "nsfw",
    "position": "position",
    "parent_id": "parent_id",
    "flags": "flags",
    "available_tags": "available_tags",
    "default_reaction_emoji": "default_reaction_emoji",
    "default_sort_order": "default_sort_order",
    "default_forum_layout": "default_forum_layout",
    "rate_limit_per_user": "rate_limit_per_user",
}
MAX_SLOWMODE = 21600  # six hours, Discord's limit


def one_parent_only() -> errors.ApiError:
    return errors.ApiError(400, 40009, "Only one channel can have a parent_id modified at a time")


# -- validation ----------------------------------------------------------------------


def _name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise errors.invalid_form(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    return value


def _topic(value: Any, kind: int) -> str | None:
    limit = 4096 if kind in forums.FORUM_TYPES else 1024
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise errors.invalid_form(
            "topic", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
        )
    return value or None


def _position(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.invalid_form("position", "NUMBER_TYPE_COERCE", "Value is not int.")
    return value


def _slowmode(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.invalid_form("rate_limit_per_user", "NUMBER_TYPE_COERCE", "Value is not int.")
    if not 0 <= value <= MAX_SLOWMODE:
        raise errors.invalid_form(
            "rate_limit_per_user",
            "NUMBER_TYPE_MAX",
            f"int value should be less than or equal to {MAX_SLOWMODE}.",
        )
    return value


def parent_of(ctx: Ctx, guild: Guild, value: Any, kind: int) -> str | None:
    """A ``parent_id``: None, or a category of this guild (categories have no parent)."""
    if value is None:
        return None
    if kind == CATEGORY:
        raise errors.invalid_form(
            "parent_id", "CHANNEL_PARENT_INVALID_TYPE", "Categories cannot have a parent."
        )
    raw = str(value)
    parent = ctx.state.channels.get(str(int(raw))) if raw.isdigit() else None
    if parent is None or parent.guild_id != guild.id or parent.type != CATEGORY:
        raise errors.invalid_form(
            "parent_id", "CHANNEL_PARENT_INVALID", "Category does not exist or is not a category."
        )
    return parent.id


def overwrite(raw: Any, overwrite_id: str | None = None) -> dict[str, Any]:
    """One overwrite as stored: ``{id, type, allow, deny}`` (allow/deny default "0")."""
    if not isinstance(raw, dict):
        raise errors.invalid_form(
            "permission_overwrites",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        )
    kind = int(raw.get("type", 0))
    if kind not in (0, 1):
        raise errors.invalid_form("type", "BASE_TYPE_CHOICES", "Value must be one of (0, 1).")
    oid = str(overwrite_id or raw.get("id") or "")
    if not oid.isdigit():
        raise errors.invalid_form(
            "permission_overwrites", "NUMBER_TYPE_COERCE", f'Value "{oid}" is not snowflake.'
        )
    return {
        "id": str(int(oid)),
        "type": kind,
        "allow": str(int(raw.get("allow") or 0)),
        "deny": str(int(raw.get("deny") or 0)),
    }


def _overwrites(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > 100:
        raise errors.invalid_form(
            "permission_overwrites", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
        )
    return [overwrite(ow) for ow in value]


def fields(
    ctx: Ctx, guild: Guild, body: dict[str, Any], kind: int, current: Channel | None = None
) -> dict[str, Any]:
    """A create or modify body as the Channel attributes to set (only the keys present)."""
    out: dict[str, Any] = {}
    if "name" in body or current is None:
        out["name"] = _name(body.get("name"))
    if "topic" in body:
        out["topic"] = _topic(body["topic"], kind)
    if body.get("nsfw") is not None:
        out["nsfw"] = bool(body["nsfw"])
    if "position" in body and body["position"] is not None:
        out["position"] = _position(body["position"])
    if body.get("rate_limit_per_user") is not None and kind in (0, 5, *forums.FORUM_TYPES):
        out["rate_limit_per_user"] = _slowmode(body["rate_limit_per_user"])
    if "parent_id" in body:
        out["parent_id"] = parent_of(ctx, guild, body["parent_id"], kind)
    if body.get("permission_overwrites") is not None:
        out["overwrites"] = _overwrites(body["permission_overwrites"])
    if kind in forums.FORUM_TYPES:
        out.update(forums.settings(ctx, body, current))
        if body.get("flags") is not None:
            out["flags"] = int(body["flags"]) & FORUM_FLAGS
    if current is not None and body.get("type") is not None and body["type"] != current.type:
        if {int(body["type"]), current.type} != {0, 5}:
            raise errors.invalid_form(
                "type", "BASE_TYPE_CHOICES", "Only text and announcement channels convert."
            )
        out["type"] = int(body["type"])
    return out


def _need_granted(ctx: Ctx, guild: Guild, user: User, overwrites: list[dict[str, Any]]) -> None:
    """Overwrites may only allow or deny what the user has in the guild (else 50013)."""
    granted = ctx.state.guild_permissions(guild.id, user.id)
    for ow in overwrites:
        if (int(ow["allow"]) | int(ow["deny"])) & ~granted:
            raise errors.missing_permissions()


# -- operations (shared with the test controls) ----------------------------------------------


def channel_updated(ctx: Ctx, channel: Channel) -> None:
    data = payloads.channel(channel)
    ctx.hub.dispatch_guild("CHANNEL_UPDATE", data, channel.guild_id, GUILDS)


def next_position(ctx: Ctx, guild: Guild, parent_id: str | None) -> int:
    """Where a new channel goes: after the channels of its category (or of the top level)."""
    siblings = [c.position for c in ctx.state.channels_of(guild) if c.parent_id == parent_id]
    return max(siblings, default=-1) + 1


def create(ctx: Ctx, guild: Guild, kind: int, values: dict[str, Any]) -> Channel:
    """Store a new guild channel and dispatch CHANNEL_CREATE."""
    channel = Channel(id=ctx.state.ids.next_str(), guild_id=guild.id, name=values["name"])
    channel.type = kind
    for key, value in values.items():
        setattr(channel, key, value)
    if values.get("position") is None:
        channel.position = next_position(ctx, guild, channel.parent_id)
    ctx.state.add_channel(channel)
    ctx.hub.dispatch_guild("CHANNEL_CREATE", payloads.channel(channel), guild.id, GUILDS)
    log.info("channel created id=%s guild=%s type=%s", channel.id, guild.id, kind)
    return channel


def apply(ctx: Ctx, channel: Channel, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set channel attributes; CHANNEL_UPDATE when something changed. Returns the changes."""
    changed: dict[str, tuple[Any, Any]] = {}
    for key, value in values.items():
        old = getattr(channel, key)
        if old != value:
            changed[key] = (old, value)
            setattr(channel, key, value)
    if changed:
        channel_updated(ctx, channel)
    return changed


def delete(ctx: Ctx, channel: Channel) -> dict[str, Any]:
    """Remove a guild channel with its messages, threads and webhooks: CHANNEL_DELETE, then
    (a category) CHANNEL_UPDATE for each child, whose ``parent_id`` becomes null."""
    state = ctx.state
    body = payloads.channel(channel)
    ctx.hub.dispatch_guild("CHANNEL_DELETE", body, channel.guild_id, GUILDS)
    doomed = [channel.id] + [t.id for t in state.channels.values() if t.parent_id == channel.id]
    children = [c for c in state.channels.values() if c.parent_id == channel.id and not c.is_thread]
    for cid in doomed:
        if cid in state.channels and (cid == channel.id or state.channels[cid].is_thread):
            for mid in list(state.channel_messages.get(cid, [])):
                state.remove_message(mid)
            state.channel_messages.pop(cid, None)
            state.pins.pop(cid, None)
            del state.channels[cid]
    for hook_id in [w["id"] for w in state.webhooks.values() if w["channel_id"] == channel.id]:
        del state.webhooks[hook_id]
    guild = state.guilds.get(channel.guild_id)
    if guild is not None and channel.id in guild.channel_ids:
        guild.channel_ids.remove(channel.id)
    for child in children:
        apply(ctx, child, {"parent_id": None})
    log.info("channel deleted id=%s guild=%s", channel.id, channel.guild_id)
    return body


# -- audit -------------------------------------------------------------------------------


def _audit_value(value: Any) -> Any:
    return [dict(v) for v in value] if isinstance(value, list) else value


def _audit_channel(
    request: web.Request,
    channel: Channel,
    action: int,
    changes: list[dict[str, Any]],
) -> None:
    ctx = ctx_of(request)
    audit.record(
        ctx,
        ctx.state.guilds[channel.guild_id],
        action,
        user_id=current_user(request).id,
        target_id=channel.id,
        reason=audit.reason_of(request),
        changes=changes,
    )


def _snapshot(channel: Channel) -> list[tuple[str, Any]]:
    """(audit key, value) of what Discord lists for a created or deleted channel."""
    keys = ["name", "type", "topic", "nsfw", "parent_id", "flags"]
    if channel.is_forum:
        keys += ["available_tags", "default_reaction_emoji", "default_sort_order"]
    out = [(AUDIT_KEYS[k], getattr(channel, k)) for k in keys]
    out.insert(3, ("permission_overwrites", channel.overwrites))
    out.insert(4, ("rate_limit_per_user", channel.rate_limit_per_user))
    return [(k, _audit_value(v)) for k, v in out if v is not None]


def _audit_changes(changed: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    out = []
    for attr, (old, new) in changed.items():
        if attr not in AUDIT_KEYS:
            continue
        change: dict[str, Any] = {"key": AUDIT_KEYS[attr]}
        if old is not None:
            change["old_value"] = _audit_value(old)
        if new is not None:
            change["new_value"] = _audit_value(new)
        out.append(change)
    return out


def _audit_overwrites(
    request: web.Request,
    guild: Guild,
    channel: Channel,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
) -> None:
    """CHANNEL_OVERWRITE_CREATE / UPDATE / DELETE (13/14/15), one entry per overwrite,
    options ``{id, type, role_name}`` as Discord writes them."""
    ctx = ctx_of(request)
    old = {ow["id"]: ow for ow in before}
    new = {ow["id"]: ow for ow in after}
    for oid in list(dict.fromkeys([*old, *new])):
        a, b = old.get(oid), new.get(oid)
        if a == b:
            continue
        ref = b or a
        assert ref is not None
        options = {"id": oid, "type": str(ref["type"])}
        role = guild.roles.get(oid)
        if ref["type"] == 0 and role is not None:
            options["role_name"] = role.name
        if a is None or b is None:
            action = audit.CHANNEL_OVERWRITE_CREATE if a is None else audit.CHANNEL_OVERWRITE_DELETE
            side = "new_value" if a is None else "old_value"
            shown = b if a is None else a
            assert shown is not None
            changes = [{"key": k, side: shown[k]} for k in ("id", "type", "allow", "deny")]
        else:
            action = audit.CHANNEL_OVERWRITE_UPDATE
            changes = [
                {"key": k, "old_value": a[k], "new_value": b[k]}
                for k in ("allow", "deny")
                if a[k] != b[k]
            ]
        audit.record(
            ctx,
            guild,
            action,
            user_id=current_user(request).id,
            target_id=channel.id,
            reason=audit.reason_of(request),
            changes=changes,
            options=options,
        )


# -- handlers ----------------------------------------------------------------------------


async def get_channel(request: web.Request) -> web.Response:
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    if channel.is_dm:
        return json_reply(payloads.dm_channel(ctx_of(request).state, channel, user.id))
    return json_reply(payloads.channel(channel))


async def get_guild_channels(request: web.Request) -> web.Response:
    """``GET /guilds/{id}/channels``: every channel of the guild, threads excluded."""
    state = ctx_of(request).state
    guild = guild_for(request, current_user(request))
    return json_reply([payloads.channel(c) for c in state.channels_of(guild)])


def _may_manage_in(ctx: Ctx, guild: Guild, user: User, parent_id: str | None) -> bool:
    """MANAGE_CHANNELS in the guild, or in the category the channel goes to."""
    if perms.has(ctx.state.guild_permissions(guild.id, user.id), perms.MANAGE_CHANNELS):
        return True
    return parent_id is not None and ctx.state.can(parent_id, user.id, perms.MANAGE_CHANNELS)


async def create_guild_channel(request: web.Request) -> web.Response:
    """``POST /guilds/{id}/channels`` (MANAGE_CHANNELS): 201 with the channel."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    body = await read_json(request)
    kind = body.get("type")
    kind = 0 if kind is None else kind
    if kind not in GUILD_CHANNEL_TYPES:
        raise errors.invalid_form(
            "type", "BASE_TYPE_CHOICES", f"Value must be one of {GUILD_CHANNEL_TYPES}."
        )
    values = fields(ctx, guild, body, int(kind))
    if not _may_manage_in(ctx, guild, user, values.get("parent_id")):
        raise errors.missing_permissions()
    _need_granted(ctx, guild, user, values.get("overwrites", []))
    channel = create(ctx, guild, int(kind), values)
    _audit_channel(
        request,
        channel,
        audit.CHANNEL_CREATE,
        [{"key": k, "new_value": v} for k, v in _snapshot(channel)],
    )
    return json_reply(payloads.channel(channel), 201)


async def patch_channel(request: web.Request) -> web.Response:
    """``PATCH /channels/{id}``: a thread (:func:`rest_threads.patch_thread`) or a guild
    channel (MANAGE_CHANNELS; overwrites also MANAGE_ROLES; moving to another category
    also MANAGE_CHANNELS there)."""
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    if channel.is_thread:
        return await rest_threads.patch_thread(request, channel)
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_CHANNELS):
        raise errors.missing_permissions()
    guild = ctx.state.guilds[channel.guild_id]
    values = fields(ctx, guild, await read_json(request), channel.type, channel)
    if "overwrites" in values:
        if not ctx.state.can(channel.id, user.id, perms.MANAGE_ROLES):
            raise errors.missing_permissions()
        _need_granted(ctx, guild, user, values["overwrites"])
    if values.get("parent_id", channel.parent_id) != channel.parent_id:
        if not _may_manage_in(ctx, guild, user, values["parent_id"]):
            raise errors.missing_permissions()
    before = [dict(ow) for ow in channel.overwrites]
    changed = apply(ctx, channel, values)
    if "overwrites" in changed:
        _audit_overwrites(request, guild, channel, before, channel.overwrites)
    described = _audit_changes(changed)
    if described:
        _audit_channel(request, channel, audit.CHANNEL_UPDATE, described)
    return json_reply(payloads.channel(channel))


async def patch_positions(request: web.Request) -> web.Response:
    """``PATCH /guilds/{id}/channels`` (MANAGE_CHANNELS): ``[{id, position, parent_id,
    lock_permissions}]``; one CHANNEL_UPDATE per channel that changed; 204."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    text = await request.text()
    try:
        entries = json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.") from exc
    if not isinstance(entries, list):
        raise errors.invalid_form("_root", "LIST_TYPE_CONVERT", "Must be an array.")
    if not perms.has(ctx.state.guild_permissions(guild.id, user.id), perms.MANAGE_CHANNELS):
        raise errors.missing_permissions()
    plan: list[tuple[Channel, dict[str, Any]]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise errors.invalid_form(
                str(i), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        raw = str(entry.get("id", ""))
        channel = ctx.state.channels.get(str(int(raw))) if raw.isdigit() else None
        if channel is None or channel.guild_id != guild.id or channel.is_thread:
            raise errors.unknown_channel()
        values: dict[str, Any] = {}
        if entry.get("position") is not None:
            values["position"] = _position(entry["position"])
        if "parent_id" in entry:
            parent = parent_of(ctx, guild, entry["parent_id"], channel.type)
            if parent != channel.parent_id:
                if not ctx.state.can(channel.id, user.id, perms.VIEW_CHANNEL):
                    raise errors.missing_access()
                values["parent_id"] = parent
                if entry.get("lock_permissions") and parent is not None:
                    if not perms.has(
                        ctx.state.guild_permissions(guild.id, user.id), perms.MANAGE_ROLES
                    ):
                        raise errors.missing_permissions()
                    synced = ctx.state.channels[parent].overwrites
                    values["overwrites"] = [dict(ow) for ow in synced]
        plan.append((channel, values))
    if sum(1 for _, v in plan if "parent_id" in v) > 1:
        raise one_parent_only()
    for channel, values in plan:
        apply(ctx, channel, values)
    return no_content()


async def delete_channel(request: web.Request) -> web.Response:
    """``DELETE /channels/{id}``: a thread (MANAGE_THREADS) or a guild channel
    (MANAGE_CHANNELS); answers the deleted channel."""
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    if channel.is_thread:
        return rest_threads.delete_thread(ctx, channel, user.id)
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_CHANNELS):
        raise errors.missing_permissions()
    snapshot = _snapshot(channel)
    body = delete(ctx, channel)
    _audit_channel(
        request,
        channel,
        audit.CHANNEL_DELETE,
        [{"key": k, "old_value": v} for k, v in snapshot],
    )
    return json_reply(body)


async def put_overwrite(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_ROLES):
        raise errors.missing_permissions()
    oid = snowflake_param(request, "overwrite_id", errors.unknown_role())
    new = overwrite(await read_json(request), oid)
    guild = ctx.state.guilds[channel.guild_id]
    _need_granted(ctx, guild, user, [new])
    before = [dict(ow) for ow in channel.overwrites]
    if any(ow["id"] == oid for ow in before):  # replaced in place, keeping the order
        after = [new if ow["id"] == oid else ow for ow in before]
    else:
        after = [*before, new]
    apply(ctx, channel, {"overwrites": after})
    _audit_overwrites(request, guild, channel, before, channel.overwrites)
    return no_content()


async def delete_overwrite(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_ROLES):
        raise errors.missing_permissions()
    oid = snowflake_param(request, "overwrite_id", errors.unknown_role())
    before = [dict(ow) for ow in channel.overwrites]
    apply(ctx, channel, {"overwrites": [ow for ow in before if ow["id"] != oid]})
    guild = ctx.state.guilds[channel.guild_id]
    _audit_overwrites(request, guild, channel, before, channel.overwrites)
    return no_content()
