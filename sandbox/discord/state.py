"""The emulator's in-memory world: users, guilds, channels, messages, webhooks.

Entities are small dataclasses; messages and webhooks are kept as the JSON
objects the REST API returns (built by :mod:`sandbox.discord.payloads`), so
tests can assert on exactly what clients saw. Ids are decimal strings.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.discord import permissions as perms
from sandbox.discord.snowflake import SnowflakeGenerator, now_iso

log = logging.getLogger(__name__)

DM_CHANNEL = 1  # channel type of a direct message between two users
CATEGORY = 4  # a guild category: other channels' parent_id
FORUM_TYPES = (15, 16)  # forum and media channels: they only contain threads (posts)


@dataclass
class User:
    id: str
    username: str
    global_name: str | None
    bot: bool
    token: str
    avatar: str | None  # avatar hash, or None
    discriminator: str = "0"
    locale: str = "en-US"  # the user's client language (UserPIIResponse.locale)


@dataclass
class Role:
    id: str
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False


@dataclass
class Channel:
    id: str
    guild_id: str
    name: str
    type: int = 0
    topic: str | None = None
    position: int = 0
    nsfw: bool = False
    parent_id: str | None = None
    # wire-shaped overwrites: {"id": str, "type": int, "allow": str, "deny": str}
    overwrites: list[dict[str, Any]] = field(default_factory=list)
    last_message_id: str | None = None
    # Threads (type 10/11/12) only: see sandbox/discord/rest_threads.py.
    owner_id: str | None = None
    thread_metadata: dict[str, Any] | None = None
    thread_member_ids: list[str] = field(default_factory=list)
    message_count: int = 0
    total_message_sent: int = 0
    # DM channels (type 1) only: the two participants. Their guild_id is "".
    recipient_ids: list[str] = field(default_factory=list)
    flags: int = 0
    # Forum (15) and media (16) channels only: see sandbox/discord/forums.py.
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    default_reaction_emoji: dict[str, Any] | None = None
    default_sort_order: int | None = None
    default_forum_layout: int = 0
    # Posts (threads of a forum or media channel) only: the ids of their tags.
    applied_tags: list[str] | None = None
    # Slowmode: seconds a member without Manage Messages/Channels waits between messages.
    rate_limit_per_user: int = 0

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    @property
    def is_forum(self) -> bool:
        return self.type in FORUM_TYPES

    @property
    def is_dm(self) -> bool:
        return self.type == DM_CHANNEL


@dataclass
class Member:
    user_id: str
    roles: list[str]
    joined_at: str
    nick: str | None = None
    # A timeout: until this ISO 8601 moment the member may only read (None: none).
    communication_disabled_until: str | None = None

    def timed_out(self, now: datetime | None = None) -> bool:
        until = self.communication_disabled_until
        if until is None:
            return False
        return datetime.fromisoformat(until) > (now or datetime.now(UTC))


@dataclass
class Emoji:
    """A guild's custom emoji; its image is served on the CDN."""

    id: str
    name: str
    animated: bool = False


@dataclass
class Sticker:
    """A guild sticker; its image is served on the CDN."""

    id: str
    name: str
    format_type: int  # 1 PNG, 2 APNG, 3 Lottie, 4 GIF
    tags: str
    description: str | None = None


@dataclass
class Guild:
    id: str
    name: str
    owner_id: str
    description: str | None = None
    icon: str | None = None  # icon hash, or None
    roles: dict[str, Role] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    channel_ids: list[str] = field(default_factory=list)
    bans: dict[str, str | None] = field(default_factory=dict)  # user id -> reason
    emojis: dict[str, Emoji] = field(default_factory=dict)
    stickers: dict[str, Sticker] = field(default_factory=dict)
    # 0 none, 1 low, 2 medium, 3 high, 4 very high (PATCH /guilds/{id}).
    verification_level: int = 0


@dataclass
class Attachment:
    data: bytes
    content_type: str


def avatar_hash(user_id: str) -> str:
    """A stable 32-hex-digit avatar hash for a seeded user with ``avatar: true``."""
    return hashlib.md5(f"avatar:{user_id}".encode(), usedforsecurity=False).hexdigest()


