"""Small dataclasses the transports translate library objects into.

Converters and actions only ever see these, never ``discord.Message`` or raw
mautrix objects, so they can be fed captured payloads in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
from bridge.matrix_content import MatrixMedia as MatrixMedia
from bridge.matrix_content import MatrixText as MatrixText
from bridge.matrix_content import relates_to as relates_to
from bridge.matrix_content import thread_relation as thread_relation


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
class DiscordAttachment:
    """One file of a Discord message, as Discord describes it (bytes are on the CDN)."""

    id: int
    filename: str
    url: str
    content_type: str | None = None
    size: int = 0
    width: int | None = None
    height: int | None = None
    duration_secs: float | None = None
    description: str | None = None
    # A voice message's amplitudes (one byte, 0-255, about every 100 ms).
    waveform: bytes | None = None

    @property
    def spoiler(self) -> bool:
        """Discord marks spoilers by the file name alone."""
        return self.filename.startswith("SPOILER_")


@dataclass(frozen=True)
class DiscordSticker:
    """A ``sticker_items`` entry; ``format_type`` 1 PNG, 2 APNG, 3 Lottie, 4 GIF."""

    id: int
    name: str
    format_type: int
    url: str = ""


@dataclass(frozen=True)
class DiscordEmbedField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class DiscordEmbed:
    """The readable parts of an embed (rich, link, image, video, article ...)."""

    type: str = "rich"
    title: str | None = None
    url: str | None = None
    description: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    provider_name: str | None = None
    fields: tuple[DiscordEmbedField, ...] = ()
    footer_text: str | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    video_url: str | None = None


@dataclass(frozen=True)
class DiscordReactionCount:
    """One entry of a message's ``reactions`` summary: an emoji and how many reacted.

    Who reacted is not in it (that takes a request per emoji). ``count`` is all of
    them as Discord counts, ``burst_count`` the super reactions among them; ``me`` is
    the bridge bot's own reaction, which stands for Matrix users.
    """

    emoji_name: str
    emoji_id: int | None = None
    animated: bool = False
    emoji_url: str | None = None
    count: int = 0
    burst_count: int = 0
    me: bool = False

    @property
    def emoji(self) -> str:
        """Discord's API form: the unicode emoji, or ``name:id`` for a custom one."""
        return f"{self.emoji_name}:{self.emoji_id}" if self.emoji_id else self.emoji_name

    @property
    def normal_count(self) -> int:
        return max(self.count - self.burst_count, 0)


@dataclass(frozen=True)
class DiscordPollAnswer:
    """One answer of a Discord poll: ``id`` is Discord's ``answer_id`` (1, 2 ...);
    ``count`` its votes as Discord last counted them."""

    id: int
    text: str
    count: int = 0


@dataclass(frozen=True)
class DiscordPoll:
    """A message's ``poll``; ``finalized`` once Discord has counted the final results."""

    question: str
    answers: tuple[DiscordPollAnswer, ...]
    allow_multiselect: bool = False
    finalized: bool = False


@dataclass(frozen=True)
class DiscordPollVote:
    """One MESSAGE_POLL_VOTE_ADD (``added``) or MESSAGE_POLL_VOTE_REMOVE.

    ``voter`` is the member when the transport knows them (its cache)."""

    channel_id: ChannelID
    guild_id: GuildID | None
    message_id: MessageID
    user_id: DiscordUserID
    answer_id: int
    added: bool
    voter: DiscordAuthor | None = None
    # Set when ``channel_id`` is a thread the transport knows: the channel it belongs to.
    thread_parent_id: ChannelID | None = None


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
    # Resolved at the transport edge so converters need no lookups of their own.
    mentions: tuple[DiscordAuthor, ...] = ()
    role_mentions: tuple[tuple[int, str], ...] = ()
    channel_mentions: tuple[tuple[int, str], ...] = ()
    # Mentioned channels @everyone cannot view: never named in a public room.
    hidden_channel_ids: tuple[int, ...] = ()
    mention_everyone: bool = False
    reply_to: MessageID | None = None
    attachments: tuple[DiscordAttachment, ...] = ()
    stickers: tuple[DiscordSticker, ...] = ()
    embeds: tuple[DiscordEmbed, ...] = ()
    # Set when ``channel_id`` is a thread: the channel the thread belongs to.
    thread_parent_id: ChannelID | None = None
    # The reactions summary (read back from history; live messages have none yet).
    reactions: tuple[DiscordReactionCount, ...] = ()
    poll: DiscordPoll | None = None
    # A POLL_RESULT system message (type 46): the poll message that ended.
    poll_result_of: MessageID | None = None
    # When the author joined the guild (ms since the epoch), when Discord says it.
    member_joined_ms: int | None = None
    # Discord's message flags (IS_VOICE_MESSAGE ...).
    flags: int = 0
    # A forward (``message_reference.type`` 1): the forwarded message's snapshot.
    forward: DiscordForward | None = None


