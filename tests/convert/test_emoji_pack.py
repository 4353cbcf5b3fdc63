"""A guild's emoji and stickers -> its MSC2545 image pack; pack emoji in Matrix HTML ->
Discord emoji. Fed with GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE payload shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge.convert.emoji_pack import (
    GuildEmoji,
    GuildExpressions,
    discord_emoji_markup,
    emoji_from_payload,
    emoticon_sources,
    pack_content,
    pack_contents,
    pack_state_key,
    shortcode,
    shortcode_markup,
    split_shortcodes,
    sticker_from_payload,
)
from bridge.convert.m2d.html import M2DContext, matrix_to_discord_markdown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"


def dispatch(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())["d"]
    return data


def guild() -> GuildExpressions:
    emojis = dispatch("guild_emojis_update.json")["emojis"]
    stickers = dispatch("guild_stickers_update.json")["stickers"]
    return GuildExpressions(
        guild_id=1139923839423434832,
        guild_name="Union HQ",
        emojis=tuple(emoji_from_payload(e, "https://cdn.test") for e in emojis),
        stickers=tuple(sticker_from_payload(s, "https://cdn.test") for s in stickers),
    )


def test_payload_shapes() -> None:
    g = guild()
    solidarity, fist, restricted, lapsed = g.emojis
    assert solidarity == GuildEmoji(
        1296468394101919804, "solidarity", False, "https://cdn.test/emojis/1296468394101919804.png"
    )
    assert fist.animated and fist.url.endswith(".gif") and fist.markup.startswith("<a:fist_pump:")
    assert restricted.restricted and not restricted.usable
    assert not lapsed.available and not lapsed.usable
    wave, lottie, gif = g.stickers
    assert (wave.format_type, wave.url) == (1, "https://cdn.test/stickers/1296470512712138753.png")
    assert not lottie.usable and lottie.url.endswith(".json")
    assert gif.url.endswith(".gif") and gif.description is None
    assert pack_state_key(g.guild_id) == "discord-1139923839423434832"


def test_pack_content() -> None:
    g = guild()
    emoji_mxc = {e.id: f"mxc://hs/e{e.id}" for e in g.emojis}
    sticker_mxc = {s.id: f"mxc://hs/s{s.id}" for s in g.stickers}
    content = pack_content(g, emoji_mxc, sticker_mxc, "mxc://hs/icon")
    assert content["pack"] == {
        "display_name": "Union HQ",
        "usage": ["emoticon", "sticker"],
        "avatar_url": "mxc://hs/icon",
    }
    images = content["images"]
    # Role-restricted and unavailable emoji, and Lottie stickers, are left out; a
    # sticker named like an emoji gets a unique shortcode.
    assert list(images) == ["solidarity", "fist_pump", "Big_Wave", "solidarity~2"]
    assert images["solidarity"] == {
        "url": "mxc://hs/e1296468394101919804",
        "body": ":solidarity:",
        "usage": ["emoticon"],
    }
    assert images["fist_pump"]["url"] == "mxc://hs/e1296468694101919805"
    assert images["Big_Wave"] == {
        "url": "mxc://hs/s1296470512712138753",
        "body": "A wave from the picket line",
        "info": {"mimetype": "image/png"},
        "usage": ["sticker"],
    }
    assert images["solidarity~2"]["info"] == {"mimetype": "image/gif"}
    assert images["solidarity~2"]["body"] == "solidarity"


def test_pack_skips_images_not_uploaded() -> None:
    g = guild()
    content = pack_content(g, {1296468394101919804: "mxc://hs/one"}, {})
    assert list(content["images"]) == ["solidarity"]
    assert "avatar_url" not in content["pack"]


def test_shortcode() -> None:
    assert shortcode("Party Parrot") == "Party_Parrot"
    assert shortcode("  ¡olé! ") == "ol"
    assert shortcode("!!!") == "sticker"


ELEMENT_HTML = (
    'Strike! <img data-mx-emoticon src="mxc://hs/e1" alt=":solidarity:" title=":solidarity:"'
    ' height="32"> and <img data-mx-emoticon src="mxc://other/x" alt=":blobcat:">'
    ' <img src="mxc://hs/photo" alt="photo">'
)


def test_emoticon_sources() -> None:
    assert emoticon_sources(ELEMENT_HTML) == ["mxc://hs/e1", "mxc://other/x"]
    assert emoticon_sources("no emoji") == []
    assert emoticon_sources(None) == []


def test_html_emoticon_to_discord_emoji() -> None:
    guild_emojis = {
        5000000000000000001: GuildEmoji(5000000000000000001, "passerelle"),
        5000000000000000002: GuildEmoji(5000000000000000002, "wave_anim", animated=True),
        5000000000000000003: GuildEmoji(5000000000000000003, "mods", restricted=True),
    }
    by_mxc = {
        "mxc://hs/e1": 5000000000000000001,
        "mxc://hs/e2": 5000000000000000002,
        "mxc://hs/e3": 5000000000000000003,
        "mxc://hs/gone": 5000000000000000099,  # deleted on Discord since
    }
    sources = ["mxc://hs/e1", "mxc://hs/e2", "mxc://hs/e3", "mxc://hs/gone", "mxc://other/x"]
    markup = discord_emoji_markup(sources, by_mxc, guild_emojis)
    assert markup == {
        "mxc://hs/e1": "<:passerelle:5000000000000000001>",
        "mxc://hs/e2": "<a:wave_anim:5000000000000000002>",
    }
    html = (
        '<img data-mx-emoticon src="mxc://hs/e1" alt=":old_name:"> <b>now</b>'
        ' <img data-mx-emoticon src="mxc://hs/e3" alt=":mods:">'
        ' <img data-mx-emoticon src="mxc://other/x" alt="blobcat">'
    )
    out = matrix_to_discord_markdown("", html, M2DContext(custom_emoji=markup))
    assert out.content == "<:passerelle:5000000000000000001> **now** :mods: :blobcat:"
    # Without the mapping the shortcode stays, as before.
    assert matrix_to_discord_markdown("", html, M2DContext()).content == (
        ":old_name: **now** :mods: :blobcat:"
    )


SHORTCODES = {"passerelle": "<:passerelle:5000000000000000001>", "wave_anim": "<a:wave_anim:2>"}


def test_shortcode_markup_skips_shared_and_unusable_names() -> None:
    emojis = {
        1: GuildEmoji(1, "passerelle"),
        2: GuildEmoji(2, "twice"),
        3: GuildEmoji(3, "twice"),
        4: GuildEmoji(4, "mods", restricted=True),
        5: GuildEmoji(5, "anim", animated=True),
    }
    assert shortcode_markup(emojis) == {"passerelle": "<:passerelle:1>", "anim": "<a:anim:5>"}


def test_split_shortcodes() -> None:
    assert split_shortcodes("no emoji: here", SHORTCODES) == [("no emoji: here", None)]
    assert split_shortcodes(":passerelle:", SHORTCODES) == [
        (":passerelle:", "<:passerelle:5000000000000000001>")
    ]
    assert split_shortcodes("a :wave_anim: b :other: c", SHORTCODES) == [
        ("a ", None),
        (":wave_anim:", "<a:wave_anim:2>"),
        (" b :other: c", None),
    ]
    assert split_shortcodes("at 12:30:45", {}) == [("at 12:30:45", None)]


def test_typed_shortcodes_become_the_guild_emoji() -> None:
    ctx = M2DContext(emoji_shortcodes=SHORTCODES)
    # A plain body (what Element sends without formatting): escaped as before around it.
    plain = matrix_to_discord_markdown("> on *strike* :passerelle: :blobcat:", None, ctx)
    assert plain.content == "\\> on \\*strike\\* <:passerelle:5000000000000000001> :blobcat:"
    assert matrix_to_discord_markdown(":passerelle: first", None, ctx).content == (
        "<:passerelle:5000000000000000001> first"
    )
    # Formatted: in text, not in code, not in a link's text.
    html = (
        "<b>yes :passerelle:</b> <code>:passerelle:</code>"
        ' <a href="https://example.org">:passerelle:</a>'
    )
    assert matrix_to_discord_markdown("", html, ctx).content == (
        "**yes <:passerelle:5000000000000000001>** `:passerelle:`"
        " [:passerelle:](https://example.org)"
    )
    # Without the guild's emoji, the text stays as typed.
    assert matrix_to_discord_markdown(":passerelle:", None, M2DContext()).content == ":passerelle:"


def test_big_guilds_get_several_packs() -> None:
    emojis = tuple(GuildEmoji(i, f"e{i}") for i in range(1, 321))
    g = GuildExpressions(7, "Big", emojis)
    contents = pack_contents(g, {e.id: f"mxc://hs/{e.id}" for e in emojis}, {})
    assert [len(c["images"]) for c in contents] == [150, 150, 20]
    assert [c["pack"]["display_name"] for c in contents] == ["Big", "Big (2)", "Big (3)"]
    assert next(iter(contents[1]["images"])) == "e151"
    assert [pack_state_key(7, i) for i in range(3)] == ["discord-7", "discord-7-2", "discord-7-3"]
    # Each stays well under the 64 KiB a state event may hold.
    assert max(len(json.dumps(c)) for c in contents) < 32 * 1024
    # No emoji at all: one empty pack (which replaces a fuller one).
    assert pack_contents(GuildExpressions(7, "Big"), {}, {}) == [
        {"pack": {"display_name": "Big", "usage": ["emoticon", "sticker"]}, "images": {}}
    ]
