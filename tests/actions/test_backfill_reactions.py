"""Backfill of reactions: Discord reactions added or removed while the bridge was away,
with fake networks and a real (SQLite) database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.actions import backfill_reactions as module
from bridge.actions.backfill import Backfilled, backfill_channel
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_reaction import relay_discord_reaction_add
from bridge.actions.m2d_reaction import relay_matrix_reaction
from bridge.db import MessageRow
from bridge.ids import DiscordUserID, EventID, MessageID, RoomID, UserID, WebhookID
from bridge.model import DiscordAuthor, DiscordMessage, DiscordReaction, MatrixReaction
from tests.actions.fakes import BOT_USER, CHANNEL, GUILD, FakeDiscord, fake_context
from tests.actions.test_backfill import msg

BOB = DiscordAuthor(DiscordUserID(2000000000000000002), "bob", global_name="Bob")
CAROL = DiscordAuthor(DiscordUserID(2000000000000000003), "carol", global_name="Carol")
DAVE = DiscordAuthor(DiscordUserID(2000000000000000004), "dave")
BOT = DiscordAuthor(BOT_USER, "passerelle", bot=True)
PARTY_URL = "https://cdn.example/emojis/77.png"


def live_reaction(
    message: MessageID, user: DiscordAuthor, emoji: str = "👍", emoji_id: int | None = None
) -> DiscordReaction:
    """A reaction as the gateway delivers it while the bridge listens."""
    return DiscordReaction(
        CHANNEL,
        GUILD,
        message,
        user.id,
        emoji,
        emoji_id,
        emoji_url=f"https://cdn.example/emojis/{emoji_id}.png" if emoji_id else None,
        member=user,
    )


def ghost_reactions(matrix: object) -> list[tuple[str, str, str]]:
    """(sender, target, key) of every m.reaction sent on Matrix."""
    return [(s, t, k) for _r, s, t, k, _c in matrix.reactions]  # type: ignore[attr-defined]


async def relayed(ctx: object, discord: FakeDiscord, *messages: DiscordMessage) -> list[EventID]:
    """Relay messages live and make them the channel's history on Discord."""
    events = []
    for m in messages:
        event = await relay_discord_message(ctx, m)  # type: ignore[arg-type]
        assert event is not None
        events.append(event)
    discord.history[CHANNEL] = list(messages)
    return events


