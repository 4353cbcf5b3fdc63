"""What actions need from each network; the transports implement these."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from bridge.convert.emoji_pack import GuildExpressions
from bridge.db import WebhookRow
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, MessageID, RoomID, UserID
from bridge.model import (
    DiscordAuthor,
    DiscordChannel,
    DiscordGuild,
    DiscordMessage,
    DiscordSend,
    DiscordThread,
    MatrixMedia,
    MatrixMessage,
    MatrixText,
    RoomPowerLevels,
)


class MatrixPort(Protocol):
    async def ensure_ghost(
        self, ghost: UserID, displayname: str | None, avatar_mxc: str | None
    ) -> None: ...

    async def upload_avatar(self, url: str) -> str | None: ...

    async def ensure_in_room(self, room_id: RoomID, user_id: UserID) -> None: ...

    async def send_text(
        self,
        room_id: RoomID,
        sender: UserID,
        text: MatrixText,
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID: ...

    async def send_event(
        self,
        room_id: RoomID,
        sender: UserID,
        event_type: str,
        content: dict[str, Any],
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        """Any room event (polls ...) with the content as given."""
        ...

    async def create_portal_room(
        self, name: str, topic: str, alias_localpart: str, public: bool, invite: list[UserID]
    ) -> RoomID: ...

    async def adopt_room(self, room_id: RoomID, name: str, topic: str) -> None: ...

    # -- spaces (bridge.transport.matrix_spaces) ---------------------------------

    async def create_space(
        self, name: str, topic: str, avatar_mxc: str | None, join_rule: dict[str, Any]
    ) -> RoomID:
        """A space room (``m.space``) owned by the bot, with this ``m.room.join_rules``."""
        ...

    async def set_room_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        """A state event sent by the bot (space children and parents, name, avatar ...)."""
        ...

    async def room_state(
        self, room_id: RoomID, event_type: str, state_key: str
    ) -> dict[str, Any] | None:
        """The content of a state event of the room; None when there is none."""
        return None

    async def joined_members(self, room_id: RoomID) -> list[UserID]: ...

    async def invite(self, room_id: RoomID, user_id: UserID) -> None: ...

    async def displayname(self, room_id: RoomID, user_id: UserID) -> str | None: ...

    async def member_names(self, room_id: RoomID) -> dict[UserID, str | None]:
        """The room's joined members and their display names (from the bridge's cache,
        loaded once per room, then kept current from member events)."""
        ...

    def roster_version(self, room_id: RoomID) -> int:
        """A number that changes whenever a member event of the room arrives."""
        ...

    def roster_changes(self, room_id: RoomID, since: int) -> frozenset[UserID] | None:
        """The members whose member event arrived after ``since`` (a roster_version);
        None when that is no longer known."""
        ...

    async def profile_name(self, user_id: UserID) -> str | None:
        """A user's global display name (kept a few minutes); None if unknown."""
        ...

    async def send_edit(
        self,
        room_id: RoomID,
        sender: UserID,
        target: EventID,
        text: MatrixText,
        timestamp_ms: int | None,
    ) -> EventID: ...

    async def redact(self, room_id: RoomID, event_id: EventID, reason: str) -> None: ...

    async def event_sender(self, room_id: RoomID, event_id: EventID) -> UserID | None: ...

    async def may_redact(self, room_id: RoomID, redactor: UserID, original: UserID) -> bool: ...

    async def room_power_levels(
        self, room_id: RoomID, fresh: bool = False
    ) -> RoomPowerLevels | None:
        """The room's ``m.room.power_levels`` as the bot sees it (``fresh``: read from
        the homeserver, not the cache); None if unreadable."""
        ...

    async def set_room_power_levels(self, room_id: RoomID, content: dict[str, Any]) -> bool:
        """Replace the room's power levels as the bot; False when refused."""
        ...

    # -- media ---------------------------------------------------------------

    async def download_media(self, mxc: str, max_bytes: int) -> bytes | None:
        """The bytes of an ``mxc://`` file; None if it cannot be fetched.

        Raises :class:`MediaTooLarge` when it is bigger than ``max_bytes``."""
        ...

    async def upload_media(self, data: bytes, mimetype: str, filename: str) -> str:
        """Upload to the homeserver's media repository; returns the ``mxc://`` URI."""
        ...

    async def send_media(
        self,
        room_id: RoomID,
        sender: UserID,
        media: MatrixMedia,
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID: ...

    async def fetch_url(self, url: str, max_bytes: int) -> tuple[bytes, str | None] | None:
        """GET an http(s) URL (Discord's CDN): (bytes, content type); None on failure.

        Raises :class:`MediaTooLarge` when it is bigger than ``max_bytes``."""
        ...

    async def send_reaction(
        self, room_id: RoomID, sender: UserID, target: EventID, key: str, shortcode: str | None
    ) -> EventID: ...

    async def fetch_message(self, room_id: RoomID, event_id: EventID) -> MatrixMessage | None: ...

    async def may_mention_room(self, room_id: RoomID, user_id: UserID) -> bool: ...

    async def is_joined(self, room_id: RoomID, user_id: UserID) -> bool: ...

    async def avatar_mxc(self, room_id: RoomID, user_id: UserID) -> str | None: ...

    async def pinned_events(self, room_id: RoomID) -> list[EventID]: ...

    async def set_pinned_events(self, room_id: RoomID, events: list[EventID]) -> None: ...

    async def set_typing(self, room_id: RoomID, user_id: UserID, timeout_ms: int) -> None: ...


class DiscordPort(Protocol):
    async def trigger_typing(self, channel_id: ChannelID) -> None: ...

    async def pinned_messages(self, channel_id: ChannelID) -> list[MessageID]:
        """The channel's pinned messages, newest pin first."""
        ...

    async def set_pinned(
        self, channel_id: ChannelID, message_id: MessageID, pinned: bool, reason: str
    ) -> bool:
        """Pin or unpin; False when the bot may not."""
        ...

    async def channel(self, channel_id: ChannelID) -> DiscordChannel | None: ...

    async def guild(self, guild_id: GuildID) -> DiscordGuild | None:
        """The guild's name, description, icon and roles; None if the bot is not in it."""
        ...

    async def guild_channels(self, guild_id: GuildID) -> list[DiscordChannel] | None:
        """Every channel of the guild (categories included), in Discord's order."""
        ...

    async def guild_expressions(self, guild_id: GuildID) -> GuildExpressions | None:
        """The guild's custom emoji and stickers; None when the guild is unknown."""
        return None

    async def member_roles(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> tuple[frozenset[int], int, bool] | None:
        """A member's role IDs, guild-wide permissions and whether they own the guild;
        None when they are not a member."""
        ...

    async def guild_members(
        self, guild_id: GuildID
    ) -> dict[DiscordUserID, tuple[frozenset[int], int, bool]] | None:
        """Every member of the guild: (role IDs, guild-wide permissions, owns the guild),
        as :meth:`member_roles`; None if the bot is not in it."""
        ...

    async def member_profile(
        self, guild_id: GuildID, user_id: DiscordUserID
    ) -> DiscordAuthor | None:
        """A member's profile in the guild (nickname first); None if not a member."""
        ...

    def member_names(
        self, guild_id: GuildID, only: Collection[DiscordUserID] | None = None
    ) -> list[DiscordAuthor]:
        """The guild's members as the gateway's cache knows them (nick, global name,
        username), or those of ``only`` still members; empty when the bot is not in
        the guild."""
        ...

    def members_version(self, guild_id: GuildID) -> int:
        """A number that changes whenever a member of the guild joins, leaves or is
        renamed."""
        ...

    def member_changes(self, guild_id: GuildID, since: int) -> frozenset[DiscordUserID] | None:
        """The members who joined, left or were renamed after ``since`` (a
        members_version); None when that is not known."""
        ...

    def bot_name(self) -> str | None:
        """The bot's own name on Discord (None before the gateway is ready)."""
        ...

    async def find_webhook(self, channel_id: ChannelID, name: str) -> WebhookRow | None: ...

    async def create_webhook(self, channel_id: ChannelID, name: str) -> WebhookRow: ...

    async def execute_webhook(self, webhook: WebhookRow, send: DiscordSend) -> int: ...

    async def edit_webhook_message(
        self, webhook: WebhookRow, message_id: MessageID, send: DiscordSend
    ) -> None: ...

    async def delete_webhook_message(
        self, webhook: WebhookRow, message_id: MessageID, thread_id: ChannelID | None = None
    ) -> None: ...

    async def end_poll(self, channel_id: ChannelID, message_id: MessageID) -> bool:
        """End a poll now; False when Discord refuses (only the poll's author may)."""
        ...

    async def create_thread(
        self, channel_id: ChannelID, message_id: MessageID, name: str
    ) -> ChannelID:
        """Start a public thread from a message (its ID is the message's); the bot owns it."""
        ...

    async def active_threads(self, channel_id: ChannelID) -> list[DiscordThread]:
        """The channel's active (unarchived) threads: a forum's open posts."""
        ...

    async def thread(self, channel_id: ChannelID) -> DiscordThread | None:
        """The thread with this ID (cache first); None if it is no thread or is gone."""
        ...

    async def delete_message(
        self, channel_id: ChannelID, message_id: MessageID, reason: str
    ) -> bool: ...

    def own_user_id(self) -> DiscordUserID | None: ...

    async def add_reaction(
        self, channel_id: ChannelID, message_id: MessageID, emoji: str
    ) -> bool: ...

    async def remove_own_reaction(
        self, channel_id: ChannelID, message_id: MessageID, emoji: str
    ) -> bool: ...

    async def messages_after(
        self, channel_id: ChannelID, after: MessageID, limit: int, until: MessageID | None = None
    ) -> list[DiscordMessage]:
        """Up to ``limit`` messages newer than ``after`` (not newer than ``until``),
        oldest first."""
        ...

    async def reactors(
        self,
        channel_id: ChannelID,
        message_id: MessageID,
        emoji: str,
        limit: int,
        burst: bool = False,
    ) -> list[DiscordAuthor] | None:
        """Who reacted to a message with ``emoji`` (unicode, or ``name:id``), by
        ascending user ID, at most ``limit``; super reactions when ``burst``. None when
        Discord would not say (message or emoji gone, no access)."""
        ...


class WebhookGone(Exception):
    """The stored webhook no longer exists on Discord (404); make a new one."""


class MediaTooLarge(Exception):
    """A download was cut off at its size cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit
