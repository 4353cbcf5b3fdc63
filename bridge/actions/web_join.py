"""The members' page flows (issue 12): link a Matrix account to the Discord account
that logged in, bring it into its rooms and spaces, or unlink it.

Rooms come from :func:`bridge.web.rooms.rooms_for` (what Discord said at login) and,
for members-only rooms, must also pass the members-only check as the bridge sees it
(:func:`moderation.membership.decide`, the bot's view of the roles): both must agree,
so a stale or forged login never opens a members-only room (fail closed). The link is
the same ``account_link`` row ``!link`` makes, so the members-only enforcement
(re-checks on role changes, kicks on unlink) applies unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bridge.convert.spaces import PARTY_ID
from bridge.db import PortalRow
from bridge.db.links import LinkRow
from bridge.ids import DiscordUserID, GuildID, RoomID, UserID
from bridge.transport.web_clients import Homeserver
from bridge.web.rooms import RoomOffer, rooms_for, withheld
from moderation.context import ModerationContext
from moderation.membership import decide, recheck

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Joined:
    mxid: UserID
    rooms: list[RoomOffer]
    spaces: list[RoomID]


async def _bridged(
    mctx: ModerationContext,
) -> tuple[list[PortalRow], dict[GuildID, tuple[int, ...]]]:
    """The portals of channels bridged now, and each guild's member roles."""
    config = mctx.bridge.config
    member_roles = {g: tuple(config.member_roles(g)) for g in config.discord.guild_ids}
    portals = [
        p
        for p in await mctx.stores.portals.all()
        if config.bridge.channel(p.discord_channel_id) is not None
    ]
    return portals, member_roles


async def withheld_rooms(
    mctx: ModerationContext, discord_id: int, roles: Mapping[GuildID, Sequence[int] | None]
) -> int:
    """How many members-only rooms stay closed to this member for want of a member role."""
    portals, member_roles = await _bridged(mctx)
    return withheld(portals, roles, member_roles, discord_id)


async def offered_rooms(
    mctx: ModerationContext,
    discord_id: int,
    roles: Mapping[GuildID, Sequence[int] | None],
    mxid: UserID | None = None,
) -> list[RoomOffer]:
    """The rooms this Discord member gets (with ``mxid``: members-only ones only when
    the bridge's own check agrees for that Matrix user)."""
    portals, member_roles = await _bridged(mctx)
    offers = rooms_for(portals, roles, member_roles, discord_id)
    if mxid is None:
        return offers
    verdicts: dict[GuildID, bool] = {}
    out = []
    for offer in offers:
        if offer.members_only:
            if offer.guild_id not in verdicts:
                verdicts[offer.guild_id] = (await decide(mctx, mxid, offer.guild_id)).allowed
            if not verdicts[offer.guild_id]:
                continue
        out.append(offer)
    return out


async def _spaces(mctx: ModerationContext, guilds: set[GuildID]) -> list[RoomID]:
    config = mctx.bridge.config.bridge.spaces
    if not config.enabled:
        return []
    found: list[RoomID] = []
    for guild_id in sorted(guilds):
        row = await mctx.stores.spaces.get("guild", guild_id)
        if row is not None:
            found.append(row.room_id)
    party = await mctx.stores.spaces.get("party", PARTY_ID)
    if config.party and party is not None and guilds:
        found.append(party.room_id)
    return found


async def link_and_join(
    mctx: ModerationContext,
    mxid: UserID,
    discord_id: DiscordUserID,
    roles: Mapping[GuildID, Sequence[int] | None],
    homeserver: Homeserver,
    token: str | None = None,
) -> Joined:
    """Record the link, invite ``mxid`` to its rooms and spaces; with the new account's
    ``token``, join them too (the token is logged out afterwards by the caller)."""
    replaced: list[LinkRow] = await mctx.stores.links.link(mxid, discord_id)
    for old in replaced:
        if old.mxid != mxid:
            await recheck(mctx, UserID(old.mxid))  # the older account loses its access
    rooms = await offered_rooms(mctx, discord_id, roles, mxid)
    spaces = await _spaces(mctx, {r.guild_id for r in rooms})
    for room_id in [*spaces, *(r.room_id for r in rooms)]:
        if await mctx.matrix.membership(room_id, mxid) in (None, "leave"):
            await mctx.matrix.invite(room_id, mxid)
        if token is not None and not await homeserver.join(room_id, token):
            log.warning("web.join-failed room=%s user=%s", room_id, mxid)
    for space_room in spaces:  # the spaces' own "invited once" bookkeeping
        await mctx.stores.spaces.add_invited(space_room, mxid)
    log.info(
        "web.linked mxid=%s discord=%s rooms=%s spaces=%s joined=%s",
        mxid,
        discord_id,
        len(rooms),
        len(spaces),
        token is not None,
    )
    return Joined(mxid, rooms, spaces)


async def unlink(mctx: ModerationContext, discord_id: DiscordUserID) -> LinkRow | None:
    """Remove the Discord account's link; its Matrix account leaves the members-only
    rooms (the same re-check as ``!unlink``). Public rooms and history stay."""
    row = await mctx.stores.links.unlink_discord(discord_id)
    if row is not None:
        await recheck(mctx, UserID(row.mxid))
        log.info("web.unlinked mxid=%s discord=%s", row.mxid, discord_id)
    return row
