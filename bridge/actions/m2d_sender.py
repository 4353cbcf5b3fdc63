"""How a Matrix sender appears on Discord: webhook name and avatar."""

from __future__ import annotations

from bridge.actions.context import BridgeContext
from bridge.actions.name_clash import matrix_name_clashes
from bridge.convert.m2d.text import webhook_username
from bridge.i18n import translator
from bridge.ids import RoomID, UserID
from bridge.media_links import media_link


async def sender_avatar_url(ctx: BridgeContext, room_id: RoomID, sender: UserID) -> str | None:
    """The public link Discord shows as the webhook avatar (needs public_media_url)."""
    mxc = await ctx.matrix.avatar_mxc(room_id, sender)
    if mxc is None:
        return None
    return media_link(ctx.config.bridge.public_media_url, ctx.media_key, mxc, "avatar")


async def sender_name(ctx: BridgeContext, room_id: RoomID, sender: UserID) -> str:
    """The webhook name: the room display name in the configured template, with the
    Matrix ID after it when it looks like somebody else's (bridge.actions.name_clash)."""
    displayname = await ctx.matrix.displayname(room_id, sender)
    portal = await ctx.stores.portals.by_room(room_id)
    clash = portal is not None and await matrix_name_clashes(
        ctx, room_id, portal.guild_id, sender, displayname
    )
    return webhook_username(
        displayname,
        sender,
        ctx.config.bridge.webhook_displayname,
        translator(ctx.config.bridge.language),
        disambiguate=clash,
    )
