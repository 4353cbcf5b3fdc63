"""A Discord forward into its portal: the forwarded copy quoted under a "Forwarded"
line, its files after it, unless the origin is members-only and the room is public
(see :mod:`bridge.convert.d2m.forward` for the rule)."""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import quote

from bridge.actions.context import BridgeContext
from bridge.convert.d2m.forward import ForwardOrigin, forward_hidden, forward_to_matrix, jump_url
from bridge.convert.d2m.markdown import matrix_to_url
from bridge.db import PortalRow
from bridge.i18n import translator
from bridge.model import DiscordForward, DiscordMessage, MatrixText

log = logging.getLogger(__name__)


def snapshot_message(message: DiscordMessage, forward: DiscordForward) -> DiscordMessage:
    """The forward as a message carrying the forwarded copy (its text, files, flags):
    converted and relayed like any message, recorded under the forward's own ID."""
    return replace(
        message,
        content=forward.content,
        attachments=forward.attachments,
        stickers=forward.stickers,
        embeds=forward.embeds,
        flags=forward.flags,
        mentions=(),
        role_mentions=(),
        channel_mentions=(),
        mention_everyone=False,
        reply_to=None,
        poll=None,
        forward=None,
    )


async def _origin(ctx: BridgeContext, forward: DiscordForward) -> tuple[ForwardOrigin, str | None]:
    """Where the original is, and its access when its channel (or a thread's channel)
    is bridged: its portal's, else the configured one (no portal yet)."""
    bridged = forward.channel_id
    portal = await ctx.stores.portals.by_channel(bridged)
    if portal is None and forward.origin_parent_id is not None:
        bridged = forward.origin_parent_id
        portal = await ctx.stores.portals.by_channel(bridged)
    if portal is None:
        configured = ctx.config.bridge.channel(forward.origin_parent_id or forward.channel_id)
        access = configured.access if configured is not None else None
        return ForwardOrigin(forward.channel_name, jump_url(forward)), access
    link = jump_url(forward)
    if forward.message_id is not None:
        rows = await ctx.stores.messages.by_discord(forward.message_id)
        found = sorted((r for r in rows if r.room_id == portal.room_id), key=lambda r: r.part)
        if found:
            event = quote(str(found[0].event_id), safe="$:._-=~")
            link = f"{matrix_to_url(portal.room_id)}/{event}"
    return ForwardOrigin(portal.name or forward.channel_name, link), portal.access


async def forward_text(
    ctx: BridgeContext, message: DiscordMessage, portal: PortalRow, inner: MatrixText | None
) -> tuple[DiscordMessage, MatrixText]:
    """``message`` (a forward) as what to relay: the copy's files (none when hidden) and
    the quote; ``inner`` is the copy's text converted for this room."""
    forward = message.forward
    assert forward is not None
    origin, origin_access = await _origin(ctx, forward)
    tr = translator(ctx.config.bridge.language)
    if forward_hidden(portal.access, origin_access, forward.origin_hidden):
        log.info(
            "d2m.forward-hidden message=%s origin=%s room=%s",
            message.id,
            forward.channel_id,
            portal.room_id,
        )
        bare = snapshot_message(
            message, replace(forward, content="", attachments=(), stickers=(), embeds=())
        )
        return bare, forward_to_matrix(None, None, tr)
    log.info("d2m.forward message=%s origin=%s", message.id, forward.channel_id)
    return snapshot_message(message, forward), forward_to_matrix(inner, origin, tr)
