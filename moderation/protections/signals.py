"""What the protections see of a message: :class:`~.core.Signals` from a Discord
message or a Matrix event. Pure: the join times are looked up by the caller."""

from __future__ import annotations

import re
from urllib.parse import unquote

from bridge.model import DiscordMessage, MatrixMessage
from moderation.protections.core import MessageRef, Signals

DISCORD_EPOCH_MS = 1420070400000
LINK_RE = re.compile(r"\b(?:https?://|www\.)\S", re.IGNORECASE)
# A user pill in an HTML body: <a href="https://matrix.to/#/@alice:example.org">
PILL_RE = re.compile(r"""href=["']https://matrix\.to/#/((?:@|%40)[^"'?/]+)""", re.IGNORECASE)
EVERYONE_RE = re.compile(r"@(?:everyone|here)\b")
ROOM_RE = re.compile(r"(?<!\w)@room\b")
MEDIA_MSGTYPES = frozenset({"m.image", "m.video", "m.audio", "m.file", "m.sticker"})


def created_ms(snowflake: int) -> int:
    """When a Discord ID was made (an account's creation), ms since the epoch."""
    return (int(snowflake) >> 22) + DISCORD_EPOCH_MS


def discord_author(user_id: int) -> str:
    return f"discord:{user_id}"


def from_discord(message: DiscordMessage) -> Signals:
    author = int(message.author.id)
    people = {int(u.id) for u in message.mentions} - {author}
    mass = len({role_id for role_id, _name in message.role_mentions})
    if message.mention_everyone or EVERYONE_RE.search(message.content):
        mass += 1
    return Signals(
        ref=MessageRef("discord", str(message.channel_id), str(message.id)),
        author=discord_author(author),
        name=message.author.nick or message.author.global_name or message.author.username,
        text=message.content,
        user_mentions=len(people),
        mass_mentions=mass,
        links=len(LINK_RE.findall(message.content)),
        media=len(message.attachments) + len(message.stickers),
        account_created_ms=created_ms(author),
        joined_ms=message.member_joined_ms,
        guild=str(message.guild_id) if message.guild_id is not None else None,
    )


def pills(formatted_body: str | None) -> set[str]:
    """The Matrix IDs of the user pills in an HTML body."""
    if not formatted_body:
        return set()
    return {unquote(found) for found in PILL_RE.findall(formatted_body)}


def from_matrix(message: MatrixMessage, joined_ms: int | None = None) -> Signals:
    people = (set(message.mentioned_user_ids) | pills(message.formatted_body)) - {message.sender}
    room = message.mentions_room or bool(ROOM_RE.search(message.body))
    media = message.msgtype in MEDIA_MSGTYPES or message.url is not None
    text = "" if media else message.body  # a file's body is its name
    links = len(LINK_RE.findall(message.body)) + len(
        re.findall(r"""href=["']https?://(?!matrix\.to/)""", message.formatted_body or "")
    )
    return Signals(
        ref=MessageRef("matrix", str(message.room_id), str(message.event_id)),
        author=str(message.sender),
        text=text,
        user_mentions=len(people),
        mass_mentions=int(room),
        links=links,
        media=int(media),
        joined_ms=joined_ms,
    )


def matrix_other(room_id: str, event_id: str, sender: str) -> Signals:
    """A reaction or a poll: it counts towards flooding only."""
    return Signals(
        ref=MessageRef("matrix", room_id, event_id), author=sender, counts_for_flood_only=True
    )
