"""REST: gateway discovery, users and the application."""

from __future__ import annotations

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord.context import ctx_of, current_user, json_reply, snowflake_param


async def get_gateway(request: web.Request) -> web.Response:
    return json_reply({"url": ctx_of(request).hub.gateway_url.rstrip("/")})


async def get_gateway_bot(request: web.Request) -> web.Response:
    current_user(request)
    return json_reply(
        {
            "url": ctx_of(request).hub.gateway_url.rstrip("/"),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86400000,
                "max_concurrency": 1,
            },
        }
    )


async def get_me(request: web.Request) -> web.Response:
    return json_reply(payloads.user_pii(current_user(request)))


async def get_user(request: web.Request) -> web.Response:
    current_user(request)
    state = ctx_of(request).state
    user = state.users.get(snowflake_param(request, "user_id", errors.unknown_user()))
    if user is None:
        raise errors.unknown_user()
    return json_reply(payloads.user(user))


async def get_my_application(request: web.Request) -> web.Response:
    state = ctx_of(request).state
    user = current_user(request)
    return json_reply(payloads.application(state, state.application_for(user)))


async def get_my_guilds(request: web.Request) -> web.Response:
    """``GET /users/@me/guilds``: partial guilds with the caller's permissions."""
    state = ctx_of(request).state
    user = current_user(request)
    out: list[dict[str, object]] = []
    for g in state.guilds_of(user.id):
        out.append(
            {
                "id": g.id,
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": g.owner_id == user.id,
                "permissions": str(state.guild_permissions(g.id, user.id)),
                "features": [],
            }
        )
    return json_reply(out)
