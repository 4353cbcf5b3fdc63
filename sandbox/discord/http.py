"""Every REST route in one place, and the middleware around them: auth,
fault injection, rate-limit headers (and optional 429s), Discord-shaped
errors and, when enabled, validation of each JSON response against the spec.

Paths use the OpenAPI spec's template names so a matched route *is* the
spec's path template.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from sandbox.discord import (
    audit,
    cdn,
    errors,
    forum_posts,
    oauth2,
    payloads,
    polls,
    rest_channels,
    rest_guilds,
    rest_messages,
    rest_moderation,
    rest_pins,
    rest_roles,
    rest_threads,
    rest_users,
    scheduled_events,
)
from sandbox.discord import rest_expressions as expressions
from sandbox.discord import rest_webhooks as hooks
from sandbox.discord.context import (
    API_PREFIX,
    CTX,
    FAULT_KEY,
    SCOPES_KEY,
    USER_KEY,
    Ctx,
    json_reply,
)
from sandbox.discord.ratelimit import Verdict, global_headers

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 30 * 1024 * 1024
MSG = "/channels/{channel_id}/messages/{message_id}"
REACTION = MSG + "/reactions/{emoji_name}"
HOOK = "/webhooks/{webhook_id}/{webhook_token}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # under /api/v10, named like the spec's template
    handler: Handler
    auth: bool = True  # needs "Authorization: Bot <token>"


# Literal paths before parameterised ones: aiohttp matches in this order.
ROUTES: list[Route] = [
    Route("GET", "/gateway", rest_users.get_gateway, auth=False),
    Route("GET", "/gateway/bot", rest_users.get_gateway_bot),
    Route("GET", "/users/@me", rest_users.get_me),
    Route("GET", "/users/@me/guilds", rest_users.get_my_guilds),
    Route("GET", "/users/@me/guilds/{guild_id}/member", oauth2.my_guild_member),
    Route("POST", "/users/@me/channels", rest_users.create_dm),
    Route("GET", "/users/{user_id}", rest_users.get_user),
    Route("GET", "/oauth2/applications/@me", rest_users.get_my_application),
    # guilds
    Route("GET", "/guilds/{guild_id}", rest_guilds.get_guild),
    Route("PATCH", "/guilds/{guild_id}", rest_guilds.patch_guild),
    Route("GET", "/guilds/{guild_id}/channels", rest_channels.get_guild_channels),
    Route("POST", "/guilds/{guild_id}/channels", rest_channels.create_guild_channel),
    Route("PATCH", "/guilds/{guild_id}/channels", rest_channels.patch_positions),
    Route("GET", "/guilds/{guild_id}/roles", rest_roles.list_roles),
    Route("POST", "/guilds/{guild_id}/roles", rest_roles.create_role),
    Route("PATCH", "/guilds/{guild_id}/roles", rest_roles.patch_positions),
    Route("GET", "/guilds/{guild_id}/roles/{role_id}", rest_roles.get_role),
    Route("PATCH", "/guilds/{guild_id}/roles/{role_id}", rest_roles.patch_role),
    Route("DELETE", "/guilds/{guild_id}/roles/{role_id}", rest_roles.delete_role),
    Route("GET", "/guilds/{guild_id}/members", rest_guilds.list_members),
    Route("GET", "/guilds/{guild_id}/members/{user_id}", rest_guilds.get_member),
    Route("PATCH", "/guilds/{guild_id}/members/{user_id}", rest_guilds.patch_member),
    Route("DELETE", "/guilds/{guild_id}/members/{user_id}", rest_moderation.kick_member),
    Route(
        "PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", rest_guilds.put_member_role
    ),
    Route(
        "DELETE",
        "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        rest_guilds.delete_member_role,
    ),
    Route("GET", "/guilds/{guild_id}/bans", rest_moderation.list_bans),
    Route("GET", "/guilds/{guild_id}/bans/{user_id}", rest_moderation.get_ban),
    Route("PUT", "/guilds/{guild_id}/bans/{user_id}", rest_moderation.put_ban),
    Route("DELETE", "/guilds/{guild_id}/bans/{user_id}", rest_moderation.delete_ban),
    Route("POST", "/guilds/{guild_id}/bulk-ban", rest_moderation.bulk_ban),
    Route("GET", "/guilds/{guild_id}/audit-logs", audit.list_audit_log),
    Route("GET", "/guilds/{guild_id}/webhooks", hooks.list_guild_webhooks),
    Route("GET", "/guilds/{guild_id}/emojis", rest_guilds.list_emojis),
    Route("POST", "/guilds/{guild_id}/emojis", expressions.post_emoji),
    Route("GET", "/guilds/{guild_id}/emojis/{emoji_id}", expressions.get_emoji),
    Route("PATCH", "/guilds/{guild_id}/emojis/{emoji_id}", expressions.patch_emoji),
    Route("DELETE", "/guilds/{guild_id}/emojis/{emoji_id}", expressions.delete_emoji_route),
    Route("GET", "/guilds/{guild_id}/stickers", expressions.list_stickers),
    Route("GET", "/guilds/{guild_id}/stickers/{sticker_id}", expressions.get_sticker),
    Route("PATCH", "/guilds/{guild_id}/stickers/{sticker_id}", expressions.patch_sticker),
    Route("DELETE", "/guilds/{guild_id}/stickers/{sticker_id}", expressions.delete_sticker_route),
    Route("GET", "/guilds/{guild_id}/threads/active", forum_posts.active_threads),
    *(Route(method, path, handler) for method, path, handler in scheduled_events.ROUTES),
    # channels
    Route("GET", "/channels/{channel_id}", rest_channels.get_channel),
    Route("PATCH", "/channels/{channel_id}", rest_channels.patch_channel),
    Route("DELETE", "/channels/{channel_id}", rest_channels.delete_channel),
    Route("POST", "/channels/{channel_id}/threads", forum_posts.start_thread),
    Route("PUT", "/channels/{channel_id}/permissions/{overwrite_id}", rest_channels.put_overwrite),
    Route(
        "DELETE",
        "/channels/{channel_id}/permissions/{overwrite_id}",
        rest_channels.delete_overwrite,
    ),
    Route("POST", "/channels/{channel_id}/typing", rest_messages.trigger_typing),
    Route("GET", "/channels/{channel_id}/messages/pins", rest_pins.list_pins),
    Route("PUT", "/channels/{channel_id}/messages/pins/{message_id}", rest_pins.pin),
    Route("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", rest_pins.unpin),
    Route("GET", "/channels/{channel_id}/pins", rest_pins.list_pins_legacy),
    Route("PUT", "/channels/{channel_id}/pins/{message_id}", rest_pins.pin),
    Route("DELETE", "/channels/{channel_id}/pins/{message_id}", rest_pins.unpin),
    Route("POST", "/channels/{channel_id}/webhooks", hooks.create_webhook),
    Route("GET", "/channels/{channel_id}/webhooks", hooks.list_channel_webhooks),
    # messages
    Route("POST", "/channels/{channel_id}/messages/bulk-delete", rest_messages.bulk_delete),
    Route("GET", "/channels/{channel_id}/messages", rest_messages.list_messages),
    Route("POST", "/channels/{channel_id}/messages", rest_messages.create_message),
    Route("GET", MSG, rest_messages.get_message),
    Route("PATCH", MSG, rest_messages.edit_message),
    Route("DELETE", MSG, rest_messages.delete_message),
    Route("POST", MSG + "/threads", rest_threads.start_thread_from_message),
    Route("PUT", REACTION + "/@me", rest_messages.add_my_reaction),
    Route("DELETE", REACTION + "/@me", rest_messages.remove_my_reaction),
    Route("DELETE", REACTION + "/{user_id}", rest_messages.remove_user_reaction),
    Route("GET", REACTION, rest_messages.list_reactions),
    Route("DELETE", REACTION, rest_messages.clear_reactions),
    Route("DELETE", MSG + "/reactions", rest_messages.clear_reactions),
    Route(
        "GET",
        "/channels/{channel_id}/polls/{message_id}/answers/{answer_id}",
        polls.get_answer_voters,
    ),
    Route("POST", "/channels/{channel_id}/polls/{message_id}/expire", polls.expire_poll),
    # webhooks
    Route("GET", "/webhooks/{webhook_id}", hooks.get_webhook),
    Route("PATCH", "/webhooks/{webhook_id}", hooks.patch_webhook),
    Route("DELETE", "/webhooks/{webhook_id}", hooks.delete_webhook),
    Route("GET", HOOK, hooks.get_webhook_with_token, auth=False),
    Route("PATCH", HOOK, hooks.patch_webhook_with_token, auth=False),
    Route("DELETE", HOOK, hooks.delete_webhook_with_token, auth=False),
    Route("POST", HOOK, hooks.execute_webhook, auth=False),
    Route("GET", HOOK + "/messages/{message_id}", hooks.get_webhook_message, auth=False),
    Route("PATCH", HOOK + "/messages/{message_id}", hooks.edit_webhook_message, auth=False),
    Route("DELETE", HOOK + "/messages/{message_id}", hooks.delete_webhook_message, auth=False),
]

ROUTE_KEY = web.AppKey("routes", dict)


def build_app(ctx: Ctx) -> web.Application:
    """The whole emulator: REST under /api/v10, CDN under /cdn, gateway at /."""
    app = web.Application(middlewares=[rest_middleware], client_max_size=MAX_BODY)
    app[CTX] = ctx
    table: dict[AbstractRoute, Route] = {}
    for route in ROUTES:
        added = app.router.add_route(route.method, API_PREFIX + route.path, route.handler)
        table[added] = route
    app[ROUTE_KEY] = table
    app.router.add_get("/cdn/avatars/{user_id}/{filename}", cdn.user_avatar)
    app.router.add_get("/cdn/icons/{guild_id}/{filename}", cdn.guild_icon)
    app.router.add_get("/cdn/embed/avatars/{filename}", cdn.default_avatar)
    app.router.add_get("/cdn/emojis/{filename}", cdn.custom_emoji)
    app.router.add_get("/cdn/attachments/{channel_id}/{attachment_id}/{filename}", cdn.attachment)
    app.router.add_get("/cdn/stickers/{filename}", cdn.sticker)
    oauth2.add_routes(app)
    app.router.add_get("/", gateway_or_banner)
    return app


async def gateway_or_banner(request: web.Request) -> web.StreamResponse:
    if web.WebSocketResponse().can_prepare(request).ok:
        return await request.app[CTX].hub.handle(request)
    return web.Response(text="Passerelle Discord emulator: REST at /api/v10, gateway here.\n")


def _error(err: errors.ApiError) -> web.Response:
    if isinstance(err, errors.Slowmode):
        resp = json_reply(payloads.slowmode(round(err.retry_after, 3)), 429)
        resp.headers["Retry-After"] = str(math.ceil(err.retry_after))
        resp.headers["X-RateLimit-Scope"] = "user"
        return resp
    return json_reply(payloads.error(err.code, err.message, err.errors), err.status)


def _authenticate(ctx: Ctx, request: web.Request) -> bool:
    """Resolve the Authorization header; False when it names no known token."""
    header = request.headers.get("Authorization")
    if header is None:
        return True
    if header.startswith("Bearer "):
        grant = ctx.oauth2.bearer(header[7:].strip())
        if grant is None or grant.user_id not in ctx.state.users:
            return False
        request[USER_KEY] = ctx.state.users[grant.user_id]
        request[SCOPES_KEY] = grant.scopes
        return True
    token = header[4:] if header.startswith("Bot ") else header
    user = ctx.state.user_by_token(token.strip())
    if user is None:
        return False
    request[USER_KEY] = user
    return True


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX + "/") or request.path in oauth2.FORM_PATHS:
        return await handler(request)
    ctx = request.app[CTX]
    rel = request.path[len(API_PREFIX) :]
    route = request.app[ROUTE_KEY].get(request.match_info.route)
    if route is None:
        exc = request.match_info.http_exception
        status = exc.status if exc is not None else 404
        return _error(errors.method_not_allowed() if status == 405 else errors.not_found())
    known = _authenticate(ctx, request)
    user = request.get(USER_KEY)
    verdict = ctx.limiter.check(
        request.method, route.path, dict(request.match_info), user.id if user else None
    )
    resp = await _respond(ctx, request, route, handler, rel, verdict, known)
    if "X-RateLimit-Global" not in resp.headers:
        for key, value in verdict.headers.items():
            resp.headers.setdefault(key, value)
    resp.headers.setdefault("Via", "1.1 google")
    if ctx.contract is not None and isinstance(resp, web.Response) and resp.status < 500:
        if not resp.get(FAULT_KEY):
            _validate(ctx, request.method, route.path, resp)
    return resp


async def _respond(
    ctx: Ctx,
    request: web.Request,
    route: Route,
    handler: Handler,
    rel: str,
    verdict: Verdict,
    known: bool,
) -> web.StreamResponse:
    if not known or (route.auth and USER_KEY not in request):
        return _error(errors.unauthorized())
    scopes = request.get(SCOPES_KEY)
    if scopes is not None and not oauth2.bearer_allowed(route.path, scopes):
        return _error(errors.unauthorized())  # Bearer tokens: their scopes' routes only
    if scopes is None and route.path in oauth2.BEARER_ROUTES and route.path != "/users/@me":
        return _error(errors.unauthorized())  # OAuth2 only, never a bot token
    fault = ctx.faults.take(request.method, rel)
    if fault is not None:
        log.info("fault injected %s %s -> %s", request.method, rel, fault.status)
        if fault.code:
            return _error(errors.ApiError(fault.status, fault.code, fault.message))
        return _fault_response(fault.status, fault.retry_after, fault.is_global)
    if verdict.retry_after is not None:
        body = payloads.ratelimited(round(verdict.retry_after, 3), is_global=verdict.is_global)
        return json_reply(body, 429)
    try:
        return await handler(request)
    except errors.ApiError as err:
        return _error(err)
    except web.HTTPRequestEntityTooLarge:
        return _error(errors.too_large())
    except web.HTTPException:
        raise
    except Exception:
        log.exception("emulator bug handling %s %s", request.method, rel)
        return json_reply({"message": "500: Internal Server Error", "code": 0}, 500)


def _fault_response(status: int, retry_after: float, is_global: bool) -> web.Response:
    if status == 429:
        resp = json_reply(payloads.ratelimited(retry_after, is_global=is_global), 429)
        if is_global:
            resp.headers.update(global_headers(retry_after))
        else:
            resp.headers["Retry-After"] = str(math.ceil(retry_after))
            resp.headers["X-RateLimit-Scope"] = "user"
    else:
        text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        resp = json_reply(
            {"message": f"{status}: {text.get(status, 'Server Error')}", "code": 0}, status
        )
    resp[FAULT_KEY] = True
    return resp


def _validate(ctx: Ctx, method: str, template: str, resp: web.Response) -> None:
    assert ctx.contract is not None
    body = None
    if resp.body:
        assert isinstance(resp.body, bytes)
        if resp.content_type != "application/json":
            ctx.violations.append(f"{method} {template} -> {resp.status}: not JSON")
            return
        body = json.loads(resp.body)
    problems = ctx.contract.errors(method, template, resp.status, body)
    for problem in problems:
        log.warning("contract violation: %s", problem)
    ctx.violations.extend(problems)
