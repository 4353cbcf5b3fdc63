"""REST: webhooks (manage with a bot token; execute and edit with the webhook token)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from aiohttp import web

from sandbox.discord import errors, forum_posts, messaging, payloads, rest_threads
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
from sandbox.discord.gateway import GUILD_WEBHOOKS
from sandbox.discord.rest_messages import dispatch_created, dispatch_deleted, dispatch_updated
from sandbox.discord.state import Channel, User

FORBIDDEN_NAMES = ("clyde", "discord")


def _check_name(field: str, name: Any, *, optional: bool = False) -> str | None:
    if name is None and optional:
        return None
    if not isinstance(name, str) or not 1 <= len(name) <= 80:
        raise errors.invalid_form(
            field, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length."
        )
    if any(bad in name.lower() for bad in FORBIDDEN_NAMES):
        raise errors.invalid_form(
            field, "USERNAME_INVALID_CONTAINS", 'Username cannot contain "clyde" or "discord"'
        )
    return name


def _updated(ctx: Ctx, hook: dict[str, Any]) -> None:
    data = {"guild_id": hook["guild_id"], "channel_id": hook["channel_id"]}
    ctx.hub.dispatch_guild("WEBHOOKS_UPDATE", data, hook["guild_id"], GUILD_WEBHOOKS)


def _need_manage(ctx: Ctx, channel: Channel, user: User) -> None:
    if not ctx.state.can(channel.id, user.id, perms.MANAGE_WEBHOOKS):
        raise errors.missing_permissions()


def _hook(request: web.Request) -> dict[str, Any]:
    state = ctx_of(request).state
    hook = state.webhooks.get(snowflake_param(request, "webhook_id", errors.unknown_webhook()))
    if hook is None:
        raise errors.unknown_webhook()
    return hook


def _hook_with_token(request: web.Request) -> dict[str, Any]:
    hook = _hook(request)
    if not hmac.compare_digest(hook["token"], request.match_info["webhook_token"]):
        raise errors.invalid_webhook_token()
    return hook


def _managed_hook(request: web.Request) -> tuple[dict[str, Any], User]:
    ctx = ctx_of(request)
    user = current_user(request)
    hook = _hook(request)
    channel = ctx.state.channels.get(hook["channel_id"])
    if channel is None or ctx.state.member(channel.guild_id, user.id) is None:
        raise errors.unknown_webhook()
    _need_manage(ctx, channel, user)
    return hook, user


async def create_webhook(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    _need_manage(ctx, channel, user)
    body = await read_json(request)
    name = _check_name("name", body.get("name"))
    assert name is not None
    hook_id = ctx.state.ids.next_str()
    app_id = ctx.state.application_for(user)["id"] if user.bot else None
    hook = payloads.webhook(
        webhook_id=hook_id,
        token=secrets.token_urlsafe(48),
        name=name,
        channel=channel,
        creator=user,
        application_id=app_id,
        api_base=ctx.api_base,
    )
    ctx.state.webhooks[hook_id] = hook
    _updated(ctx, hook)
    return json_reply(hook)


async def list_channel_webhooks(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    _need_manage(ctx, channel, user)
    return json_reply(ctx.state.webhooks_in(channel.id))


async def list_guild_webhooks(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    if not perms.has(ctx.state.guild_permissions(guild.id, user.id), perms.MANAGE_WEBHOOKS):
        raise errors.missing_permissions()
    return json_reply([w for w in ctx.state.webhooks.values() if w["guild_id"] == guild.id])


async def get_webhook(request: web.Request) -> web.Response:
    hook, _ = _managed_hook(request)
    return json_reply(hook)


async def patch_webhook(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook, user = _managed_hook(request)
    body = await read_json(request)
    if "name" in body:
        hook["name"] = _check_name("name", body["name"])
    if body.get("channel_id") is not None:
        target = ctx.state.channels.get(str(body["channel_id"]))
        if target is None or target.guild_id != hook["guild_id"]:
            raise errors.unknown_channel()
        _need_manage(ctx, target, user)
        hook["channel_id"] = target.id
    _updated(ctx, hook)
    return json_reply(hook)


async def delete_webhook(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook, _ = _managed_hook(request)
    del ctx.state.webhooks[hook["id"]]
    _updated(ctx, hook)
    return no_content()


async def get_webhook_with_token(request: web.Request) -> web.Response:
    return json_reply(payloads.webhook_without_token(_hook_with_token(request)))


async def patch_webhook_with_token(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook = _hook_with_token(request)
    body = await read_json(request)
    if "name" in body:
        hook["name"] = _check_name("name", body["name"])
    _updated(ctx, hook)
    return json_reply(payloads.webhook_without_token(hook))


async def delete_webhook_with_token(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook = _hook_with_token(request)
    del ctx.state.webhooks[hook["id"]]
    _updated(ctx, hook)
    return no_content()


async def execute_webhook(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook = _hook_with_token(request)
    # ?thread_id= posts into a thread of the webhook's channel
    thread_id = request.query.get("thread_id")
    channel = rest_threads.webhook_channel(ctx, hook, thread_id)
    payload, uploads = await messaging.read_body(request)
    username = _check_name("username", payload.get("username"), optional=True)
    avatar_url = payload.get("avatar_url")
    author = payloads.webhook_author(hook["id"], username or hook["name"])
    if channel.is_forum:  # a new post named thread_name (with its starter message)
        msg = forum_posts.webhook_post(ctx, hook, channel, payload, uploads, author)
    else:
        msg = messaging.new_message(
            ctx,
            channel,
            payload,
            uploads,
            author=author,
            can_mention_everyone=True,
            webhook_id=hook["id"],
            application_id=hook.get("application_id"),
        )
        rest_threads.stamp(ctx, channel, msg)
        ctx.state.add_message(msg)
    if isinstance(avatar_url, str) and avatar_url:
        ctx.state.webhook_avatar_urls[msg["id"]] = avatar_url
    if not channel.is_forum:
        dispatch_created(ctx, msg)
    if request.query.get("wait", "false").lower() in ("true", "1"):
        return json_reply(msg)
    return no_content()


def _hook_message(request: web.Request, hook: dict[str, Any]) -> dict[str, Any]:
    state = ctx_of(request).state
    mid = snowflake_param(request, "message_id", errors.unknown_message())
    msg = state.messages.get(mid)
    if msg is None or msg.get("webhook_id") != hook["id"]:
        raise errors.unknown_message()
    if not rest_threads.webhook_message_scope(hook, msg, request.query.get("thread_id")):
        raise errors.unknown_message()  # a thread's message needs ?thread_id=
    return msg


async def get_webhook_message(request: web.Request) -> web.Response:
    hook = _hook_with_token(request)
    return json_reply(_hook_message(request, hook))


async def edit_webhook_message(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook = _hook_with_token(request)
    msg = _hook_message(request, hook)
    channel = ctx.state.channels[msg["channel_id"]]
    payload, uploads = await messaging.read_body(request)
    edited = messaging.apply_edit(ctx, channel, msg, payload, uploads, can_mention_everyone=True)
    ctx.state.messages[msg["id"]] = edited
    dispatch_updated(ctx, edited)
    return json_reply(edited)


async def delete_webhook_message(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    hook = _hook_with_token(request)
    msg = _hook_message(request, hook)
    ctx.state.remove_message(msg["id"])
    dispatch_deleted(ctx, ctx.state.channels[msg["channel_id"]], msg["id"])
    return no_content()
