"""Matrix side of power levels: read and replace a room's ``m.room.power_levels`` as
the bridge bot (for :mod:`bridge.actions.power`). Reads come from mautrix's state
cache (kept current by the appservice's events); a write updates it.

Room versions 12 and later give a room's creators unlimited power and no entry in
``users``: each room's creators are read once from its ``m.room.create`` event (which
never changes) and kept in mautrix's state cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mautrix.appservice import IntentAPI
from mautrix.errors import IntentError, MatrixRequestError
from mautrix.types import EventType, PowerLevelStateEventContent, StateEvent

from bridge.ids import RoomID
from bridge.model import RoomPowerLevels

log = logging.getLogger(__name__)

# Room versions before 12 (MSC4289) whose creators have no special power, besides
# every version below 12 given as a number.
_CREATOR_POWER_VERSIONS = frozenset({"org.matrix.hydra.11"})


def creators_have_power(room_version: str) -> bool:
    """Whether the room version gives its creators unlimited power (12 and later)."""
    if room_version in _CREATOR_POWER_VERSIONS:
        return True
    return room_version.isdigit() and int(room_version) >= 12


def creators_of(create_event: dict[str, Any]) -> frozenset[str]:
    """The creators with unlimited power from a full ``m.room.create`` event (empty for
    older room versions)."""
    content = create_event.get("content")
    content = content if isinstance(content, dict) else {}
    if not creators_have_power(str(content.get("room_version") or "1")):
        return frozenset()
    extra = content.get("additional_creators")
    creators = {str(u) for u in extra if isinstance(u, str)} if isinstance(extra, list) else set()
    sender = create_event.get("sender")
    if isinstance(sender, str):
        creators.add(sender)
    return frozenset(creators)


class MatrixPower:
    def __init__(self, bot: Callable[[], IntentAPI]) -> None:
        self._bot = bot

    async def _room_creators(self, room_id: RoomID) -> frozenset[str]:
        """From mautrix's cache of create events (which its own power checks fill too)."""
        bot = self._bot()
        event = await bot.state_store.get_create(room_id)
        if event is None:
            fetched = await bot.get_state_event(room_id, EventType.ROOM_CREATE, format="event")
            if not isinstance(fetched, StateEvent):
                return frozenset()
            await bot.state_store.set_create(fetched)
            event = fetched
        return creators_of(event.serialize())

    async def read(self, room_id: RoomID, fresh: bool = False) -> RoomPowerLevels | None:
        """The room's power levels (a copy of the content; ``fresh``: from the
        homeserver, which refreshes the cache) and its creators with unlimited power;
        None when the bot cannot read them."""
        try:
            levels = await self._bot().get_power_levels(room_id, ignore_cache=fresh)
            creators = await self._room_creators(room_id)
        except MatrixRequestError as exc:
            log.warning("matrix.power-read-failed room=%s errcode=%s", room_id, exc.errcode)
            return None
        return RoomPowerLevels(dict(levels.serialize()), creators)

    async def write(self, room_id: RoomID, content: dict[str, Any]) -> bool:
        """Replace the room's power levels; False when the homeserver refuses."""
        try:
            levels = PowerLevelStateEventContent.deserialize(content)  # type: ignore[arg-type]
            await self._bot().set_power_levels(room_id, levels)
        except MatrixRequestError as exc:
            log.warning("matrix.power-write-failed room=%s errcode=%s", room_id, exc.errcode)
            return False
        except IntentError as exc:  # mautrix: the bot's own level is too low
            log.warning("matrix.power-write-failed room=%s error=%s", room_id, exc)
            return False
        return True
