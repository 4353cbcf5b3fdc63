"""The data-access package on both databases, after running the real migrations."""

from __future__ import annotations

import asyncio
import dataclasses

from bridge.db import MessageRow, PortalRow, PuppetRow, Stores, WebhookRow
from bridge.db.messages import Origin
from bridge.db.migrate import current_revision, head_revision, upgrade_head
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, MessageID, RoomID, WebhookID
from tests.db.conftest import CountingDb


async def test_migrations_reach_head_and_are_idempotent(database_url: str) -> None:
    assert await current_revision(database_url) is None
    await asyncio.to_thread(upgrade_head, database_url)
    await asyncio.to_thread(upgrade_head, database_url)
    assert await current_revision(database_url) == head_revision()
    assert head_revision() is not None


async def test_portal_round_trip(stores: Stores) -> None:
    row = PortalRow(
        ChannelID(4000000000000000001), GuildID(3), RoomID("!a:x"), "campaign", "t", "public"
    )
    await stores.portals.upsert(row)
    assert await stores.portals.by_channel(ChannelID(4000000000000000001)) == row
    assert await stores.portals.by_room(RoomID("!a:x")) == row
    renamed = PortalRow(row.discord_channel_id, row.guild_id, row.room_id, "new", "", "public")
    await stores.portals.upsert(renamed)
    assert await stores.portals.all() == [renamed]


async def test_puppet_round_trip(stores: Stores) -> None:
    assert await stores.puppets.get(DiscordUserID(1)) is None
    row = PuppetRow(DiscordUserID(2**62), "Alice (Discord)", "http://cdn/a.png", "mxc://x/y", True)
    await stores.puppets.upsert(row)
    assert await stores.puppets.get(DiscordUserID(2**62)) == row


async def test_message_map_refuses_replays_on_both_sides(stores: Stores) -> None:
    first = MessageRow(MessageID(10), 0, ChannelID(4), RoomID("!r:x"), EventID("$e1"), "discord")
    assert await stores.messages.insert(first) is True
    assert await stores.messages.insert(first) is False
    # Same Matrix event again under another Discord ID: refused too.
    clash = MessageRow(MessageID(11), 0, ChannelID(4), RoomID("!r:x"), EventID("$e1"), "matrix")
    assert await stores.messages.insert(clash) is False
    # A Matrix event split into two Discord messages.
    for part, discord_id in enumerate((20, 21)):
        row = MessageRow(
            MessageID(discord_id), 0, ChannelID(4), RoomID("!r:x"), EventID("$e2"), "matrix", part
        )
        assert await stores.messages.insert(row)
    assert [r.discord_message_id for r in await stores.messages.by_event(EventID("$e2"))] == [
        20,
        21,
    ]
    assert (await stores.messages.by_discord(MessageID(10)))[0].event_id == "$e1"
    last = await stores.messages.last_in_channel(ChannelID(4))
    assert last is not None and last.discord_message_id == 21
    assert await stores.messages.count() == 3


async def test_webhook_store(stores: Stores) -> None:
    row = WebhookRow(ChannelID(4), WebhookID(77), "tok-secret")
    await stores.webhooks.put(row)
    assert await stores.webhooks.get(ChannelID(4)) == row
    assert "tok-secret" not in repr(row)
    assert await stores.webhooks.all_ids() == {77}
    await stores.webhooks.delete(ChannelID(4))
    assert await stores.webhooks.get(ChannelID(4)) is None


async def test_transaction_ids(stores: Stores) -> None:
    assert not await stores.txns.seen("passerelle", "t1")
    await stores.txns.mark("passerelle", "t1")
    await stores.txns.mark("passerelle", "t1")
    assert await stores.txns.seen("passerelle", "t1")
    assert not await stores.txns.seen("other", "t1")


async def test_a_reused_transaction_id_with_new_events_is_not_seen(stores: Stores) -> None:
    """Synapse on SQLite restarts its transaction IDs after a restart: the same ID with
    other events is a new transaction, the same ID with the same events a replay."""
    from bridge.db.txns import events_digest

    first = events_digest([{"event_id": "$a"}, {"event_id": "$b"}])
    other = events_digest([{"event_id": "$c"}])
    await stores.txns.mark("passerelle", "7", first)
    assert await stores.txns.seen("passerelle", "7", first)
    assert await stores.txns.seen("passerelle", "7", None)  # any content
    assert not await stores.txns.seen("passerelle", "7", other)
    await stores.txns.mark("passerelle", "7", other)
    assert await stores.txns.seen("passerelle", "7", other)


async def test_set_digest_changes_only_the_text_part(stores: Stores) -> None:
    """A forum post's root edited for its tags: its text digest as relayed now."""
    text = MessageRow(MessageID(20), 0, ChannelID(20), RoomID("!r:x"), EventID("$t"), "discord")
    text = dataclasses.replace(text, text_digest="old")
    await stores.messages.insert(text)
    media = MessageRow(MessageID(20), 1, ChannelID(20), RoomID("!r:x"), EventID("$m"), "discord")
    await stores.messages.insert(media)
    await stores.messages.set_digest(MessageID(20), "new")
    rows = {r.part: r.text_digest for r in await stores.messages.by_discord(MessageID(20))}
    assert rows == {0: "new", 1: None}


def link(message_id: int, event: str, origin: Origin = "discord") -> MessageRow:
    return MessageRow(
        MessageID(message_id), 0, ChannelID(4), RoomID("!r:x"), EventID(event), origin
    )


async def test_has_discord_reads_what_an_earlier_process_stored(stores: Stores) -> None:
    await stores.messages.insert(link(1_000, "$old"))
    # A new process: its map has read nothing yet.
    later = Stores(stores.db).messages
    assert await later.has_discord(MessageID(1_000)) is True
    assert await later.has_discord(MessageID(999)) is False  # below, looked up: absent
    assert await later.has_discord(MessageID(1_001)) is False  # above all: new


async def test_has_discord_answers_a_live_message_without_a_round_trip(stores: Stores) -> None:
    await stores.messages.insert(link(1_000, "$old"))
    counting = CountingDb(stores.db)
    later = Stores(counting).messages  # type: ignore[arg-type]
    assert await later.has_discord(MessageID(1_000)) is True
    first = counting.queries  # the table's highest ID, read once, then the lookup
    for live in (1_001, 1_002, 5_000):
        assert await later.has_discord(MessageID(live)) is False
    assert counting.queries == first


async def test_has_discord_knows_what_this_process_wrote_after_reading(stores: Stores) -> None:
    messages = stores.messages
    assert await messages.has_discord(MessageID(50)) is False  # the table read: empty
    await messages.insert(link(2_000, "$new"))
    assert await messages.has_discord(MessageID(2_000)) is True
    # Links written by the in-flight store (a Matrix message sent by webhook) count too.
    await stores.inflight.record(link(3_000, "$from-matrix", "matrix"))
    assert await messages.has_discord(MessageID(3_000)) is True
    assert await messages.has_discord(MessageID(2_500)) is False
    # A deleted link: looked up again, and gone.
    await messages.forget_discord(MessageID(3_000))
    assert await messages.has_discord(MessageID(3_000)) is False
