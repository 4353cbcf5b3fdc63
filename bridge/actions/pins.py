"""Pinned messages both ways, reconciled as whole lists (so echoes are no-ops).

Discord -> Matrix: on CHANNEL_PINS_UPDATE the bridge reads the channel's pins
and sets the portal's ``m.room.pinned_events`` to the mapped events (oldest
pin first, as Element appends), keeping pins of events that are not bridged.
Matrix -> Discord: when someone changes ``m.room.pinned_events`` the bridge
bot pins on Discord every bridged message in the list and unpins the bridged
messages no longer in it (needs Manage Messages or Pin Messages; without it,
a log line says so and nothing else happens).
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.i18n import translator
from bridge.ids import ChannelID, EventID, MessageID
from bridge.model import MatrixPins

log = logging.getLogger(__name__)


async def relay_discord_pins(ctx: BridgeContext, channel_id: ChannelID) -> list[EventID] | None:
    """Returns the new pinned list, or None when nothing changed."""
    if ctx.config.bridge.channel(channel_id) is None:
        return None
    portal = await ctx.stores.portals.by_channel(channel_id)
    if portal is None:
        return None
    pinned_on_discord: list[EventID] = []
    for message_id in reversed(await ctx.discord.pinned_messages(channel_id)):
        rows = await ctx.stores.messages.by_discord(message_id)
        event = next((r.event_id for r in rows if r.room_id == portal.room_id), None)
        if event is not None and event not in pinned_on_discord:
            pinned_on_discord.append(event)
    current = await ctx.matrix.pinned_events(portal.room_id)
    keep = [e for e in current if not await ctx.stores.messages.by_event(e, portal.room_id)]
    wanted = keep + pinned_on_discord
    if wanted == current:
        return None
    await ctx.matrix.set_pinned_events(portal.room_id, wanted)
    log.info("d2m.pins channel=%s room=%s pinned=%s", channel_id, portal.room_id, len(wanted))
    return wanted


async def relay_matrix_pins(ctx: BridgeContext, pins: MatrixPins) -> list[MessageID]:
    """Returns the Discord messages pinned or unpinned."""
    if ctx.namer.is_bridge_owned(pins.sender):
        return []  # our own mirror of Discord's pins
    portal = await ctx.stores.portals.by_room(pins.room_id)
    if portal is None:
        return []
    channel_id = portal.discord_channel_id
    wanted: list[MessageID] = []
    for event_id in pins.pinned:
        rows = await ctx.stores.messages.by_event(event_id, pins.room_id)
        wanted += [r.discord_message_id for r in rows[:1] if r.discord_channel_id == channel_id]
    on_discord = await ctx.discord.pinned_messages(channel_id)
    # Discord's audit log, read by the guild's moderators: the bridge's language.
    reason = translator(ctx.config.bridge.language)._("Pinned on Matrix by {who}", who=pins.sender)
    changed: list[MessageID] = []
    for message_id in wanted:
        if message_id not in on_discord:
            if not await ctx.discord.set_pinned(channel_id, message_id, True, reason):
                log.warning("m2d.pin-refused channel=%s reason=no-permission", channel_id)
                return changed
            changed.append(message_id)
    for message_id in on_discord:
        if message_id not in wanted and await ctx.stores.messages.by_discord(message_id):
            if not await ctx.discord.set_pinned(channel_id, message_id, False, reason):
                log.warning("m2d.unpin-refused channel=%s reason=no-permission", channel_id)
                return changed
            changed.append(message_id)
    if changed:
        log.info("m2d.pins room=%s channel=%s changed=%s", pins.room_id, channel_id, len(changed))
    return changed
