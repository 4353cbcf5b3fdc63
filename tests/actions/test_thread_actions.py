"""Threads both ways with fake networks and a real (SQLite) database."""

from __future__ import annotations

from pathlib import Path

from bridge.actions.d2m_edit import relay_discord_edit
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_thread import (
    relay_discord_thread,
    relay_discord_thread_deletion,
    relay_discord_thread_update,
)
from bridge.actions.m2d_edit import relay_matrix_edit
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.m2d_redact import relay_matrix_redaction
from bridge.actions.m2d_thread import thread_name
from bridge.ids import ChannelID, EventID, MessageID, RoomID, UserID
from bridge.model import (
    DiscordMessage,
    DiscordThread,
    DiscordThreadDeletion,
    MatrixEdit,
    MatrixMessage,
    MatrixRedaction,
    MatrixText,
)
from bridge.transport.matrix import MatrixTransport
from tests.actions.fakes import CHANNEL, GUILD, fake_context
from tests.actions.test_relay_actions import discord_msg

ALICE = UserID("@alice:example.org")
THREAD = ChannelID(1001)  # started from Discord message 1001
BOT_MXID = "@passerelle:example.org"


def in_thread(mid: int, content: str, thread: ChannelID = THREAD, **kw: object) -> DiscordMessage:
    return discord_msg(mid, content, channel_id=thread, thread_parent_id=CHANNEL, **kw)


def matrix_msg(
    room: str, event: str, body: str, root: str | None = None, reply: str | None = None
) -> MatrixMessage:
    return MatrixMessage(
        RoomID(room),
        EventID(event),
        ALICE,
        "m.text",
        body,
        thread_root=EventID(root) if root else None,
        reply_to=EventID(reply) if reply else None,
    )


