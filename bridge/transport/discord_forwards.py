"""discord.py forwards (``message_reference.type`` 1 with ``message_snapshots``) -> the
bridge's :class:`~bridge.model.DiscordForward`. No I/O: only the gateway cache is read,
to name the origin channel and say whether @everyone can see it there."""

from __future__ import annotations

import logging

import discord

from bridge.convert.d2m.limits import valid_unicode
from bridge.ids import ChannelID, GuildID, MessageID
from bridge.model import DiscordForward
from bridge.transport.discord_media import attachments_from, embeds_from, stickers_from

log = logging.getLogger(__name__)


def is_forward(msg: discord.Message) -> bool:
    reference = msg.reference
    return reference is not None and reference.type == discord.MessageReferenceType.forward


def _origin(
    client: discord.Client | None, channel_id: int
) -> tuple[str | None, bool, ChannelID | None]:
    """The origin channel's name, whether @everyone cannot view it, and its parent when
    it is a thread, from the cache; (None, False, None) for a channel the bot does not
    know (another guild, a DM ...)."""
    channel = client.get_channel(channel_id) if client is not None else None
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return None, False, None
    parent = ChannelID(channel.parent_id) if isinstance(channel, discord.Thread) else None
    try:
        default_role = channel.guild.default_role
        visible = channel.permissions_for(default_role).view_channel
    except Exception:  # cannot compute: a known channel of a known guild, fail closed
        log.warning("discord.forward-origin-visibility-unknown channel=%s", channel_id)
        visible = False
    return channel.name, not visible, parent


def forward_from(
    msg: discord.Message, client: discord.Client | None = None
) -> DiscordForward | None:
    """The forward ``msg`` carries, or None when it is not one (or is unreadable)."""
    if not is_forward(msg):
        return None
    reference = msg.reference
    assert reference is not None
    snapshots = list(getattr(msg, "message_snapshots", None) or ())
    if reference.channel_id is None:
        return None
    try:
        snapshot = snapshots[0] if snapshots else None
        name, hidden, parent = _origin(client, reference.channel_id)
        return DiscordForward(
            channel_id=ChannelID(reference.channel_id),
            guild_id=GuildID(reference.guild_id) if reference.guild_id else None,
            message_id=MessageID(reference.message_id) if reference.message_id else None,
            content=valid_unicode(snapshot.content or "") if snapshot else "",
            timestamp_ms=int(snapshot.created_at.timestamp() * 1000) if snapshot else 0,
            flags=snapshot.flags.value if snapshot else 0,
            attachments=attachments_from(snapshot) if snapshot else (),
            stickers=stickers_from(snapshot) if snapshot else (),
            embeds=embeds_from(snapshot) if snapshot else (),
            channel_name=name,
            origin_hidden=hidden,
            origin_parent_id=parent,
        )
    except Exception:
        log.warning("discord.unreadable-forward message=%s", msg.id, exc_info=True)
        return None
