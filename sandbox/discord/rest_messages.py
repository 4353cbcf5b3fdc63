"""REST: channel messages (create, history, edit, delete, bulk delete),
reactions and typing. Every change is dispatched on the gateway."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from sandbox.discord import (
    audit,
    errors,
    forwards,
    messaging,
    payloads,
    polls,
    rest_threads,
    slowmode,
    voice,
)
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    channel_for,
    ctx_of,
    current_user,
    int_query,
    json_reply,
    no_content,
    read_json,
    snowflake_param,
)
from sandbox.discord.gateway import GUILD_MESSAGE_REACTIONS, GUILD_MESSAGES
from sandbox.discord.state import Channel

GUILD_MESSAGE_TYPING = 1 << 11


def with_reactions(ctx: Ctx, msg: dict[str, Any], viewer: str) -> dict[str, Any]:
    """The stored message plus its ``reactions`` (and poll votes) as ``viewer`` sees them."""
    msg = polls.seen_by(ctx, msg, viewer)
    by_emoji = ctx.state.reactions.get(msg["id"])
    if not by_emoji:
        return msg
    out = []
    for key, users in by_emoji.items():
        if users:
            out.append(
                {
                    "emoji": _emoji(ctx, key),
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "burst_colors": [],
                    "me_burst": False,
                    "me": viewer in users,
                }
            )
    return {**msg, "reactions": out} if out else msg


def dispatch_created(ctx: Ctx, msg: dict[str, Any]) -> None:
    data = payloads.message_event(ctx.state, msg)
    ctx.hub.dispatch_channel("MESSAGE_CREATE", data, msg["channel_id"], GUILD_MESSAGES)


def dispatch_updated(ctx: Ctx, msg: dict[str, Any]) -> None:
    data = payloads.message_event(ctx.state, msg)
    ctx.hub.dispatch_channel("MESSAGE_UPDATE", data, msg["channel_id"], GUILD_MESSAGES)


def dispatch_deleted(ctx: Ctx, channel: Channel, message_id: str) -> None:
    data = {"id": message_id, "channel_id": channel.id}
    if channel.guild_id:  # not in a DM
        data["guild_id"] = channel.guild_id
    ctx.hub.dispatch_channel("MESSAGE_DELETE", data, channel.id, GUILD_MESSAGES)


def _may_dm(ctx: Ctx, channel: Channel, user_id: str) -> bool:
    """Discord refuses DMs to yourself and between users sharing no guild (50007)."""
    others = [u for u in channel.recipient_ids if u != user_id]
    return bool(others) and all(ctx.state.share_a_guild(user_id, o) for o in others)


def _message_in(request: web.Request, channel: Channel) -> dict[str, Any]:
    state = ctx_of(request).state
    mid = snowflake_param(request, "message_id", errors.unknown_message())
    msg = state.messages.get(mid)
    if msg is None or msg["channel_id"] != channel.id:
        raise errors.unknown_message()
    return msg


async def create_message(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    if channel.type not in (0, 1, 2, 5, *rest_threads.THREAD_TYPES):
        raise errors.ApiError(400, 50008, "Cannot send messages in a non-text channel")
    granted = ctx.state.permissions(channel.id, user.id)
    if not perms.has(granted, rest_threads.send_permission(channel)):
        raise errors.missing_permissions()
    if channel.is_dm and not _may_dm(ctx, channel, user.id):
        raise errors.cannot_message_user()
    slowmode.check(ctx, channel, user, granted)
    payload, uploads = await messaging.read_body(request)
    # A voice message needs SEND_VOICE_MESSAGES instead of ATTACH_FILES (sandbox.discord.voice).
    needed = voice.SEND_VOICE_MESSAGES if voice.requested(payload) else perms.ATTACH_FILES
    if uploads and not perms.has(granted, needed):
        raise errors.missing_permissions()
    if forwards.is_forward(payload):  # sandbox.discord.forwards
        msg = forwards.new_forward(
            ctx, channel, payload, author=payloads.user(user), user_id=user.id
        )
    else:
        msg = messaging.new_message(
            ctx,
            channel,
            payload,
            uploads,
            author=payloads.user(user),
            can_mention_everyone=perms.has(granted, perms.MENTION_EVERYONE),
        )
    rest_threads.before_post(ctx, channel, user.id)
    rest_threads.stamp(ctx, channel, msg)
    ctx.state.add_message(msg)
    dispatch_created(ctx, msg)
    return json_reply(with_reactions(ctx, msg, user.id))


async def list_messages(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    if not ctx.state.can(channel.id, user.id, perms.READ_MESSAGE_HISTORY):
        return json_reply([])
    q = request.query
    try:
        limit = int(q.get("limit", "50"))
        before, after, around = (
            int(q[k]) if k in q else None for k in ("before", "after", "around")
        )
    except ValueError as exc:
        raise errors.invalid_form("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from exc
    if not 1 <= limit <= 100:
        raise errors.invalid_form(
            "limit", "NUMBER_TYPE_MAX", "int value should be between 1 and 100."
        )
    msgs = ctx.state.messages_in(channel.id)  # oldest first
    if around is not None:
        older = [m for m in msgs if int(m["id"]) < around]
        newer = [m for m in msgs if int(m["id"]) >= around]
        half = limit // 2
        take_newer = newer[: limit - min(half, len(older))]
        take_older = older[len(older) - (limit - len(take_newer)) :] if older else []
        chosen = take_older + take_newer
    elif after is not None:
        chosen = [m for m in msgs if int(m["id"]) > after][:limit]
    else:
        if before is not None:
            msgs = [m for m in msgs if int(m["id"]) < before]
        chosen = msgs[-limit:]
    newest_first = sorted(chosen, key=lambda m: int(m["id"]), reverse=True)
    return json_reply([with_reactions(ctx, m, user.id) for m in newest_first])


async def get_message(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    if not ctx.state.can(channel.id, user.id, perms.READ_MESSAGE_HISTORY):
        raise errors.missing_access()
    return json_reply(with_reactions(ctx, _message_in(request, channel), user.id))


async def edit_message(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    msg = _message_in(request, channel)
    if msg["author"]["id"] != user.id or msg.get("webhook_id"):
        raise errors.other_users_message()
    payload, uploads = await messaging.read_body(request)
    granted = ctx.state.permissions(channel.id, user.id)
    edited = messaging.apply_edit(
        ctx,
        channel,
        msg,
        payload,
        uploads,
        can_mention_everyone=perms.has(granted, perms.MENTION_EVERYONE),
    )
    ctx.state.messages[msg["id"]] = edited
    dispatch_updated(ctx, edited)
    return json_reply(with_reactions(ctx, edited, user.id))


async def delete_message(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    msg = _message_in(request, channel)
    own = msg["author"]["id"] == user.id and not msg.get("webhook_id")
    if not own and not ctx.state.can(channel.id, user.id, perms.MANAGE_MESSAGES):
        raise errors.missing_permissions()
    ctx.state.remove_message(msg["id"])
    if not own and not msg.get("webhook_id"):  # a moderator removed someone's message
        audit.record(
            ctx,
            ctx.state.guilds[channel.guild_id],
            audit.MESSAGE_DELETE,
            user_id=user.id,
            target_id=msg["author"]["id"],
            reason=audit.reason_of(request),
            options={"channel_id": channel.id, "count": "1"},
        )
    dispatch_deleted(ctx, channel, msg["id"])
    return no_content()


async def bulk_delete(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_MESSAGES):
        raise errors.missing_permissions()
    body = await read_json(request)
    ids = body.get("messages")
    if not isinstance(ids, list) or not 2 <= len(ids) <= 100:
        raise errors.invalid_form(
            "messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
        )
    wanted = [str(i) for i in ids]
    for mid in wanted:
        msg = ctx.state.messages.get(mid)
        if msg is None or msg["channel_id"] != channel.id:
            raise errors.unknown_message()
    for mid in wanted:
        ctx.state.remove_message(mid)
    audit.record(
        ctx,
        ctx.state.guilds[channel.guild_id],
        audit.MESSAGE_BULK_DELETE,
        user_id=user.id,
        target_id=channel.id,
        reason=audit.reason_of(request),
        options={"count": str(len(wanted))},
    )
    data = {"ids": wanted, "channel_id": channel.id, "guild_id": channel.guild_id}
    ctx.hub.dispatch_channel("MESSAGE_DELETE_BULK", data, channel.id, GUILD_MESSAGES)
    return no_content()


# -- reactions -------------------------------------------------------------------------


def _emoji(ctx: Ctx, key: str) -> dict[str, Any]:
    """``name:id`` (custom) or a unicode emoji, as a reaction emoji object."""
    if ":" in key:
        name, _, eid = key.rpartition(":")
        known = ctx.state.emoji(eid)
        return {"id": eid, "name": name, "animated": known.animated if known else False}
    return {"id": None, "name": key}


def _reaction_key(ctx: Ctx, raw: str) -> str:
    """The stored key for a path's emoji: custom emoji by their guild name and id.

    ``name:id`` (or ``a:name:id``) must name a guild emoji, else 10014 Unknown Emoji.
    """
    if ":" not in raw:
        return raw
    eid = raw.rpartition(":")[2]
    known = ctx.state.emoji(eid) if eid.isdigit() else None
    if known is None:
        raise errors.unknown_emoji()
    return f"{known.name}:{known.id}"


async def add_my_reaction(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    msg = _message_in(request, channel)
    if not ctx.state.can(channel.id, user.id, perms.ADD_REACTIONS | perms.READ_MESSAGE_HISTORY):
        raise errors.missing_permissions()
    key = _reaction_key(ctx, request.match_info["emoji_name"])
    users = ctx.state.reactions.setdefault(msg["id"], {}).setdefault(key, [])
    if user.id not in users:
        users.append(user.id)
        member = ctx.state.member(channel.guild_id, user.id)
        data: dict[str, Any] = {
            "user_id": user.id,
            "channel_id": channel.id,
            "message_id": msg["id"],
            "guild_id": channel.guild_id,
            "emoji": _emoji(ctx, key),
            "message_author_id": msg["author"]["id"],
            "burst": False,
            "burst_colors": [],
            "type": 0,
        }
        if member is not None:
            data["member"] = payloads.member(ctx.state, member)
        ctx.hub.dispatch_channel("MESSAGE_REACTION_ADD", data, channel.id, GUILD_MESSAGE_REACTIONS)
    return no_content()


async def remove_my_reaction(request: web.Request) -> web.Response:
    return _remove_reaction(request, current_user(request).id)


async def remove_user_reaction(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    target = snowflake_param(request, "user_id", errors.unknown_user())
    if target != user.id and not ctx.state.can(channel.id, user.id, perms.MANAGE_MESSAGES):
        raise errors.missing_permissions()
    return _remove_reaction(request, target)


def _remove_reaction(request: web.Request, user_id: str) -> web.Response:
    ctx = ctx_of(request)
    channel = channel_for(request, current_user(request))
    msg = _message_in(request, channel)
    key = _reaction_key(ctx, request.match_info["emoji_name"])
    users = ctx.state.reactions.get(msg["id"], {}).get(key, [])
    if user_id in users:
        users.remove(user_id)
        data = {
            "user_id": user_id,
            "channel_id": channel.id,
            "message_id": msg["id"],
            "guild_id": channel.guild_id,
            "emoji": _emoji(ctx, key),
            "burst": False,
            "type": 0,
        }
        ctx.hub.dispatch_channel(
            "MESSAGE_REACTION_REMOVE", data, channel.id, GUILD_MESSAGE_REACTIONS
        )
    return no_content()


async def clear_reactions(request: web.Request) -> web.Response:
    """``DELETE .../reactions[/{emoji}]``: needs MANAGE_MESSAGES; one dispatch."""
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    msg = _message_in(request, channel)
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_MESSAGES):
        raise errors.missing_permissions()
    data: dict[str, Any] = {
        "channel_id": channel.id,
        "message_id": msg["id"],
        "guild_id": channel.guild_id,
    }
    raw = request.match_info.get("emoji_name")
    if raw is None:
        ctx.state.reactions.pop(msg["id"], None)
        event = "MESSAGE_REACTION_REMOVE_ALL"
    else:
        key = _reaction_key(ctx, raw)
        ctx.state.reactions.get(msg["id"], {}).pop(key, None)
        data["emoji"] = _emoji(ctx, key)
        event = "MESSAGE_REACTION_REMOVE_EMOJI"
    ctx.hub.dispatch_channel(event, data, channel.id, GUILD_MESSAGE_REACTIONS)
    return no_content()


async def list_reactions(request: web.Request) -> web.Response:
    """``GET .../reactions/{emoji}``: who reacted, by ascending user ID as Discord sorts
    them, paged with ``after`` (a user ID) and ``limit`` (1 to 100, 25 by default);
    ``type`` 0 normal, 1 super reactions (the emulator has none of those)."""
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    if not ctx.state.can(channel.id, user.id, perms.READ_MESSAGE_HISTORY):
        raise errors.missing_access()
    msg = _message_in(request, channel)
    key = _reaction_key(ctx, request.match_info["emoji_name"])
    limit = int_query(request, "limit", 25, 1, 100)
    after = int_query(request, "after", 0, 0, (1 << 64) - 1)
    kind = int_query(request, "type", 0, 0, 1)
    users = [] if kind == 1 else ctx.state.reactions.get(msg["id"], {}).get(key, [])
    chosen = sorted((u for u in users if int(u) > after and u in ctx.state.users), key=int)
    return json_reply([payloads.user(ctx.state.users[u]) for u in chosen[:limit]])


async def trigger_typing(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user, allow_dm=True)
    if not ctx.state.can(channel.id, user.id, perms.SEND_MESSAGES):
        raise errors.missing_permissions()
    data: dict[str, Any] = {
        "channel_id": channel.id,
        "user_id": user.id,
        "timestamp": int(time.time()),
    }
    if channel.guild_id:  # not in a DM
        data["guild_id"] = channel.guild_id
    member = ctx.state.member(channel.guild_id, user.id)
    if member is not None:
        data["member"] = payloads.member(ctx.state, member)
    ctx.hub.dispatch_channel("TYPING_START", data, channel.id, GUILD_MESSAGE_TYPING)
    return no_content()
