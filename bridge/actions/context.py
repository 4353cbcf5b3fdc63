"""The collaborators every action receives, handed in explicitly."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bridge.actions.name_clash import NameClashes
from bridge.config import Config
from bridge.db import PortalRow, Stores
from bridge.ids import ChannelID, DiscordUserID, GhostNamer, GuildID, RoomID, UserID, WebhookID
from bridge.ports import DiscordPort, MatrixPort
from moderation.state import ModerationState


@dataclass
class BridgeContext:
    config: Config
    stores: Stores
    matrix: MatrixPort
    discord: DiscordPort
    # Webhooks the bridge posts through: their messages are never relayed back.
    own_webhooks: set[WebhookID] = field(default_factory=set)
    portal_locks: defaultdict[ChannelID, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
    webhook_locks: defaultdict[ChannelID, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
    # Policy rules in force and the moderation rooms (moderation.state).
    moderation: ModerationState = field(default_factory=ModerationState)
    # Signs the bridge's public media links (bridge.media_links); set at start-up.
    media_key: bytes = b""
    # Typing state: ghosts shown typing on Matrix, when the bot last typed on Discord.
    typing_ghosts: set[tuple[RoomID, UserID]] = field(default_factory=set)
    discord_typing_at: dict[ChannelID, float] = field(default_factory=dict)
    # Called with each portal room created while running (e.g. moderators' power).
    portal_created: list[Callable[[PortalRow], Awaitable[None]]] = field(default_factory=list)
    # Called, in the structure queue, when a guild's channels or the guild itself
    # changed (after category rules were re-applied), when a guild's roles changed,
    # when a member's roles changed (guild, member), and when a channel was deleted.
    structure_changed: list[Callable[[GuildID], Awaitable[None]]] = field(default_factory=list)
    guild_roles_changed: list[Callable[[GuildID], Awaitable[None]]] = field(default_factory=list)
    member_roles_changed: list[Callable[[GuildID, DiscordUserID], Awaitable[None]]] = field(
        default_factory=list
    )
    channel_deleted: list[Callable[[ChannelID], Awaitable[None]]] = field(default_factory=list)
    # Called after a config change bridged or unbridged channels (command, reload,
    # category rule), once the new config is in force.
    channels_changed: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Called when a Matrix user (not one of the bridge's) joined a portal room.
    member_joined: list[Callable[[RoomID, UserID], Awaitable[None]]] = field(default_factory=list)
    # Held while power levels are computed and written (bridge.actions.power), and
    # each guild's members' levels as last applied (a member change that changes no
    # level then costs nothing).
    power_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    power_levels: dict[GuildID, dict[DiscordUserID, int]] = field(default_factory=dict)
    # Set once the start-up power-level pass is over (it runs behind start-up: reading
    # every room's levels must not hold back the relay).
    power_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Names that look like somebody else's (bridge.actions.name_clash).
    name_clashes: NameClashes = field(default_factory=NameClashes)
    # Start-up work running in the background (a reference keeps each task alive).
    background: set[asyncio.Task[object]] = field(default_factory=set)

    @property
    def namer(self) -> GhostNamer:
        return self.config.namer
