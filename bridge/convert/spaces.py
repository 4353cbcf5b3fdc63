"""A guild's structure -> the Matrix spaces that show it. Pure: no I/O.

Per guild: a space named like the guild (its description as topic, its icon as
avatar); each Discord category with a public portal becomes a sub-space of it; the
public portals without a category sit directly in the guild space. Children follow
Discord's order (channels without a category first, then the categories by position,
each one's channels by position) through ``m.space.child`` ``order`` strings.

Members-only portals are never children of a public space: a public space's
``m.space.child`` events (state keys: the children's room IDs) are readable by anyone
and Synapse's ``/hierarchy`` returns them all in ``children_state``. They go to the
guild's "members" sub-space instead, whose join rule is *restricted* to those rooms:
only people already in one of them can see it, its children, or join it.

A party space holds the guild spaces, in the config's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bridge.i18n import N_, Translator, translator
from bridge.ids import ChannelID, GuildID, RoomID
from bridge.model import CATEGORY, DiscordChannel, DiscordGuild

SpaceKind = Literal["party", "guild", "category", "members"]

MEMBERS_NAME = N_("Members only")
PARTY_ID = 0


@dataclass(frozen=True)
class SpaceKey:
    kind: SpaceKind
    discord_id: int  # party: 0; guild and members: the guild's ID; category: its ID


@dataclass(frozen=True)
class SpaceChild:
    target: SpaceKey | RoomID  # a sub-space, or a portal room
    order: str


@dataclass(frozen=True)
class DesiredSpace:
    key: SpaceKey
    guild_id: GuildID  # party: 0
    name: str
    topic: str
    icon_url: str | None
    children: tuple[SpaceChild, ...]
    # Members space: the rooms whose members may see and join it (restricted join
    # rule); None: a public space.
    restricted_to: tuple[RoomID, ...] | None = None


@dataclass(frozen=True)
class PortalPlace:
    """A bridged channel's room, as the spaces need it."""

    room_id: RoomID
    members_only: bool


def order_key(index: int) -> str:
    """The ``order`` string of the ``index``-th child (ASCII, sorts as the index)."""
    return f"{index:04d}"


def _rank(chan: DiscordChannel) -> str:
    """A channel's place among its siblings as Discord sorts them (position, then ID)."""
    return f"{max(chan.position, 0):06d}.{chan.id:020d}"


def channel_order(chan: DiscordChannel, category: DiscordChannel | None = None) -> str:
    """The ``order`` of a channel's room (or a category's sub-space) in its space.

    Derived from Discord's own positions, not from indexes: a channel moved or added
    changes its own ``order`` only (and those whose positions Discord changed), so a
    move costs a few state events, not a renumbering of the whole space. Loose
    channels ("0.") sort before categories ("1."), as in Discord's client; a room of the
    members sub-space sorts by its category first. At most 36 ASCII characters."""
    if chan.type == CATEGORY:
        return f"1.{_rank(chan)}"
    if category is None:
        return f"0.{_rank(chan)}"
    return f"1.{max(category.position, 0):06d}.{_rank(chan)}"


MEMBERS_ORDER = "2"  # the members sub-space: after the categories


def discord_order(channels: Sequence[DiscordChannel]) -> list[DiscordChannel]:
    """Channels and categories as Discord's client lists them: channels without a
    category first, then each category followed by its channels (by position, then ID)."""
    categories = {c.id: c for c in channels if c.type == CATEGORY}
    loose = sorted(
        (c for c in channels if c.type != CATEGORY and c.parent_id not in categories),
        key=lambda c: (c.position, c.id),
    )
    listed: list[DiscordChannel] = list(loose)
    for category in sorted(categories.values(), key=lambda c: (c.position, c.id)):
        listed.append(category)
        listed.extend(
            sorted(
                (c for c in channels if c.parent_id == category.id and c.type != CATEGORY),
                key=lambda c: (c.position, c.id),
            )
        )
    return listed


def _children(targets: Sequence[SpaceKey | RoomID]) -> tuple[SpaceChild, ...]:
    return tuple(SpaceChild(target, order_key(i)) for i, target in enumerate(targets))


def guild_spaces(
    guild: DiscordGuild,
    channels: Sequence[DiscordChannel],
    portals: Mapping[ChannelID, PortalPlace],
    tr: Translator | None = None,
) -> list[DesiredSpace]:
    """The guild's spaces, sub-spaces first and the guild space last. Channels without a
    portal are left out, and so are categories without a public portal. Children are
    listed in Discord's order, each with its :func:`channel_order`. The members-only
    space is named in ``tr``'s language (default English)."""
    tr = tr or translator()
    guild_key = SpaceKey("guild", guild.id)
    members_key = SpaceKey("members", guild.id)
    top: list[SpaceChild] = []
    members: list[SpaceChild] = []
    member_rooms: list[RoomID] = []
    spaces: list[DesiredSpace] = []
    current: DiscordChannel | None = None  # the category being listed
    in_category: list[SpaceChild] = []

    def close_category() -> None:
        if current is not None and in_category:
            key = SpaceKey("category", current.id)
            top.append(SpaceChild(key, channel_order(current)))
            spaces.append(DesiredSpace(key, guild.id, current.name, "", None, tuple(in_category)))

    for chan in discord_order(channels):
        if chan.type == CATEGORY:
            close_category()
            current, in_category = chan, []
            continue
        place = portals.get(chan.id)
        if place is None:
            continue
        category = current if current is not None and chan.parent_id == current.id else None
        if place.members_only:
            members.append(SpaceChild(place.room_id, channel_order(chan, category)))
            member_rooms.append(place.room_id)
        elif category is not None:
            in_category.append(SpaceChild(place.room_id, channel_order(chan)))
        else:
            top.append(SpaceChild(place.room_id, channel_order(chan)))
    close_category()
    if members:
        top.append(SpaceChild(members_key, MEMBERS_ORDER))
        spaces.append(
            DesiredSpace(
                members_key,
                guild.id,
                tr._(MEMBERS_NAME),
                tr._("{guild}: the rooms for verified members", guild=guild.name),
                None,
                tuple(members),
                restricted_to=tuple(sorted(member_rooms)),
            )
        )
    spaces.append(
        DesiredSpace(guild_key, guild.id, guild.name, guild.description, guild.icon_url, tuple(top))
    )
    return spaces


def party_space(name: str, topic: str, guild_ids: Sequence[GuildID]) -> DesiredSpace:
    """The party's space, holding every guild space in the given order."""
    return DesiredSpace(
        SpaceKey("party", PARTY_ID),
        GuildID(0),
        name,
        topic,
        None,
        _children([SpaceKey("guild", g) for g in guild_ids]),
    )
