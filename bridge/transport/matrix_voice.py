"""Matrix side of the voice rooms: read back the ``org.passerelle.voice`` state the
bridge set earlier (bridge/actions/voice_channels.py), so a restart can set out of
voice whoever left while the bridge was away."""

from __future__ import annotations

import logging
from typing import Any

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixError

from bridge.convert.d2m.voice_state import VOICE_EVENT_TYPE
from bridge.ids import RoomID

log = logging.getLogger(__name__)


async def voice_states(bot: IntentAPI, room_id: RoomID) -> dict[str, dict[str, Any]]:
    """state key (a Discord user ID) -> content, for every voice state in the room."""
    try:
        events = await bot.get_state(room_id)
    except MatrixError as exc:
        log.warning("matrix.voice-state-read-failed room=%s error=%s", room_id, exc)
        return {}
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        if str(event.type) == VOICE_EVENT_TYPE and event.state_key:
            content = event.content.serialize() if hasattr(event.content, "serialize") else {}
            found[event.state_key] = dict(content or {})
    return found