async def test_a_reaction_added_while_away_is_relayed_once(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        (target,) = await relayed(ctx, discord, msg(1))
        discord.reactions[MessageID(1)] = {"👍": [CAROL]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_added=1)
        ghost = ctx.namer.ghost_mxid(CAROL.id)
        assert ghost_reactions(matrix) == [(ghost, target, "👍")]
        assert discord.reactor_calls == [(MessageID(1), "👍", False)]
        # Never seen before: the ghost is made with the name Discord lists.
        assert matrix.ghosts[ghost][0] == "Carol (Discord)"
        row = await ctx.stores.reactions.by_discord_user(MessageID(1), "👍", CAROL.id)
        assert row is not None and row.origin == "discord" and row.sender == ghost
        # Another start: the counts match now, nothing is read or sent again.
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(matrix.reactions) == 1
        assert len(discord.reactor_calls) == 1


async def test_a_reaction_removed_while_away_is_redacted(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, msg(1), msg(2))
        thumbs = await relay_discord_reaction_add(ctx, live_reaction(MessageID(1), BOB))
        party = await relay_discord_reaction_add(ctx, live_reaction(MessageID(2), BOB, "🎉"))
        kept = await relay_discord_reaction_add(ctx, live_reaction(MessageID(2), CAROL, "🎉"))
        assert thumbs and party and kept
        # While away Bob took both back; Carol's is still there.
        discord.reactions[MessageID(2)] = {"🎉": [CAROL]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_removed=2)
        assert sorted(event for _, event, _ in matrix.redactions) == sorted([thumbs, party])
        assert all(reason == "Reaction removed on Discord" for *_, reason in matrix.redactions)
        assert await ctx.stores.reactions.by_discord_user(MessageID(1), "👍", BOB.id) is None
        assert await ctx.stores.reactions.by_discord_user(MessageID(2), "🎉", BOB.id) is None
        assert await ctx.stores.reactions.by_discord_user(MessageID(2), "🎉", CAROL.id)
        # An emoji nobody reacts with any more needs no read; 🎉 (2 relayed, 1 now) does.
        assert discord.reactor_calls == [(MessageID(2), "🎉", False)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(matrix.redactions) == 2


async def test_added_and_removed_on_the_same_emoji(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        (target,) = await relayed(ctx, discord, msg(1))
        gone = await relay_discord_reaction_add(ctx, live_reaction(MessageID(1), BOB))
        discord.reactions[MessageID(1)] = {"👍": [CAROL, DAVE]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(
            reactions_added=2, reactions_removed=1
        )
        assert [event for _, event, _ in matrix.redactions] == [gone]
        senders = {s for s, t, _ in ghost_reactions(matrix)[1:] if t == target}
        assert senders == {ctx.namer.ghost_mxid(CAROL.id), ctx.namer.ghost_mxid(DAVE.id)}


async def test_the_bots_own_reaction_is_never_relayed(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        (target,) = await relayed(ctx, discord, msg(1))
        # A Matrix user's 🎉, shown on Discord by the bot.
        alice = MatrixReaction(
            RoomID(matrix.sent[0][0]), EventID("$alice"), UserID("@alice:x"), target, "🎉"
        )
        assert await relay_matrix_reaction(ctx, alice) == "🎉"
        discord.reactions[MessageID(1)] = {"🎉": [BOT]}
        # The bot's reaction is not a Discord user's: the counts match, nothing is read.
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert discord.reactor_calls == []
        assert matrix.reactions == [] and matrix.redactions == []
        # Bob joins in with 🎉 while away: read, and only Bob's is relayed.
        discord.reactions[MessageID(1)] = {"🎉": [BOT, BOB]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_added=1)
        assert ghost_reactions(matrix) == [(ctx.namer.ghost_mxid(BOB.id), target, "🎉")]
        # The bot's reaction goes (a moderator removed it): Alice's stays on Matrix,
        # untouched; Bob's ghost reaction stays too.
        discord.reactions[MessageID(1)] = {"🎉": [BOB]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert matrix.redactions == []
        assert await ctx.stores.reactions.by_event(EventID("$alice")) is not None


async def test_equal_counts_read_no_reactors(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, *(msg(i) for i in range(1, 6)))
        for i in range(1, 6):
            await relay_discord_reaction_add(ctx, live_reaction(MessageID(i), BOB))
            await relay_discord_reaction_add(ctx, live_reaction(MessageID(i), CAROL, "🎉"))
        discord.reactions.update({MessageID(i): {"👍": [BOB], "🎉": [CAROL]} for i in range(1, 6)})
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert discord.reactor_calls == []
        assert len(matrix.reactions) == 10 and matrix.redactions == []


async def test_running_backfill_twice_relays_nothing_new(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, msg(1), msg(2))
        removed = await relay_discord_reaction_add(ctx, live_reaction(MessageID(2), BOB))
        discord.history[CHANNEL].append(msg(3, "while away"))
        discord.reactions[MessageID(1)] = {"👍": [BOB, CAROL], "🎉": [DAVE]}
        discord.reactions[MessageID(3)] = {"👀": [CAROL]}  # on a message sent while away
        first = await backfill_channel(ctx, CHANNEL)
        assert first == Backfilled(new=1, reactions_added=4, reactions_removed=1)
        assert [event for _, event, _ in matrix.redactions] == [removed]
        sent, reads = len(matrix.reactions), len(discord.reactor_calls)
        assert sent == 5  # Bob's live one, then four
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(matrix.reactions) == sent and len(matrix.redactions) == 1
        assert len(discord.reactor_calls) == reads
        new_target = (await ctx.stores.messages.by_discord(MessageID(3)))[0].event_id
        assert (ctx.namer.ghost_mxid(CAROL.id), new_target, "👀") in ghost_reactions(matrix)


async def test_reactions_on_a_message_from_matrix(tmp_path: Path) -> None:
    """Discord users react to Matrix users' messages too (the webhook's, not in the
    window of relayed Discord messages but in the history read back)."""
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        own = WebhookID(77)
        ctx.own_webhooks.add(own)
        await relayed(ctx, discord, msg(1))
        await ctx.stores.messages.insert(
            MessageRow(MessageID(2), 0, CHANNEL, RoomID("!r:example.org"), EventID("$m"), "matrix")
        )
        discord.history[CHANNEL].append(msg(2, "from matrix", webhook_id=own))
        discord.reactions[MessageID(2)] = {"👍": [BOB]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_added=1)
        assert ghost_reactions(matrix) == [(ctx.namer.ghost_mxid(BOB.id), "$m", "👍")]


async def test_custom_emoji_added_while_away_and_renamed(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        (target,) = await relayed(ctx, discord, msg(1))
        matrix.web[PARTY_URL] = (b"\x89PNG fake", "image/png")
        discord.reactions[MessageID(1)] = {"party:77": [BOB]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_added=1)
        (mxc,) = matrix.media
        assert matrix.reactions[0][2:] == (target, mxc, ":party:")
        # Renamed on Discord: the same reaction (known by its ID), nothing changes.
        discord.reactions[MessageID(1)] = {"fiesta:77": [BOB]}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert discord.reactor_calls == [(MessageID(1), "party:77", False)]
        # Then removed: the stored name:id finds the ghost reaction.
        discord.reactions[MessageID(1)] = {}
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_removed=1)
        assert await ctx.stores.reactions.by_discord_user(MessageID(1), "party:77", BOB.id) is None


async def test_unknown_reactors_conclude_nothing(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, msg(1))
        await relay_discord_reaction_add(ctx, live_reaction(MessageID(1), BOB))
        discord.reactions[MessageID(1)] = {"👍": [CAROL, DAVE]}
        discord.reactors_refused.add(MessageID(1))
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert matrix.redactions == [] and len(matrix.reactions) == 1


async def test_unrelayed_messages_are_not_read(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, msg(1))
        # A system message ("Bob pinned a message"), never relayed, has reactions.
        pinned = msg(2, "", type=6)
        discord.history[CHANNEL].append(pinned)
        discord.reactions[MessageID(2)] = {"👍": [BOB]}
        assert await relay_discord_message(ctx, pinned) is None
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert discord.reactor_calls == [] and matrix.reactions == []


async def test_reading_is_bounded_and_the_rest_waits_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(module, "EMOJI_PER_MESSAGE", 2)
    monkeypatch.setattr(module, "FETCHES", 3)
    emoji = ["👍", "🎉", "👀", "🚀"]
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, msg(1), msg(2))
        for mid in (1, 2):
            discord.reactions[MessageID(mid)] = {e: [BOB] for e in emoji}
        caplog.set_level("INFO", logger="bridge.actions.backfill")
        # Newest message first: 2 of its 4 emoji, then 1 of message 1 (3 reads).
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(reactions_added=3)
        assert [(m, e) for m, e, _ in discord.reactor_calls] == [
            (MessageID(2), "👍"),
            (MessageID(2), "🎉"),
            (MessageID(1), "👍"),
        ]
        line = next(r.getMessage() for r in caplog.records if "d2m.backfilled" in r.getMessage())
        assert "reactions_added=3 reactions_removed=0" in line
        assert "reactions_read=3 reactions_deferred=5" in line
        # Each start catches up further, until everything is there.
        total = 3
        for _ in range(3):
            total += (await backfill_channel(ctx, CHANNEL)).reactions_added
        assert total == 8 and len(matrix.reactions) == 8
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()


async def test_a_cut_list_of_reactors_removes_nobody_beyond_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "REACTORS", 2)
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relayed(ctx, discord, msg(1))
        beyond = await relay_discord_reaction_add(ctx, live_reaction(MessageID(1), DAVE))
        gone = await relay_discord_reaction_add(ctx, live_reaction(MessageID(1), CAROL))
        assert beyond and gone
        # Carol left; Bob, an early ID, and Dave react, plus one more: the list stops at 2.
        early = DiscordAuthor(DiscordUserID(2000000000000000001), "early")
        discord.reactions[MessageID(1)] = {"👍": [early, BOB, DAVE]}
        result = await backfill_channel(ctx, CHANNEL)
        # Early and Bob (in the list) are added; Carol (beyond its end) is not judged.
        assert result == Backfilled(reactions_added=2)
        assert matrix.redactions == []
