"""Applying a changed channel list or config at runtime: portals opened or retired."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.actions.context import BridgeContext
from bridge.actions.portals import ensure_portal
from bridge.config import Config
from bridge.db import PortalRow
from bridge.i18n import N_, translator
from bridge.ids import RoomID
from bridge.model import MatrixText
from bridge.runtime_config import (
    ConfigChange,
    compare,
    effective_channels,
    keep_restart_sections,
    rule_channels,
    with_channels,
    with_rules,
)

log = logging.getLogger(__name__)

RETIRED = N_("This room is no longer bridged to Discord: messages here stay on Matrix.")
DELETED = N_(
    "The Discord channel #{name} was deleted: this room is no longer bridged. "
    "Its history stays here."
)


async def apply_config(
    ctx: BridgeContext,
    file_config: Config,
    set_config: Callable[[Config], None],
    *,
    announce: bool = True,
) -> ConfigChange:
    """Make ``file_config`` plus the stored channel overrides the running config."""
    overrides = await ctx.stores.channel_overrides.all()
    guilds = with_rules(file_config.discord.guilds, await ctx.stores.rule_overrides.all())
    listings = {
        guild.id: await ctx.discord.guild_channels(guild.id)
        for guild in guilds
        if guild.categories or guild.all_channels is not None
    }
    from_rules = rule_channels(guilds, listings)
    channels = effective_channels(file_config.bridge.channels, overrides, from_rules)
    wanted = with_channels(file_config, channels, guilds)
    change = compare(ctx.config, wanted)  # names what only a restart applies
    set_config(keep_restart_sections(ctx.config, wanted))
    for channel_id in change.added:
        portal = await ensure_portal(ctx, channel_id)
        log.info("channel.bridged channel=%s room=%s", channel_id, portal and portal.room_id)
    for channel_id in change.removed:
        log.info("channel.unbridged channel=%s", channel_id)
        portal = await ctx.stores.portals.by_channel(channel_id)
        if announce and portal is not None:
            notice = MatrixText(await _retired_text(ctx, portal), msgtype="m.notice")
            await ctx.matrix.send_text(portal.room_id, ctx.namer.bot_mxid, notice, None)
    if change.added or change.removed or change.access_changed:
        for hook in ctx.channels_changed:
            await hook()
    return change


async def _retired_text(ctx: BridgeContext, portal: PortalRow) -> str:
    """The notice of a room no longer bridged: says so when the channel was deleted."""
    try:
        gone = await ctx.discord.channel(portal.discord_channel_id) is None
    except Exception:  # Discord unreachable: the usual notice
        gone = False
    tr = translator(ctx.config.bridge.language)
    return tr._(DELETED, name=portal.name) if gone else tr._(RETIRED)


async def unbridged_room(ctx: BridgeContext, room_id: object, event_id: object) -> bool:
    """True for an event in the room of a channel no longer bridged."""
    portal = await ctx.stores.portals.by_room(RoomID(str(room_id)))
    if portal is None or ctx.config.bridge.channel(portal.discord_channel_id) is not None:
        return False
    log.debug("m2d.skipped event=%s reason=unbridged", event_id)
    return True
