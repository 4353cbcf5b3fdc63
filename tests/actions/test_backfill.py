"""Backfill after downtime: new messages, edits and deletions read back from Discord's
history, with fake networks and a real (SQLite) message map."""

from __future__ import annotations

from pathlib import Path

from bridge.actions.backfill import Backfilled, backfill_channel
from bridge.actions.d2m_message import relay_discord_message
from bridge.db import MessageRow
from bridge.ids import ChannelID, EventID, MessageID, RoomID, WebhookID
from bridge.model import DiscordChannel, DiscordMessage
from tests.actions.fakes import CHANNEL, GUILD, fake_context
from tests.actions.test_relay_actions import discord_msg

T0 = 1_700_000_000_000


def msg(mid: int, content: str | None = None, **kw: object) -> DiscordMessage:
    fields: dict[str, object] = {"timestamp_ms": T0 + mid * 1000}
    fields.update(kw)
    return discord_msg(mid, content if content is not None else f"message {mid}", **fields)


async def test_nothing_relayed_yet_reads_no_history(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.history[CHANNEL] = [msg(1), msg(2)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert discord.history_calls == []
        assert matrix.sent == []


async def test_messages_sent_while_away_are_relayed_in_order_with_their_time(
    tmp_path: Path,
) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        relayed = [msg(10), msg(11), msg(12)]
        for m in relayed:
            await relay_discord_message(ctx, m)
        assert len(matrix.sent) == 3
        # 5 is older than anything relayed (before the bridge was set up): not imported.
        discord.history[CHANNEL] = [msg(5), *relayed, msg(13, "while away"), msg(15), msg(14)]
        result = await backfill_channel(ctx, CHANNEL)
        assert result == Backfilled(new=3)
        new = matrix.sent[3:]
        assert [text.body for _, _, text, _ in new] == ["while away", "message 14", "message 15"]
        assert [ts for _, _, _, ts in new] == [T0 + 13_000, T0 + 14_000, T0 + 15_000]
        for mid in (13, 14, 15):
            assert len(await ctx.stores.messages.by_discord(MessageID(mid))) == 1
        assert await ctx.stores.messages.by_discord(MessageID(5)) == []
        # A second run finds everything mapped: nothing is sent twice.
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(matrix.sent) == 6
        assert matrix.edits == [] and matrix.redactions == []


async def test_a_gap_among_relayed_messages_is_filled(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, msg(10))
        await relay_discord_message(ctx, msg(12))  # 11 was missed (a gateway gap)
        discord.history[CHANNEL] = [msg(10), msg(11), msg(12), msg(13)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(new=2)
        assert [text.body for _, _, text, _ in matrix.sent[2:]] == ["message 11", "message 13"]


async def test_after_the_last_matrix_message_when_no_discord_one_is_mapped(
    tmp_path: Path,
) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        own = WebhookID(77)
        ctx.own_webhooks.add(own)
        relayed_from_matrix = msg(20, "from matrix", webhook_id=own)
        await ctx.stores.messages.insert(
            MessageRow(MessageID(20), 0, CHANNEL, RoomID("!r:example.org"), EventID("$m"), "matrix")
        )
        discord.history[CHANNEL] = [msg(19), relayed_from_matrix, msg(21)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(new=1)
        assert [text.body for _, _, text, _ in matrix.sent] == ["message 21"]
        assert discord.history_calls[0][:2] == (CHANNEL, MessageID(20))


async def test_an_edit_made_while_away_is_relayed_once(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        e1 = await relay_discord_message(ctx, msg(1, "helo"))
        await relay_discord_message(ctx, msg(2, "unchanged"))
        discord.history[CHANNEL] = [msg(1, "hello", edited_ms=T0 + 60_000), msg(2, "unchanged")]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(edited=1)
        assert len(matrix.edits) == 1
        _room, _sender, target, text = matrix.edits[0]
        assert target == e1 and text.body == "hello"
        # Run again (another reconnect): the edit is known now.
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(matrix.edits) == 1
        # Edited again later: relayed again.
        discord.history[CHANNEL][0] = msg(1, "hello!", edited_ms=T0 + 120_000)
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(edited=1)
        assert [t.body for *_, t in matrix.edits] == ["hello", "hello!"]
        assert len(matrix.sent) == 2


async def test_an_edit_already_relayed_live_is_not_relayed_again(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        # Read back already edited (e.g. by an earlier backfill): its edit time is stored.
        await relay_discord_message(ctx, msg(1, "final", edited_ms=T0 + 5_000))
        discord.history[CHANNEL] = [msg(1, "final", edited_ms=T0 + 5_000)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert matrix.edits == []


async def test_a_message_deleted_while_away_is_redacted(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, msg(1))
        e2 = await relay_discord_message(ctx, msg(2))
        await relay_discord_message(ctx, msg(3))
        discord.history[CHANNEL] = [msg(1), msg(3)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(deleted=1)
        assert [event for _, event, _ in matrix.redactions] == [e2]
        assert await ctx.stores.messages.by_discord(MessageID(2)) == []
        assert len(await ctx.stores.messages.by_discord(MessageID(1))) == 1
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(matrix.redactions) == 1


async def test_an_empty_history_never_redacts(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, msg(1))
        await relay_discord_message(ctx, msg(2))
        discord.history[CHANNEL] = []  # e.g. the bot lost access to the channel
        assert await backfill_channel(ctx, CHANNEL) == Backfilled()
        assert len(discord.history_calls) == 1
        assert matrix.redactions == []
        assert len(await ctx.stores.messages.by_discord(MessageID(1))) == 1
        assert len(await ctx.stores.messages.by_discord(MessageID(2))) == 1


async def test_only_the_channels_own_messages_are_compared(tmp_path: Path) -> None:
    other = ChannelID(4000000000000000002)
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        discord.channels[other] = DiscordChannel(other, GUILD, "members", "", "members_only")
        await relay_discord_message(ctx, msg(1))
        assert await relay_discord_message(ctx, msg(2, channel_id=other)) is not None
        discord.history[CHANNEL] = [msg(1), msg(3)]
        # Message 2 is not in this channel's history, but it is not this channel's either.
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(new=1)
        assert matrix.redactions == []
        assert len(await ctx.stores.messages.by_discord(MessageID(2))) == 1
        assert [call[0] for call in discord.history_calls] == [CHANNEL]


async def test_threads_of_the_channel_are_read_back_too(tmp_path: Path) -> None:
    from bridge.actions.backfill import backfill_with_threads

    thread = ChannelID(1001)

    def in_thread(mid: int, content: str) -> DiscordMessage:
        return msg(mid, content, channel_id=thread, thread_parent_id=CHANNEL)

    async with fake_context(tmp_path) as (ctx, matrix, discord):
        starter = msg(1001, "worth a thread")
        await relay_discord_message(ctx, starter)
        await relay_discord_message(ctx, in_thread(1002, "inside"))
        discord.history[CHANNEL] = [starter]
        discord.history[thread] = [in_thread(1002, "inside"), in_thread(1003, "while away")]
        assert await backfill_with_threads(ctx, CHANNEL) == Backfilled(new=1)
        late = matrix.sent[-1][2]
        assert late.body == "while away"
        assert late.thread_root == "$ev1"  # in the Matrix thread of its starter
        rows = await ctx.stores.messages.by_discord(MessageID(1003))
        assert [r.discord_channel_id for r in rows] == [thread]
        assert await backfill_with_threads(ctx, CHANNEL) == Backfilled()  # nothing twice


async def test_messages_a_protection_held_are_not_read_back(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, msg(10))
        await ctx.stores.protection_held.add(11)  # held by moderation.protections
        await ctx.stores.protection_held.add(13)
        discord.history[CHANNEL] = [msg(10), msg(11), msg(12), msg(13)]
        assert await backfill_channel(ctx, CHANNEL) == Backfilled(new=1)
        assert [text.body for _, _, text, _ in matrix.sent[1:]] == ["message 12"]
