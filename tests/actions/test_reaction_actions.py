"""Reactions both ways, with fake networks and a real (SQLite) database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_reaction import (
    relay_discord_reaction_add,
    relay_discord_reaction_clear,
    relay_discord_reaction_remove,
)
from bridge.actions.m2d_reaction import relay_matrix_reaction, relay_matrix_reaction_redaction
from bridge.convert.d2m.reaction import matrix_reaction_key
from bridge.convert.m2d.reaction import discord_emoji_for_key, is_unicode_emoji
from bridge.db import EmojiRow, MessageRow
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, MessageID, RoomID, UserID
from bridge.model import (
    DiscordAuthor,
    DiscordReaction,
    DiscordReactionClear,
    MatrixReaction,
    MatrixRedaction,
)
from tests.actions.fakes import BOT_USER, CHANNEL, GUILD, fake_context

ROOM = RoomID("!room:example.org")
MSG = MessageID(5000)
TARGET = EventID("$target")
BOB = DiscordUserID(2000000000000000002)
ALICE = UserID("@alice:example.org")
CAROL = UserID("@carol:example.org")
MALLORY = UserID("@mallory:example.org")
CDN_URL = "https://cdn.example/emojis/77.png"


async def bridged_message(ctx: BridgeContext, origin: str = "discord") -> None:
    await ctx.stores.messages.insert(
        MessageRow(MSG, 0, CHANNEL, ROOM, TARGET, "discord" if origin == "discord" else "matrix")
    )


def discord_reaction(
    emoji: str = "👍",
    user: DiscordUserID = BOB,
    *,
    emoji_id: int | None = None,
    animated: bool = False,
    message: MessageID = MSG,
    guild: GuildID | None = GUILD,
    member: bool = True,
) -> DiscordReaction:
    return DiscordReaction(
        channel_id=CHANNEL,
        guild_id=guild,
        message_id=message,
        user_id=user,
        emoji_name=emoji,
        emoji_id=emoji_id,
        animated=animated,
        emoji_url=CDN_URL if emoji_id else None,
        member=DiscordAuthor(user, "bob", "Bob") if member else None,
    )


def matrix_reaction(event: str, sender: UserID = ALICE, key: str = "👍") -> MatrixReaction:
    return MatrixReaction(ROOM, EventID(event), sender, TARGET, key)


def redaction_of(event: str, sender: UserID = ALICE) -> MatrixRedaction:
    return MatrixRedaction(ROOM, EventID(f"$redact-{event}"), sender, EventID(event))


# -- converters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("👍", True),
        ("❤️", True),
        ("👍🏽", True),
        ("🏳️‍🌈", True),
        ("1️⃣", True),
        ("🇫🇷", True),
        ("+1", False),
        ("lol", False),
        ("1", False),
        ("→", False),
        ("", False),
        ("👍" * 40, False),
    ],
)
def test_unicode_emoji_keys(key: str, expected: bool) -> None:
    assert is_unicode_emoji(key) is expected


def test_matrix_key_to_discord_emoji() -> None:
    assert discord_emoji_for_key("👍", None) == "👍"
    assert discord_emoji_for_key("mxc://x/party", "party:77") == "party:77"
    assert discord_emoji_for_key("mxc://x/unknown", None) is None
    assert discord_emoji_for_key("agreed", None) is None


def test_discord_reaction_to_matrix_key() -> None:
    assert matrix_reaction_key(discord_reaction("👍"), None) == ("👍", None)
    party = discord_reaction("party", emoji_id=77)
    assert party.emoji == "party:77"
    assert matrix_reaction_key(party, "mxc://x/p") == ("mxc://x/p", ":party:")
    assert matrix_reaction_key(party, None) == (":party:", ":party:")


# -- Discord -> Matrix -------------------------------------------------------------


async def test_discord_unicode_reaction_sent_by_ghost_and_removed(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await bridged_message(ctx)
        event = await relay_discord_reaction_add(ctx, discord_reaction())
        ghost = ctx.namer.ghost_mxid(BOB)
        assert event is not None
        assert matrix.reactions == [(ROOM, ghost, TARGET, "👍", None)]
        assert (ROOM, ghost) in matrix.joined
        assert matrix.ghosts[ghost][0] == "Bob (Discord)"
        # A replayed add does nothing.
        assert await relay_discord_reaction_add(ctx, discord_reaction()) is None
        assert await relay_discord_reaction_remove(ctx, discord_reaction()) == event
        assert matrix.redactions == [(ROOM, event, "Reaction removed on Discord")]
        # Our own redaction echoing back finds nothing to do on Discord.
        assert not await relay_matrix_reaction_redaction(
            ctx, redaction_of(event, ctx.namer.bot_mxid)
        )
        assert await relay_discord_reaction_remove(ctx, discord_reaction()) is None


async def test_discord_reaction_skips_bot_other_guild_and_unmapped(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await bridged_message(ctx)
        assert await relay_discord_reaction_add(ctx, discord_reaction(user=BOT_USER)) is None
        assert await relay_discord_reaction_remove(ctx, discord_reaction(user=BOT_USER)) is None
        assert await relay_discord_reaction_add(ctx, discord_reaction(guild=GuildID(9))) is None
        assert await relay_discord_reaction_add(ctx, discord_reaction(message=MessageID(1))) is None
        other_channel = DiscordReaction(
            ChannelID(1), GUILD, MSG, BOB, "👍", member=DiscordAuthor(BOB, "bob")
        )
        assert await relay_discord_reaction_add(ctx, other_channel) is None
        assert matrix.reactions == []


async def test_discord_reaction_without_member_uses_bare_ghost(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await bridged_message(ctx, origin="matrix")
        assert await relay_discord_reaction_add(ctx, discord_reaction(member=False))
        ghost = ctx.namer.ghost_mxid(BOB)
        assert matrix.ghosts[ghost] == (None, None)
        assert matrix.reactions[0][1:3] == (ghost, TARGET)


async def test_discord_custom_emoji_uploaded_once(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await bridged_message(ctx)
        matrix.web[CDN_URL] = (b"\x89PNG fake", "image/png")
        await relay_discord_reaction_add(ctx, discord_reaction("party", emoji_id=77))
        other = DiscordUserID(2000000000000000001)
        await relay_discord_reaction_add(ctx, discord_reaction("party", other, emoji_id=77))
        assert len(matrix.media) == 1
        (mxc,) = matrix.media
        assert [r[3:] for r in matrix.reactions] == [(mxc, ":party:"), (mxc, ":party:")]
        cached = await ctx.stores.reactions.emoji_by_id(77)
        assert cached == EmojiRow(77, "party", False, mxc)
        # Removing finds the reaction by Discord's name:id form.
        assert await relay_discord_reaction_remove(ctx, discord_reaction("party", emoji_id=77))


async def test_discord_custom_emoji_falls_back_to_shortcode(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await bridged_message(ctx)  # the CDN has nothing: download fails
        await relay_discord_reaction_add(ctx, discord_reaction("party", emoji_id=77))
        assert matrix.reactions[0][3:] == (":party:", ":party:")
        assert await ctx.stores.reactions.emoji_by_id(77) is None


async def test_discord_reaction_clear_redacts_ghost_reactions(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await bridged_message(ctx)
        e1 = await relay_discord_reaction_add(ctx, discord_reaction("👍"))
        e2 = await relay_discord_reaction_add(ctx, discord_reaction("🎉"))
        await relay_matrix_reaction(ctx, matrix_reaction("$m1"))
        clear_one = DiscordReactionClear(CHANNEL, GUILD, MSG, "🎉")
        assert await relay_discord_reaction_clear(ctx, clear_one) == [e2]
        assert await relay_discord_reaction_clear(
            ctx, DiscordReactionClear(CHANNEL, GUILD, MSG)
        ) == [e1]
        assert await ctx.stores.reactions.by_event(EventID("$m1")) is None
        assert [r[1] for r in matrix.redactions] == [e2, e1]


# -- Matrix -> Discord -------------------------------------------------------------


async def test_matrix_reactions_shown_as_one_bot_reaction(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        await bridged_message(ctx)
        assert await relay_matrix_reaction(ctx, matrix_reaction("$a", ALICE)) == "👍"
        assert await relay_matrix_reaction(ctx, matrix_reaction("$c", CAROL)) == "👍"
        assert discord.bot_reactions == {(CHANNEL, MSG, "👍"): True}
        # A replayed event is not stored twice.
        assert await relay_matrix_reaction(ctx, matrix_reaction("$a", ALICE)) is None
        assert await relay_matrix_reaction_redaction(ctx, redaction_of("$a"))
        assert discord.bot_reactions == {(CHANNEL, MSG, "👍"): True}
        assert ("remove", MSG, "👍") not in discord.reaction_calls
        assert await relay_matrix_reaction_redaction(ctx, redaction_of("$c", CAROL))
        assert discord.bot_reactions == {}
        assert discord.reaction_calls[-1] == ("remove", MSG, "👍")


async def test_matrix_reaction_skips_ghosts_bot_unmapped_and_text_keys(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        await bridged_message(ctx)
        ghost = ctx.namer.ghost_mxid(BOB)
        assert await relay_matrix_reaction(ctx, matrix_reaction("$g", ghost)) is None
        assert await relay_matrix_reaction(ctx, matrix_reaction("$b", ctx.namer.bot_mxid)) is None
        unmapped = MatrixReaction(ROOM, EventID("$x"), ALICE, EventID("$nope"), "👍")
        assert await relay_matrix_reaction(ctx, unmapped) is None
        assert await relay_matrix_reaction(ctx, matrix_reaction("$t", key="agreed")) is None
        assert await relay_matrix_reaction(ctx, matrix_reaction("$i", key="mxc://x/y")) is None
        assert discord.reaction_calls == []
        # Redactions of things that are not stored reactions go the message path.
        assert not await relay_matrix_reaction_redaction(ctx, redaction_of("$t"))


async def test_matrix_custom_emoji_key_maps_back(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        await bridged_message(ctx)
        await ctx.stores.reactions.put_emoji(EmojiRow(77, "party", False, "mxc://x/party"))
        emoji = await relay_matrix_reaction(ctx, matrix_reaction("$p", key="mxc://x/party"))
        assert emoji == "party:77"
        assert discord.reaction_calls == [("add", MSG, "party:77")]


async def test_matrix_reaction_refused_by_discord_is_forgotten(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        await bridged_message(ctx)
        discord.unknown_emoji.add("🫠")
        assert await relay_matrix_reaction(ctx, matrix_reaction("$m", key="🫠")) is None
        assert await ctx.stores.reactions.by_event(EventID("$m")) is None


async def test_matrix_reaction_redaction_needs_power(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await bridged_message(ctx)
        await relay_matrix_reaction(ctx, matrix_reaction("$a", ALICE))
        assert await relay_matrix_reaction_redaction(ctx, redaction_of("$a", MALLORY))
        assert discord.bot_reactions  # refused: still there
        matrix.moderators.add(MALLORY)
        assert await relay_matrix_reaction_redaction(ctx, redaction_of("$a", MALLORY))
        assert discord.bot_reactions == {}


async def test_matrix_moderator_redacting_ghost_reaction_only_forgets_it(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await bridged_message(ctx)
        event = await relay_discord_reaction_add(ctx, discord_reaction())
        assert event is not None
        matrix.moderators.add(ALICE)
        assert await relay_matrix_reaction_redaction(ctx, redaction_of(event, ALICE))
        assert await ctx.stores.reactions.by_event(event) is None
        assert discord.reaction_calls == []