async def test_d2m_thread_message_is_rooted_at_the_starter(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        starter = await relay_discord_message(ctx, discord_msg(1001, "worth a thread"))
        first = await relay_discord_message(ctx, in_thread(1002, "inside"))
        second = await relay_discord_message(ctx, in_thread(1003, "again"))
        assert (starter, first, second) == ("$ev1", "$ev2", "$ev3")
        texts = [text for _, _, text, _ in matrix.sent]
        assert texts[1].thread_root == "$ev1" and texts[1].thread_latest == "$ev1"
        assert texts[2].thread_root == "$ev1" and texts[2].thread_latest == "$ev2"
        assert texts[1].to_content()["m.relates_to"] == {
            "rel_type": "m.thread",
            "event_id": "$ev1",
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": "$ev1"},
        }
        # All in the parent's portal room; the map records the thread as the channel.
        assert len({room for room, _, _, _ in matrix.sent}) == 1
        rows = await ctx.stores.messages.by_discord(MessageID(1002))
        assert [(r.discord_channel_id, r.event_id) for r in rows] == [(THREAD, "$ev2")]
        row = await ctx.stores.threads.by_thread(THREAD)
        assert row is not None and (row.parent_channel_id, row.root_event_id) == (CHANNEL, "$ev1")
        assert row.origin == "discord"


async def test_d2m_reply_inside_a_thread_is_a_real_reply(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, discord_msg(1001, "root"))
        await relay_discord_message(ctx, in_thread(1002, "first"))
        await relay_discord_message(
            ctx, in_thread(1003, "answer", reply_to=MessageID(1002), type=19)
        )
        relates = matrix.sent[2][2].to_content()["m.relates_to"]
        assert relates == {
            "rel_type": "m.thread",
            "event_id": "$ev1",
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": "$ev2"},
        }


async def test_d2m_thread_without_starter_gets_a_bot_root(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        loose = ChannelID(5005)
        discord.threads[loose] = DiscordThread(loose, GUILD, CHANNEL, "Open topic")
        await relay_discord_message(ctx, in_thread(5006, "hello", thread=loose))
        (_, sender, root, _), (_, _, text, _) = matrix.sent
        assert sender == BOT_MXID and root.body == "Thread: Open topic"
        assert root.msgtype == "m.notice" and root.thread_root is None
        assert text.thread_root == "$ev1"


async def test_d2m_thread_create_links_or_roots(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, discord_msg(1001, "starter"))
        # A thread from a bridged message: linked, nothing sent.
        row = await relay_discord_thread(ctx, DiscordThread(THREAD, GUILD, CHANNEL, "Talk"))
        assert row is not None and row.root_event_id == "$ev1" and len(matrix.sent) == 1
        # A thread without a starter: the bot's root, once.
        loose = DiscordThread(ChannelID(7007), GUILD, CHANNEL, "Loose")
        first = await relay_discord_thread(ctx, loose)
        assert await relay_discord_thread(ctx, loose) == first
        assert [t.body for _, _, t, _ in matrix.sent] == ["starter", "Thread: Loose"]
        # Threads of channels that are not bridged are not.
        other = DiscordThread(ChannelID(8008), GUILD, ChannelID(99), "Elsewhere")
        assert await relay_discord_thread(ctx, other) is None


async def test_d2m_known_thread_without_parent_from_transport(tmp_path: Path) -> None:
    """discord.py may not know the thread (a PartialMessageable): the store does."""
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, discord_msg(1001, "starter"))
        await relay_discord_message(ctx, in_thread(1002, "first"))
        await relay_discord_message(ctx, discord_msg(1003, "no parent", channel_id=THREAD))
        assert matrix.sent[2][2].thread_root == "$ev1"
        # Unknown channels stay unbridged.
        unknown = discord_msg(1004, "x", channel_id=ChannelID(42))
        assert await relay_discord_message(ctx, unknown) is None


async def test_d2m_edit_of_a_thread_message(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, discord_msg(1001, "starter"))
        await relay_discord_message(ctx, in_thread(1002, "tpyo"))
        edited = in_thread(1002, "typo", edited_ms=1_700_000_001_000)
        assert await relay_discord_edit(ctx, edited) is not None
        assert matrix.edits[0][2] == "$ev2" and matrix.edits[0][3].body == "typo"


async def test_m2d_thread_on_discord_message_starts_a_discord_thread(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        root = await relay_discord_message(ctx, discord_msg(1001, "A  long\nDiscord message " * 5))
        assert root is not None
        room = matrix.sent[0][0]
        matrix.messages[root] = MatrixMessage(
            room, root, UserID("@_discord_2:example.org"), "m.text", "A  long\nDiscord message " * 5
        )
        created = await relay_matrix_message(ctx, matrix_msg(room, "$m1", "in thread", root))
        assert discord.created_threads == [
            (CHANNEL, MessageID(1001), "A long Discord message A long Discord message A lo")
        ]
        assert [send.thread_id for _, send in discord.executed] == [ChannelID(1001)]
        rows = await ctx.stores.messages.by_event(EventID("$m1"))
        assert [(r.discord_message_id, r.discord_channel_id) for r in rows] == [
            (created[0], ChannelID(1001))
        ]
        # The next message of the thread reuses it; the webhook is the parent's.
        await relay_matrix_message(ctx, matrix_msg(room, "$m2", "again", root))
        assert len(discord.created_threads) == 1
        hooks = {row.discord_channel_id for row in discord.webhooks.values()}
        assert hooks == {CHANNEL}
        thread = await ctx.stores.threads.by_root(room, root)
        assert thread is not None and thread.origin == "matrix"


async def test_m2d_into_a_thread_started_on_discord(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        root = await relay_discord_message(ctx, discord_msg(1001, "starter"))
        await relay_discord_message(ctx, in_thread(1002, "first"))
        assert root is not None
        room = matrix.sent[0][0]
        await relay_matrix_message(ctx, matrix_msg(room, "$m1", "reply in thread", root))
        assert discord.created_threads == []
        assert discord.executed[0][1].thread_id == THREAD


async def test_m2d_thread_on_unbridged_root_posts_in_the_channel(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await relay_discord_message(ctx, discord_msg(1001, "make the portal"))
        room = matrix.sent[0][0]
        await relay_matrix_message(ctx, matrix_msg(room, "$m1", "x", "$not-bridged"))
        assert discord.created_threads == []
        assert discord.executed[0][1].thread_id is None
        rows = await ctx.stores.messages.by_event(EventID("$m1"))
        assert rows[0].discord_channel_id == CHANNEL


async def test_m2d_edit_and_redact_in_a_thread(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        root = await relay_discord_message(ctx, discord_msg(1001, "starter"))
        assert root is not None
        room = matrix.sent[0][0]
        sent = await relay_matrix_message(ctx, matrix_msg(room, "$m1", "tpyo", root))
        matrix.senders[EventID("$m1")] = ALICE
        edit = MatrixEdit(
            room, EventID("$e1"), ALICE, EventID("$m1"), matrix_msg(room, "$e1", "typo")
        )
        assert await relay_matrix_edit(ctx, edit) == sent
        assert discord.edited == [(sent[0], "typo")]
        redaction = MatrixRedaction(room, EventID("$r1"), ALICE, EventID("$m1"))
        assert await relay_matrix_redaction(ctx, redaction) == sent
        assert discord.thread_deletes == [(ChannelID(1001), sent[0])]


def test_thread_relation_content() -> None:
    plain = MatrixText("hi", thread_root=EventID("$root"))
    assert plain.to_content()["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$root"},
    }
    latest = MatrixText("hi", thread_root=EventID("$root"), thread_latest=EventID("$last"))
    assert latest.to_content()["m.relates_to"]["m.in_reply_to"] == {"event_id": "$last"}  # type: ignore[index]
    reply = MatrixText("hi", reply_to=EventID("$x"), thread_root=EventID("$root"))
    assert reply.to_content()["m.relates_to"]["is_falling_back"] is False  # type: ignore[index]
    assert "m.relates_to" not in plain.to_content(with_relation=False)
    assert MatrixText("hi", reply_to=EventID("$x")).to_content()["m.relates_to"] == {
        "m.in_reply_to": {"event_id": "$x"}
    }


def test_parse_thread_events() -> None:
    def raw(relates: dict[str, object]) -> dict[str, object]:
        return {
            "type": "m.room.message",
            "room_id": "!r:x",
            "event_id": "$e",
            "sender": "@a:x",
            "content": {"msgtype": "m.text", "body": "hi", "m.relates_to": relates},
        }

    fallback = MatrixTransport.parse_message(
        raw(
            {
                "rel_type": "m.thread",
                "event_id": "$root",
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": "$last"},
            }
        )
    )
    assert fallback is not None
    assert (fallback.thread_root, fallback.reply_to) == ("$root", None)
    real = MatrixTransport.parse_message(
        raw(
            {
                "rel_type": "m.thread",
                "event_id": "$root",
                "is_falling_back": False,
                "m.in_reply_to": {"event_id": "$x"},
            }
        )
    )
    assert real is not None and (real.thread_root, real.reply_to) == ("$root", "$x")
    plain = MatrixTransport.parse_message(raw({"m.in_reply_to": {"event_id": "$x"}}))
    assert plain is not None and (plain.thread_root, plain.reply_to) == (None, "$x")


def test_thread_name() -> None:
    assert thread_name(None) == "Thread"
    assert thread_name("  \n ") == "Thread"
    assert thread_name("> <@bob:x> quoted\n\nshort") == "short"
    assert thread_name("x" * 80) == "x" * 50


async def test_d2m_thread_rename_edits_only_the_bots_root(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        loose = DiscordThread(ChannelID(7007), GUILD, CHANNEL, "Draft")
        row = await relay_discord_thread(ctx, loose)
        assert row is not None and row.name == "Draft"
        # Archiving or locking: a THREAD_UPDATE with the same name shows nothing.
        assert not await relay_discord_thread_update(ctx, loose)
        renamed = DiscordThread(loose.id, GUILD, CHANNEL, "Final")
        assert await relay_discord_thread_update(ctx, renamed)
        ((_, sender, target, text),) = matrix.edits
        assert sender == BOT_MXID and target == row.root_event_id
        assert text.body == "Thread: Final" and text.msgtype == "m.notice"
        assert not await relay_discord_thread_update(ctx, renamed)  # once
        # A thread rooted at the author's message: the name is kept, the message is theirs.
        await relay_discord_message(ctx, discord_msg(1001, "starter"))
        await relay_discord_thread(ctx, DiscordThread(THREAD, GUILD, CHANNEL, "Talk"))
        assert not await relay_discord_thread_update(
            ctx, DiscordThread(THREAD, GUILD, CHANNEL, "Talk more")
        )
        assert len(matrix.edits) == 1
        stored = await ctx.stores.threads.by_thread(THREAD)
        assert stored is not None and stored.name == "Talk more"
        # Threads the bridge does not know are not its business.
        assert not await relay_discord_thread_update(
            ctx, DiscordThread(ChannelID(9009), GUILD, CHANNEL, "x")
        )


async def test_d2m_thread_deletion_redacts_its_events_and_the_bots_root(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        loose = ChannelID(5005)
        await relay_discord_thread(ctx, DiscordThread(loose, GUILD, CHANNEL, "Open"))
        first = await relay_discord_message(ctx, in_thread(5006, "one", thread=loose))
        second = await relay_discord_message(ctx, in_thread(5007, "two", thread=loose))
        outside = await relay_discord_message(ctx, discord_msg(5008, "in the channel"))
        row = await ctx.stores.threads.by_thread(loose)
        assert row is not None
        gone = await relay_discord_thread_deletion(
            ctx, DiscordThreadDeletion(loose, CHANNEL, GUILD)
        )
        assert gone == [first, second, row.root_event_id]
        assert [(e, reason) for _, e, reason in matrix.redactions] == [
            (e, "Thread deleted on Discord") for e in gone
        ]
        assert outside not in gone
        assert await ctx.stores.threads.by_thread(loose) is None
        assert await ctx.stores.messages.in_channel(loose) == []
        # Again (a replayed event): nothing left to do.
        assert (
            await relay_discord_thread_deletion(ctx, DiscordThreadDeletion(loose, CHANNEL, GUILD))
            == []
        )


async def test_d2m_thread_deletion_keeps_the_starter_message(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        starter = await relay_discord_message(ctx, discord_msg(1001, "worth a thread"))
        inside = await relay_discord_message(ctx, in_thread(1002, "inside"))
        gone = await relay_discord_thread_deletion(
            ctx, DiscordThreadDeletion(THREAD, CHANNEL, GUILD)
        )
        assert gone == [inside] and starter not in gone
        assert [e for _, e, _ in matrix.redactions] == [inside]
        assert await ctx.stores.messages.by_discord(MessageID(1001)) != []
