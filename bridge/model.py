"""Small dataclasses the transports translate library objects into.

Converters and actions only ever see these, never ``discord.Message`` or raw
mautrix objects, so they can be fed captured payloads in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.ids import (
    ChannelID,
    DiscordUserID,
    EventID,
    GuildID,
    MessageID,
    RoomID,
    UserID,
    WebhookID,
)


@dataclass(frozen=True)
class DiscordAuthor:
    id: DiscordUserID
    username: str
    global_name: str | None = None
    nick: str | None = None
    avatar_url: str | None = None
    bot: bool = False

    @property
    def display_name(self) -> str:
        """Server nickname first, then global display name, then username."""
        return self.nick or self.global_name or self.username


@dataclass(frozen=True)
class DiscordMessage:
    id: MessageID
    channel_id: ChannelID
    guild_id: GuildID | None
    author: DiscordAuthor
    content: str
    timestamp_ms: int
    webhook_id: WebhookID | None = None
    type: int = 0
    edited_ms: int | None = None


@dataclass(frozen=True)
class DiscordDeletion:
    """One MESSAGE_DELETE or a MESSAGE_DELETE_BULK."""

    channel_id: ChannelID
    guild_id: GuildID | None
    message_ids: tuple[MessageID, ...]


@dataclass(frozen=True)
class DiscordChannel:
    id: ChannelID
    guild_id: GuildID
    name: str
    topic: str = ""


@dataclass(frozen=True)
class MatrixMessage:
    room_id: RoomID
    event_id: EventID
    sender: UserID
    msgtype: str
    body: str
    formatted_body: str | None = None
    timestamp_ms: int = 0


@dataclass(frozen=True)
class MatrixEdit:
    """An ``m.replace`` edit of an earlier message; ``new`` holds the new content."""

    room_id: RoomID
    event_id: EventID
    sender: UserID
    target: EventID
    new: MatrixMessage


@dataclass(frozen=True)
class MatrixRedaction:
    room_id: RoomID
    event_id: EventID
    sender: UserID
    redacts: EventID
    reason: str | None = None


@dataclass(frozen=True)
class MatrixText:
    """Content for an ``m.room.message`` built from Discord."""

    body: str
    formatted_body: str | None = None
    msgtype: str = "m.text"

    def to_content(self) -> dict[str, object]:
        content: dict[str, object] = {"msgtype": self.msgtype, "body": self.body}
        if self.formatted_body is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = self.formatted_body
        content["m.mentions"] = {}
        return content


@dataclass(frozen=True)
class DiscordSend:
    """Arguments for one webhook execution built from Matrix."""

    content: str
    username: str
    avatar_url: str | None = None
    allowed_mention_users: tuple[DiscordUserID, ...] = field(default_factory=tuple)
