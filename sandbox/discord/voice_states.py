"""Who is in which voice channel: the ``voice_states`` of GUILD_CREATE and the
VOICE_STATE_UPDATE dispatches (intent GUILD_VOICE_STATES), driven by a test control.

Nobody really connects: there is no voice gateway nor UDP here, only the state the
Discord client would show (who is in which channel, muted, deafened, streaming).
"""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.discord import payloads
from sandbox.discord.context import Ctx
from sandbox.discord.state import State

GUILD_VOICE_STATES = 1 << 7  # the intent
VOICE_TYPES = (2, 13)  # voice and stage channels
Json = dict[str, Any]


def voice_state(state: State, guild_id: str, user_id: str, in_guild_create: bool) -> Json:
    """One stored voice state as Discord sends it (GUILD_CREATE leaves out guild_id)."""
    stored = state.voice_states[(guild_id, user_id)]
    data: Json = {
        "channel_id": stored["channel_id"],
        "user_id": user_id,
        "session_id": stored["session_id"],
        "deaf": False,
        "mute": False,
        "self_deaf": stored["self_deaf"],
        "self_mute": stored["self_mute"],
        "self_video": stored["self_video"],
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if stored["self_stream"]:
        data["self_stream"] = True
    if not in_guild_create:
        data["guild_id"] = guild_id
        member = state.member(guild_id, user_id)
        if member is not None:
            data["member"] = payloads.member(state, member)
    return data


def guild_voice_states(state: State, guild_id: str) -> list[Json]:
    """The ``voice_states`` of a GUILD_CREATE: who is connected now."""
    return [
        voice_state(state, g, u, True)
        for (g, u), stored in state.voice_states.items()
        if g == guild_id and stored["channel_id"] is not None
    ]


class VoiceStateControls:
    """What a member does with the voice buttons of the Discord client."""

    ctx: Ctx

    def set_voice_state(
        self,
        guild_id: str,
        user_id: str,
        channel_id: str | None,
        *,
        self_mute: bool = False,
        self_deaf: bool = False,
        self_stream: bool = False,
        self_video: bool = False,
    ) -> None:
        """``user_id`` joins (or moves to) ``channel_id``, or leaves voice with None;
        dispatches VOICE_STATE_UPDATE to the guild's sessions with GUILD_VOICE_STATES."""
        state = self.ctx.state
        guild_id, user_id = str(guild_id), str(user_id)
        if state.member(guild_id, user_id) is None:
            raise KeyError(f"not a member of {guild_id}: {user_id}")
        if channel_id is not None:
            channel = state.channels[str(channel_id)]
            if channel.guild_id != guild_id or channel.type not in VOICE_TYPES:
                raise KeyError(f"not a voice channel of {guild_id}: {channel_id}")
            channel_id = channel.id
        previous = state.voice_states.get((guild_id, user_id))
        state.voice_states[(guild_id, user_id)] = {
            "channel_id": channel_id,
            "session_id": (previous or {}).get("session_id") or secrets.token_hex(16),
            "self_mute": self_mute,
            "self_deaf": self_deaf,
            "self_stream": self_stream and channel_id is not None,
            "self_video": self_video and channel_id is not None,
        }
        data = voice_state(state, guild_id, user_id, False)
        if channel_id is None:
            del state.voice_states[(guild_id, user_id)]
        self.ctx.hub.dispatch_guild("VOICE_STATE_UPDATE", data, guild_id, GUILD_VOICE_STATES)
