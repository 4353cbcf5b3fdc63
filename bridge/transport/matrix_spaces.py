"""Matrix side of the spaces: space rooms created and owned by the bridge bot, their
state set through the bot's intent. Used by :class:`bridge.transport.matrix.MatrixTransport`."""

from __future__ import annotations

import logging
from typing import Any

from mautrix.api import Method, Path
from mautrix.appservice import IntentAPI
from mautrix.errors import MNotFound
from mautrix.types import EventType, RoomCreatePreset, RoomDirectoryVisibility

from bridge.ids import RoomID, UserID

log = logging.getLogger(__name__)


def space_initial_state(join_rule: dict[str, Any], avatar_mxc: str | None) -> list[dict[str, Any]]:
    """A public space is readable by anyone (``world_readable``: browsable before
    joining); a restricted one only by its members (``joined``)."""
    public = join_rule.get("join_rule") == "public"
    state: list[dict[str, Any]] = [
        {"type": "m.room.join_rules", "state_key": "", "content": join_rule},
        {
            "type": "m.room.history_visibility",
            "state_key": "",
            "content": {"history_visibility": "world_readable" if public else "joined"},
        },
        {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
    ]
    if avatar_mxc:
        state.append({"type": "m.room.avatar", "state_key": "", "content": {"url": avatar_mxc}})
    return state


async def create_space(
    bot: IntentAPI,
    name: str,
    topic: str,
    avatar_mxc: str | None,
    join_rule: dict[str, Any],
) -> RoomID:
    """A space room owned by the bot: its creator (power 100, or above every level in
    room version 12), the only one who may change it."""
    room_id = await bot.create_room(
        visibility=RoomDirectoryVisibility.PRIVATE,
        preset=RoomCreatePreset.PUBLIC
        if join_rule.get("join_rule") == "public"
        else RoomCreatePreset.PRIVATE,
        name=name,
        topic=topic or None,
        initial_state=space_initial_state(join_rule, avatar_mxc),
        creation_content={"type": "m.space"},
        power_level_override={
            "events_default": 100,  # nobody posts in a space
            "state_default": 100,
            "invite": 0,
        },
    )
    log.info("space.room-created room=%s", room_id)
    return RoomID(room_id)


async def set_state(
    bot: IntentAPI, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
) -> None:
    await bot.send_state_event(
        room_id,
        EventType.find(event_type, EventType.Class.STATE),
        content,
        state_key=state_key,
    )


async def get_state(
    bot: IntentAPI, room_id: RoomID, event_type: str, state_key: str
) -> dict[str, Any] | None:
    """A state event's content as JSON (None when the room has none), unparsed: custom
    event types such as ``im.ponies.room_emotes`` come back as they were sent."""
    try:
        content = await bot.api.request(
            Method.GET, Path.v3.rooms[room_id].state[event_type][state_key]
        )
    except MNotFound:
        return None
    return content if isinstance(content, dict) else None


async def joined_members(bot: IntentAPI, room_id: RoomID) -> list[UserID]:
    return [UserID(u) for u in await bot.get_joined_members(room_id)]
