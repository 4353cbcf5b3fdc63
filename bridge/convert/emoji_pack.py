"""A guild's custom emoji and stickers as a Matrix image pack (MSC2545). Pure.

The pack is the state event ``im.ponies.room_emotes`` (state key
``discord-<guild id>``) with the shape MSC2545 gives it::

    {"pack": {"display_name": ..., "avatar_url": ..., "usage": ["emoticon", "sticker"],
              "attribution": ...},
     "images": {"<shortcode>": {"url": "mxc://...", "body": ":name:", "info": {...},
                                "usage": ["emoticon"] | ["sticker"]}}}

Clients that read image packs (Cinny, FluffyChat, Nheko...) offer the room's packs in
their emoji and sticker pickers; a custom emoji sent from one reaches the bridge as
``<img data-mx-emoticon src="mxc://..." alt=":name:">`` in ``formatted_body``, which
:func:`discord_emoji_markup` turns back into Discord's ``<:name:id>``.

Emoji a Discord role restricts (``roles``) or that are unavailable (a lapsed boost)
are left out: the bridge could not use them on Discord either. Lottie stickers
(format 3) are left out too: they are animations no Matrix client draws.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

PACK_EVENT = "im.ponies.room_emotes"
LOTTIE = 3
# A state event is at most 64 KiB; an image entry takes about 130 bytes, and a guild
# may have 500 emoji and 60 stickers: big guilds get several packs of this many.
MAX_PACK_IMAGES = 150
_STICKER_MIME = {1: "image/png", 2: "image/apng", 4: "image/gif"}
_SHORTCODE_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")
_TYPED_SHORTCODE = re.compile(r":([A-Za-z0-9_]{2,32}):")


@dataclass(frozen=True)
class GuildEmoji:
    """A guild custom emoji as the gateway lists it (GUILD_EMOJIS_UPDATE ``emojis``)."""

    id: int
    name: str
    animated: bool = False
    url: str = ""  # its CDN image (animated: .gif or .webp, as the CDN serves it)
    available: bool = True
    restricted: bool = False  # ``roles`` not empty: only some members may use it

    @property
    def markup(self) -> str:
        """How a Discord message writes it."""
        return f"<{'a' if self.animated else ''}:{self.name}:{self.id}>"

    @property
    def usable(self) -> bool:
        return self.available and not self.restricted


@dataclass(frozen=True)
class GuildSticker:
    """A guild sticker as the gateway lists it (GUILD_STICKERS_UPDATE ``stickers``)."""

    id: int
    name: str
    format_type: int  # 1 PNG, 2 APNG, 3 Lottie, 4 GIF
    url: str = ""
    description: str | None = None
    available: bool = True

    @property
    def usable(self) -> bool:
        return self.available and self.format_type != LOTTIE


@dataclass(frozen=True)
class GuildExpressions:
    """What a guild has: its usable and unusable emoji and stickers."""

    guild_id: int
    guild_name: str
    emojis: tuple[GuildEmoji, ...] = ()
    stickers: tuple[GuildSticker, ...] = ()


def pack_state_key(guild_id: int, index: int = 0) -> str:
    """``discord-<guild id>``; the packs after the first (big guilds) ``-2``, ``-3``..."""
    return f"discord-{guild_id}" if index == 0 else f"discord-{guild_id}-{index + 1}"


def emoji_from_payload(raw: dict[str, Any], cdn: str = "https://cdn.discordapp.com") -> GuildEmoji:
    """One entry of a GUILD_EMOJIS_UPDATE / GUILD_CREATE ``emojis`` list."""
    emoji_id = int(raw["id"])
    animated = bool(raw.get("animated"))
    return GuildEmoji(
        id=emoji_id,
        name=str(raw.get("name") or "_"),
        animated=animated,
        url=f"{cdn}/emojis/{emoji_id}.{'gif' if animated else 'png'}",
        available=bool(raw.get("available", True)),
        restricted=bool(raw.get("roles")),
    )


def sticker_from_payload(
    raw: dict[str, Any], cdn: str = "https://cdn.discordapp.com"
) -> GuildSticker:
    """One entry of a GUILD_STICKERS_UPDATE / GUILD_CREATE ``stickers`` list."""
    sticker_id = int(raw["id"])
    format_type = int(raw.get("format_type") or 1)
    ext = {3: "json", 4: "gif"}.get(format_type, "png")
    return GuildSticker(
        id=sticker_id,
        name=str(raw.get("name") or "sticker"),
        format_type=format_type,
        url=f"{cdn}/stickers/{sticker_id}.{ext}",
        description=raw.get("description") or None,
        available=bool(raw.get("available", True)),
    )


def sticker_mimetype(format_type: int) -> str:
    return _STICKER_MIME.get(format_type, "image/png")


def shortcode(name: str) -> str:
    """A sticker's name ("Party Parrot") as a shortcode ("party_parrot"); emoji names
    are shortcodes already (letters, digits and underscores)."""
    code = _SHORTCODE_UNSAFE.sub("_", name.strip()).strip("_")
    return code or "sticker"


def _unique(code: str, taken: set[str]) -> str:
    candidate, n = code, 2
    while candidate in taken:
        candidate, n = f"{code}~{n}", n + 1
    taken.add(candidate)
    return candidate


def pack_content(
    guild: GuildExpressions,
    emoji_mxc: dict[int, str],
    sticker_mxc: dict[int, str],
    avatar_mxc: str | None = None,
    attribution: str | None = None,
) -> dict[str, Any]:
    """The ``im.ponies.room_emotes`` content for a guild: its usable emoji (those with
    an uploaded image in ``emoji_mxc``) as emoticons, then its usable stickers (with an
    image in ``sticker_mxc``) as stickers, in Discord's order. Shortcodes are unique:
    a name used twice gets ``~2``."""
    images: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for emoji in guild.emojis:
        mxc = emoji_mxc.get(emoji.id)
        if not emoji.usable or mxc is None:
            continue
        code = _unique(emoji.name, taken)
        images[code] = {
            "url": mxc,
            "body": f":{emoji.name}:",
            "usage": ["emoticon"],
        }
    for sticker in guild.stickers:
        mxc = sticker_mxc.get(sticker.id)
        if not sticker.usable or mxc is None:
            continue
        code = _unique(shortcode(sticker.name), taken)
        images[code] = {
            "url": mxc,
            "body": sticker.description or sticker.name,
            "info": {"mimetype": sticker_mimetype(sticker.format_type)},
            "usage": ["sticker"],
        }
    pack: dict[str, Any] = {"display_name": guild.guild_name, "usage": ["emoticon", "sticker"]}
    if avatar_mxc:
        pack["avatar_url"] = avatar_mxc
    if attribution:
        pack["attribution"] = attribution
    return {"pack": pack, "images": images}


def pack_contents(
    guild: GuildExpressions,
    emoji_mxc: dict[int, str],
    sticker_mxc: dict[int, str],
    avatar_mxc: str | None = None,
) -> list[dict[str, Any]]:
    """The guild's pack as state contents for keys ``pack_state_key(guild, 0, 1...)``:
    one (even empty) up to :data:`MAX_PACK_IMAGES` images, then more packs named
    "<guild> (2)"... so no state event nears the 64 KiB limit."""
    whole = pack_content(guild, emoji_mxc, sticker_mxc, avatar_mxc)
    items = list(whole["images"].items())
    contents = []
    for start in range(0, max(len(items), 1), MAX_PACK_IMAGES):
        pack = dict(whole["pack"])
        if start:
            pack["display_name"] = f"{guild.guild_name} ({start // MAX_PACK_IMAGES + 1})"
        contents.append({"pack": pack, "images": dict(items[start : start + MAX_PACK_IMAGES])})
    return contents


class _Emoticons(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and "data-mx-emoticon" in values:
            src = (values.get("src") or "").strip()
            if src.startswith("mxc://") and src not in self.sources:
                self.sources.append(src)


def emoticon_sources(formatted_body: str | None) -> list[str]:
    """The mxc URIs of the custom emoji (``img data-mx-emoticon``) in a message."""
    if not formatted_body or "data-mx-emoticon" not in formatted_body:
        return []
    parser = _Emoticons()
    parser.feed(formatted_body)
    parser.close()
    return parser.sources


def discord_emoji_markup(
    sources: list[str], emoji_id_by_mxc: dict[str, int], guild_emojis: dict[int, GuildEmoji]
) -> dict[str, str]:
    """For each emoticon ``mxc`` the Discord markup (``<:name:id>``/``<a:name:id>``) when
    it is the image of a usable emoji of the channel's guild (``emoji_id_by_mxc``: from
    the emoji cache; ``guild_emojis``: the guild's emoji now, by ID, for their current
    name). Others are not in the result: the converter writes their ``:shortcode:``."""
    out: dict[str, str] = {}
    for mxc in sources:
        emoji = guild_emojis.get(emoji_id_by_mxc.get(mxc, 0))
        if emoji is not None and emoji.usable:
            out[mxc] = emoji.markup
    return out


def shortcode_markup(guild_emojis: dict[int, GuildEmoji]) -> dict[str, str]:
    """``name`` -> Discord markup of the guild's usable emoji, for ``:name:`` typed as
    text (what Element users can do: Element has no picker for image packs). A name two
    emoji share stays text: which one was meant is unknown."""
    by_name: dict[str, list[GuildEmoji]] = {}
    for emoji in guild_emojis.values():
        if emoji.usable:
            by_name.setdefault(emoji.name, []).append(emoji)
    return {name: found[0].markup for name, found in by_name.items() if len(found) == 1}


def split_shortcodes(text: str, shortcodes: dict[str, str]) -> list[tuple[str, str | None]]:
    """``text`` as pieces ``(text, None)`` and ``(":name:", markup)`` for each ``:name:``
    that is a guild emoji in ``shortcodes``; one ``(text, None)`` when there is none."""
    if not shortcodes or ":" not in text:
        return [(text, None)]
    pieces: list[tuple[str, str | None]] = []
    last = 0
    for match in _TYPED_SHORTCODE.finditer(text):
        markup = shortcodes.get(match.group(1))
        if markup is None:
            continue
        if match.start() > last:
            pieces.append((text[last : match.start()], None))
        pieces.append((match.group(0), markup))
        last = match.end()
    if last < len(text) or not pieces:
        pieces.append((text[last:], None))
    return pieces
