"""Each bridged guild's custom emoji and stickers as an image pack in its rooms.

Where: the pack (:mod:`bridge.convert.emoji_pack`, state key ``discord-<guild id>``)
goes in every portal room of the guild. Clients that read image packs (Cinny,
FluffyChat, Nheko) all read the packs of the room one is in; only some look in parent
spaces, and none follows a space's pack without it, so the rooms are where every one
of them offers the guild's emoji. A portal room bridges one guild: one pack per room.

When: at start-up (every guild, after the portals), when a portal is created, and on
GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE (an emoji added, renamed or removed). Each
room's pack is compared with what the room holds and only sent when it differs: a
restart with nothing changed sends nothing.

Images: a custom emoji's image is uploaded once, into the same cache reactions use
(``emoji``: :func:`custom_emoji_mxc`); so a reaction or a message with a pack emoji
maps back to the Discord emoji. Stickers have their cache (``sticker``). Animated
emoji are uploaded as the CDN serves them (animated WebP or GIF).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.convert.emoji_pack import (
    PACK_EVENT,
    GuildExpressions,
    GuildSticker,
    discord_emoji_markup,
    emoticon_sources,
    pack_contents,
    pack_state_key,
    shortcode_markup,
    sticker_mimetype,
)
from bridge.db import EmojiRow, PortalRow, StickerRow
from bridge.ids import GuildID, RoomID

log = logging.getLogger(__name__)

EMOJI_MAX_BYTES = 2 * 1024 * 1024  # Discord caps emoji at 256 KiB
STICKER_MAX_BYTES = 2 * 1024 * 1024  # and stickers at 512 KiB
_CUSTOM_EMOJI = re.compile(r"<a?:\w{1,32}:(\d{15,21})>")


async def custom_emoji_mxc(
    ctx: BridgeContext, emoji_id: int, name: str, animated: bool, url: str | None
) -> str | None:
    """The mxc URI of a custom emoji's image, uploading it the first time (a new name or
    animation flag is recorded). None when it could not be downloaded or uploaded."""
    cached = await ctx.stores.reactions.emoji_by_id(emoji_id)
    if cached is not None:
        if cached.name != name or cached.animated != animated:
            await ctx.stores.reactions.put_emoji(EmojiRow(emoji_id, name, animated, cached.mxc))
        return cached.mxc
    if not url:
        return None
    ext = "gif" if animated else "png"
    try:
        fetched = await ctx.matrix.fetch_url(url, EMOJI_MAX_BYTES)
        if fetched is None:
            log.warning("d2m.emoji-download-failed emoji=%s", emoji_id)
            return None
        data, content_type = fetched
        mxc = await ctx.matrix.upload_media(data, content_type or f"image/{ext}", f"{name}.{ext}")
    except Exception as exc:  # best effort: the emoji still crosses as ":name:"
        log.warning("d2m.emoji-upload-failed emoji=%s error=%s", emoji_id, type(exc).__name__)
        return None
    await ctx.stores.reactions.put_emoji(EmojiRow(emoji_id, name, animated, mxc))
    log.info("d2m.emoji-uploaded emoji=%s mxc=%s", emoji_id, mxc)
    return mxc


async def sticker_mxc(ctx: BridgeContext, sticker: GuildSticker) -> str | None:
    """The mxc URI of a guild sticker's image, uploading it the first time."""
    cached = await ctx.stores.stickers.by_id(sticker.id)
    if cached is not None:
        if cached.name != sticker.name:
            await ctx.stores.stickers.put(
                StickerRow(sticker.id, sticker.name, sticker.format_type, cached.mxc)
            )
        return cached.mxc
    mimetype = sticker_mimetype(sticker.format_type)
    try:
        fetched = await ctx.matrix.fetch_url(sticker.url, STICKER_MAX_BYTES)
        if fetched is None:
            log.warning("d2m.sticker-download-failed sticker=%s", sticker.id)
            return None
        data, content_type = fetched
        ext = "gif" if sticker.format_type == 4 else "png"
        mxc = await ctx.matrix.upload_media(data, content_type or mimetype, f"{sticker.id}.{ext}")
    except Exception as exc:
        log.warning("d2m.sticker-upload-failed sticker=%s error=%s", sticker.id, type(exc).__name__)
        return None
    await ctx.stores.stickers.put(StickerRow(sticker.id, sticker.name, sticker.format_type, mxc))
    log.info("d2m.sticker-uploaded sticker=%s mxc=%s", sticker.id, mxc)
    return mxc


