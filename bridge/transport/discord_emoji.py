"""discord.py's cached guild emoji and stickers -> :class:`GuildExpressions`.

discord.py keeps each guild's ``emojis`` and ``stickers`` from GUILD_CREATE and
replaces them on GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE before it dispatches
``on_guild_emojis_update`` / ``on_guild_stickers_update``: reading the cache then is
reading the guild as it is now.
"""

from __future__ import annotations

import discord

from bridge.convert.emoji_pack import GuildEmoji, GuildExpressions, GuildSticker


def _emoji(emoji: discord.Emoji) -> GuildEmoji:
    # Animated: discord.py's URL asks for an animated WebP (the CDN also serves .gif).
    return GuildEmoji(
        id=emoji.id,
        name=emoji.name,
        animated=emoji.animated,
        url=emoji.url,
        available=emoji.available,
        restricted=bool(emoji.roles),
    )


def _sticker(sticker: discord.GuildSticker) -> GuildSticker:
    format_type = sticker.format.value
    # discord.py points GIF stickers at media.discordapp.net; the CDN serves them too.
    ext = {3: "json", 4: "gif"}.get(format_type, "png")
    return GuildSticker(
        id=sticker.id,
        name=sticker.name,
        format_type=format_type,
        url=f"{discord.asset.Asset.BASE}/stickers/{sticker.id}.{ext}",
        description=sticker.description or None,
        available=sticker.available,
    )


def guild_expressions(client: discord.Client, guild_id: int) -> GuildExpressions | None:
    """The guild's custom emoji and stickers as cached, or None for an unknown guild."""
    guild = client.get_guild(guild_id)
    if guild is None:
        return None
    return GuildExpressions(
        guild_id=guild.id,
        guild_name=guild.name,
        emojis=tuple(_emoji(e) for e in guild.emojis),
        stickers=tuple(_sticker(s) for s in guild.stickers),
    )
