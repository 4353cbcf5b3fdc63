"""Discord message text -> Matrix ``m.room.message`` content.

Formatting goes through :mod:`bridge.convert.d2m.markdown`; this module builds
its lookup context from what the transport already resolved on the message
(mentioned users, roles and channels), so no lookups happen here. Mentioned
Discord users become pills to their ghosts, listed in ``m.mentions``;
``@everyone``/``@here`` set ``m.mentions.room`` only when Discord says the
message really mentioned everyone (the author had the permission).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from bridge.convert.d2m.markdown import D2MContext, discord_markdown_to_matrix
from bridge.ids import DiscordUserID, EventID, UserID
from bridge.model import DiscordMessage, MatrixText


def ghost_displayname(template: str, name: str, username: str, user_id: int) -> str:
    """Fill the configured ghost display-name template."""
    clean = " ".join(name.split()) or username
    return template.format(name=clean, username=username, id=user_id)


PRIVATE_CHANNEL = "private channel"


def mention_context(
    message: DiscordMessage,
    ghost_mxid: Callable[[DiscordUserID], UserID],
    channel_rooms: Mapping[int, tuple[str, str]],
    hidden_channels: Collection[int] = (),
    custom_emoji_mxc: Mapping[int, str] | None = None,
) -> D2MContext:
    """The converter's lookups for one message: mentioned users map to their ghosts,
    bridged channels (``channel_rooms``: id -> (name, room ID)) to room links.
    ``hidden_channels`` (members-only channels, when the target room is public) are
    shown as ``#private channel``: neither linked nor named."""
    names = {cid: name for cid, name in message.channel_mentions}
    names.update({cid: PRIVATE_CHANNEL for cid in hidden_channels})
    return D2MContext(
        user_mxid={u.id: ghost_mxid(u.id) for u in message.mentions},
        user_names={u.id: u.display_name for u in message.mentions},
        role_names=dict(message.role_mentions),
        channel_rooms={k: v for k, v in channel_rooms.items() if k not in hidden_channels},
        channel_names=names,
        custom_emoji_mxc=custom_emoji_mxc or {},
    )


def discord_to_matrix_text(
    message: DiscordMessage,
    ctx: D2MContext | None = None,
    reply_to: EventID | None = None,
) -> MatrixText | None:
    """Convert a Discord message's text; None when there is nothing to send."""
    if not message.content.strip():
        return None
    formatted = discord_markdown_to_matrix(message.content, ctx or D2MContext())
    if not formatted.body.strip():
        return None
    return MatrixText(
        body=formatted.body,
        formatted_body=formatted.formatted_body,
        mentioned_user_ids=tuple(UserID(m) for m in formatted.mentioned_user_ids),
        mentions_room=formatted.mentions_room and message.mention_everyone,
        reply_to=reply_to,
    )