def icon_hash(guild_id: str) -> str:
    """A stable 32-hex-digit icon hash for a seeded guild with ``icon: true``."""
    return hashlib.md5(f"icon:{guild_id}".encode(), usedforsecurity=False).hexdigest()


class State:
    """Everything the emulator knows. Mutations go through the REST handlers."""

    def __init__(self, seed: dict[str, Any]) -> None:
        self.ids = SnowflakeGenerator()
        self.users: dict[str, User] = {}
        self.guilds: dict[str, Guild] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.channel_messages: dict[str, list[str]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, Attachment] = {}
        # message id -> the avatar_url a webhook execution asked for (Discord hides it)
        self.webhook_avatar_urls: dict[str, str] = {}
        # message id -> {emoji: [user ids]}
        self.reactions: dict[str, dict[str, list[str]]] = {}
        # message id -> {answer_id: [user ids]}: who voted for what (sandbox/discord/polls.py)
        self.poll_votes: dict[str, dict[int, list[str]]] = {}
        # channel id -> message id -> pinned_at (ISO 8601)
        self.pins: dict[str, dict[str, str]] = {}
        # guild id -> audit log entries, oldest first (sandbox/discord/audit.py)
        self.audit_logs: dict[str, list[dict[str, Any]]] = {}
        # the two participants' ids (sorted) -> their DM channel id
        self.dm_channels: dict[tuple[str, str], str] = {}
        # "{guild_id}/{hash}" -> an icon uploaded with PATCH /guilds/{id} (seeded ones are drawn)
        self.guild_icons: dict[str, Attachment] = {}
        # (channel id, user id) -> when (time.monotonic) the user last posted there, for
        # slowmode (sandbox/discord/slowmode.py)
        self.last_posts: dict[tuple[str, str], float] = {}
        # event id -> stored scheduled event; event id -> interested user ids
        # (sandbox/discord/scheduled_events.py)
        self.scheduled_events: dict[str, dict[str, Any]] = {}
        self.event_interest: dict[str, list[str]] = {}
        # (guild id, user id) -> voice state (sandbox/discord/voice_states.py)
        self.voice_states: dict[tuple[str, str], dict[str, Any]] = {}
        self.cdn_base = "http://127.0.0.1/cdn"  # set by the server once it knows its port
        self._tokens: dict[str, str] = {}
        self._load(seed)

    # -- seed ----------------------------------------------------------------

    def _load(self, seed: dict[str, Any]) -> None:
        for u in seed["users"]:
            user = User(
                id=u["id"],
                username=u["username"],
                global_name=u.get("global_name"),
                bot=bool(u.get("bot")),
                token=u["token"],
                avatar=avatar_hash(u["id"]) if u.get("avatar") else None,
                discriminator=u.get("discriminator", "0"),
            )
            self.users[user.id] = user
            self._tokens[user.token] = user.id
        self.application = self._application(seed.get("application"))
        joined = now_iso()
        for g in seed.get("guilds", []):
            guild = Guild(id=g["id"], name=g["name"], owner_id=g["owner_id"])
            guild.description = g.get("description")
            guild.icon = icon_hash(guild.id) if g.get("icon") else None
            for r in g["roles"]:
                guild.roles[r["id"]] = Role(
                    id=r["id"],
                    name=r["name"],
                    permissions=int(r.get("permissions", "0")),
                    position=int(r.get("position", 0)),
                    color=int(r.get("color", 0)),
                    hoist=bool(r.get("hoist", False)),
                    mentionable=bool(r.get("mentionable", False)),
                )
            for c in g["channels"]:
                channel = Channel(
                    id=c["id"],
                    guild_id=guild.id,
                    name=c["name"],
                    type=int(c.get("type", 0)),
                    topic=c.get("topic"),
                    position=int(c.get("position", 0)),
                    nsfw=bool(c.get("nsfw", False)),
                    parent_id=c.get("parent_id"),
                    overwrites=[dict(ow) for ow in c.get("permission_overwrites", [])],
                    available_tags=[dict(t) for t in c.get("available_tags", [])],
                    default_reaction_emoji=c.get("default_reaction_emoji"),
                    default_sort_order=c.get("default_sort_order"),
                    default_forum_layout=int(c.get("default_forum_layout", 0)),
                )
                self.channels[channel.id] = channel
                self.channel_messages[channel.id] = []
                guild.channel_ids.append(channel.id)
            for m in g["members"]:
                guild.members[m["user_id"]] = Member(
                    user_id=m["user_id"],
                    roles=list(m.get("roles", [])),
                    joined_at=m.get("joined_at") or joined,
                    nick=m.get("nick"),
                )
            for e in g.get("emojis", []):
                guild.emojis[e["id"]] = Emoji(e["id"], e["name"], bool(e.get("animated")))
            for st in g.get("stickers", []):
                guild.stickers[st["id"]] = Sticker(
                    id=st["id"],
                    name=st["name"],
                    format_type=int(st.get("format_type", 1)),
                    tags=st.get("tags") or st["name"],
                    description=st.get("description"),
                )
            self.guilds[guild.id] = guild

    def _application(self, app: dict[str, Any] | None) -> dict[str, Any]:
        bots = [u for u in self.users.values() if u.bot]
        if app is None:
            bot = bots[0] if bots else next(iter(self.users.values()))
            return {
                "id": bot.id,
                "name": bot.username,
                "description": "",
                "owner_id": None,
                "flags": 0,
                "bot_id": bot.id,
            }
        bot_id = app["id"] if app["id"] in self.users else (bots[0].id if bots else None)
        return {**app, "bot_id": bot_id}

    # -- lookups -------------------------------------------------------------

    def add_user(self, user: User) -> None:
        """A user created after the seed (a test control): known by ID and token."""
        self.users[user.id] = user
        self._tokens[user.token] = user.id

    def user_by_token(self, token: str) -> User | None:
        uid = self._tokens.get(token)
        return self.users.get(uid) if uid else None

    def application_for(self, user: User) -> dict[str, Any]:
        """The seed's application for its bot; other users get a synthetic one of their own."""
        if self.application.get("bot_id") == user.id:
            return self.application
        return {
            "id": user.id,
            "name": user.username,
            "description": "",
            "owner_id": user.id,
            "flags": 0,
            "bot_id": user.id,
        }

    def emoji(self, emoji_id: str) -> Emoji | None:
        """A custom emoji of any guild, by id."""
        for guild in self.guilds.values():
            if emoji_id in guild.emojis:
                return guild.emojis[emoji_id]
        return None

    def sticker(self, sticker_id: str) -> tuple[Guild, Sticker] | None:
        """A sticker of any guild, with its guild, by id."""
        for guild in self.guilds.values():
            if sticker_id in guild.stickers:
                return guild, guild.stickers[sticker_id]
        return None

    def member(self, guild_id: str, user_id: str) -> Member | None:
        guild = self.guilds.get(guild_id)
        return guild.members.get(user_id) if guild else None

    def guilds_of(self, user_id: str) -> list[Guild]:
        return [g for g in self.guilds.values() if user_id in g.members]

    def channels_of(self, guild: Guild) -> list[Channel]:
        return [self.channels[c] for c in guild.channel_ids if c in self.channels]

    def add_channel(self, channel: Channel) -> None:
        """Store a new channel (a thread, or a guild channel listed in its guild)."""
        self.channels[channel.id] = channel
        self.channel_messages.setdefault(channel.id, [])
        guild = self.guilds.get(channel.guild_id)
        if guild is not None and not channel.is_thread and channel.id not in guild.channel_ids:
            guild.channel_ids.append(channel.id)

    def open_dm(self, user_id: str, recipient_id: str) -> Channel:
        """The DM channel between two users, created on first use (as Discord does)."""
        pair = (min(user_id, recipient_id), max(user_id, recipient_id))
        existing = self.dm_channels.get(pair)
        if existing is not None and existing in self.channels:
            return self.channels[existing]
        channel = Channel(
            id=self.ids.next_str(),
            guild_id="",
            name="",
            type=DM_CHANNEL,
            recipient_ids=list(pair),
        )
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        self.dm_channels[pair] = channel.id
        return channel

    def share_a_guild(self, user_id: str, other_id: str) -> bool:
        return any(other_id in g.members for g in self.guilds_of(user_id))

    def top_role_position(self, guild_id: str, user_id: str) -> int:
        """The position of a member's highest role (0, @everyone's, without roles)."""
        guild = self.guilds.get(guild_id)
        member = guild.members.get(user_id) if guild else None
        if guild is None or member is None:
            return 0
        return max((guild.roles[r].position for r in member.roles if r in guild.roles), default=0)

    def guild_permissions(self, guild_id: str, user_id: str) -> int:
        guild = self.guilds.get(guild_id)
        member = guild.members.get(user_id) if guild else None
        if guild is None or member is None:
            return 0
        return self._timeout_limited(guild, member, perms.base_permissions(
            guild_id=int(guild.id),
            owner_id=int(guild.owner_id),
            user_id=int(user_id),
            member_roles=[int(r) for r in member.roles],
            role_permissions={int(r.id): r.permissions for r in guild.roles.values()},
        ))  # fmt: skip

    @staticmethod
    def _timeout_limited(guild: Guild, member: Member, granted: int) -> int:
        """A timed-out member keeps only View Channel and Read Message History (the
        owner and administrators are never limited), as on Discord."""
        if member.user_id == guild.owner_id or perms.has(granted, perms.ADMINISTRATOR):
            return granted
        if not member.timed_out():
            return granted
        return granted & (perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)

    def permissions(self, channel_id: str, user_id: str) -> int:
        """The user's permissions in a channel (0 when not a member or participant)."""
        channel = self.channels.get(channel_id)
        if channel is not None and channel.is_dm:
            return perms.DM_PERMISSIONS if user_id in channel.recipient_ids else 0
        if channel is not None and channel.is_thread and channel.parent_id:
            # A thread has the permissions of its parent; a private thread is only
            # visible to its members and to those who may manage threads.
            granted = self.permissions(channel.parent_id, user_id)
            private = channel.type == 12 and user_id not in channel.thread_member_ids
            if private and not perms.has(granted, perms.MANAGE_THREADS):
                granted &= ~perms.VIEW_CHANNEL
            return granted
        guild = self.guilds.get(channel.guild_id) if channel else None
        member = guild.members.get(user_id) if guild else None
        if channel is None or guild is None or member is None:
            return 0
        granted = perms.channel_permissions(
            guild_id=int(guild.id),
            owner_id=int(guild.owner_id),
            user_id=int(user_id),
            member_roles=[int(r) for r in member.roles],
            role_permissions={int(r.id): r.permissions for r in guild.roles.values()},
            overwrites=[
                perms.Overwrite(int(o["id"]), int(o["type"]), int(o["allow"]), int(o["deny"]))
                for o in channel.overwrites
            ],
        )
        return self._timeout_limited(guild, member, granted)

    def can(self, channel_id: str, user_id: str, needed: int) -> bool:
        return perms.has(self.permissions(channel_id, user_id), needed)

    # -- messages ------------------------------------------------------------

    def messages_in(self, channel_id: int | str) -> list[dict[str, Any]]:
        """Messages of a channel as REST returns them, oldest first (newest last)."""
        ids = self.channel_messages.get(str(channel_id), [])
        return [self.messages[m] for m in ids if m in self.messages]

    def add_message(self, message: dict[str, Any]) -> None:
        channel_id = message["channel_id"]
        self.messages[message["id"]] = message
        self.channel_messages.setdefault(channel_id, []).append(message["id"])
        channel = self.channels.get(channel_id)
        if channel is not None:
            channel.last_message_id = message["id"]
            # A forum post's starter message (the thread's own id) is not counted.
            if channel.is_thread and message["id"] != channel.id:
                channel.message_count += 1
                channel.total_message_sent += 1

    def remove_message(self, message_id: str) -> dict[str, Any] | None:
        message = self.messages.pop(message_id, None)
        if message is not None:
            ids = self.channel_messages.get(message["channel_id"], [])
            if message_id in ids:
                ids.remove(message_id)
            channel = self.channels.get(message["channel_id"])
            if channel is not None and channel.is_thread and message_id != channel.id:
                channel.message_count = max(0, channel.message_count - 1)
            self.reactions.pop(message_id, None)
            self.poll_votes.pop(message_id, None)
        return message

    def webhooks_in(self, channel_id: str) -> list[dict[str, Any]]:
        return [w for w in self.webhooks.values() if w["channel_id"] == channel_id]