class EmojiPacks:
    """Keeps the guilds' packs current; one guild at a time (a lock)."""

    def __init__(self, ctx: BridgeContext) -> None:
        self.ctx = ctx
        self._lock = asyncio.Lock()
        self._startup: asyncio.Task[None] | None = None

    def start(self) -> None:
        """The start-up pass over every guild, as a task."""
        self._startup = asyncio.create_task(self._start())

    async def _start(self) -> None:
        try:
            await self.sync_all()
        except Exception:  # relay works without packs; the next change retries
            log.exception("emoji-pack.start-failed")

    def close(self) -> None:
        if self._startup is not None:
            self._startup.cancel()
            self._startup = None

    async def sync_all(self) -> None:
        for guild_id in self.ctx.config.discord.guild_ids:
            await self.sync_guild(guild_id)

    async def on_portal_created(self, row: PortalRow) -> None:
        await self.sync_guild(row.guild_id)

    async def sync_guild(self, guild_id: GuildID) -> int:
        """Bring the guild's pack up to date in its rooms; how many rooms got it."""
        if guild_id not in self.ctx.config.discord.guild_ids:
            return 0
        async with self._lock:
            guild = await self.ctx.discord.guild_expressions(guild_id)
            if guild is None:
                log.warning("emoji-pack.guild-unavailable guild=%s", guild_id)
                return 0
            rooms = [
                p.room_id
                for p in await self.ctx.stores.portals.all()
                if p.guild_id == guild_id and self.ctx.config.bridge.channel(p.discord_channel_id)
            ]
            if not rooms:
                return 0
            contents = await self._contents(guild)
            sent = 0
            for room_id in rooms:
                sent += await self._apply(room_id, guild_id, contents)
            if sent:
                log.info(
                    "emoji-pack.synced guild=%s rooms=%s images=%s",
                    guild_id,
                    sent,
                    sum(len(c["images"]) for c in contents),
                )
            return sent

    async def _contents(self, guild: GuildExpressions) -> list[dict[str, Any]]:
        emoji_mxc: dict[int, str] = {}
        for emoji in guild.emojis:
            if emoji.usable:
                mxc = await custom_emoji_mxc(
                    self.ctx, emoji.id, emoji.name, emoji.animated, emoji.url
                )
                if mxc is not None:
                    emoji_mxc[emoji.id] = mxc
        stickers: dict[int, str] = {}
        for sticker in guild.stickers:
            if sticker.usable:
                mxc = await sticker_mxc(self.ctx, sticker)
                if mxc is not None:
                    stickers[sticker.id] = mxc
        space = await self.ctx.stores.spaces.get("guild", guild.guild_id)
        avatar = space.avatar_mxc if space is not None else None
        return pack_contents(guild, emoji_mxc, stickers, avatar)

    async def _apply(
        self, room_id: RoomID, guild_id: GuildID, contents: list[dict[str, Any]]
    ) -> int:
        """Send the packs that differ from the room's; empty the extra packs of a guild
        that had more emoji. 1 when something was sent."""
        matrix = self.ctx.matrix
        changed = 0
        try:
            for index, content in enumerate(contents):
                key = pack_state_key(guild_id, index)
                if await matrix.room_state(room_id, PACK_EVENT, key) != content:
                    await matrix.set_room_state(room_id, PACK_EVENT, key, dict(content))
                    changed = 1
            index = len(contents)
            while await matrix.room_state(room_id, PACK_EVENT, pack_state_key(guild_id, index)):
                await matrix.set_room_state(
                    room_id, PACK_EVENT, pack_state_key(guild_id, index), {}
                )
                changed, index = 1, index + 1
        except Exception as exc:  # an adopted room may not let the bot: the others still
            log.warning("emoji-pack.failed room=%s error=%s", room_id, exc)
        return changed


async def install_emoji_packs(ctx: BridgeContext) -> EmojiPacks:
    """Bring every guild's pack up to date, in the background (a guild's first pass
    uploads each of its emoji: start-up does not wait for that), then follow new
    portals; the transport's GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE call
    :meth:`EmojiPacks.sync_guild`. :meth:`EmojiPacks.close` at shutdown."""
    packs = EmojiPacks(ctx)
    packs.start()
    ctx.portal_created.append(packs.on_portal_created)
    return packs


async def pack_emoji_markup(
    ctx: BridgeContext, guild_id: GuildID, body: str, formatted_body: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """For a Matrix message to the guild: (mxc -> Discord markup of the custom emoji in
    it that are the guild's own emoji, name -> markup of the guild's emoji typed as
    ``:name:``), for :class:`~bridge.convert.m2d.html.M2DContext`."""
    sources = emoticon_sources(formatted_body)
    if not sources and ":" not in body and ":" not in (formatted_body or ""):
        return {}, {}  # no emoji to look for: most messages
    guild = await ctx.discord.guild_expressions(guild_id)
    if guild is None:
        return {}, {}
    emojis = {e.id: e for e in guild.emojis}
    by_mxc: dict[str, int] = {}
    for mxc in sources:
        row = await ctx.stores.reactions.emoji_by_mxc(mxc)
        if row is not None:
            by_mxc[mxc] = row.discord_emoji_id
    return discord_emoji_markup(sources, by_mxc, emojis), shortcode_markup(emojis)


async def known_emoji_mxc(ctx: BridgeContext, content: str) -> dict[int, str]:
    """For a Discord message: the custom emoji in it whose image is already on Matrix
    (the packs upload every bridged guild's), by ID, so they show as images."""
    found: dict[int, str] = {}
    for match in _CUSTOM_EMOJI.finditer(content or ""):
        emoji_id = int(match.group(1))
        if emoji_id not in found:
            row = await ctx.stores.reactions.emoji_by_id(emoji_id)
            if row is not None:
                found[emoji_id] = row.mxc
    return found