@dataclass(frozen=True)
class DiscordForward:
    """What a forward carries: where the original was, and a copy of it (Discord's
    ``message_snapshots``) as the forwarder could see it."""

    channel_id: ChannelID
    guild_id: GuildID | None
    message_id: MessageID | None
    content: str = ""
    timestamp_ms: int = 0
    flags: int = 0
    attachments: tuple[DiscordAttachment, ...] = ()
    stickers: tuple[DiscordSticker, ...] = ()
    embeds: tuple[DiscordEmbed, ...] = ()
    # The origin channel's name when the bot knows it, and whether @everyone cannot see
    # it there (a members-only channel of a guild the bot is in; False when unknown).
    channel_name: str | None = None
    origin_hidden: bool = False
    # When the origin is a thread the bot knows: the channel it belongs to.
    origin_parent_id: ChannelID | None = None


@dataclass(frozen=True)
class DiscordDeletion:
    """One MESSAGE_DELETE or a MESSAGE_DELETE_BULK."""

    channel_id: ChannelID
    guild_id: GuildID | None
    message_ids: tuple[MessageID, ...]


@dataclass(frozen=True)
class DiscordThread:
    """A Discord thread (THREAD_CREATE, or looked up): a channel inside ``parent_id``."""

    id: ChannelID
    guild_id: GuildID | None
    parent_id: ChannelID
    name: str
    owner_id: DiscordUserID | None = None
    # A forum or media post: the IDs of its tags (see DiscordChannel.tags).
    applied_tags: tuple[int, ...] = ()


@dataclass(frozen=True)
class DiscordThreadDeletion:
    """THREAD_DELETE: the thread and every message in it are gone."""

    thread_id: ChannelID
    parent_id: ChannelID
    guild_id: GuildID | None


# Discord channel types the bridge knows (others are left alone).
TEXT, VOICE, CATEGORY, ANNOUNCEMENT, STAGE, FORUM, MEDIA = 0, 2, 4, 5, 13, 15, 16
# Channels whose messages are bridged into a portal room (forum and media channels:
# their posts, as threads; voice and stage channels: their text chat, and who is in
# voice as room state, bridge/actions/voice_channels.py).
BRIDGEABLE_TYPES = (TEXT, ANNOUNCEMENT, FORUM, MEDIA, VOICE, STAGE)


@dataclass(frozen=True)
class ForumTag:
    """One of a forum's (or media channel's) ``available_tags``: ``emoji`` is the
    unicode emoji, or ``:name:`` for a custom one."""

    id: int
    name: str
    emoji: str | None = None

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.name}" if self.emoji else self.name


@dataclass(frozen=True)
class DiscordChannel:
    id: ChannelID
    guild_id: GuildID
    name: str
    topic: str = ""
    # Whether @everyone can view it (moderation.members_only.channel_visibility);
    # "members_only" when unknown: fail closed.
    visibility: str = "members_only"
    # Discord's channel type (TEXT, CATEGORY, FORUM ...), its category and position.
    type: int = TEXT
    parent_id: ChannelID | None = None
    position: int = 0
    # Forum and media channels: their tags.
    tags: tuple[ForumTag, ...] = ()

    @property
    def bridgeable(self) -> bool:
        return self.type in BRIDGEABLE_TYPES

    @property
    def is_forum(self) -> bool:
        """A forum or media channel: nothing is posted in it, only in its posts (threads)."""
        return self.type in (FORUM, MEDIA)


@dataclass(frozen=True)
class DiscordRole:
    id: int
    name: str
    permissions: int
    position: int = 0


@dataclass(frozen=True)
class DiscordGuild:
    """A guild as the bridge shows it on Matrix (its space) and maps its roles."""

    id: GuildID
    name: str
    description: str = ""
    # The icon's CDN URL (None: no icon).
    icon_url: str | None = None
    owner_id: DiscordUserID | None = None
    roles: tuple[DiscordRole, ...] = ()


@dataclass(frozen=True)
class DiscordDM:
    """A direct message to the bridge bot (account linking)."""

    author_id: DiscordUserID
    content: str


@dataclass(frozen=True)
class MatrixMessage:
    room_id: RoomID
    event_id: EventID
    sender: UserID
    msgtype: str
    body: str
    formatted_body: str | None = None
    timestamp_ms: int = 0
    reply_to: EventID | None = None
    # ``m.thread`` relation: the root event of the Matrix thread this message is in.
    thread_root: EventID | None = None
    # ``m.mentions``: who the sender meant to ping.
    mentioned_user_ids: tuple[UserID, ...] = ()
    mentions_room: bool = False
    # Media (m.image/m.video/m.audio/m.file, and m.sticker events as msgtype "m.sticker").
    url: str | None = None  # mxc://
    filename: str | None = None
    mimetype: str | None = None
    size: int | None = None
    spoiler: bool = False  # MSC3725 content warning / MSC4193 spoiler
    # An Element voice message (MSC3245): its length and MSC1767 waveform (0-1024).
    voice: bool = False
    duration_ms: int | None = None
    waveform: tuple[int, ...] = ()


