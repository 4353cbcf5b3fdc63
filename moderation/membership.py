"""Members-only portals reach verified members only, and fail closed.

A Matrix user may be in a members-only portal of guild G when they are on the
configured allowlist (``members.allowlist``: party-wide), or when the Discord
account they linked holds one of G's member roles (``config.member_roles(G)``:
``discord.guilds[N].member_roles`` and ``members.role_ids``) *in G*. Each
members-only portal decides with its own guild: a member of the Nord federation
is not thereby a member of the Yvelines one. Everyone else (not linked, linked but
not in G, without the role, or when the bridge cannot tell) is kicked on joining,
and kicked again whenever they stop qualifying (the role removed on Discord, the
member gone, the account unlinked). Verified members are invited
(``members.auto_invite``) to the rooms of each guild where they qualify, when they
link and at start-up; a role change in G re-checks the rooms of G. Members-only rooms are
invite-only, unpublished, history visible to joined members only, no guests.

A channel is members-only when the config says so *or* Discord's permissions
say @everyone cannot view it (:func:`moderation.members_only.effective_access`):
re-checked on CHANNEL_UPDATE and @everyone role updates, and the room's join
rule and history visibility follow.
"""

from __future__ import annotations

import logging

from bridge.db import PortalRow
from bridge.i18n import N_
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from moderation.context import ModerationContext
from moderation.members_only import AccessDecision, access_decision, effective_access

log = logging.getLogger(__name__)

KICK_REASON = N_(
    "This room is for verified members only. To join, link your Discord account: "
    "send !link to the bridge bot in a direct chat."
)


async def decide(mctx: ModerationContext, user: UserID, guild_id: GuildID) -> AccessDecision:
    """Whether ``user`` may be in the members-only rooms of ``guild_id``."""
    link = await mctx.stores.links.by_matrix(user)
    roles = await mctx.discord.member_roles(guild_id, link.discord_id) if link is not None else None
    return access_decision(
        "members_only",
        linked_discord_id=link.discord_id if link is not None else None,
        discord_roles=roles,
        member_role_ids=mctx.bridge.config.member_roles(guild_id),
        allowlisted=user in mctx.bridge.config.members.allowlist,
    )


def exempt(mctx: ModerationContext, user: str) -> bool:
    """The bridge's own users are not subject to the member check (ghosts are only ever
    added to rooms of channels their Discord user can see)."""
    return mctx.namer.is_bridge_owned(user)


async def members_only_portals(
    mctx: ModerationContext, guild_id: GuildID | None = None
) -> list[PortalRow]:
    """The members-only portals (of one guild)."""
    return [
        p
        for p in await mctx.stores.portals.all()
        if p.access != "public" and (guild_id is None or p.guild_id == guild_id)
    ]


async def on_join(mctx: ModerationContext, room_id: RoomID, user: UserID) -> bool:
    """A Matrix user joined (or was invited to) a portal; True when they were removed."""
    portal = await mctx.stores.portals.by_room(room_id)
    if portal is None or portal.access == "public" or exempt(mctx, user):
        return False
    decision = await decide(mctx, user, portal.guild_id)
    if decision.allowed:
        return False
    await mctx.matrix.kick(room_id, user, mctx.tr._(KICK_REASON))
    log.info("members.refused room=%s user=%s reason=%s", room_id, user, decision.reason)
    return True


async def recheck(
    mctx: ModerationContext, user: UserID, guild_id: GuildID | None = None
) -> tuple[int, int]:
    """Bring one Matrix user's presence in members-only rooms (of one guild; None: of
    every guild) in line with their access there: (invited, removed)."""
    if exempt(mctx, user):
        return 0, 0
    decisions: dict[GuildID, AccessDecision] = {}
    invited = removed = 0
    for portal in await members_only_portals(mctx, guild_id):
        if portal.guild_id not in decisions:
            decisions[portal.guild_id] = await decide(mctx, user, portal.guild_id)
        decision = decisions[portal.guild_id]
        state = await mctx.matrix.membership(portal.room_id, user)
        if decision.allowed:
            if mctx.bridge.config.members.auto_invite and state in (None, "leave"):
                invited += await mctx.matrix.invite(portal.room_id, user)
        elif state in ("join", "invite"):
            removed += await mctx.matrix.kick(portal.room_id, user, mctx.tr._(KICK_REASON))
    if invited or removed:
        log.info(
            "members.rechecked user=%s guilds=%s invited=%s removed=%s",
            user,
            ",".join(f"{g}:{d.reason}" for g, d in decisions.items()),
            invited,
            removed,
        )
    return invited, removed


async def on_discord_roles(
    mctx: ModerationContext, guild_id: GuildID, discord_id: DiscordUserID
) -> None:
    """A Discord member's roles in ``guild_id`` changed (or they left it): re-check their
    linked account in that guild's rooms."""
    link = await mctx.stores.links.by_discord(discord_id)
    if link is not None:
        await recheck(mctx, UserID(link.mxid), guild_id)


async def enforce_room(mctx: ModerationContext, room_id: RoomID) -> int:
    """Remove every joined or invited Matrix user without access (start-up, access change)."""
    portal = await mctx.stores.portals.by_room(room_id)
    if portal is None:
        return 0
    removed = 0
    users = await mctx.matrix.joined_members(room_id) + await mctx.matrix.invited_members(room_id)
    for user in users:
        if not exempt(mctx, user) and not (await decide(mctx, user, portal.guild_id)).allowed:
            removed += await mctx.matrix.kick(room_id, user, mctx.tr._(KICK_REASON))
    return removed


async def on_channel_access(mctx: ModerationContext, channel_id: ChannelID) -> str | None:
    """Re-derive a bridged channel's access from Discord; returns the new one if it changed."""
    chan_cfg = mctx.bridge.config.bridge.channel(channel_id)
    portal = await mctx.stores.portals.by_channel(channel_id)
    if chan_cfg is None or portal is None:
        return None
    channel = await mctx.bridge.discord.channel(channel_id)
    derived = channel.visibility if channel is not None else None
    access = effective_access(chan_cfg.access, derived)
    if access == portal.access:
        return None
    # The room first: if that fails the database keeps the old class, so the next
    # start-up (or channel update) tries again instead of believing it done.
    if not await mctx.matrix.set_room_access(portal.room_id, public=access == "public"):
        return None
    await mctx.stores.portals.set_access(channel_id, access)
    log.warning(
        "members.channel-access-changed channel=%s room=%s access=%s",
        channel_id,
        portal.room_id,
        access,
    )
    # The guild's spaces follow (a members-only room leaves the public spaces for the
    # restricted members space): what reads the structure runs again for this guild.
    for hook in mctx.bridge.structure_changed:
        try:
            await hook(portal.guild_id)
        except Exception:  # the room is closed already; the next structure run retries
            log.exception("members.structure-hook-failed channel=%s", channel_id)
    if access != "public":
        await enforce_room(mctx, portal.room_id)
    return access


async def start_members(mctx: ModerationContext) -> None:
    """At start-up: every bridged channel's access re-derived, every members-only room
    cleaned of users without access, verified members invited."""
    for chan in mctx.bridge.config.bridge.channels:
        await on_channel_access(mctx, chan.discord_channel)
    for portal in await members_only_portals(mctx):
        await enforce_room(mctx, portal.room_id)
    if mctx.bridge.config.members.auto_invite:
        users = {UserID(link.mxid) for link in await mctx.stores.links.all()}
        users |= {UserID(u) for u in mctx.bridge.config.members.allowlist}
        for user in sorted(users):
            await recheck(mctx, user)
