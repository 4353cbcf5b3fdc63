"""A homeserver event that passed the bridge's checks, relayed by its kind; the
homeserver's ephemeral events (typing); its queries for a room alias."""

from __future__ import annotations

import logging
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_edit import relay_matrix_edit
from bridge.actions.m2d_message import relay_matrix_message
from bridge.actions.m2d_poll import relay_matrix_poll
from bridge.actions.m2d_reaction import relay_matrix_reaction, relay_matrix_reaction_redaction
from bridge.actions.m2d_redact import relay_matrix_redaction
from bridge.actions.pins import relay_matrix_pins
from bridge.actions.portals import ensure_portal
from bridge.actions.typing import relay_matrix_typing
from bridge.ids import RoomID, UserID
from bridge.model import (
    MatrixEdit,
    MatrixMessage,
    MatrixPins,
    MatrixPollEnd,
    MatrixPollStart,
    MatrixReaction,
    MatrixRedaction,
)

log = logging.getLogger(__name__)


async def relay_matrix_kind(ctx: BridgeContext, event: object) -> None:
    """Relay a parsed event to Discord by its kind (others are not relayed)."""
    if isinstance(event, MatrixMessage):
        await relay_matrix_message(ctx, event)
    elif isinstance(event, MatrixEdit):
        await relay_matrix_edit(ctx, event)
    elif isinstance(event, MatrixReaction):
        await relay_matrix_reaction(ctx, event)
    elif isinstance(event, MatrixPins):
        await relay_matrix_pins(ctx, event)
    elif isinstance(event, MatrixRedaction):
        if not await relay_matrix_reaction_redaction(ctx, event):
            await relay_matrix_redaction(ctx, event)
    elif isinstance(event, MatrixPollStart | MatrixPollEnd):
        await relay_matrix_poll(ctx, event)


async def relay_ephemeral(ctx: BridgeContext, events: list[dict[str, Any]]) -> None:
    """The homeserver's ephemeral events: typing notices go to Discord."""
    for raw in events:
        content = raw.get("content")
        room_id = raw.get("room_id")
        if raw.get("type") != "m.typing" or not isinstance(content, dict):
            continue
        user_ids = content.get("user_ids")
        if isinstance(room_id, str) and isinstance(user_ids, list):
            typing = [UserID(u) for u in user_ids if isinstance(u, str)]
            await relay_matrix_typing(ctx, RoomID(room_id), typing)


async def portal_for_alias(ctx: BridgeContext, alias: str, discord_ready: bool) -> bool:
    """The homeserver asks about a room alias in the bridge's namespace: the configured
    channel's portal, created now if needed (never a room for an unconfigured one)."""
    channel_id = ctx.config.namer.parse_alias(alias)
    if channel_id is None:
        return False
    chan_cfg = ctx.config.bridge.channel(channel_id)
    if chan_cfg is None or chan_cfg.matrix_room is not None:
        return False
    if not discord_ready:
        return False
    return await ensure_portal(ctx, channel_id) is not None
