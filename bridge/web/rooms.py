"""Which bridged rooms a Discord member gets, from their roles (pure).

The decision is the members-only filter's own (:func:`moderation.members_only.
access_decision`), fed with what Discord's OAuth2 answered at login: the roles the
member holds in each guild, or None when they are not in it. Public rooms of a guild
they are in; members-only rooms only with one of the guild's member roles. Anything
unknown fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bridge.db import PortalRow
from bridge.ids import GuildID, RoomID
from moderation.members_only import access_decision


@dataclass(frozen=True)
class RoomOffer:
    room_id: RoomID
    guild_id: GuildID
    name: str
    members_only: bool


def rooms_for(
    portals: Iterable[PortalRow],
    roles_by_guild: Mapping[GuildID, Sequence[int] | None],
    member_roles: Mapping[GuildID, Sequence[int]],
    discord_id: int,
) -> list[RoomOffer]:
    """The portal rooms this member may be in, public ones first, then by name."""
    out: list[RoomOffer] = []
    for portal in portals:
        roles = roles_by_guild.get(portal.guild_id)
        if roles is None:
            continue  # not in that guild (or Discord did not say): none of its rooms
        decision = access_decision(
            portal.access,
            linked_discord_id=discord_id,
            discord_roles=roles,
            member_role_ids=member_roles.get(portal.guild_id, ()),
        )
        if decision.allowed:
            out.append(
                RoomOffer(portal.room_id, portal.guild_id, portal.name, portal.access != "public")
            )
    return sorted(out, key=lambda r: (r.members_only, r.name, r.room_id))


def withheld(
    portals: Iterable[PortalRow],
    roles_by_guild: Mapping[GuildID, Sequence[int] | None],
    member_roles: Mapping[GuildID, Sequence[int]],
    discord_id: int,
) -> int:
    """How many members-only rooms of the guilds this member is in stay closed to them
    (no member role): the page says why, and how to get verified."""
    portals = list(portals)
    offered = {r.room_id for r in rooms_for(portals, roles_by_guild, member_roles, discord_id)}
    return sum(
        1
        for p in portals
        if p.access != "public"
        and roles_by_guild.get(p.guild_id) is not None
        and p.room_id not in offered
    )
