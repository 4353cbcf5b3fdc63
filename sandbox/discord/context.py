"""What every request handler needs, handed in through one typed app key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.discord import errors
from sandbox.discord.faults import FaultSwitch
from sandbox.discord.gateway import GatewayHub
from sandbox.discord.oauth2_state import OAuth2State
from sandbox.discord.ratelimit import RateLimiter
from sandbox.discord.state import Channel, Guild, State, User

if TYPE_CHECKING:  # jsonschema is only needed when validating responses
    from sandbox.discord.openapi import Contract

API_PREFIX = "/api/v10"


@dataclass
class Ctx:
    state: State
    hub: GatewayHub
    faults: FaultSwitch
    limiter: RateLimiter
    contract: Contract | None = None
    violations: list[str] = field(default_factory=list)
    base_url: str = "http://127.0.0.1"
    oauth2: OAuth2State = field(default_factory=OAuth2State)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def cdn_base(self) -> str:
        return f"{self.base_url}/cdn"


CTX = web.AppKey("ctx", Ctx)
# Request/response storage keys; typed keys where aiohttp has them (3.12+), else strings.
_REQUEST_KEY = getattr(web, "RequestKey", None)
_RESPONSE_KEY = getattr(web, "ResponseKey", None)
USER_KEY: Any = _REQUEST_KEY("discord_user", User) if _REQUEST_KEY else "discord_user"
# The scopes of an OAuth2 Bearer token (absent for bot tokens).
SCOPES_KEY: Any = _REQUEST_KEY("oauth2_scopes", tuple) if _REQUEST_KEY else "oauth2_scopes"
FAULT_KEY: Any = _RESPONSE_KEY("passerelle_fault", bool) if _RESPONSE_KEY else "passerelle_fault"


def ctx_of(request: web.Request) -> Ctx:
    return request.app[CTX]


def json_reply(data: Any, status: int = 200) -> web.Response:
    """A JSON response with exactly ``Content-Type: application/json`` (discord.py needs it)."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(status=status, body=body, content_type="application/json")


def no_content() -> web.Response:
    return web.Response(status=204)


def current_user(request: web.Request) -> User:
    user = request.get(USER_KEY)
    if user is None:
        raise errors.unauthorized()
    assert isinstance(user, User)
    return user


def snowflake_param(request: web.Request, name: str, not_found: errors.ApiError) -> str:
    value = request.match_info[name]
    if not value.isdigit():
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
    if int(value) >= 1 << 64:
        raise not_found
    return str(int(value))


def channel_for(request: web.Request, user: User | None, *, allow_dm: bool = False) -> Channel:
    """The path's channel; with ``user``, 10003/50001 the way Discord answers.

    DM channels are only for their two participants (50001 for anyone else) and
    only for the handlers that pass ``allow_dm`` (50003 elsewhere)."""
    state = ctx_of(request).state
    channel = state.channels.get(snowflake_param(request, "channel_id", errors.unknown_channel()))
    if channel is None:
        raise errors.unknown_channel()
    if channel.is_dm:
        if user is not None and user.id not in channel.recipient_ids:
            raise errors.missing_access()
        if not allow_dm:
            raise errors.dm_channel_action()
        return channel
    if user is not None:
        if state.member(channel.guild_id, user.id) is None:
            raise errors.unknown_channel()
        if not state.can(channel.id, user.id, 1 << 10):
            raise errors.missing_access()
    return channel


def guild_for(request: web.Request, user: User) -> Guild:
    state = ctx_of(request).state
    guild = state.guilds.get(snowflake_param(request, "guild_id", errors.unknown_guild()))
    if guild is None or user.id not in guild.members:
        raise errors.unknown_guild()
    return guild


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``low..high``; Discord's 50035 form error otherwise."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.') from exc
    if not low <= value <= high:
        raise errors.invalid_form(
            name, "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}."
        )
    return value


async def read_json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    text = await request.text()
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.") from exc
    if not isinstance(data, dict):
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.")
    return data
