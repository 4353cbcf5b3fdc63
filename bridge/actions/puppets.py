"""Keep a Discord user's Matrix ghost registered with a current profile."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.convert.d2m.text import ghost_displayname
from bridge.db import PuppetRow
from bridge.ids import UserID
from bridge.model import DiscordAuthor

log = logging.getLogger(__name__)


async def sync_puppet(ctx: BridgeContext, author: DiscordAuthor) -> UserID:
    """Register the ghost if needed and update its name/avatar when they changed."""
    ghost = ctx.namer.ghost_mxid(author.id)
    stored = await ctx.stores.puppets.get(author.id)
    name = ghost_displayname(
        ctx.config.bridge.ghost_displayname, author.display_name, author.username, author.id
    )
    avatar_mxc = stored.avatar_mxc if stored else None
    avatar_changed = stored is None or stored.avatar_source != author.avatar_url
    if avatar_changed:
        avatar_mxc = (
            await ctx.matrix.upload_avatar(author.avatar_url) if author.avatar_url else None
        )
    if stored and stored.registered and stored.displayname == name and not avatar_changed:
        return ghost
    await ctx.matrix.ensure_ghost(ghost, name, avatar_mxc)
    await ctx.stores.puppets.upsert(
        PuppetRow(
            discord_user_id=author.id,
            displayname=name,
            avatar_source=author.avatar_url,
            avatar_mxc=avatar_mxc,
            registered=True,
        )
    )
    log.info("puppet.synced user=%s ghost=%s", author.id, ghost)
    return ghost


async def refresh_puppet(ctx: BridgeContext, author: DiscordAuthor) -> bool:
    """A Discord profile changed: update the ghost if the bridge already made it.

    Ghosts are only created when their user first speaks (or is mentioned), so a
    profile change of someone who never did creates nothing."""
    if await ctx.stores.puppets.get(author.id) is None:
        return False
    await sync_puppet(ctx, author)
    return True
