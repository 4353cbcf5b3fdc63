"""Who is in a Discord voice channel -> Matrix room state. Pure.

Each member in voice has a state event ``org.passerelle.voice`` whose state key is
their Discord user ID (a Matrix ID as state key could only be set by that user, and
the bridge bot sets these); content: ``in_voice``, ``self_mute``, ``self_deaf``,
``streaming``, ``video``, ``since`` in ms, ``discord_user_id``, and
``matrix_user_id`` (their ghost, added by the action). Leaving sets ``in_voice`` to
false. The room topic adds a one-line summary ("In voice now: Alice
and Bob.") and says in plain words that Matrix users cannot join the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.i18n import Translator
from bridge.ids import ChannelID, DiscordUserID, GuildID

VOICE_EVENT_TYPE = "org.passerelle.voice"


@dataclass(frozen=True)
class VoiceState:
    """A member's voice state (VOICE_STATE_UPDATE, or GUILD_CREATE's voice_states);
    ``channel_id`` None: they left voice."""

    guild_id: GuildID
    user_id: DiscordUserID
    channel_id: ChannelID | None
    self_mute: bool = False
    self_deaf: bool = False
    mute: bool = False  # muted by a moderator
    deaf: bool = False
    streaming: bool = False  # sharing their screen ("Go Live")
    video: bool = False  # camera on


def member_content(
    state: VoiceState | None, user_id: DiscordUserID, since_ms: int
) -> dict[str, Any]:
    """The ``org.passerelle.voice`` content of one member (None: not in this channel)."""
    if state is None or state.channel_id is None:
        return {"in_voice": False, "discord_user_id": str(user_id)}
    return {
        "in_voice": True,
        "discord_user_id": str(user_id),
        "self_mute": state.self_mute or state.mute,
        "self_deaf": state.self_deaf or state.deaf,
        "streaming": state.streaming,
        "video": state.video,
        "since": since_ms,
    }


def summary(tr: Translator, names: list[str]) -> str:
    if not names:
        return tr._("Nobody is in voice right now.")
    return tr._("In voice now: {names}.", names=tr.join(sorted(names, key=str.casefold)))


def voice_topic(tr: Translator, channel_topic: str, names: list[str]) -> str:
    """The portal's topic: the channel's own topic, who is in voice, and what Matrix
    users can do here."""
    parts = [
        channel_topic.strip(),
        summary(tr, names),
        tr._(
            "This is a Discord voice channel: calls stay on Discord. From Matrix you can"
            " read and write in its chat, but not join the call."
        ),
    ]
    return "\n".join(p for p in parts if p)
