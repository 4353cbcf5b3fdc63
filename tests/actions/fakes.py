"""Fake ports for action tests: record calls, answer like the real networks."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.config import parse_config
from bridge.convert.emoji_pack import GuildExpressions
from bridge.db import Stores, WebhookRow, open_database
from bridge.db.migrate import upgrade_head
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
from bridge.model import (
    DiscordAuthor,
    DiscordChannel,
    DiscordMessage,
    DiscordReactionCount,
    DiscordSend,
    DiscordThread,
    MatrixMedia,
    MatrixMessage,
    MatrixText,
)
from bridge.ports import MediaTooLarge, WebhookGone
from bridge.transport.change_log import ChangeLog
from tests.test_config import VALID

GUILD = GuildID(3000000000000000001)
CHANNEL = ChannelID(4000000000000000001)
BOT_USER = DiscordUserID(1000000000000000001)


class FakeMatrix:
    def __init__(self) -> None:
        self.sent: list[tuple[RoomID, UserID, MatrixText, int | None]] = []
        self.ghosts: dict[UserID, tuple[str | None, str | None]] = {}
        self.joined: set[tuple[RoomID, UserID]] = set()
        self.rooms: list[dict[str, Any]] = []
        self.uploads: list[str] = []
        self.names: dict[tuple[RoomID, UserID], str] = {}
        self.edits: list[tuple[RoomID, UserID, EventID, MatrixText]] = []
        self.redactions: list[tuple[RoomID, EventID, str]] = []
        self.senders: dict[EventID, UserID] = {}
        self.moderators: set[UserID] = set()
        # (room, sender, target, key, shortcode) of every m.reaction sent
        self.reactions: list[tuple[RoomID, UserID, EventID, str, str | None]] = []
        self.messages: dict[EventID, MatrixMessage] = {}
        # member events seen (set_name) and member lists read
        self.roster_log: ChangeLog[RoomID, UserID] = ChangeLog()
        self.member_list_reads = 0
        self.profiles: dict[UserID, str] = {}  # global display names (profile_name)
        self.room_pingers: set[UserID] = set()
        self.typing: list[tuple[RoomID, UserID, int]] = []
        self.avatars: dict[UserID, str] = {}
        # media: mxc -> bytes on the "homeserver"; url -> (bytes, type) on the "web"
        self.media: dict[str, bytes] = {}
        self.web: dict[str, tuple[bytes, str | None]] = {}
        self.media_sent: list[tuple[RoomID, UserID, MatrixMedia, int | None]] = []
        # (room, sender, type, content, txn_id) of every send_event (polls)
        self.events: list[tuple[RoomID, UserID, str, dict[str, Any], str | None]] = []
        self._ids = itertools.count(1)
        # room state the bot set or read: (room, type, state key) -> content
        self.state: dict[tuple[RoomID, str, str], dict[str, Any]] = {}
        self.state_sends: list[tuple[RoomID, str, str]] = []

    async def ensure_ghost(
        self, ghost: UserID, displayname: str | None, avatar_mxc: str | None
    ) -> None:
        self.ghosts[ghost] = (displayname, avatar_mxc)

    async def upload_avatar(self, url: str) -> str | None:
        self.uploads.append(url)
        return f"mxc://test/{len(self.uploads)}"

    async def ensure_in_room(self, room_id: RoomID, user_id: UserID) -> None:
        self.joined.add((room_id, user_id))

    async def send_text(
        self,
        room_id: RoomID,
        sender: UserID,
        text: MatrixText,
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        self.sent.append((room_id, sender, text, timestamp_ms))
        return EventID(f"$ev{next(self._ids)}")

    async def send_event(
        self,
        room_id: RoomID,
        sender: UserID,
        event_type: str,
        content: dict[str, Any],
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        self.events.append((room_id, sender, event_type, content, txn_id))
        return EventID(f"$event{next(self._ids)}")

    async def create_portal_room(
        self, name: str, topic: str, alias_localpart: str, public: bool, invite: list[UserID]
    ) -> RoomID:
        await asyncio.sleep(0.01)  # let a concurrent caller race us
        self.rooms.append(
            {"name": name, "topic": topic, "alias": alias_localpart, "public": public}
        )
        return RoomID(f"!room{len(self.rooms)}:example.org")

    async def adopt_room(self, room_id: RoomID, name: str, topic: str) -> None:
        self.rooms.append({"adopted": room_id, "name": name})

    async def displayname(self, room_id: RoomID, user_id: UserID) -> str | None:
        return self.names.get((room_id, user_id))

    async def member_names(self, room_id: RoomID) -> dict[UserID, str | None]:
        """Joined members: every (room, user) with a name or joined through the bridge."""
        self.member_list_reads += 1
        members: dict[UserID, str | None] = {u: None for r, u in self.joined if r == room_id}
        members.update({u: n for (r, u), n in self.names.items() if r == room_id})
        return members

    def roster_version(self, room_id: RoomID) -> int:
        return self.roster_log.version(room_id)

    def roster_changes(self, room_id: RoomID, since: int) -> frozenset[UserID] | None:
        return self.roster_log.since(room_id, since)

    async def profile_name(self, user_id: UserID) -> str | None:
        return self.profiles.get(user_id)

    def set_name(self, room_id: RoomID, user_id: UserID, name: str) -> None:
        """A member event: the user's display name in the room changed."""
        self.names[(room_id, user_id)] = name
        self.roster_log.record(room_id, user_id)

    async def send_edit(
        self,
        room_id: RoomID,
        sender: UserID,
        target: EventID,
        text: MatrixText,
        timestamp_ms: int | None,
    ) -> EventID:
        self.edits.append((room_id, sender, target, text))
        return EventID(f"$edit{next(self._ids)}")

    async def redact(self, room_id: RoomID, event_id: EventID, reason: str) -> None:
        self.redactions.append((room_id, event_id, reason))

    async def event_sender(self, room_id: RoomID, event_id: EventID) -> UserID | None:
        return self.senders.get(event_id)

    async def may_redact(self, room_id: RoomID, redactor: UserID, original: UserID) -> bool:
        return redactor == original or redactor in self.moderators

    async def send_reaction(
        self, room_id: RoomID, sender: UserID, target: EventID, key: str, shortcode: str | None
    ) -> EventID:
        self.reactions.append((room_id, sender, target, key, shortcode))
        return EventID(f"$reaction{next(self._ids)}")

    async def fetch_message(self, room_id: RoomID, event_id: EventID) -> MatrixMessage | None:
        return self.messages.get(event_id)

    async def may_mention_room(self, room_id: RoomID, user_id: UserID) -> bool:
        return user_id in self.room_pingers

    async def is_joined(self, room_id: RoomID, user_id: UserID) -> bool:
        return (room_id, user_id) in self.joined

    async def avatar_mxc(self, room_id: RoomID, user_id: UserID) -> str | None:
        return self.avatars.get(user_id)

    async def set_typing(self, room_id: RoomID, user_id: UserID, timeout_ms: int) -> None:
        self.typing.append((room_id, user_id, timeout_ms))

    async def download_media(self, mxc: str, max_bytes: int) -> bytes | None:
        data = self.media.get(mxc)
        if data is not None and len(data) > max_bytes:
            raise MediaTooLarge(max_bytes)
        return data

    # The homeserver's max_upload_size (None: no limit): bigger uploads are refused.
    upload_limit: int | None = None

    async def upload_media(self, data: bytes, mimetype: str, filename: str) -> str:
        if self.upload_limit is not None and len(data) > self.upload_limit:
            raise MediaTooLarge(self.upload_limit)
        mxc = f"mxc://test/media{len(self.media) + 1}"
        self.media[mxc] = data
        return mxc

    async def send_media(
        self,
        room_id: RoomID,
        sender: UserID,
        media: MatrixMedia,
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        self.media_sent.append((room_id, sender, media, timestamp_ms))
        return EventID(f"$media{next(self._ids)}")

    async def room_state(
        self, room_id: RoomID, event_type: str, state_key: str
    ) -> dict[str, Any] | None:
        return self.state.get((room_id, event_type, state_key))

    async def set_room_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        self.state[(room_id, event_type, state_key)] = content
        self.state_sends.append((room_id, event_type, state_key))

    async def fetch_url(self, url: str, max_bytes: int) -> tuple[bytes, str | None] | None:
        found = self.web.get(url)
        if found is not None and len(found[0]) > max_bytes:
            raise MediaTooLarge(max_bytes)
        return found


class FakeDiscord:
    def __init__(self) -> None:
        self.channels = {
            CHANNEL: DiscordChannel(CHANNEL, GUILD, "campaign", "Public campaign chat", "public"),
        }
        self.webhooks: dict[WebhookID, WebhookRow] = {}
        self.executed: list[tuple[WebhookID, DiscordSend]] = []
        self.gone: set[WebhookID] = set()
        self.edited: list[tuple[MessageID, str]] = []
        self.deleted: list[tuple[str, MessageID]] = []
        self.may_manage_messages = True
        self.typed: list[ChannelID] = []
        # (channel, message, emoji) -> whether the bot's reaction is there
        self.bot_reactions: dict[tuple[ChannelID, MessageID, str], bool] = {}
        self.reaction_calls: list[tuple[str, MessageID, str]] = []
        self.unknown_emoji: set[str] = set()
        self._ids = itertools.count(9000)
        # threads by ID; (parent, message, name) the bot started; (thread, message) deleted
        self.threads: dict[ChannelID, DiscordThread] = {}
        self.created_threads: list[tuple[ChannelID, MessageID, str]] = []
        self.thread_deletes: list[tuple[ChannelID, MessageID]] = []
        # Channel history read back by messages_after (backfill, sends in flight), and
        # the (channel, after, limit) of every such read.
        self.history: dict[ChannelID, list[DiscordMessage]] = {}
        self.history_calls: list[tuple[ChannelID, MessageID, int]] = []
        # Who reacts to a message now, by emoji (unicode, or name:id): the history
        # carries its summary, ``reactors`` lists them; (message, emoji, burst) of
        # every such read; messages Discord refuses to list reactors of.
        self.reactions: dict[MessageID, dict[str, list[DiscordAuthor]]] = {}
        self.reactor_calls: list[tuple[MessageID, str, bool]] = []
        self.reactors_refused: set[MessageID] = set()
        # (channel, message) of every poll the bridge asked to end; whether Discord lets it
        # (it refuses for a webhook's poll: only the author may end a poll).
        self.ended_polls: list[tuple[ChannelID, MessageID]] = []
        self.may_end_polls = False
        # The guild's members (name clashes; set_member records the change).
        self.members: list[DiscordAuthor] = []
        self.member_log: ChangeLog[GuildID, DiscordUserID] = ChangeLog()
        self.bot_username = "Passerelle"
        # Each guild's custom emoji and stickers (GUILD_EMOJIS_UPDATE sets them anew).
        self.expressions: dict[GuildID, GuildExpressions] = {}

    async def guild_expressions(self, guild_id: GuildID) -> GuildExpressions | None:
        return self.expressions.get(guild_id)

    def set_member(self, member: DiscordAuthor) -> None:
        """A member joined or was renamed (GUILD_MEMBER_ADD / _UPDATE)."""
        self.members = [m for m in self.members if m.id != member.id] + [member]
        self.member_log.record(GUILD, member.id)

    def member_names(
        self, guild_id: GuildID, only: Collection[DiscordUserID] | None = None
    ) -> list[DiscordAuthor]:
        if guild_id != GUILD:
            return []
        return [m for m in self.members if only is None or m.id in only]

    def members_version(self, guild_id: GuildID) -> int:
        return self.member_log.version(guild_id)

    def member_changes(self, guild_id: GuildID, since: int) -> frozenset[DiscordUserID] | None:
        return self.member_log.since(guild_id, since)

    def bot_name(self) -> str | None:
        return self.bot_username

    async def channel(self, channel_id: ChannelID) -> DiscordChannel | None:
        return self.channels.get(channel_id)

    async def trigger_typing(self, channel_id: ChannelID) -> None:
        self.typed.append(channel_id)

    async def find_webhook(self, channel_id: ChannelID, name: str) -> WebhookRow | None:
        for row in self.webhooks.values():
            if row.discord_channel_id == channel_id and row.webhook_id not in self.gone:
                return row
        return None

    async def create_webhook(self, channel_id: ChannelID, name: str) -> WebhookRow:
        row = WebhookRow(channel_id, WebhookID(next(self._ids)), "secret-token")
        self.webhooks[row.webhook_id] = row
        return row

    async def execute_webhook(self, webhook: WebhookRow, send: DiscordSend) -> int:
        if webhook.webhook_id in self.gone:
            raise WebhookGone(str(webhook.webhook_id))
        self.executed.append((webhook.webhook_id, send))
        return next(self._ids)

    async def edit_webhook_message(
        self, webhook: WebhookRow, message_id: MessageID, send: DiscordSend
    ) -> None:
        self.edited.append((message_id, send.content))

    async def delete_webhook_message(
        self, webhook: WebhookRow, message_id: MessageID, thread_id: ChannelID | None = None
    ) -> None:
        self.deleted.append(("webhook", message_id))
        if thread_id is not None:
            self.thread_deletes.append((thread_id, message_id))

    # -- threads: a thread started from a message has the message's ID

    async def end_poll(self, channel_id: ChannelID, message_id: MessageID) -> bool:
        self.ended_polls.append((channel_id, message_id))
        return self.may_end_polls

    async def create_thread(
        self, channel_id: ChannelID, message_id: MessageID, name: str
    ) -> ChannelID:
        self.created_threads.append((channel_id, message_id, name))
        thread_id = ChannelID(message_id)
        self.threads[thread_id] = DiscordThread(thread_id, GUILD, channel_id, name, BOT_USER)
        return thread_id

    async def thread(self, channel_id: ChannelID) -> DiscordThread | None:
        return self.threads.get(channel_id)

    async def active_threads(self, channel_id: ChannelID) -> list[DiscordThread]:
        return [t for t in self.threads.values() if t.parent_id == channel_id]

    async def delete_message(
        self, channel_id: ChannelID, message_id: MessageID, reason: str
    ) -> bool:
        if not self.may_manage_messages:
            return False
        self.deleted.append(("bot", message_id))
        return True

    def own_user_id(self) -> DiscordUserID | None:
        return BOT_USER

    async def add_reaction(self, channel_id: ChannelID, message_id: MessageID, emoji: str) -> bool:
        self.reaction_calls.append(("add", message_id, emoji))
        if emoji in self.unknown_emoji:
            return False
        self.bot_reactions[(channel_id, message_id, emoji)] = True
        return True

    async def remove_own_reaction(
        self, channel_id: ChannelID, message_id: MessageID, emoji: str
    ) -> bool:
        self.reaction_calls.append(("remove", message_id, emoji))
        self.bot_reactions.pop((channel_id, message_id, emoji), None)
        return True

    async def messages_after(
        self, channel_id: ChannelID, after: MessageID, limit: int, until: MessageID | None = None
    ) -> list[DiscordMessage]:
        """The scripted history newer than ``after`` (up to ``until``), oldest first, at
        most ``limit``."""
        self.history_calls.append((channel_id, after, limit))
        found = sorted(
            (
                replace(m, reactions=self.summary(m.id)) if m.id in self.reactions else m
                for m in self.history.get(channel_id, [])
                if m.id > after and (until is None or m.id <= until)
            ),
            key=lambda m: m.id,
        )
        return found[:limit]

    def summary(self, message_id: MessageID) -> tuple[DiscordReactionCount, ...]:
        """The ``reactions`` of a message as Discord shows them to the bot."""
        counts = []
        for emoji, users in self.reactions.get(message_id, {}).items():
            if not users:
                continue
            name, _, tail = emoji.rpartition(":")
            emoji_id = int(tail) if name and tail.isdigit() else None
            counts.append(
                DiscordReactionCount(
                    emoji_name=name if emoji_id else emoji,
                    emoji_id=emoji_id,
                    emoji_url=f"https://cdn.example/emojis/{emoji_id}.png" if emoji_id else None,
                    count=len(users),
                    me=any(u.id == BOT_USER for u in users),
                )
            )
        return tuple(counts)

    async def reactors(
        self,
        channel_id: ChannelID,
        message_id: MessageID,
        emoji: str,
        limit: int,
        burst: bool = False,
    ) -> list[DiscordAuthor] | None:
        self.reactor_calls.append((message_id, emoji, burst))
        if message_id in self.reactors_refused:
            return None
        if burst:
            return []
        users = self.reactions.get(message_id, {}).get(emoji, [])
        return sorted(users, key=lambda u: u.id)[:limit]


@asynccontextmanager
async def fake_context(
    tmp_path: Path,
) -> AsyncIterator[tuple[BridgeContext, FakeMatrix, FakeDiscord]]:
    url = f"sqlite://{tmp_path / 'actions.db'}"
    await asyncio.to_thread(upgrade_head, url)
    db = open_database(url)
    await db.start()
    matrix, discord = FakeMatrix(), FakeDiscord()
    config = parse_config(VALID, tmp_path / "config.yaml")
    try:
        yield BridgeContext(config, Stores(db), matrix, discord), matrix, discord
    finally:
        await db.stop()
