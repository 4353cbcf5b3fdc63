"""The guild's image pack kept in its portal rooms, and pack emoji mapped back (fake ports,
real database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.actions.emoji_pack import EmojiPacks, known_emoji_mxc, pack_emoji_markup
from bridge.convert import emoji_pack as emoji_pack_convert
from bridge.convert.emoji_pack import PACK_EVENT, GuildEmoji, GuildExpressions, GuildSticker
from bridge.db import PortalRow
from bridge.ids import GuildID, RoomID
from tests.actions.fakes import CHANNEL, GUILD, fake_context

ROOM = RoomID("!public:test")
KEY = f"discord-{GUILD}"
EMOJI = GuildEmoji(5000000000000000001, "passerelle", url="https://cdn.test/emojis/1.png")
ANIM = GuildEmoji(5000000000000000002, "wave_anim", True, "https://cdn.test/emojis/2.webp")
STICKER = GuildSticker(6000000000000000001, "Wave", 1, "https://cdn.test/stickers/1.png")


def expressions(*emojis: GuildEmoji) -> GuildExpressions:
    return GuildExpressions(GUILD, "Campaign HQ", emojis, (STICKER,))


async def test_sync_uploads_once_and_sends_only_changes(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await ctx.stores.portals.upsert(PortalRow(CHANNEL, GUILD, ROOM, "c", "", "public"))
        for url in (EMOJI.url, ANIM.url, STICKER.url):
            matrix.web[url] = (b"\x89PNG" + url.encode(), "image/png")
        discord.expressions[GUILD] = expressions(EMOJI, ANIM)
        packs = EmojiPacks(ctx)
        assert await packs.sync_guild(GUILD) == 1
        pack = matrix.state[(ROOM, PACK_EVENT, KEY)]
        assert list(pack["images"]) == ["passerelle", "wave_anim", "Wave"]
        assert len(matrix.media) == 3
        cached = await ctx.stores.reactions.emoji_by_id(EMOJI.id)
        assert cached is not None and pack["images"]["passerelle"]["url"] == cached.mxc
        # Nothing changed: nothing sent, nothing uploaded.
        assert await packs.sync_guild(GUILD) == 0
        assert len(matrix.state_sends) == 1 and len(matrix.media) == 3
        # Renamed and one removed: the pack follows, the image is not uploaded again.
        discord.expressions[GUILD] = expressions(GuildEmoji(EMOJI.id, "greve", url=EMOJI.url))
        assert await packs.sync_guild(GUILD) == 1
        pack = matrix.state[(ROOM, PACK_EVENT, KEY)]
        assert list(pack["images"]) == ["greve", "Wave"]
        assert pack["images"]["greve"]["url"] == cached.mxc and len(matrix.media) == 3
        renamed = await ctx.stores.reactions.emoji_by_id(EMOJI.id)
        assert renamed is not None and renamed.name == "greve"
        # Another guild, not bridged: nothing.
        assert await packs.sync_guild(GuildID(42)) == 0


async def test_pack_emoji_markup_and_known_emoji(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await ctx.stores.portals.upsert(PortalRow(CHANNEL, GUILD, ROOM, "c", "", "public"))
        matrix.web[EMOJI.url] = (b"\x89PNG", "image/png")
        matrix.web[STICKER.url] = (b"\x89PNG", "image/png")
        discord.expressions[GUILD] = expressions(EMOJI)
        await EmojiPacks(ctx).sync_guild(GUILD)
        mxc = matrix.state[(ROOM, PACK_EVENT, KEY)]["images"]["passerelle"]["url"]
        html = f'<img data-mx-emoticon src="{mxc}" alt=":p:"><img data-mx-emoticon src="mxc://x/y">'
        assert await pack_emoji_markup(ctx, GUILD, "", html) == (
            {mxc: "<:passerelle:5000000000000000001>"},
            {"passerelle": "<:passerelle:5000000000000000001>"},
        )
        # The emoji was removed on Discord: the shortcode then.
        discord.expressions[GUILD] = expressions()
        assert await pack_emoji_markup(ctx, GUILD, "", html) == ({}, {})
        discord.expressions[GUILD] = expressions(EMOJI)
        typed = {"passerelle": "<:passerelle:5000000000000000001>"}
        assert await pack_emoji_markup(ctx, GUILD, "a :passerelle:", None) == ({}, typed)
        assert await pack_emoji_markup(ctx, GUILD, "no colon", None) == ({}, {})
        assert await known_emoji_mxc(
            ctx, "hi <:passerelle:5000000000000000001> <:x:123456789012345678>"
        ) == {EMOJI.id: mxc}


async def test_fewer_packs_empty_the_extra_ones(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(emoji_pack_convert, "MAX_PACK_IMAGES", 1)
    async with fake_context(tmp_path) as (ctx, matrix, discord):
        await ctx.stores.portals.upsert(PortalRow(CHANNEL, GUILD, ROOM, "c", "", "public"))
        for url in (EMOJI.url, ANIM.url, STICKER.url):
            matrix.web[url] = (b"\x89PNG", "image/png")
        discord.expressions[GUILD] = expressions(EMOJI, ANIM)
        packs = EmojiPacks(ctx)
        await packs.sync_guild(GUILD)
        keys = [KEY, f"{KEY}-2", f"{KEY}-3"]
        assert [list(matrix.state[(ROOM, PACK_EVENT, k)]["images"]) for k in keys] == [
            ["passerelle"],
            ["wave_anim"],
            ["Wave"],
        ]
        discord.expressions[GUILD] = GuildExpressions(GUILD, "Campaign HQ", (EMOJI,))
        await packs.sync_guild(GUILD)
        assert list(matrix.state[(ROOM, PACK_EVENT, KEY)]["images"]) == ["passerelle"]
        assert matrix.state[(ROOM, PACK_EVENT, f"{KEY}-2")] == {}
        assert matrix.state[(ROOM, PACK_EVENT, f"{KEY}-3")] == {}
        sends = len(matrix.state_sends)
        assert await packs.sync_guild(GUILD) == 0 and len(matrix.state_sends) == sends
