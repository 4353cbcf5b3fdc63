"""send_once: a Matrix event part is posted to Discord once, even across a crash between
the webhook execute and the message-map write."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.actions.webhooks import INFLIGHT_LOOKBACK_MS, send_once
from bridge.db import InflightRow, MessageRow, WebhookRow
from bridge.db.outbox import now_ms
from bridge.ids import DiscordUserID, EventID, MessageID, RoomID, WebhookID, snowflake_at
from bridge.model import DiscordAuthor, DiscordMessage, DiscordSend
from tests.actions.fakes import CHANNEL, GUILD, FakeDiscord, fake_context

ROOM = RoomID("!room:example.org")
EVENT = EventID("$m1")
SEND = DiscordSend(content="hello from matrix", username="Alice (Matrix)")
OWN = WebhookID(8000000000000000001)


def on_discord(
    mid: int,
    send: DiscordSend = SEND,
    webhook_id: WebhookID | None = OWN,
    author_id: int = 8000000000000000001,
) -> DiscordMessage:
    """A message as read back from the channel's history."""
    return DiscordMessage(
        id=MessageID(mid),
        channel_id=CHANNEL,
        guild_id=GUILD,
        author=DiscordAuthor(DiscordUserID(author_id), send.username),
        content=send.content,
        timestamp_ms=now_ms(),
        webhook_id=webhook_id,
    )


def left_by_crash(started_at: int, send: DiscordSend = SEND, part: int = 0) -> InflightRow:
    return InflightRow(EVENT, part, CHANNEL, send.content, send.username, started_at)


def fresh_id(offset: int = 0) -> int:
    return snowflake_at(now_ms()) + offset


async def test_first_send_executes_and_maps(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        message_id = await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0)
        assert len(discord.executed) == 1
        webhook_id, sent = discord.executed[0]
        assert sent == SEND and webhook_id in ctx.own_webhooks
        rows = await ctx.stores.messages.by_event(EVENT)
        assert [(r.discord_message_id, r.event_part, r.origin, r.room_id) for r in rows] == [
            (message_id, 0, "matrix", ROOM)
        ]
        assert await ctx.stores.inflight.get(EVENT, 0) is None
        assert discord.history_calls == []  # nothing in flight: no need to look


async def test_a_mapped_part_is_not_sent_again(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        first = await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0)
        assert await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0) == first
        assert len(discord.executed) == 1
        # Another part of the same event is its own message.
        second = await send_once(ctx, CHANNEL, DiscordSend("part 2", "Alice"), ROOM, EVENT, 1)
        assert second != first
        assert len(discord.executed) == 2
        rows = await ctx.stores.messages.by_event(EVENT)
        assert [(r.discord_message_id, r.event_part) for r in rows] == [(first, 0), (second, 1)]


async def test_a_send_left_in_flight_by_a_crash_is_adopted(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        ctx.own_webhooks.add(OWN)
        started = now_ms() - 1000
        await ctx.stores.inflight.start(left_by_crash(started))
        already_sent = fresh_id()
        discord.history[CHANNEL] = [on_discord(already_sent)]
        assert await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0) == already_sent
        assert discord.executed == []
        (row,) = await ctx.stores.messages.by_event(EVENT)
        assert row.discord_message_id == already_sent and row.origin == "matrix"
        assert await ctx.stores.inflight.get(EVENT, 0) is None
        # Looked in the right channel, from before the send started.
        ((channel, after, _limit),) = discord.history_calls
        assert channel == CHANNEL
        assert after <= snowflake_at(started - INFLIGHT_LOOKBACK_MS) < already_sent


async def test_a_send_in_flight_is_found_in_a_busy_channel(tmp_path: Path) -> None:
    """Hundreds of messages came before and after it: the send is still found."""
    async with fake_context(tmp_path) as (ctx, _, discord):
        ctx.own_webhooks.add(OWN)
        started = now_ms() - 1000
        await ctx.stores.inflight.start(left_by_crash(started))
        other = DiscordSend("chatter", "Bob")
        before = [
            on_discord(snowflake_at(started - 30_000) + i, other, webhook_id=None)
            for i in range(300)
        ]
        sent = fresh_id()
        after = [on_discord(sent + 1 + i, other, webhook_id=None) for i in range(300)]
        discord.history[CHANNEL] = [*before, on_discord(sent), *after]
        assert await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0) == sent
        assert discord.executed == []


async def test_in_flight_but_never_sent_executes(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        ctx.own_webhooks.add(OWN)
        await ctx.stores.inflight.start(left_by_crash(now_ms() - 1000))
        discord.history[CHANNEL] = []
        message_id = await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0)
        assert len(discord.executed) == 1
        assert [r.discord_message_id for r in await ctx.stores.messages.by_event(EVENT)] == [
            message_id
        ]
        assert await ctx.stores.inflight.get(EVENT, 0) is None


async def test_look_alikes_are_not_adopted(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        ctx.own_webhooks.add(OWN)
        started = now_ms() - 1000
        await ctx.stores.inflight.start(left_by_crash(started))
        # Someone else's webhook, other text, another name, or too old to be ours.
        too_old = snowflake_at(started - INFLIGHT_LOOKBACK_MS - 60_000)
        look_alikes = [
            on_discord(too_old),
            on_discord(fresh_id(1), webhook_id=WebhookID(123)),
            on_discord(fresh_id(2), webhook_id=None),
            on_discord(fresh_id(3), DiscordSend("hello from matrix!", SEND.username)),
            on_discord(fresh_id(4), DiscordSend(SEND.content, "Mallory (Matrix)")),
        ]
        discord.history[CHANNEL] = look_alikes
        message_id = await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0)
        assert len(discord.executed) == 1
        assert message_id not in {m.id for m in look_alikes}


async def test_a_message_already_mapped_to_another_event_is_not_adopted(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        ctx.own_webhooks.add(OWN)
        # Alice said the same thing twice; the first one is mapped to its own event.
        earlier = fresh_id()
        await ctx.stores.messages.insert(
            MessageRow(MessageID(earlier), 0, CHANNEL, ROOM, EventID("$m0"), "matrix")
        )
        await ctx.stores.inflight.start(left_by_crash(now_ms() - 1000))
        discord.history[CHANNEL] = [on_discord(earlier)]
        message_id = await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0)
        assert message_id != earlier
        assert len(discord.executed) == 1


async def test_a_crash_between_execute_and_map_is_not_sent_twice(tmp_path: Path) -> None:
    """The whole story: the first attempt posts, then dies before recording it."""

    class CrashAfterExecute(FakeDiscord):
        async def execute_webhook(self, webhook: WebhookRow, send: DiscordSend) -> int:
            message_id = MessageID(fresh_id(len(self.executed)))
            self.executed.append((webhook.webhook_id, send))
            self.history.setdefault(CHANNEL, []).append(
                on_discord(message_id, send, webhook_id=webhook.webhook_id)
            )
            raise ConnectionResetError("connection lost before the answer")

    async with fake_context(tmp_path) as (ctx, _, _discord):
        crashing = CrashAfterExecute()
        ctx.discord = crashing
        with pytest.raises(ConnectionResetError):
            await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0)
        assert len(crashing.executed) == 1
        assert await ctx.stores.inflight.get(EVENT, 0) is not None
        # The retry (here or after a restart) finds the message instead of posting again.
        (posted,) = crashing.history[CHANNEL]
        assert await send_once(ctx, CHANNEL, SEND, ROOM, EVENT, 0) == posted.id
        assert len(crashing.executed) == 1
