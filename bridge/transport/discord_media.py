"""discord.py attachments, stickers and embeds -> our dataclasses, and files for sends.

Kept beside :mod:`bridge.transport.discord` so that module only gains a few
lines; nothing here does I/O.
"""

from __future__ import annotations

import io

import discord

from bridge.model import (
    DiscordAttachment,
    DiscordEmbed,
    DiscordEmbedField,
    DiscordSend,
    DiscordSticker,
)


def attachments_from(
    msg: discord.Message | discord.MessageSnapshot,
) -> tuple[DiscordAttachment, ...]:
    return tuple(
        DiscordAttachment(
            id=att.id,
            filename=att.filename,
            url=att.url,
            content_type=att.content_type,
            size=att.size,
            width=att.width,
            height=att.height,
            duration_secs=att.duration,
            description=att.description,
            waveform=att.waveform,
        )
        for att in msg.attachments
    )


def stickers_from(msg: discord.Message | discord.MessageSnapshot) -> tuple[DiscordSticker, ...]:
    return tuple(
        DiscordSticker(id=item.id, name=item.name, format_type=item.format.value, url=str(item.url))
        for item in msg.stickers
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def embeds_from(msg: discord.Message | discord.MessageSnapshot) -> tuple[DiscordEmbed, ...]:
    out = []
    for embed in msg.embeds:
        out.append(
            DiscordEmbed(
                type=str(embed.type or "rich"),
                title=_text(embed.title),
                url=_text(embed.url),
                description=_text(embed.description),
                author_name=_text(embed.author.name),
                author_url=_text(embed.author.url),
                provider_name=_text(embed.provider.name),
                fields=tuple(
                    DiscordEmbedField(
                        name=str(f.name or ""), value=str(f.value or ""), inline=bool(f.inline)
                    )
                    for f in embed.fields
                ),
                footer_text=_text(embed.footer.text),
                image_url=_text(embed.image.url),
                thumbnail_url=_text(embed.thumbnail.url),
                video_url=_text(embed.video.url),
            )
        )
    return tuple(out)


def files_for(send: DiscordSend) -> list[discord.File]:
    """discord.File objects for a send's uploads (fresh each call: they are read once)."""
    return [
        discord.File(io.BytesIO(data), filename=name, spoiler=spoiler)
        for name, data, spoiler in send.files
    ]
