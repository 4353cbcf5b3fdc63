"""Edits and deletions both ways, with fake networks and a real (SQLite) message map."""

from __future__ import annotations

from pathlib import Path

from bridge.actions.d2m_delete import relay_discord_deletion
from bridge.actions.d2m_edit import ATTACHMENT_REMOVED, TEXT_REMOVED, relay_discord_edit
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.m2d_edit import relay_matrix_edit
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.m2d_redact import relay_matrix_redaction
from bridge.actions.portals import ensure_portal
from bridge.ids import EventID, MessageID, RoomID, UserID
from bridge.model import DiscordDeletion, MatrixEdit, MatrixRedaction
from tests.actions.fakes import CHANNEL, GUILD, fake_context
from tests.actions.test_media_actions import DOC, IMAGE, PNG
from tests.actions.test_relay_actions import discord_msg, matrix_msg

ALICE = UserID("@alice:example.org")
MALLORY = UserID("@mallory:example.org")


async def test_discord_edit_becomes_replace_of_mapped_event(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        original = await relay_discord_message(ctx, discord_msg(1, "first"))
        edit_id = await relay_discord_edit(
            ctx, discord_msg(1, "second", edited_ms=1_700_000_001_000)
        )
        assert edit_id is not None
        _room, sender, target, text = matrix.edits[0]
        assert target == original and text.body == "second"
        assert sender == ctx.namer.ghost_mxid(discord_msg(1).author.id)


async def test_discord_updates_without_edit_time_or_unmapped_are_ignored(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, discord_msg(1, "first"))
        assert await relay_discord_edit(ctx, discord_msg(1, "embed update")) is None
        assert await relay_discord_edit(ctx, discord_msg(2, "x", edited_ms=5)) is None
        ctx.own_webhooks.add(77)  # type: ignore[arg-type]
        assert (
            await relay_discord_edit(ctx, discord_msg(1, "y", edited_ms=5, webhook_id=77)) is None
        )
        assert matrix.edits == []


async def test_discord_delete_redacts_and_forgets(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        e1 = await relay_discord_message(ctx, discord_msg(1))
        e2 = await relay_discord_message(ctx, discord_msg(2))
        deletion = DiscordDeletion(CHANNEL, GUILD, (MessageID(1), MessageID(2), MessageID(3)))
        assert await relay_discord_deletion(ctx, deletion) == [e1, e2]
        assert [r[1] for r in matrix.redactions] == [e1, e2]
        assert await ctx.stores.messages.by_discord(MessageID(1)) == []
        # The echo of our own redaction (or a repeated delete) finds nothing to do.
        assert await relay_discord_deletion(ctx, deletion) == []


async def test_matrix_edit_edits_webhook_message(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        (discord_id,) = await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$m1", "helo"))
        matrix.senders[EventID("$m1")] = ALICE
        edit = MatrixEdit(
            portal.room_id,
            EventID("$e1"),
            ALICE,
            EventID("$m1"),
            matrix_msg(portal.room_id, "$e1", "hello"),
        )
        assert await relay_matrix_edit(ctx, edit) == [discord_id]
        assert discord.edited == [(discord_id, "hello")]


async def test_matrix_edit_from_someone_else_is_refused(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$m1", "original"))
        matrix.senders[EventID("$m1")] = ALICE
        forged = MatrixEdit(
            portal.room_id,
            EventID("$f"),
            MALLORY,
            EventID("$m1"),
            matrix_msg(portal.room_id, "$f", "forged", sender=MALLORY),
        )
        assert await relay_matrix_edit(ctx, forged) == []
        assert discord.edited == []


async def test_matrix_edit_of_split_message_resplits(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        long_body = "\n".join("word " * 30 for _ in range(30))
        ids = await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$long", long_body))
        assert len(ids) == 3
        matrix.senders[EventID("$long")] = ALICE
        short = MatrixEdit(
            portal.room_id,
            EventID("$e"),
            ALICE,
            EventID("$long"),
            matrix_msg(portal.room_id, "$e", "short now"),
        )
        assert await relay_matrix_edit(ctx, short) == [ids[0]]
        assert discord.edited == [(ids[0], "short now")]
        assert discord.deleted == [("webhook", ids[1]), ("webhook", ids[2])]
        rows = await ctx.stores.messages.by_event(EventID("$long"))
        assert [r.discord_message_id for r in rows] == [ids[0]]
        # Growing again posts new parts and records them.
        grow = MatrixEdit(
            portal.room_id,
            EventID("$g"),
            ALICE,
            EventID("$long"),
            matrix_msg(portal.room_id, "$g", long_body),
        )
        touched = await relay_matrix_edit(ctx, grow)
        assert len(touched) == 3 and touched[0] == ids[0]
        rows = await ctx.stores.messages.by_event(EventID("$long"))
        assert [r.event_part for r in rows] == [0, 1, 2]


async def test_matrix_redaction_deletes_on_discord(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        (own,) = await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$m1"))
        matrix.senders[EventID("$m1")] = ALICE
        red = MatrixRedaction(portal.room_id, EventID("$r1"), ALICE, EventID("$m1"))
        assert await relay_matrix_redaction(ctx, red) == [own]
        assert discord.deleted == [("webhook", own)]
        assert await ctx.stores.messages.by_event(EventID("$m1")) == []


async def test_redacting_a_discord_users_message_needs_power(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        event = await relay_discord_message(ctx, discord_msg(5, "spam"))
        assert event is not None
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        ghost = ctx.namer.ghost_mxid(discord_msg(5).author.id)
        matrix.senders[event] = ghost
        attempt = MatrixRedaction(portal.room_id, EventID("$r"), MALLORY, event)
        assert await relay_matrix_redaction(ctx, attempt) == []
        assert discord.deleted == []
        matrix.moderators.add(MALLORY)
        assert await relay_matrix_redaction(ctx, attempt) == [MessageID(5)]
        assert discord.deleted == [("bot", MessageID(5))]


async def test_redaction_by_ghost_or_bot_is_not_relayed(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$m1"))
        red = MatrixRedaction(portal.room_id, EventID("$r"), ctx.namer.bot_mxid, EventID("$m1"))
        assert await relay_matrix_redaction(ctx, red) == []
        assert discord.deleted == []


async def test_relations_to_events_of_another_room_touch_nothing(tmp_path: Path) -> None:
    """A crafted edit or redaction naming an event of another portal (say, a members-only
    one) must not edit or delete that portal's Discord message."""
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        ids = await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$orig", "secret"))
        matrix.senders[EventID("$orig")] = ALICE
        elsewhere = RoomID("!public:example.org")
        edit = MatrixEdit(
            elsewhere, EventID("$e"), ALICE, EventID("$orig"), matrix_msg(elsewhere, "$e", "x")
        )
        assert await relay_matrix_edit(ctx, edit) == []
        redaction = MatrixRedaction(elsewhere, EventID("$r"), ALICE, EventID("$orig"))
        assert await relay_matrix_redaction(ctx, redaction) == []
        assert discord.edited == [] and discord.deleted == []
        assert [
            r.discord_message_id for r in await ctx.stores.messages.by_event(EventID("$orig"))
        ] == ids


async def test_discord_edit_removing_an_attachment_redacts_it_and_keeps_the_text(
    tmp_path: Path,
) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[IMAGE.url] = (PNG, "image/png")
        matrix.web[DOC.url] = (b"%PDF", "application/pdf")
        await relay_discord_message(ctx, discord_msg(1, "look", attachments=(IMAGE, DOC)))
        text_event, image_event, doc_event = (
            r.event_id for r in await ctx.stores.messages.by_discord(MessageID(1))
        )
        # The author removed the PDF: the text is as it was.
        edit = discord_msg(1, "look", attachments=(IMAGE,), edited_ms=1_700_000_001_000)
        assert await relay_discord_edit(ctx, edit) is None
        assert matrix.edits == []  # no "(edited)" for nothing
        assert [(e, reason) for _, e, reason in matrix.redactions] == [
            (doc_event, ATTACHMENT_REMOVED)
        ]
        rows = await ctx.stores.messages.by_discord(MessageID(1))
        assert [(r.part, r.event_id) for r in rows] == [(0, text_event), (1, image_event)]
        # Then the text is edited: an m.replace, and nothing more is redacted.
        edit = discord_msg(1, "look here", attachments=(IMAGE,), edited_ms=1_700_000_002_000)
        assert await relay_discord_edit(ctx, edit) is not None
        assert [(target, text.body) for _, _, target, text in matrix.edits] == [
            (text_event, "look here")
        ]
        assert len(matrix.redactions) == 1
        # The same text again (a later no-op edit) sends nothing.
        edit = discord_msg(1, "look here", attachments=(IMAGE,), edited_ms=1_700_000_003_000)
        assert await relay_discord_edit(ctx, edit) is None
        assert len(matrix.edits) == 1
        assert await ctx.stores.messages.discord_window(CHANNEL, 5) == [
            (MessageID(1), 1_700_000_003_000)
        ]


async def test_discord_edit_removing_the_text_redacts_the_text_part(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[IMAGE.url] = (PNG, "image/png")
        await relay_discord_message(ctx, discord_msg(1, "caption", attachments=(IMAGE,)))
        text_event, image_event = (
            r.event_id for r in await ctx.stores.messages.by_discord(MessageID(1))
        )
        edit = discord_msg(1, "", attachments=(IMAGE,), edited_ms=1_700_000_001_000)
        assert await relay_discord_edit(ctx, edit) is None
        assert [(e, reason) for _, e, reason in matrix.redactions] == [(text_event, TEXT_REMOVED)]
        rows = await ctx.stores.messages.by_discord(MessageID(1))
        assert [r.event_id for r in rows] == [image_event]


async def test_discord_edit_of_a_files_only_message(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        matrix.web[IMAGE.url] = (PNG, "image/png")
        matrix.web[DOC.url] = (b"%PDF", "application/pdf")
        await relay_discord_message(ctx, discord_msg(1, "", attachments=(IMAGE, DOC)))
        image_event, doc_event = (
            r.event_id for r in await ctx.stores.messages.by_discord(MessageID(1))
        )
        edit = discord_msg(1, "", attachments=(DOC,), edited_ms=1_700_000_001_000)
        assert await relay_discord_edit(ctx, edit) is None
        assert [e for _, e, _ in matrix.redactions] == [image_event]
        assert matrix.edits == []
        # Files-only messages are in backfill's window too (edits and deletions while away).
        assert await ctx.stores.messages.discord_window(CHANNEL, 5) == [
            (MessageID(1), 1_700_000_001_000)
        ]
        rows = await ctx.stores.messages.by_discord(MessageID(1))
        assert [r.event_id for r in rows] == [doc_event]
