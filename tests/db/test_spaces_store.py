"""The space tables on both databases, after running the real migrations (0014)."""

from __future__ import annotations

from dataclasses import replace

from bridge.db import SpaceRow, Stores
from bridge.ids import GuildID, RoomID, UserID

GUILD = GuildID(3000000000000000002)


async def test_space_rows_round_trip_and_update(stores: Stores) -> None:
    row = SpaceRow("guild", GUILD, GUILD, RoomID("!g:x"), "Nord", "La fédération")
    await stores.spaces.put(row)
    assert await stores.spaces.get("guild", GUILD) == row
    assert await stores.spaces.get("category", GUILD) is None
    icon = replace(row, name="Nord!", icon_url="https://cdn/i.png", avatar_mxc="mxc://x/i")
    await stores.spaces.put(icon)  # same key: updated, not duplicated
    assert await stores.spaces.get("guild", GUILD) == icon
    party = SpaceRow("party", 0, GuildID(0), RoomID("!p:x"), "Parti", "")
    members = SpaceRow("members", GUILD, GUILD, RoomID("!m:x"), "Members", "", join_allow="!a,!b")
    await stores.spaces.put(party)
    await stores.spaces.put(members)
    assert await stores.spaces.of_guild(GUILD) == [icon, members]
    assert len(await stores.spaces.all()) == 3


async def test_children_and_invites(stores: Stores) -> None:
    space, a, b = RoomID("!s:x"), RoomID("!a:x"), RoomID("!b:x")
    await stores.spaces.set_child(space, a, "0000")
    await stores.spaces.set_child(space, b, "0001")
    await stores.spaces.set_child(space, a, "0002")  # a new order, same row
    assert await stores.spaces.children(space) == {a: "0002", b: "0001"}
    assert await stores.spaces.parents(a) == [space]
    await stores.spaces.drop_child(space, a)
    assert await stores.spaces.children(space) == {b: "0001"}
    assert await stores.spaces.parents(a) == []
    alice = UserID("@alice:x")
    await stores.spaces.add_invited(space, alice)
    await stores.spaces.add_invited(space, alice)  # once
    assert await stores.spaces.invited(space) == {alice}
