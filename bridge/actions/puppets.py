"""Keep a Discord user's Matrix ghost registered with a current profile."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.name_clash import ghost_name_clashes
from bridge.convert.d2m.text import ghost_displayname
from bridge.db import PortalRow, PuppetRow
from bridge.ids import UserID
from bridge.model import DiscordAuthor

log = logging.getLogger(__name__)


async def sync_puppet(
    ctx: BridgeContext, author: DiscordAuthor, portal: PortalRow | None = None
) -> UserID:
    """Register the ghost if needed and update its name/avatar when they changed.

    With the ``portal`` the ghost speaks in, its name is checked against the room's
    Matrix users and the guild's members (bridge.actions.name_clash): when it looks
    like somebody else's, the Discord username follows it; when it no longer does,
    the plain name comes back. Without one (a mention, a profile change), the ghost
    keeps the form it had."""
    ghost = ctx.namer.ghost_mxid(author.id)
    stored = await ctx.stores.puppets.get(author.id)
    template = ctx.config.bridge.ghost_displayname
    if portal is not None:
        clash = await ghost_name_clashes(
            ctx, portal.room_id, portal.guild_id, author.id, author.display_name
        )
    else:
        clash = stored is not None and stored.displayname == _name(template, author, True)
    name = _name(template, author, clash)
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


def _name(template: str, author: DiscordAuthor, disambiguate: bool) -> str:
    return ghost_displayname(
        template, author.display_name, author.username, author.id, disambiguate=disambiguate
    )


async def refresh_puppet(ctx: BridgeContext, author: DiscordAuthor) -> bool:
    """A Discord profile changed: update the ghost if the bridge already made it.

    Ghosts are only created when their user first speaks (or is mentioned), so a
    profile change of someone who never did creates nothing."""
    if await ctx.stores.puppets.get(author.id) is None:
        return False
    await sync_puppet(ctx, author)
    return True
