"""Guild scheduled events: REST routes, gateway dispatches and test controls.

``/guilds/{id}/scheduled-events`` (list, create, get, modify, delete) and
``.../{event_id}/users`` (who is interested, with ``with_member``), as in Discord's
API v10. Every change dispatches GUILD_SCHEDULED_EVENT_CREATE / _UPDATE / _DELETE
(intent GUILD_SCHEDULED_EVENTS) to the guild members who can see the event: all of
them for an external event, those who can view the channel for a stage or voice one.
Marking an event "interested" dispatches GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE.

Entity types: 1 stage instance, 2 voice (both need ``channel_id``), 3 external (needs
``entity_metadata.location`` and ``scheduled_end_time``). Statuses: 1 scheduled,
2 active, 3 completed, 4 canceled; scheduled -> active or canceled, active ->
completed, the last two are final.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord.context import (
    Ctx,
    ctx_of,
    current_user,
    guild_for,
    int_query,
    json_reply,
    no_content,
    read_json,
    snowflake_param,
)
from sandbox.discord.state import Guild

log = logging.getLogger(__name__)

GUILD_SCHEDULED_EVENTS = 1 << 16  # the intent
MANAGE_EVENTS = 1 << 33
VIEW_CHANNEL = 1 << 10
STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
NEXT_STATUS = {SCHEDULED: {ACTIVE, CANCELED}, ACTIVE: {COMPLETED}}
GUILD_ONLY = 2
Json = dict[str, Any]


def unknown_event() -> errors.ApiError:
    return errors.ApiError(404, 10070, "Unknown Guild Scheduled Event")


def _time(body: Json, key: str, required: bool) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise errors.invalid_form(key, "BASE_TYPE_REQUIRED", "This field is required")
        return None
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.invalid_form(key, "DATE_TYPE_PARSE", "Could not parse date.") from exc
    return str(value)


def event_payload(ctx: Ctx, event: Json, with_count: bool = True) -> Json:
    """The ScheduledEventResponse of a stored event."""
    data = dict(event)
    creator = ctx.state.users.get(str(event.get("creator_id")))
    if creator is not None:
        data["creator"] = payloads.user(creator)
    if with_count:
        data["user_count"] = len(ctx.state.event_interest.get(event["id"], []))
    else:
        data.pop("user_count", None)
    return data


def visible_to(ctx: Ctx, event: Json, user_id: str) -> bool:
    channel_id = event.get("channel_id")
    if channel_id is None:
        return ctx.state.member(event["guild_id"], user_id) is not None
    return ctx.state.can(str(channel_id), user_id, VIEW_CHANNEL)


def dispatch(ctx: Ctx, name: str, event: Json) -> int:
    data = event_payload(ctx, event)
    if event.get("channel_id") is not None:
        return ctx.hub.dispatch_channel(
            name, data, str(event["channel_id"]), GUILD_SCHEDULED_EVENTS
        )
    return ctx.hub.dispatch_guild(name, data, event["guild_id"], GUILD_SCHEDULED_EVENTS)


def _entity(ctx: Ctx, guild: Guild, body: Json, current: Json | None) -> Json:
    """Entity type, channel and metadata checked together (create, or a modify merged
    over ``current``)."""
    merged = {**(current or {}), **body}
    kind = merged.get("entity_type")
    if kind not in (STAGE_INSTANCE, VOICE, EXTERNAL):
        raise errors.invalid_form(
            "entity_type", "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3)."
        )
    if kind == EXTERNAL:
        metadata = merged.get("entity_metadata") or {}
        location = metadata.get("location") if isinstance(metadata, dict) else None
        if not isinstance(location, str) or not location.strip():
            raise errors.invalid_form(
                "entity_metadata.location", "BASE_TYPE_REQUIRED", "This field is required"
            )
        if merged.get("scheduled_end_time") is None:
            raise errors.invalid_form(
                "scheduled_end_time", "BASE_TYPE_REQUIRED", "This field is required"
            )
        return {"channel_id": None, "entity_metadata": {"location": location[:100]}}
    channel_id = merged.get("channel_id")
    channel = ctx.state.channels.get(str(channel_id)) if channel_id is not None else None
    wanted = 13 if kind == STAGE_INSTANCE else 2
    if channel is None or channel.guild_id != guild.id or channel.type != wanted:
        raise errors.invalid_form(
            "channel_id", "GUILD_SCHEDULED_EVENT_INVALID_CHANNEL", "Invalid channel."
        )
    return {"channel_id": channel.id, "entity_metadata": None}


def create(ctx: Ctx, guild: Guild, creator_id: str, body: Json) -> Json:
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise errors.invalid_form(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    if body.get("privacy_level", GUILD_ONLY) != GUILD_ONLY:
        raise errors.invalid_form(
            "privacy_level", "BASE_TYPE_CHOICES", "Value must be one of (2,)."
        )
    description = body.get("description")
    event: Json = {
        "id": ctx.state.ids.next_str(),
        "guild_id": guild.id,
        "name": name,
        "description": description if isinstance(description, str) else None,
        "creator_id": creator_id,
        "image": None,
        "scheduled_start_time": _time(body, "scheduled_start_time", True),
        "scheduled_end_time": _time(body, "scheduled_end_time", False),
        "status": SCHEDULED,
        "entity_type": body.get("entity_type"),
        "entity_id": None,
        "recurrence_rule": None,
        "privacy_level": GUILD_ONLY,
        "guild_scheduled_event_exceptions": [],
    }
    event.update(_entity(ctx, guild, body, None))
    ctx.state.scheduled_events[event["id"]] = event
    dispatch(ctx, "GUILD_SCHEDULED_EVENT_CREATE", event)
    log.info("emulator.event-created guild=%s event=%s", guild.id, event["id"])
    return event


def modify(ctx: Ctx, guild: Guild, event: Json, body: Json) -> Json:
    changes: Json = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise errors.invalid_form(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        changes["name"] = name
    if "description" in body:
        changes["description"] = (
            body["description"] if isinstance(body["description"], str) else None
        )
    for key in ("scheduled_start_time", "scheduled_end_time"):
        if key in body:
            changes[key] = _time(body, key, key == "scheduled_start_time")
    if "status" in body:
        status = body["status"]
        if status != event["status"] and status not in NEXT_STATUS.get(event["status"], set()):
            raise errors.ApiError(400, 180000, "Cannot update event status.")
        changes["status"] = status
    if {"entity_type", "channel_id", "entity_metadata"} & body.keys():
        changes["entity_type"] = body.get("entity_type", event["entity_type"])
        changes.update(_entity(ctx, guild, {**body, **changes}, event))
    event.update(changes)
    dispatch(ctx, "GUILD_SCHEDULED_EVENT_UPDATE", event)
    return event


def delete(ctx: Ctx, event: Json) -> None:
    ctx.state.scheduled_events.pop(event["id"], None)
    ctx.state.event_interest.pop(event["id"], None)
    dispatch(ctx, "GUILD_SCHEDULED_EVENT_DELETE", event)


def set_interest(ctx: Ctx, event: Json, user_id: str, interested: bool) -> bool:
    """Mark (or unmark) ``user_id`` interested; False when nothing changed."""
    users = ctx.state.event_interest.setdefault(event["id"], [])
    if interested == (user_id in users):
        return False
    if interested:
        users.append(user_id)
    else:
        users.remove(user_id)
    data = {
        "guild_scheduled_event_id": event["id"],
        "user_id": user_id,
        "guild_id": event["guild_id"],
    }
    name = "GUILD_SCHEDULED_EVENT_USER_" + ("ADD" if interested else "REMOVE")
    if event.get("channel_id") is not None:
        ctx.hub.dispatch_channel(name, data, str(event["channel_id"]), GUILD_SCHEDULED_EVENTS)
    else:
        ctx.hub.dispatch_guild(name, data, event["guild_id"], GUILD_SCHEDULED_EVENTS)
    return True


def guild_events(ctx: Ctx, guild: Guild, viewer: str) -> list[Json]:
    return [
        e
        for e in ctx.state.scheduled_events.values()
        if e["guild_id"] == guild.id and visible_to(ctx, e, viewer)
    ]


# -- REST ---------------------------------------------------------------------------


def _can_manage(ctx: Ctx, guild: Guild, user_id: str, channel_id: str | None) -> bool:
    if channel_id is not None:
        return ctx.state.permissions(channel_id, user_id) & MANAGE_EVENTS == MANAGE_EVENTS
    return ctx.state.guild_permissions(guild.id, user_id) & MANAGE_EVENTS == MANAGE_EVENTS


def _event_for(request: web.Request, guild: Guild, viewer: str) -> Json:
    event_id = snowflake_param(request, "guild_scheduled_event_id", unknown_event())
    event = ctx_of(request).state.scheduled_events.get(event_id)
    if (
        event is None
        or event["guild_id"] != guild.id
        or not visible_to(ctx_of(request), event, viewer)
    ):
        raise unknown_event()
    return event


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() in ("true", "1")


async def list_events(request: web.Request) -> web.Response:
    """``GET /guilds/{id}/scheduled-events`` (``with_user_count``)."""
    user = current_user(request)
    guild = guild_for(request, user)
    ctx = ctx_of(request)
    counts = _flag(request, "with_user_count")
    return json_reply([event_payload(ctx, e, counts) for e in guild_events(ctx, guild, user.id)])


async def get_event(request: web.Request) -> web.Response:
    user = current_user(request)
    guild = guild_for(request, user)
    event = _event_for(request, guild, user.id)
    return json_reply(event_payload(ctx_of(request), event, _flag(request, "with_user_count")))


async def create_event(request: web.Request) -> web.Response:
    user = current_user(request)
    guild = guild_for(request, user)
    ctx = ctx_of(request)
    body = await read_json(request)
    channel_id = body.get("channel_id")
    if not _can_manage(ctx, guild, user.id, str(channel_id) if channel_id else None):
        raise errors.missing_permissions()
    return json_reply(event_payload(ctx, create(ctx, guild, user.id, body), False))


async def modify_event(request: web.Request) -> web.Response:
    user = current_user(request)
    guild = guild_for(request, user)
    ctx = ctx_of(request)
    event = _event_for(request, guild, user.id)
    if not _can_manage(ctx, guild, user.id, event.get("channel_id")):
        raise errors.missing_permissions()
    return json_reply(
        event_payload(ctx, modify(ctx, guild, event, await read_json(request)), False)
    )


async def delete_event(request: web.Request) -> web.Response:
    user = current_user(request)
    guild = guild_for(request, user)
    ctx = ctx_of(request)
    event = _event_for(request, guild, user.id)
    if not _can_manage(ctx, guild, user.id, event.get("channel_id")):
        raise errors.missing_permissions()
    delete(ctx, event)
    return no_content()


async def list_event_users(request: web.Request) -> web.Response:
    """``GET .../{event_id}/users`` (``limit`` 1..100, ``with_member``, ``before``,
    ``after``), sorted by user ID."""
    user = current_user(request)
    guild = guild_for(request, user)
    ctx = ctx_of(request)
    event = _event_for(request, guild, user.id)
    limit = int_query(request, "limit", 100, 1, 100)
    with_member = _flag(request, "with_member")
    before = int(request.query.get("before", str(1 << 64)))
    after = int(request.query.get("after", "0"))
    chosen = sorted(
        (u for u in ctx.state.event_interest.get(event["id"], []) if after < int(u) < before),
        key=int,
    )[:limit]
    rows: list[Json] = []
    for user_id in chosen:
        row: Json = {
            "guild_scheduled_event_id": event["id"],
            "user_id": user_id,
            "user": payloads.user(ctx.state.users[user_id]),
            "response": 1,
        }
        member = ctx.state.member(guild.id, user_id)
        if with_member and member is not None:
            row["member"] = payloads.member(ctx.state, member)
        rows.append(row)
    return json_reply(rows)


ROUTES = [
    ("GET", "/guilds/{guild_id}/scheduled-events", list_events),
    ("POST", "/guilds/{guild_id}/scheduled-events", create_event),
    ("GET", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", get_event),
    ("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", modify_event),
    ("DELETE", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", delete_event),
    (
        "GET",
        "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/users",
        list_event_users,
    ),
]


class ScheduledEventControls:
    """What an organiser does in the Discord client (mixed into the Emulator)."""

    ctx: Ctx

    def create_scheduled_event(
        self,
        guild_id: str,
        name: str,
        start: str,
        *,
        end: str | None = None,
        description: str | None = None,
        channel_id: str | None = None,
        location: str | None = None,
        creator_id: str | None = None,
    ) -> str:
        """A scheduled event: in a voice (or stage) channel with ``channel_id``, else
        external at ``location``. Returns its ID."""
        guild = self.ctx.state.guilds[str(guild_id)]
        body: Json = {"name": name, "scheduled_start_time": start, "privacy_level": GUILD_ONLY}
        if end is not None:
            body["scheduled_end_time"] = end
        if description is not None:
            body["description"] = description
        if channel_id is not None:
            channel = self.ctx.state.channels[str(channel_id)]
            body.update(
                channel_id=channel.id, entity_type=STAGE_INSTANCE if channel.type == 13 else VOICE
            )
        else:
            body.update(entity_type=EXTERNAL, entity_metadata={"location": location or ""})
        creator = creator_id or (guild.owner_id or "")
        return str(create(self.ctx, guild, str(creator), body)["id"])

    def update_scheduled_event(self, event_id: str, **fields: Any) -> None:
        """Modify an event as PATCH would (``name``, ``description``,
        ``scheduled_start_time``, ``status`` ...)."""
        event = self.ctx.state.scheduled_events[str(event_id)]
        modify(self.ctx, self.ctx.state.guilds[event["guild_id"]], event, fields)

    def cancel_scheduled_event(self, event_id: str) -> None:
        self.update_scheduled_event(event_id, status=CANCELED)

    def delete_scheduled_event(self, event_id: str) -> None:
        delete(self.ctx, self.ctx.state.scheduled_events[str(event_id)])

    def set_event_interest(self, event_id: str, user_id: str, interested: bool = True) -> bool:
        event = self.ctx.state.scheduled_events[str(event_id)]
        if self.ctx.state.member(event["guild_id"], str(user_id)) is None:
            raise KeyError(f"not a member: {user_id}")
        return set_interest(self.ctx, event, str(user_id), interested)
