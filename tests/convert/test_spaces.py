"""bridge.convert.spaces: a guild's structure -> its spaces, table-driven, no I/O."""

from __future__ import annotations

import pytest

from bridge.convert.spaces import (
    DesiredSpace,
    PortalPlace,
    SpaceChild,
    SpaceKey,
    discord_order,
    guild_spaces,
    order_key,
    party_space,
)
from bridge.ids import ChannelID, GuildID, RoomID
from bridge.model import CATEGORY, DiscordChannel, DiscordGuild

G = GuildID(30)
GUILD = DiscordGuild(G, "Nord", "La fédération", icon_url="https://cdn/icon.png")


def chan(cid: int, name: str, position: int, parent: int | None = None) -> DiscordChannel:
    return DiscordChannel(
        ChannelID(cid), G, name, position=position, parent_id=ChannelID(parent) if parent else None
    )


def cat(cid: int, name: str, position: int) -> DiscordChannel:
    return DiscordChannel(ChannelID(cid), G, name, type=CATEGORY, position=position)


def room(cid: int) -> RoomID:
    return RoomID(f"!r{cid}:x")


def public(*ids: int) -> dict[ChannelID, PortalPlace]:
    return {ChannelID(i): PortalPlace(room(i), False) for i in ids}


def kids(*targets: SpaceKey | RoomID) -> tuple[SpaceKey | RoomID, ...]:
    return targets


def listed(children: tuple[SpaceChild, ...]) -> tuple[SpaceKey | RoomID, ...]:
    """The children's targets, after checking that their ``order`` strings sort in the
    order they are listed (and are valid: ASCII, at most 50 characters)."""
    orders = [c.order for c in children]
    assert orders == sorted(orders) and len(set(orders)) == len(orders), orders
    assert all(o.isascii() and 0 < len(o) <= 50 for o in orders)
    return tuple(c.target for c in children)


GENERAL, ADHERENTS = cat(1, "Général", 0), cat(2, "Adhérents", 1)
CHANNELS = [
    chan(13, "adherents", 0, 2),
    chan(12, "discussion", 1, 1),
    ADHERENTS,
    chan(11, "annonces", 0, 1),
    chan(20, "accueil", 5),
    GENERAL,
    chan(21, "regles", 2),
]


def test_discord_order_lists_loose_channels_then_categories() -> None:
    assert [c.id for c in discord_order(CHANNELS)] == [21, 20, 1, 11, 12, 2, 13]


CASES = [
    (
        "public rooms: loose first, then one sub-space per category in Discord order",
        public(11, 12, 13, 20, 21),
        {
            SpaceKey("category", 1): kids(room(11), room(12)),
            SpaceKey("category", 2): kids(room(13)),
            SpaceKey("guild", G): kids(
                room(21), room(20), SpaceKey("category", 1), SpaceKey("category", 2)
            ),
        },
    ),
    (
        "members-only rooms go to the restricted members space, never to a public one",
        {**public(11, 12, 20), ChannelID(13): PortalPlace(room(13), True)},
        {
            SpaceKey("category", 1): kids(room(11), room(12)),
            SpaceKey("members", G): kids(room(13)),
            SpaceKey("guild", G): kids(room(20), SpaceKey("category", 1), SpaceKey("members", G)),
        },
    ),
    (
        "channels without a portal and categories without public rooms are left out",
        public(12),
        {
            SpaceKey("category", 1): kids(room(12)),
            SpaceKey("guild", G): kids(SpaceKey("category", 1)),
        },
    ),
    ("nothing bridged: an empty guild space", {}, {SpaceKey("guild", G): ()}),
]


@pytest.mark.parametrize(("why", "portals", "expected"), CASES, ids=[c[0] for c in CASES])
def test_guild_spaces(
    why: str,
    portals: dict[ChannelID, PortalPlace],
    expected: dict[SpaceKey, tuple[SpaceKey | RoomID, ...]],
) -> None:
    spaces = guild_spaces(GUILD, CHANNELS, portals)
    assert {s.key: listed(s.children) for s in spaces} == expected, why
    assert spaces[-1].key == SpaceKey("guild", G)  # sub-spaces come first


def test_names_topics_icon_and_restriction() -> None:
    portals = {**public(11), ChannelID(13): PortalPlace(room(13), True)}
    spaces = {s.key: s for s in guild_spaces(GUILD, CHANNELS, portals)}
    top = spaces[SpaceKey("guild", G)]
    assert (top.name, top.topic, top.icon_url, top.restricted_to) == (
        "Nord",
        "La fédération",
        "https://cdn/icon.png",
        None,
    )
    assert spaces[SpaceKey("category", 1)].name == "Général"
    assert spaces[SpaceKey("category", 1)].restricted_to is None
    assert spaces[SpaceKey("members", G)].restricted_to == (room(13),)


def test_a_move_changes_the_parent_and_the_orders() -> None:
    moved = [c if c.id != 20 else chan(20, "accueil", 0, 1) for c in CHANNELS]
    spaces = {s.key: s.children for s in guild_spaces(GUILD, moved, public(11, 12, 20))}
    # Same position as annonces: Discord breaks the tie by ID.
    assert listed(spaces[SpaceKey("category", 1)]) == kids(room(11), room(20), room(12))
    assert listed(spaces[SpaceKey("guild", G)]) == kids(SpaceKey("category", 1))


def test_a_move_changes_no_other_childs_order() -> None:
    """Orders come from Discord's positions: a channel moved into a category leaves its
    new siblings' orders as they were (one state event, not a renumbering)."""
    before = {s.key: s.children for s in guild_spaces(GUILD, CHANNELS, public(11, 12, 20, 21))}
    moved = [c if c.id != 20 else chan(20, "accueil", 0, 1) for c in CHANNELS]
    after = {s.key: s.children for s in guild_spaces(GUILD, moved, public(11, 12, 20, 21))}
    general = SpaceKey("category", 1)
    kept = set(before[general])
    assert kept <= set(after[general])  # annonces and discussion: the same orders
    assert [c.target for c in set(after[general]) - kept] == [room(20)]
    top_before, top_after = set(before[SpaceKey("guild", G)]), set(after[SpaceKey("guild", G)])
    assert [c.target for c in top_before - top_after] == [room(20)]  # only accueil left
    assert top_after <= top_before


def test_members_rooms_sort_by_category_then_position() -> None:
    portals = {
        ChannelID(13): PortalPlace(room(13), True),  # Adhérents (category 2)
        ChannelID(12): PortalPlace(room(12), True),  # Général (category 1)
        ChannelID(20): PortalPlace(room(20), True),  # no category
    }
    spaces = {s.key: s.children for s in guild_spaces(GUILD, CHANNELS, portals)}
    assert listed(spaces[SpaceKey("members", G)]) == kids(room(20), room(12), room(13))


def test_order_keys_sort_like_indexes() -> None:
    keys = [order_key(i) for i in (0, 9, 10, 99, 100, 1000)]
    assert keys == sorted(keys) and all(len(k) <= 50 and k.isascii() for k in keys)


def test_party_space_holds_guilds_in_config_order() -> None:
    party = party_space("Parti", "Tout le parti", [GuildID(3), GuildID(1)])
    assert party == DesiredSpace(
        SpaceKey("party", 0),
        GuildID(0),
        "Parti",
        "Tout le parti",
        None,
        (SpaceChild(SpaceKey("guild", 3), "0000"), SpaceChild(SpaceKey("guild", 1), "0001")),
    )
