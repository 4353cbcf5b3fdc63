"""Find or create the Matrix room of a bridged Discord channel."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.db import PortalRow
from bridge.ids import ChannelID, UserID
from moderation.members_only import effective_access

log = logging.getLogger(__name__)


async def ensure_portal(ctx: BridgeContext, channel_id: ChannelID) -> PortalRow | None:
    """The portal of a configured channel, created on demand; None if not bridged."""
    chan_cfg = ctx.config.bridge.channel(channel_id)
    if chan_cfg is None:
        return None
    async with ctx.portal_locks[channel_id]:
        existing = await ctx.stores.portals.by_channel(channel_id)
        if existing is not None:
            return existing
        channel = await ctx.discord.channel(channel_id)
        if channel is None:
            log.error("portal.unavailable channel=%s reason=discord-channel-not-found", channel_id)
            return None
        # Public only when the config and Discord's permissions both say so (fail closed).
        access = effective_access(chan_cfg.access, channel.visibility)
        public = access == "public"
        if chan_cfg.matrix_room is not None:
            room_id = chan_cfg.matrix_room
            await ctx.matrix.adopt_room(room_id, channel.name, channel.topic)
        else:
            room_id = await ctx.matrix.create_portal_room(
                name=channel.name,
                topic=channel.topic,
                alias_localpart=ctx.namer.alias_localpart(channel_id),
                public=public,
                invite=[
                    UserID(u)
                    for u in ctx.config.bridge.auto_invite
                    if public or u in ctx.config.members.allowlist
                ],
            )
        row = PortalRow(
            discord_channel_id=channel_id,
            guild_id=channel.guild_id,
            room_id=room_id,
            name=channel.name,
            topic=channel.topic,
            access=access,
        )
        await ctx.stores.portals.upsert(row)
        log.info("portal.created channel=%s room=%s access=%s", channel_id, room_id, row.access)
        for hook in ctx.portal_created:
            try:
                await hook(row)
            except Exception:  # the portal works; the log says what did not follow
                log.exception("portal.created-hook-failed channel=%s", channel_id)
        return row


async def ensure_all_portals(ctx: BridgeContext) -> list[PortalRow]:
    portals = []
    for chan in ctx.config.bridge.channels:
        try:
            portal = await ensure_portal(ctx, chan.discord_channel)
        except Exception:
            log.exception("portal.setup-failed channel=%s", chan.discord_channel)
            continue
        if portal is not None:
            portals.append(portal)
    return portals
