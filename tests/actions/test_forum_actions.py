"""Forum and media posts both ways with fake networks and a real (SQLite) database:
the starter message is the root of the post's Matrix thread (title and tags above
it, sent once by the author's ghost), tag changes edit it, Matrix messages outside
any thread create posts, and posts created while away are read back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.actions.d2m_edit import relay_discord_edit
from bridge.actions.d2m_forum import backfill_posts, relay_thread_update
from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.d2m_thread import relay_discord_thread
from bridge.actions.m2d_message import relay_matrix_message
from bridge.ids import ChannelID, EventID, MessageID, UserID
from bridge.model import FORUM, DiscordMessage, DiscordThread, ForumTag, MatrixMessage
from tests.actions.fakes import CHANNEL, GUILD, FakeDiscord, fake_context
from tests.actions.test_relay_actions import discord_msg

ALICE = UserID("@alice:example.org")
BOB_GHOST = "@_discord_2000000000000000002:example.org"
POST = ChannelID(5001)
TAGS = (ForumTag(1, "Housing", "🏠"), ForumTag(2, "Transport"))


def make_forum(discord: FakeDiscord) -> None:
    forum = replace(discord.channels[CHANNEL], type=FORUM, tags=TAGS)
    discord.channels[CHANNEL] = forum


def post(
    tags: tuple[int, ...] = (1,), name: str = "Cheaper buses", pid: int = POST
) -> DiscordThread:
    return DiscordThread(ChannelID(pid), GUILD, CHANNEL, name, applied_tags=tags)


def in_post(mid: int, content: str, pid: int = POST, **kw: object) -> DiscordMessage:
    return discord_msg(mid, content, channel_id=ChannelID(pid), thread_parent_id=CHANNEL, **kw)


async def test_a_post_is_a_thread_rooted_at_its_starter(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        discord.threads[POST] = post()
        assert await relay_discord_thread(ctx, post()) is None  # THREAD_CREATE: nothing yet
        assert matrix.sent == []
        root = await relay_discord_message(ctx, in_post(int(POST), "Half price please"))
        assert root == "$ev1"
        _, sender, text, _ = matrix.sent[0]
        assert sender == BOB_GHOST and text.thread_root is None
        assert text.body == "Cheaper buses\nTags: 🏠 Housing\n\nHalf price please"
        row = await ctx.stores.threads.by_thread(POST)
        assert row is not None and row.root_event_id == "$ev1" and row.name == "Cheaper buses"
        # Never twice (a replay, or backfill reading it back).
        assert await relay_discord_message(ctx, in_post(int(POST), "Half price please")) is None
        reply = await relay_discord_message(ctx, in_post(5002, "Agreed"))
        assert reply == "$ev2" and matrix.sent[1][2].thread_root == "$ev1"
        assert len(matrix.sent) == 2


async def test_tags_and_title_changes_edit_the_root(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        discord.threads[POST] = post()
        starter = in_post(int(POST), "Half price please")
        discord.history[POST] = [starter]
        await relay_discord_message(ctx, starter)
        # Archived, a member joined ...: the root reads the same, nothing is sent.
        assert await relay_thread_update(ctx, post()) is False
        assert await relay_thread_update(ctx, post(tags=(2, 1), name="Free buses")) is True
        _, sender, target, text = matrix.edits[0]
        assert (sender, target) == (BOB_GHOST, "$ev1")
        assert text.body.startswith("Free buses\nTags: Transport, 🏠 Housing\n\nHalf price")
        row = await ctx.stores.threads.by_thread(POST)
        assert row is not None and row.name == "Free buses"
        assert await relay_thread_update(ctx, post(tags=(2, 1), name="Free buses")) is False
        # The author edits the starter: the title and tags stay above it.
        discord.threads[POST] = post(tags=(2, 1), name="Free buses")
        edited = replace(starter, content="Free for all", edited_ms=1_700_000_100_000)
        assert await relay_discord_edit(ctx, edited) is not None
        assert matrix.edits[1][3].body == "Free buses\nTags: Transport, 🏠 Housing\n\nFree for all"


async def test_a_media_post_of_files_only_roots_at_its_title(tmp_path: Path) -> None:
    from bridge.model import DiscordAttachment

    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        discord.channels[CHANNEL] = replace(discord.channels[CHANNEL], type=16)
        discord.threads[POST] = post(tags=())
        url = "https://cdn.example/poster.png"
        matrix.web[url] = (b"\x89PNG", "image/png")
        attachment = DiscordAttachment(7, "poster.png", url, "image/png", 4)
        await relay_discord_message(ctx, in_post(int(POST), "", attachments=(attachment,)))
        assert matrix.sent[0][2].body == "Cheaper buses"
        (_, _, media, _) = matrix.media_sent[0]
        assert media.thread_root == "$ev1" and media.filename == "poster.png"


async def test_matrix_outside_threads_creates_a_post_and_replies_follow(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        from bridge.actions.portals import ensure_portal

        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        room = portal.room_id
        top = MatrixMessage(room, EventID("$top"), ALICE, "m.text", "Night buses\nWe need them")
        [created] = await relay_matrix_message(ctx, top)
        _, send = discord.executed[0]
        assert send.thread_name == "Night buses" and send.thread_id is None
        assert send.content == "Night buses\nWe need them"
        row = await ctx.stores.threads.by_thread(ChannelID(created))
        assert row is not None and (row.root_event_id, row.origin) == ("$top", "matrix")
        # A retry does not create a second post.
        assert await relay_matrix_message(ctx, top) == []
        reply = MatrixMessage(
            room, EventID("$re"), ALICE, "m.text", "me too", thread_root=EventID("$top")
        )
        await relay_matrix_message(ctx, reply)
        _, answer = discord.executed[1]
        assert answer.thread_id == created and answer.thread_name is None
        # Bob answers in the post on Discord: into the same Matrix thread.
        assert await relay_discord_message(ctx, in_post(int(created) + 5, "yes", pid=created))
        assert [t.thread_root for _, _, t, _ in matrix.sent] == ["$top"]


async def test_posts_created_while_away_are_read_back(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        discord.threads[POST] = post()
        await relay_discord_message(ctx, in_post(int(POST), "known"))
        assert matrix.sent[0][2].body.endswith("known")
        # Meanwhile: a new post with a reply; an older one nobody saw is left alone.
        discord.threads[ChannelID(4000)] = post(name="Old", pid=4000)
        discord.threads[ChannelID(6001)] = post(tags=(2,), name="Trams", pid=6001)
        discord.history[ChannelID(6001)] = [
            in_post(6001, "Trams too", pid=6001),
            in_post(6002, "yes!", pid=6001),
        ]
        assert await backfill_posts(ctx, CHANNEL) == 2
        bodies = [text.body for _, _, text, _ in matrix.sent]
        assert bodies[1] == "Trams\nTags: Transport\n\nTrams too" and bodies[2] == "yes!"
        assert matrix.sent[2][2].thread_root == "$ev2"
        assert await backfill_posts(ctx, CHANNEL) == 0


async def test_a_reply_in_an_unseen_post_roots_it_at_its_starter_first(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        discord.threads[POST] = post()
        discord.history[POST] = [in_post(int(POST), "the proposal")]
        await relay_discord_message(ctx, in_post(5003, "late reply"))
        bodies = [text.body for _, _, text, _ in matrix.sent]
        assert bodies == ["Cheaper buses\nTags: 🏠 Housing\n\nthe proposal", "late reply"]
        assert matrix.sent[1][2].thread_root == "$ev1"
        assert await ctx.stores.messages.by_discord(MessageID(int(POST)))


async def test_a_post_deleted_on_discord_is_redacted_root_included(tmp_path: Path) -> None:
    from bridge.actions.d2m_thread import relay_discord_thread_deletion
    from bridge.model import DiscordThreadDeletion

    async with fake_context(tmp_path) as (ctx, matrix, discord):
        make_forum(discord)
        discord.threads[POST] = post()
        await relay_discord_message(ctx, in_post(int(POST), "proposal"))
        await relay_discord_message(ctx, in_post(5002, "reply"))
        gone = await relay_discord_thread_deletion(ctx, DiscordThreadDeletion(POST, CHANNEL, GUILD))
        assert sorted(gone) == ["$ev1", "$ev2"]
        assert await ctx.stores.threads.by_thread(POST) is None
        assert sorted(event for _, event, _ in matrix.redactions) == ["$ev1", "$ev2"]
