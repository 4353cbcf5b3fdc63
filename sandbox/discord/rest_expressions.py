"""REST: a guild's custom emoji and stickers (expressions): get, create, modify, delete.

As on Discord: changes need MANAGE_GUILD_EXPRESSIONS (formerly "manage emojis and
stickers"); an emoji name is 2-32 letters, digits or underscores, a sticker name 2-30
characters. Every change sends the guild's whole list again: GUILD_EMOJIS_UPDATE
``{guild_id, emojis}`` or GUILD_STICKERS_UPDATE ``{guild_id, stickers}`` (intent
GUILD_EXPRESSIONS). A new emoji's ``image`` is a data URI; the CDN then serves a
generated image for it, as for seeded ones. Audit entries: EMOJI_CREATE 60,
EMOJI_UPDATE 61, EMOJI_DELETE 62, STICKER_CREATE 90, STICKER_UPDATE 91,
STICKER_DELETE 92.

Creating a sticker takes a multipart upload on Discord; here only the test control
:meth:`ExpressionControls.add_sticker` does.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web

from sandbox.discord import audit, errors, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    ctx_of,
    current_user,
    guild_for,
    json_reply,
    no_content,
    read_json,
    snowflake_param,
)
from sandbox.discord.state import Emoji, Guild, Sticker, User

log = logging.getLogger(__name__)

GUILD_EXPRESSIONS = 1 << 3  # the gateway intent (GUILD_EMOJIS_AND_STICKERS)
MANAGE_GUILD_EXPRESSIONS = 1 << 30
EMOJI_CREATE, EMOJI_UPDATE, EMOJI_DELETE = 60, 61, 62
STICKER_CREATE, STICKER_UPDATE, STICKER_DELETE = 90, 91, 92
_EMOJI_NAME = re.compile(r"[A-Za-z0-9_]{2,32}")
_DATA_URI = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+")


def unknown_sticker() -> errors.ApiError:
    return errors.ApiError(404, 10060, "Unknown Sticker")


def emoji_name(name: Any) -> str:
    if not isinstance(name, str) or not _EMOJI_NAME.fullmatch(name):
        raise errors.invalid_form(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 32 in length."
        )
    return name


def sticker_name(name: Any) -> str:
    if not isinstance(name, str) or not 2 <= len(name) <= 30:
        raise errors.invalid_form(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 30 in length."
        )
    return name


# -- operations (shared with the test controls) ---------------------------------------


def emojis_updated(ctx: Ctx, guild: Guild) -> None:
    data = {"guild_id": guild.id, "emojis": [payloads.emoji(e) for e in guild.emojis.values()]}
    ctx.hub.dispatch_guild("GUILD_EMOJIS_UPDATE", data, guild.id, GUILD_EXPRESSIONS)


def stickers_updated(ctx: Ctx, guild: Guild) -> None:
    data = {
        "guild_id": guild.id,
        "stickers": [payloads.sticker(guild, s) for s in guild.stickers.values()],
    }
    ctx.hub.dispatch_guild("GUILD_STICKERS_UPDATE", data, guild.id, GUILD_EXPRESSIONS)


def create_emoji(ctx: Ctx, guild: Guild, name: str, animated: bool = False) -> Emoji:
    emoji = Emoji(ctx.state.ids.next_str(), emoji_name(name), animated)
    guild.emojis[emoji.id] = emoji
    emojis_updated(ctx, guild)
    log.info("emoji created id=%s guild=%s", emoji.id, guild.id)
    return emoji


def rename_emoji(ctx: Ctx, guild: Guild, emoji: Emoji, name: str) -> bool:
    name = emoji_name(name)
    if name == emoji.name:
        return False
    emoji.name = name
    emojis_updated(ctx, guild)
    return True


def delete_emoji(ctx: Ctx, guild: Guild, emoji: Emoji) -> None:
    del guild.emojis[emoji.id]
    emojis_updated(ctx, guild)
    log.info("emoji deleted id=%s guild=%s", emoji.id, guild.id)


def create_sticker(ctx: Ctx, guild: Guild, name: str, format_type: int, tags: str) -> Sticker:
    sticker = Sticker(ctx.state.ids.next_str(), sticker_name(name), format_type, tags)
    guild.stickers[sticker.id] = sticker
    stickers_updated(ctx, guild)
    return sticker


def edit_sticker(ctx: Ctx, guild: Guild, sticker: Sticker, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(sticker, key) != value:
            setattr(sticker, key, value)
            changed = True
    if changed:
        stickers_updated(ctx, guild)
    return changed


def delete_sticker(ctx: Ctx, guild: Guild, sticker: Sticker) -> None:
    del guild.stickers[sticker.id]
    stickers_updated(ctx, guild)


# -- REST ----------------------------------------------------------------------------


def _guild(request: web.Request, manage: bool) -> tuple[Ctx, Guild, User]:
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    if manage and not perms.has(
        ctx.state.guild_permissions(guild.id, user.id), MANAGE_GUILD_EXPRESSIONS
    ):
        raise errors.missing_permissions()
    return ctx, guild, user


def _emoji_of(request: web.Request, guild: Guild) -> Emoji:
    emoji = guild.emojis.get(snowflake_param(request, "emoji_id", errors.unknown_emoji()))
    if emoji is None:
        raise errors.ApiError(404, 10014, "Unknown Emoji")
    return emoji


def _sticker_of(request: web.Request, guild: Guild) -> Sticker:
    sticker = guild.stickers.get(snowflake_param(request, "sticker_id", unknown_sticker()))
    if sticker is None:
        raise unknown_sticker()
    return sticker


def _audit(request: web.Request, guild: Guild, user: User, action: int, target: str) -> None:
    audit.record(
        ctx_of(request),
        guild,
        action,
        user_id=user.id,
        target_id=target,
        reason=audit.reason_of(request),
    )


async def get_emoji(request: web.Request) -> web.Response:
    _, guild, _ = _guild(request, manage=False)
    return json_reply(payloads.emoji(_emoji_of(request, guild)))


async def post_emoji(request: web.Request) -> web.Response:
    ctx, guild, user = _guild(request, manage=True)
    body = await read_json(request)
    image = body.get("image")
    if not isinstance(image, str) or not _DATA_URI.fullmatch(image):
        raise errors.invalid_form("image", "BINARY_TYPE_MAX_SIZE", "Invalid image data")
    emoji = create_emoji(ctx, guild, body.get("name"), image.startswith("data:image/gif"))
    _audit(request, guild, user, EMOJI_CREATE, emoji.id)
    return json_reply(payloads.emoji(emoji), 201)


async def patch_emoji(request: web.Request) -> web.Response:
    ctx, guild, user = _guild(request, manage=True)
    emoji = _emoji_of(request, guild)
    body = await read_json(request)
    if body.get("name") is not None and rename_emoji(ctx, guild, emoji, body["name"]):
        _audit(request, guild, user, EMOJI_UPDATE, emoji.id)
    return json_reply(payloads.emoji(emoji))


async def delete_emoji_route(request: web.Request) -> web.Response:
    ctx, guild, user = _guild(request, manage=True)
    emoji = _emoji_of(request, guild)
    delete_emoji(ctx, guild, emoji)
    _audit(request, guild, user, EMOJI_DELETE, emoji.id)
    return no_content()


async def list_stickers(request: web.Request) -> web.Response:
    _, guild, _ = _guild(request, manage=False)
    return json_reply([payloads.sticker(guild, s) for s in guild.stickers.values()])


async def get_sticker(request: web.Request) -> web.Response:
    _, guild, _ = _guild(request, manage=False)
    return json_reply(payloads.sticker(guild, _sticker_of(request, guild)))


async def patch_sticker(request: web.Request) -> web.Response:
    ctx, guild, user = _guild(request, manage=True)
    sticker = _sticker_of(request, guild)
    body = await read_json(request)
    values: dict[str, Any] = {}
    if body.get("name") is not None:
        values["name"] = sticker_name(body["name"])
    if body.get("tags") is not None:
        values["tags"] = str(body["tags"])
    if "description" in body:
        values["description"] = body["description"] or None
    if edit_sticker(ctx, guild, sticker, values):
        _audit(request, guild, user, STICKER_UPDATE, sticker.id)
    return json_reply(payloads.sticker(guild, sticker))


async def delete_sticker_route(request: web.Request) -> web.Response:
    ctx, guild, user = _guild(request, manage=True)
    sticker = _sticker_of(request, guild)
    delete_sticker(ctx, guild, sticker)
    _audit(request, guild, user, STICKER_DELETE, sticker.id)
    return no_content()


# -- test controls ----------------------------------------------------------------------


class ExpressionControls:
    """Emoji and stickers changed in the Discord client (mixed into the Emulator): the
    same dispatches as REST, no permission checks, no audit entry."""

    ctx: Ctx

    def add_emoji(self, guild_id: str, name: str, *, animated: bool = False) -> str:
        """A custom emoji uploaded: GUILD_EMOJIS_UPDATE; returns its id."""
        return create_emoji(self.ctx, self.ctx.state.guilds[str(guild_id)], name, animated).id

    def rename_emoji(self, guild_id: str, emoji_id: str, name: str) -> None:
        guild = self.ctx.state.guilds[str(guild_id)]
        rename_emoji(self.ctx, guild, guild.emojis[str(emoji_id)], name)

    def remove_emoji(self, guild_id: str, emoji_id: str) -> None:
        guild = self.ctx.state.guilds[str(guild_id)]
        delete_emoji(self.ctx, guild, guild.emojis[str(emoji_id)])

    def add_sticker(self, guild_id: str, name: str, *, format_type: int = 1, tags: str = "") -> str:
        """A sticker uploaded: GUILD_STICKERS_UPDATE; returns its id."""
        guild = self.ctx.state.guilds[str(guild_id)]
        return create_sticker(self.ctx, guild, name, format_type, tags or name).id

    def remove_sticker(self, guild_id: str, sticker_id: str) -> None:
        guild = self.ctx.state.guilds[str(guild_id)]
        delete_sticker(self.ctx, guild, guild.stickers[str(sticker_id)])
