"""Matrix side of power levels: read and replace a room's ``m.room.power_levels`` as
the bridge bot (for :mod:`bridge.actions.power`). Reads come from mautrix's state
cache (kept current by the appservice's events); a write updates it."""

from __future__ import annotations

import logging
from typing import Any

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import PowerLevelStateEventContent

from bridge.ids import RoomID

log = logging.getLogger(__name__)


async def read_power_levels(bot: IntentAPI, room_id: RoomID) -> dict[str, Any] | None:
    """The room's power-levels content (a copy), None when the bot cannot read it."""
    try:
        levels = await bot.get_power_levels(room_id)
    except MatrixRequestError as exc:
        log.warning("matrix.power-read-failed room=%s errcode=%s", room_id, exc.errcode)
        return None
    return dict(levels.serialize())


async def write_power_levels(bot: IntentAPI, room_id: RoomID, content: dict[str, Any]) -> bool:
    """Replace the room's power levels; False when the homeserver refuses."""
    try:
        levels = PowerLevelStateEventContent.deserialize(content)  # type: ignore[arg-type]
        await bot.set_power_levels(room_id, levels)
    except MatrixRequestError as exc:
        log.warning("matrix.power-write-failed room=%s errcode=%s", room_id, exc.errcode)
        return False
    return True
