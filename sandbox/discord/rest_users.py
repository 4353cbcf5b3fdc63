"""REST: gateway discovery, users and the application."""

from __future__ import annotations

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord.context import ctx_of, current_user, json_reply, read_json, snowflake_param


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
                "icon": g.icon,
                "banner": None,
                "owner": g.owner_id == user.id,
                "permissions": str(state.guild_permissions(g.id, user.id)),
                "features": [],
            }
        )
    return json_reply(out)


async def create_dm(request: web.Request) -> web.Response:
    """``POST /users/@me/channels`` ``{recipient_id}``: the DM channel (type 1) between
    the caller and the recipient, created on first use and the same one afterwards."""
    ctx = ctx_of(request)
    user = current_user(request)
    body = await read_json(request)
    raw = body.get("recipient_id")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
        raise errors.invalid_form(
            "recipient_id", "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.'
        )
    recipient = ctx.state.users.get(str(int(raw)))
    if recipient is None:
        raise errors.unknown_user()
    if recipient.id == user.id:
        raise errors.cannot_message_user()
    channel = ctx.state.open_dm(user.id, recipient.id)
    return json_reply(payloads.dm_channel(ctx.state, channel, user.id))
