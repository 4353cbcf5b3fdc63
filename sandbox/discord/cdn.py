"""The CDN: user avatars, guild icons, default avatars, custom emoji, stickers and
uploaded attachments."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web

from sandbox.discord.context import ctx_of
from sandbox.discord.png import DEFAULT_COLOURS, TINY_GIF, colour_for, solid_png

IMAGE_EXTS = ("png", "webp", "jpg", "jpeg", "gif")


@lru_cache(maxsize=256)
def _avatar_png(key: str) -> bytes:
    return solid_png(colour_for(key))


def _png(data: bytes) -> web.Response:
    return web.Response(
        body=data,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def user_avatar(request: web.Request) -> web.Response:
    state = ctx_of(request).state
    user_id = request.match_info["user_id"]
    name = request.match_info["filename"]
    stem, _, ext = name.rpartition(".")
    user = state.users.get(user_id)
    if user is None or user.avatar is None or stem != user.avatar or ext not in IMAGE_EXTS:
        raise web.HTTPNotFound(text="404: Not Found")
    # Always a PNG, whatever extension was asked for (clients sniff the bytes); a new
    # avatar hash gives a new picture.
    return _png(_avatar_png(f"{user.id}:{user.avatar}"))


async def guild_icon(request: web.Request) -> web.Response:
    """``/cdn/icons/{guild}/{hash}.png`` (any image extension): an uploaded icon as sent,
    else (seeded ``icon: true`` or the ``update_guild`` control) a drawn PNG."""
    state = ctx_of(request).state
    guild_id = request.match_info["guild_id"]
    stem, _, ext = request.match_info["filename"].rpartition(".")
    guild = state.guilds.get(guild_id)
    if guild is None or guild.icon is None or stem != guild.icon or ext not in IMAGE_EXTS:
        raise web.HTTPNotFound(text="404: Not Found")
    uploaded = state.guild_icons.get(f"{guild_id}/{stem}")
    if uploaded is not None:
        return web.Response(
            body=uploaded.data,
            headers={"Content-Type": uploaded.content_type, "Cache-Control": "public"},
        )
    return _png(_avatar_png(f"icon:{guild.id}:{guild.icon}"))


async def default_avatar(request: web.Request) -> web.Response:
    stem, _, ext = request.match_info["filename"].rpartition(".")
    if not stem.isdigit() or int(stem) >= len(DEFAULT_COLOURS) or ext not in IMAGE_EXTS:
        raise web.HTTPNotFound(text="404: Not Found")
    return _png(solid_png(DEFAULT_COLOURS[int(stem)]))


async def custom_emoji(request: web.Request) -> web.Response:
    """``/cdn/emojis/{id}.png|.gif|.webp``: a generated PNG for a seeded guild emoji."""
    state = ctx_of(request).state
    stem, _, ext = request.match_info["filename"].rpartition(".")
    if state.emoji(stem) is None or ext not in IMAGE_EXTS:
        raise web.HTTPNotFound(text="404: Not Found")
    return _png(_avatar_png(f"emoji:{stem}"))


async def sticker(request: web.Request) -> web.Response:
    """``/cdn/stickers/{id}.png`` (PNG/APNG), ``.gif`` (GIF) or ``.json`` (Lottie)."""
    state = ctx_of(request).state
    stem, _, ext = request.match_info["filename"].rpartition(".")
    found = state.sticker(stem)
    if found is None:
        raise web.HTTPNotFound(text="404: Not Found")
    fmt = found[1].format_type
    if fmt == 3 and ext == "json":
        lottie = b'{"v":"5.7.4","fr":30,"ip":0,"op":60,"w":320,"h":320,"layers":[]}'
        return web.Response(body=lottie, headers={"Content-Type": "application/json"})
    if fmt == 4 and ext == "gif":
        return web.Response(body=TINY_GIF, headers={"Content-Type": "image/gif"})
    if fmt in (1, 2) and ext in IMAGE_EXTS:
        return _png(_sticker_png(stem))
    raise web.HTTPNotFound(text="404: Not Found")


@lru_cache(maxsize=64)
def _sticker_png(sticker_id: str) -> bytes:
    return solid_png(colour_for(f"sticker:{sticker_id}"), size=320)


async def attachment(request: web.Request) -> web.Response:
    state = ctx_of(request).state
    m = request.match_info
    stored = state.attachments.get(f"{m['channel_id']}/{m['attachment_id']}/{m['filename']}")
    if stored is None:
        raise web.HTTPNotFound(text="404: Not Found")
    return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})
