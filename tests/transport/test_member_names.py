"""The members' names the transports keep for name clashes: a room's roster loaded once
and kept current from member events; a guild's members from discord.py's cache."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from mautrix.types import Member, Membership

from bridge.ids import GuildID, RoomID, UserID
from bridge.transport.discord_guilds import MemberNames
from bridge.transport.matrix import MatrixTransport

ROOM = RoomID("!room:example.org")
ALICE = UserID("@alice:example.org")
BOB = UserID("@bob:example.org")


class _Bot:
    def __init__(self) -> None:
        self.reads = 0

    async def get_joined_members(self, room_id: RoomID) -> dict[UserID, Member]:
        self.reads += 1
        return {ALICE: Member(membership=Membership.JOIN, displayname="Alice")}

    async def get_profile(self, user_id: UserID) -> Any:
        self.reads += 1
        return SimpleNamespace(displayname=f"name of {user_id}")


class _Transport(MatrixTransport):
    fake_bot = _Bot()

    @property
    def bot(self) -> Any:
        return self.fake_bot


def member_event(user: str, membership: str, name: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"membership": membership}
    if name is not None:
        content["displayname"] = name
    return {
        "type": "m.room.member",
        "room_id": ROOM,
        "state_key": user,
        "sender": user,
        "event_id": f"$e{user}{membership}{name}",
        "origin_server_ts": 1,
        "content": content,
    }


async def test_room_roster_is_read_once_then_follows_member_events() -> None:
    transport = _Transport("http://hs", "token", UserID("@bot:example.org"), "Bot")
    transport.fake_bot = _Bot()
    assert await transport.member_names(ROOM) == {ALICE: "Alice"}
    assert await transport.member_names(ROOM) == {ALICE: "Alice"}
    assert transport.fake_bot.reads == 1
    before = transport.roster_version(ROOM)
    await transport.observe_state(member_event(BOB, "join", "alice"))
    assert await transport.member_names(ROOM) == {ALICE: "Alice", BOB: "alice"}
    assert transport.roster_version(ROOM) == before + 1
    await transport.observe_state(member_event(ALICE, "leave"))
    assert await transport.member_names(ROOM) == {BOB: "alice"}
    assert transport.roster_version(ROOM) == before + 2
    assert transport.roster_changes(ROOM, before) == {ALICE, BOB}
    assert transport.roster_changes(ROOM, before + 1) == {ALICE}
    assert transport.fake_bot.reads == 1


async def test_global_profile_names_are_kept_a_while() -> None:
    transport = _Transport("http://hs", "token", UserID("@bot:example.org"), "Bot")
    transport.fake_bot = _Bot()
    assert await transport.profile_name(BOB) == f"name of {BOB}"
    assert await transport.profile_name(BOB) == f"name of {BOB}"
    assert transport.fake_bot.reads == 1


def _user(uid: int, name: str, global_name: str | None) -> SimpleNamespace:
    return SimpleNamespace(
        id=uid, name=name, global_name=global_name, avatar=None, guild_avatar=None, bot=False
    )


async def test_guild_members_and_their_count_of_changes() -> None:
    chunked = asyncio.Event()

    async def chunk(cache: bool = True) -> None:
        guild.chunked = True
        chunked.set()

    guild = SimpleNamespace(id=1, chunked=False, members=[_user(5, "bob", "Bob")], chunk=chunk)
    client = SimpleNamespace(get_guild=lambda gid: guild if gid == 1 else None)
    names = MemberNames(client)  # type: ignore[arg-type]
    assert names.members(GuildID(2)) == []
    members = names.members(GuildID(1))
    assert [(m.username, m.global_name) for m in members] == [("bob", "Bob")]
    # A partial cache is listed in the background, once; then everybody has changed.
    await asyncio.wait_for(chunked.wait(), 5)
    await asyncio.sleep(0)
    assert names.version(GuildID(1)) == 1
    assert names.since(GuildID(1), 0) is None
    names.members(GuildID(1))
    names.changed(1, 5)
    assert names.version(GuildID(1)) == 2
    assert names.since(GuildID(1), 1) == {5}
    guild.get_member = lambda uid: guild.members[0] if uid == 5 else None
    assert [m.username for m in names.members(GuildID(1), only=[5, 6])] == ["bob"]
