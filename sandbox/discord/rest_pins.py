"""REST: pinned messages, current (``/messages/pins``) and legacy (``/pins``) routes.

Pinning needs MANAGE_MESSAGES (or Discord's newer PIN_MESSAGES), as on Discord;
a channel holds at most 50 pins. Each change sets the message's ``pinned``,
posts the "pinned a message" system message (type 6) on pin, and dispatches
MESSAGE_UPDATE and CHANNEL_PINS_UPDATE to the channel's viewers.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    channel_for,
    ctx_of,
    current_user,
    json_reply,
    no_content,
    snowflake_param,
)
from sandbox.discord.gateway import GUILDS
from sandbox.discord.rest_messages import dispatch_created, dispatch_updated
from sandbox.discord.snowflake import now_iso
from sandbox.discord.state import Channel, User

PIN_MESSAGES = 1 << 51
MAX_PINS = 50
CHANNEL_PINNED_MESSAGE = 6


def _pins(request: web.Request, channel: Channel) -> dict[str, str]:
    """message id -> pinned_at (ISO 8601), kept in pin order."""
    return ctx_of(request).state.pins.setdefault(channel.id, {})


def _readable(request: web.Request, channel: Channel, user: User) -> list[tuple[str, str]]:
    """(message id, pinned_at) newest pin first; empty without READ_MESSAGE_HISTORY."""
    if not ctx_of(request).state.can(channel.id, user.id, perms.READ_MESSAGE_HISTORY):
        return []
    return sorted(_pins(request, channel).items(), key=lambda kv: kv[1], reverse=True)


async def list_pins(request: web.Request) -> web.Response:
    """``GET /channels/{id}/messages/pins``: ``{items: [{pinned_at, message}], has_more}``."""
    user = current_user(request)
    channel = channel_for(request, user)
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError as exc:
        raise errors.invalid_form("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from exc
    if not 1 <= limit <= MAX_PINS:
        raise errors.invalid_form(
            "limit", "NUMBER_TYPE_MAX", "int value should be between 1 and 50."
        )
    before = request.query.get("before")
    state = ctx_of(request).state
    pins = [(m, at) for m, at in _readable(request, channel, user) if not before or at < before]
    items = [{"pinned_at": at, "message": state.messages[m]} for m, at in pins[:limit]]
    return json_reply({"items": items, "has_more": len(pins) > limit})


async def list_pins_legacy(request: web.Request) -> web.Response:
    """``GET /channels/{id}/pins``: the pinned messages, newest pin first."""
    user = current_user(request)
    channel = channel_for(request, user)
    state = ctx_of(request).state
    return json_reply([state.messages[m] for m, _ in _readable(request, channel, user)])


async def pin(request: web.Request) -> web.Response:
    return _change(request, pinned=True)


async def unpin(request: web.Request) -> web.Response:
    return _change(request, pinned=False)


def _change(request: web.Request, *, pinned: bool) -> web.Response:
    ctx = ctx_of(request)
    user = current_user(request)
    channel = channel_for(request, user)
    granted = ctx.state.permissions(channel.id, user.id)
    if not (perms.has(granted, perms.MANAGE_MESSAGES) or perms.has(granted, PIN_MESSAGES)):
        raise errors.missing_permissions()
    message_id = snowflake_param(request, "message_id", errors.unknown_message())
    message = ctx.state.messages.get(message_id)
    if message is None or message["channel_id"] != channel.id:
        raise errors.unknown_message()
    pins = _pins(request, channel)
    if pinned == (message_id in pins):
        return no_content()  # Discord answers 204 to a repeated pin or unpin
    if pinned and len(pins) >= MAX_PINS:
        raise errors.ApiError(400, 30003, "Maximum number of pins reached (50)")
    if pinned:
        pins[message_id] = now_iso()
    else:
        del pins[message_id]
    updated = {**message, "pinned": pinned}
    ctx.state.messages[message_id] = updated
    dispatch_updated(ctx, updated)
    if pinned:
        _announce(request, channel, user, message_id)
    last = max(pins.values(), default=None)
    data: dict[str, Any] = {
        "guild_id": channel.guild_id,
        "channel_id": channel.id,
        "last_pin_timestamp": last,
    }
    ctx.hub.dispatch_channel("CHANNEL_PINS_UPDATE", data, channel.id, GUILDS)
    return no_content()


def _announce(request: web.Request, channel: Channel, user: User, message_id: str) -> None:
    """The "<user> pinned a message to this channel." system message."""
    ctx = ctx_of(request)
    notice = payloads.message(
        message_id=ctx.state.ids.next_str(),
        channel_id=channel.id,
        author=payloads.user(user),
        content="",
        timestamp=now_iso(),
        tts=False,
        nonce=None,
        webhook_id=None,
        application_id=None,
        reference={
            "type": 0,
            "message_id": message_id,
            "channel_id": channel.id,
            "guild_id": channel.guild_id,
        },
        referenced=None,
        flags=0,
    )
    notice["type"] = CHANNEL_PINNED_MESSAGE
    ctx.state.add_message(notice)
    dispatch_created(ctx, notice)
