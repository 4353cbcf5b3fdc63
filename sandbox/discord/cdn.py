"""The CDN: user avatars, default avatars and uploaded attachments."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web

from sandbox.discord.context import ctx_of
from sandbox.discord.png import DEFAULT_COLOURS, colour_for, solid_png

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
    # Always a PNG, whatever extension was asked for (clients sniff the bytes).
    return _png(_avatar_png(user.id))


async def default_avatar(request: web.Request) -> web.Response:
    stem, _, ext = request.match_info["filename"].rpartition(".")
    if not stem.isdigit() or int(stem) >= len(DEFAULT_COLOURS) or ext not in IMAGE_EXTS:
        raise web.HTTPNotFound(text="404: Not Found")
    return _png(solid_png(DEFAULT_COLOURS[int(stem)]))


async def attachment(request: web.Request) -> web.Response:
    state = ctx_of(request).state
    m = request.match_info
    stored = state.attachments.get(f"{m['channel_id']}/{m['attachment_id']}/{m['filename']}")
    if stored is None:
        raise web.HTTPNotFound(text="404: Not Found")
    return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})
