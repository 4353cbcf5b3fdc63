"""Applying a changed channel list or config at runtime: portals opened or retired."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.actions.context import BridgeContext
from bridge.actions.portals import ensure_portal
from bridge.config import Config
from bridge.model import MatrixText
from bridge.runtime_config import (
    ConfigChange,
    compare,
    effective_channels,
    keep_restart_sections,
    with_channels,
)

log = logging.getLogger(__name__)

RETIRED = "This room is no longer bridged to Discord: messages here stay on Matrix."


async def apply_config(
    ctx: BridgeContext,
    file_config: Config,
    set_config: Callable[[Config], None],
    *,
    announce: bool = True,
) -> ConfigChange:
    """Make ``file_config`` plus the stored channel overrides the running config."""
    overrides = await ctx.stores.channel_overrides.all()
    wanted = with_channels(file_config, effective_channels(file_config.bridge.channels, overrides))
    change = compare(ctx.config, wanted)  # names what only a restart applies
    set_config(keep_restart_sections(ctx.config, wanted))
    for channel_id in change.added:
        portal = await ensure_portal(ctx, channel_id)
        log.info("channel.bridged channel=%s room=%s", channel_id, portal and portal.room_id)
    for channel_id in change.removed:
        log.info("channel.unbridged channel=%s", channel_id)
        portal = await ctx.stores.portals.by_channel(channel_id)
        if announce and portal is not None:
            notice = MatrixText(RETIRED, msgtype="m.notice")
            await ctx.matrix.send_text(portal.room_id, ctx.namer.bot_mxid, notice, None)
    return change
