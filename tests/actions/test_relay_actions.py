"""Relay decisions with fake networks and a real (SQLite) message map."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.actions.d2m_message import relay_discord_message
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.portals import ensure_portal
from bridge.db import PortalRow
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, MessageID, RoomID, UserID
from bridge.model import DiscordAuthor, DiscordMessage, MatrixMessage
from tests.actions.fakes import CHANNEL, GUILD, fake_context

BOB = DiscordAuthor(DiscordUserID(2000000000000000002), "bob", global_name="Bob")


def discord_msg(mid: int, content: str = "hi", **kw: object) -> DiscordMessage:
    fields: dict[str, object] = {
        "id": MessageID(mid),
        "channel_id": CHANNEL,
        "guild_id": GUILD,
        "author": BOB,
        "content": content,
        "timestamp_ms": 1_700_000_000_000,
    }
    fields.update(kw)
    return DiscordMessage(**fields)  # type: ignore[arg-type]


def matrix_msg(
    room: str, event: str, body: str = "hello", sender: str = "@alice:example.org"
) -> MatrixMessage:
    return MatrixMessage(RoomID(room), EventID(event), UserID(sender), "m.text", body)


async def test_d2m_sends_as_ghost_with_timestamp_and_records(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        event_id = await relay_discord_message(ctx, discord_msg(1))
        assert event_id == "$ev1"
        room, sender, text, ts = matrix.sent[0]
        assert sender == "@_discord_2000000000000000002:example.org"
        assert text.body == "hi" and ts == 1_700_000_000_000
        assert matrix.ghosts[sender] == ("Bob (Discord)", None)
        assert (room, sender) in matrix.joined
        rows = await ctx.stores.messages.by_discord(MessageID(1))
        assert [(r.event_id, r.origin) for r in rows] == [("$ev1", "discord")]


async def test_d2m_skips_what_must_not_cross(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        ctx.own_webhooks.add(555)  # type: ignore[arg-type]
        assert await relay_discord_message(ctx, discord_msg(2, webhook_id=555)) is None
        assert await relay_discord_message(ctx, discord_msg(3, channel_id=ChannelID(1))) is None
        assert await relay_discord_message(ctx, discord_msg(4, guild_id=GuildID(1))) is None
        assert await relay_discord_message(ctx, discord_msg(5, type=7)) is None  # member join
        assert await relay_discord_message(ctx, discord_msg(6, content="  ")) is None
        assert matrix.sent == []
        # Other webhooks (not the bridge's) are relayed.
        assert await relay_discord_message(ctx, discord_msg(7, webhook_id=556)) is not None


async def test_d2m_replay_is_not_sent_twice(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        await relay_discord_message(ctx, discord_msg(8))
        assert await relay_discord_message(ctx, discord_msg(8)) is None
        assert len(matrix.sent) == 1


async def test_profile_only_resynced_when_changed(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        with_avatar = DiscordAuthor(BOB.id, "bob", global_name="Bob", avatar_url="http://cdn/a.png")
        await relay_discord_message(ctx, discord_msg(10, author=with_avatar))
        await relay_discord_message(ctx, discord_msg(11, author=with_avatar))
        assert matrix.uploads == ["http://cdn/a.png"]
        renamed = DiscordAuthor(
            BOB.id, "bob", global_name="Bob", nick="Bobby", avatar_url="http://cdn/a.png"
        )
        await relay_discord_message(ctx, discord_msg(12, author=renamed))
        assert matrix.uploads == ["http://cdn/a.png"]
        ghost = ctx.namer.ghost_mxid(BOB.id)
        assert matrix.ghosts[ghost] == ("Bobby (Discord)", "mxc://test/1")


async def test_portal_created_once_under_concurrency(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, _):
        first, second = await asyncio.gather(
            ensure_portal(ctx, CHANNEL), ensure_portal(ctx, CHANNEL)
        )
        assert first == second and first is not None
        assert len(matrix.rooms) == 1
        assert matrix.rooms[0] == {
            "name": "campaign",
            "topic": "Public campaign chat",
            "alias": "_discord_4000000000000000001",
            "public": True,
        }
        assert await ensure_portal(ctx, ChannelID(999)) is None  # not configured: never created


async def test_portal_created_hooks_run_once_per_new_room(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, _):
        created: list[ChannelID] = []

        async def hook(row: PortalRow) -> None:
            created.append(row.discord_channel_id)

        async def broken(row: PortalRow) -> None:
            raise RuntimeError("a hook failing does not undo the portal")

        ctx.portal_created += [broken, hook]
        first = await ensure_portal(ctx, CHANNEL)
        again = await ensure_portal(ctx, CHANNEL)
        assert first == again and first is not None
        assert created == [CHANNEL]  # the existing portal runs no hook


async def test_configured_room_is_adopted_not_created(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        from bridge.model import DiscordChannel

        other = ChannelID(4000000000000000002)
        discord.channels[other] = DiscordChannel(other, GUILD, "members", "")
        portal = await ensure_portal(ctx, other)
        assert portal is not None and portal.room_id == "!abc:example.org"
        assert portal.access == "members_only"
        assert matrix.rooms == [{"adopted": "!abc:example.org", "name": "members"}]


async def test_m2d_posts_via_webhook_and_records(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        matrix.names[(portal.room_id, UserID("@alice:example.org"))] = "Alice Liddell"
        ids = await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$m1"))
        assert len(ids) == 1
        hook_id, send = discord.executed[0]
        assert send.username == "Alice Liddell (Matrix)" and send.content == "hello"
        assert hook_id in ctx.own_webhooks
        rows = await ctx.stores.messages.by_event(EventID("$m1"))
        assert [r.discord_message_id for r in rows] == ids
        # A replayed event is not posted again.
        assert await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$m1")) == []
        assert len(discord.executed) == 1


async def test_m2d_ignores_ghosts_bot_and_unbridged_rooms(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        for sender in ("@_discord_1:example.org", "@passerelle:example.org"):
            assert (
                await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$g", sender=sender))
                == []
            )
        assert await relay_matrix_message(ctx, matrix_msg("!other:example.org", "$o")) == []
        image = MatrixMessage(
            portal.room_id, EventID("$img"), UserID("@a:example.org"), "m.image", "x.png"
        )
        assert await relay_matrix_message(ctx, image) == []
        assert discord.executed == []


async def test_m2d_recreates_a_deleted_webhook(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$a"))
        old = discord.executed[0][0]
        discord.gone.add(old)
        await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$b"))
        new = discord.executed[1][0]
        assert new != old
        stored = await ctx.stores.webhooks.get(CHANNEL)
        assert stored is not None and stored.webhook_id == new


async def test_m2d_long_message_split_and_mapped(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, discord):
        portal = await ensure_portal(ctx, CHANNEL)
        assert portal is not None
        body = "\n".join("word " * 30 for _ in range(30))
        ids = await relay_matrix_message(ctx, matrix_msg(portal.room_id, "$long", body))
        assert len(ids) == 3
        assert all(len(send.content) <= 2000 for _, send in discord.executed)
        rows = await ctx.stores.messages.by_event(EventID("$long"))
        assert [(r.discord_message_id, r.event_part) for r in rows] == [
            (i, n) for n, i in enumerate(ids)
        ]
