"""Names nobody can borrow, with fake networks: when a Matrix sender's webhook name or
a Discord user's ghost name gets an ID after it, and how little it costs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.m2d_sender import sender_name
from bridge.actions.portals import ensure_portal
from bridge.actions.puppets import refresh_puppet
from bridge.db import PortalRow
from bridge.ids import DiscordUserID, EventID, MessageID, RoomID, UserID
from bridge.model import DiscordAuthor, DiscordMessage, MatrixMessage
from tests.actions.fakes import CHANNEL, GUILD, fake_context

ALICE_1 = UserID("@alice:one.example")
ALICE_2 = UserID("@alice:two.example")
CAROL = UserID("@carol:example.org")
# Discord's bob (username bob, display name Bob) and a Discord user whose display name
# is "Carol" (username carol_d).
BOB = DiscordAuthor(DiscordUserID(2000000000000000002), "bob", global_name="Bob")
CAROL_D = DiscordAuthor(DiscordUserID(2000000000000000003), "carol_d", global_name="Carol")
AT = "\uff20"  # how "@" shows in webhook names


def matrix_msg(room: RoomID, event: str, sender: str) -> MatrixMessage:
    return MatrixMessage(room, EventID(event), UserID(sender), "m.text", "hello")


def discord_msg(mid: int, author: DiscordAuthor) -> DiscordMessage:
    return DiscordMessage(
        id=MessageID(mid),
        channel_id=CHANNEL,
        guild_id=GUILD,
        author=author,
        content="hi",
        timestamp_ms=1_700_000_000_000,
    )


async def _portal(ctx: object) -> PortalRow:
    portal = await ensure_portal(ctx, CHANNEL)  # type: ignore[arg-type]
    assert portal is not None
    return portal


async def test_two_matrix_users_named_alice_show_their_ids(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await _portal(ctx)
        room = portal.room_id
        matrix.set_name(room, ALICE_1, "alice")
        matrix.set_name(room, ALICE_2, "Alice")  # case does not tell them apart
        matrix.set_name(room, CAROL, "carol")
        await relay_matrix_message(ctx, matrix_msg(room, "$1", ALICE_1))
        await relay_matrix_message(ctx, matrix_msg(room, "$2", ALICE_2))
        await relay_matrix_message(ctx, matrix_msg(room, "$3", CAROL))
        names = [send.username for _, send in discord.executed]
        assert names == [
            f"alice ({AT}alice:one.example) (Matrix)",
            f"Alice ({AT}alice:two.example) (Matrix)",
            "carol (Matrix)",
        ]


async def test_matrix_user_named_like_a_discord_member(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.members = [BOB]
        portal = await _portal(ctx)
        room = portal.room_id
        mallory = UserID("@mallory:example.org")
        matrix.set_name(room, mallory, "b\u043eb")  # Cyrillic o (U+043E)
        assert await sender_name(ctx, room, mallory) == (
            f"b\u043eb ({AT}mallory:example.org) (Matrix)"
        )
        # Discord's "Bob" is also his name: any of nick, display name, username counts.
        matrix.set_name(room, mallory, "BOB")
        assert AT + "mallory:example.org" in await sender_name(ctx, room, mallory)
        matrix.set_name(room, mallory, "Mallory")
        assert await sender_name(ctx, room, mallory) == "Mallory (Matrix)"


async def test_bridge_bot_and_moderators_are_protected(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        moderator = UserID("@mod:example.org")
        ctx.config = replace(
            ctx.config, moderation=replace(ctx.config.moderation, moderators=(moderator,))
        )
        discord.bot_username = "Bridge Bot"
        portal = await _portal(ctx)
        room = portal.room_id
        mallory = UserID("@mallory:example.org")
        # The bridge's bot: its Matrix name (config) and its Discord name.
        assert ctx.config.appservice.bot_displayname == "Passerelle"
        matrix.set_name(room, mallory, "PASSERELLE")
        assert AT + "mallory" in await sender_name(ctx, room, mallory)
        matrix.set_name(room, mallory, "bridge b\u043et")
        assert AT + "mallory" in await sender_name(ctx, room, mallory)
        # A moderator who is not in the room: their name is protected all the same.
        matrix.profiles[moderator] = "Moderator Mo"
        matrix.set_name(room, mallory, "Moderator M\u043e")
        assert moderator not in await matrix.member_names(room)
        assert AT + "mallory" in await sender_name(ctx, room, mallory)
        matrix.set_name(room, mallory, "Mallory")
        assert await sender_name(ctx, room, mallory) == "Mallory (Matrix)"


async def test_indexes_are_built_once_and_follow_member_changes(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await _portal(ctx)
        room = portal.room_id
        matrix.set_name(room, ALICE_1, "alice")
        for n in range(5):
            await relay_matrix_message(ctx, matrix_msg(room, f"$a{n}", ALICE_1))
        assert matrix.member_list_reads == 1  # one read of the room's members for 5 sends
        assert discord.executed[-1][1].username == "alice (Matrix)"
        # Another alice joins: the member event invalidates the index.
        matrix.set_name(room, ALICE_2, "alice")
        await relay_matrix_message(ctx, matrix_msg(room, "$b", ALICE_1))
        assert matrix.member_list_reads == 2
        assert AT + "alice:one.example" in discord.executed[-1][1].username
        # A Discord member joins, then is renamed: the guild's index follows.
        matrix.set_name(room, CAROL, "Caro")
        discord.set_member(CAROL_D)
        await relay_matrix_message(ctx, matrix_msg(room, "$c", CAROL))
        assert discord.executed[-1][1].username == "Caro (Matrix)"
        discord.set_member(replace(CAROL_D, nick="car\u043e"))
        await relay_matrix_message(ctx, matrix_msg(room, "$d", CAROL))
        assert AT + "carol:example.org" in discord.executed[-1][1].username
        # The member list was read once more per roster change, never per message.
        assert matrix.member_list_reads == 3


async def test_ghost_named_like_a_matrix_user_gets_its_username(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.members = [BOB, CAROL_D]
        portal = await _portal(ctx)
        room = portal.room_id
        matrix.set_name(room, CAROL, "carol")
        ghost = ctx.namer.ghost_mxid(CAROL_D.id)
        await relay_discord_message(ctx, discord_msg(1, CAROL_D))
        assert matrix.ghosts[ghost][0] == "Carol (@carol_d) (Discord)"
        # A profile change elsewhere (no room) keeps the form it had.
        await refresh_puppet(ctx, replace(CAROL_D, avatar_url="http://cdn/c.png"))
        assert matrix.ghosts[ghost][0] == "Carol (@carol_d) (Discord)"
        # The Matrix carol renames herself: the ghost's plain name comes back.
        matrix.set_name(room, CAROL, "Caroline")
        await relay_discord_message(ctx, discord_msg(2, CAROL_D))
        assert matrix.ghosts[ghost][0] == "Carol (Discord)"
        # Bob has nobody to be confused with.
        await relay_discord_message(ctx, discord_msg(3, BOB))
        assert matrix.ghosts[ctx.namer.ghost_mxid(BOB.id)][0] == "Bob (Discord)"


async def test_ghosts_named_alike_in_the_guild(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        twin = DiscordAuthor(DiscordUserID(2000000000000000009), "b0b_fan", nick="B\u043eb")
        discord.members = [BOB, twin]
        await relay_discord_message(ctx, discord_msg(1, twin))
        assert matrix.ghosts[ctx.namer.ghost_mxid(twin.id)][0] == "B\u043eb (@b0b_fan) (Discord)"
        await relay_discord_message(ctx, discord_msg(2, BOB))
        assert matrix.ghosts[ctx.namer.ghost_mxid(BOB.id)][0] == "Bob (@bob) (Discord)"


async def test_linked_accounts_are_one_person(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.members = [BOB, CAROL_D]
        portal = await _portal(ctx)
        room = portal.room_id
        matrix.set_name(room, CAROL, "Carol")
        ghost = ctx.namer.ghost_mxid(CAROL_D.id)
        # Not linked: Matrix Carol and Discord Carol are told apart both ways.
        assert AT + "carol:example.org" in await sender_name(ctx, room, CAROL)
        await relay_discord_message(ctx, discord_msg(1, CAROL_D))
        assert matrix.ghosts[ghost][0] == "Carol (@carol_d) (Discord)"
        # Linked on the members' page: one person, one name on both sides.
        await ctx.stores.links.link(CAROL, CAROL_D.id)
        assert await sender_name(ctx, room, CAROL) == "Carol (Matrix)"
        await relay_discord_message(ctx, discord_msg(2, CAROL_D))
        assert matrix.ghosts[ghost][0] == "Carol (Discord)"
        # Somebody else with the name still makes both show their IDs.
        matrix.set_name(room, ALICE_1, "car\u043el")
        assert AT + "carol:example.org" in await sender_name(ctx, room, CAROL)
        await relay_discord_message(ctx, discord_msg(3, CAROL_D))
        assert matrix.ghosts[ghost][0] == "Carol (@carol_d) (Discord)"


async def test_ghosts_cannot_borrow_the_bridge_or_a_moderator_name(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        moderator = UserID("@mod:example.org")
        ctx.config = replace(
            ctx.config, moderation=replace(ctx.config.moderation, moderators=(moderator,))
        )
        matrix.profiles[moderator] = "Moderator Mo"  # not in the room
        discord.bot_username = "Bridge Bot"  # only the Matrix bot is called Passerelle
        fake_bot = DiscordAuthor(DiscordUserID(2000000000000000007), "pb", global_name="PASSERELLE")
        fake_mod = DiscordAuthor(DiscordUserID(2000000000000000008), "mm", nick="moderator mo")
        honest = DiscordAuthor(DiscordUserID(2000000000000000010), "dan", global_name="Dan")
        discord.members = [fake_bot, fake_mod, honest]
        for n, author in enumerate((fake_bot, fake_mod, honest)):
            await relay_discord_message(ctx, discord_msg(n + 1, author))
        names = [matrix.ghosts[ctx.namer.ghost_mxid(a.id)][0] for a in (fake_bot, fake_mod, honest)]
        assert names == [
            "PASSERELLE (@pb) (Discord)",
            "moderator mo (@mm) (Discord)",
            "Dan (Discord)",
        ]