@dataclass(frozen=True)
class MatrixEdit:
    """An ``m.replace`` edit of an earlier message; ``new`` holds the new content."""

    room_id: RoomID
    event_id: EventID
    sender: UserID
    target: EventID
    new: MatrixMessage


@dataclass(frozen=True)
class MatrixPins:
    """A new ``m.room.pinned_events`` state: the whole list of pinned events."""

    room_id: RoomID
    sender: UserID
    pinned: tuple[EventID, ...]


@dataclass(frozen=True)
class MatrixRedaction:
    room_id: RoomID
    event_id: EventID
    sender: UserID
    redacts: EventID
    reason: str | None = None


@dataclass(frozen=True)
class DiscordReaction:
    """One MESSAGE_REACTION_ADD or MESSAGE_REACTION_REMOVE.

    ``emoji_id`` is set for a custom emoji (then ``emoji_url`` is its CDN image);
    ``member`` is the reacting member when Discord sent it (reaction adds).
    """

    channel_id: ChannelID
    guild_id: GuildID | None
    message_id: MessageID
    user_id: DiscordUserID
    emoji_name: str
    emoji_id: int | None = None
    animated: bool = False
    emoji_url: str | None = None
    member: DiscordAuthor | None = None
    # Set when ``channel_id`` is a thread the transport knows: the channel it belongs to.
    thread_parent_id: ChannelID | None = None

    @property
    def emoji(self) -> str:
        """Discord's API form: the unicode emoji, or ``name:id`` for a custom one."""
        return f"{self.emoji_name}:{self.emoji_id}" if self.emoji_id else self.emoji_name


@dataclass(frozen=True)
class DiscordReactionClear:
    """MESSAGE_REACTION_REMOVE_ALL (``emoji`` None) or MESSAGE_REACTION_REMOVE_EMOJI."""

    channel_id: ChannelID
    guild_id: GuildID | None
    message_id: MessageID
    emoji: str | None = None
    thread_parent_id: ChannelID | None = None


@dataclass(frozen=True)
class MatrixReaction:
    """An ``m.reaction`` (``m.annotation`` of ``target`` with ``key``)."""

    room_id: RoomID
    event_id: EventID
    sender: UserID
    target: EventID
    key: str


@dataclass(frozen=True)
class DiscordSend:
    """Arguments for one webhook execution built from Matrix."""

    content: str
    username: str
    avatar_url: str | None = None
    allowed_mention_users: tuple[DiscordUserID, ...] = field(default_factory=tuple)
    mention_everyone: bool = False
    # (filename, bytes, spoiler) uploaded with the message (multipart).
    files: tuple[tuple[str, bytes, bool], ...] = ()
    # Post into this thread of the webhook's channel (``?thread_id=``).
    thread_id: ChannelID | None = None
    # In a forum or media channel: create a post of this title (``thread_name``).
    thread_name: str | None = None
    # A poll posted with the message (Discord gives its answers answer_id 1..N in order).
    poll: DiscordPollCreate | None = None
    # Post the (single) file as a Discord voice message.
    voice: DiscordVoice | None = None


@dataclass(frozen=True)
class DiscordVoice:
    """The attachment fields of a Discord voice message (flag IS_VOICE_MESSAGE)."""

    duration_secs: float
    waveform: str  # base64 of one byte (0-255) per sample


@dataclass(frozen=True)
class DiscordPollCreate:
    """The ``poll`` of a webhook execution, already within Discord's limits."""

    question: str
    answers: tuple[str, ...]
    duration_hours: int = 24
    allow_multiselect: bool = False


@dataclass(frozen=True)
class MatrixPollStart:
    """An ``org.matrix.msc3381.poll.start`` (or stable ``m.poll.start``) sent in Matrix.

    ``answers`` are (Matrix answer ID, text) in the order the sender gave them."""

    room_id: RoomID
    event_id: EventID
    sender: UserID
    question: str
    answers: tuple[tuple[str, str], ...]
    max_selections: int = 1
    timestamp_ms: int = 0


@dataclass(frozen=True)
class MatrixPollEnd:
    """An ``org.matrix.msc3381.poll.end`` (or ``m.poll.end``) referencing ``start``."""

    room_id: RoomID
    event_id: EventID
    sender: UserID
    start: EventID


@dataclass(frozen=True)
class RoomPowerLevels:
    """A room's ``m.room.power_levels`` content, and its creators when they hold
    unlimited power (room versions 12 and later: creators are above every level and
    have no entry in ``users``; empty for older rooms)."""

    content: dict[str, Any]
    creators: frozenset[str] = frozenset()
