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

from bridge.convert.d2m.limits import EDITABLE_CONTENT_MAX, fit_content
from bridge.convert.d2m.markdown import D2MContext, discord_markdown_to_matrix
from bridge.convert.names import clean_name
from bridge.i18n import N_, translator
from bridge.ids import DiscordUserID, EventID, UserID
from bridge.model import DiscordAuthor, DiscordMessage, MatrixText

# Synapse refuses longer display names.
MAX_DISPLAYNAME = 256


def ghost_displayname(
    template: str,
    name: str | None,
    username: str | None,
    user_id: int,
    *,
    disambiguate: bool = False,
) -> str:
    """Fill the configured ghost display-name template.

    Names are cleaned (:func:`bridge.convert.names.clean_name`): no bidi
    overrides that could turn the template's suffix around, no invisible
    characters. A name with nothing visible falls back to the username, then to
    the ID. With ``disambiguate`` (the name looks like somebody else's in the room
    or the guild: :mod:`bridge.actions.name_clash`), the Discord username follows
    the name, as ``alice (@alice_d)``, or the ID when there is no username.
    """
    fallback = clean_name(username) or str(user_id)
    clean = clean_name(name) or fallback
    if disambiguate:
        handle = clean_name(username)
        clean = f"{clean} (@{handle})" if handle else f"{clean} ({user_id})"
    return template.format(name=clean, username=fallback, id=user_id)[:MAX_DISPLAYNAME]


def author_name(author: DiscordAuthor) -> str:
    """The first visible one of nickname, display name, username; else the ID."""
    for name in (author.nick, author.global_name, author.username):
        clean = clean_name(name)
        if clean:
            return clean
    return str(author.id)


PRIVATE_CHANNEL = N_("private channel")


def mention_context(
    message: DiscordMessage,
    ghost_mxid: Callable[[DiscordUserID], UserID],
    channel_rooms: Mapping[int, tuple[str, str]],
    hidden_channels: Collection[int] = (),
    custom_emoji_mxc: Mapping[int, str] | None = None,
    language: str = "en",
) -> D2MContext:
    """The converter's lookups for one message: mentioned users map to their ghosts,
    bridged channels (``channel_rooms``: id -> (name, room ID)) to room links.
    ``hidden_channels`` (members-only channels, when the target room is public) are
    shown as ``#private channel``: neither linked nor named."""
    names = {cid: clean_name(name) for cid, name in message.channel_mentions}
    private = translator(language)._(PRIVATE_CHANNEL)
    names.update({cid: private for cid in hidden_channels})
    return D2MContext(
        user_mxid={u.id: ghost_mxid(u.id) for u in message.mentions},
        user_names={u.id: author_name(u) for u in message.mentions},
        role_names={rid: clean_name(name) for rid, name in message.role_mentions},
        channel_rooms={
            k: (clean_name(name) or str(k), room)
            for k, (name, room) in channel_rooms.items()
            if k not in hidden_channels
        },
        channel_names=names,
        custom_emoji_mxc=custom_emoji_mxc or {},
        language=language,
    )


def discord_to_matrix_text(
    message: DiscordMessage,
    ctx: D2MContext | None = None,
    reply_to: EventID | None = None,
) -> MatrixText | None:
    """Convert a Discord message's text; None when there is nothing to send.

    The content stays small enough for one Matrix event, even once edited
    (:func:`bridge.convert.d2m.limits.fit_content`).
    """
    if not message.content or not message.content.strip():
        return None
    formatted = discord_markdown_to_matrix(message.content, ctx or D2MContext())
    if not formatted.body.strip():
        return None
    text = MatrixText(
        body=formatted.body,
        formatted_body=formatted.formatted_body,
        mentioned_user_ids=tuple(UserID(m) for m in formatted.mentioned_user_ids),
        mentions_room=formatted.mentions_room and message.mention_everyone,
        reply_to=reply_to,
    )
    return fit_content(text, message.content, EDITABLE_CONTENT_MAX)
