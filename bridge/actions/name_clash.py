"""Names nobody can borrow: whether a name shown across the bridge looks like somebody
else's, so that it is shown with an ID after it (as Element does).

Matrix -> Discord: a Matrix sender's display name clashes when another Matrix user of
the room, a member of the Discord guild (nickname, display name or username), the
bridge's bot (on either side) or a bridge moderator holds a name that is the same
or confusable with it (Unicode TR39 skeletons: :mod:`bridge.convert.confusables`).

Discord -> Matrix: a ghost's name clashes when a real Matrix user of the room, the
bridge's bot, a bridge moderator or another member of the guild holds such a name.

A Matrix account and a Discord account linked on the members' page are one person:
their names never clash with each other.

Cheap on purpose: the room's members come from the Matrix transport's cache (loaded
once per room, then kept current from member events), the guild's from discord.py's
cache. Each side's index is built when first needed, then caught up member by member
from the transports' change logs (who joined, left or was renamed); answers are kept
per (room, owner, name) until either side changes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge.convert.confusables import NameIndex
from bridge.ids import DiscordUserID, GuildID, RoomID, UserID
from bridge.model import DiscordAuthor

if TYPE_CHECKING:  # the context holds this module's cache
    from bridge.actions.context import BridgeContext

log = logging.getLogger(__name__)

# Who holds the bridge's own names (its bot on Matrix and on Discord).
BRIDGE = "bridge"
# Answers kept at most (dropped all at once beyond: they are cheap to recompute).
MAX_ANSWERS = 10_000


def discord_owner(user_id: int) -> str:
    return f"discord:{int(user_id)}"


@dataclass
class Kept:
    """An index and the change count (of its room or guild) it is current with."""

    version: int
    index: NameIndex


@dataclass
class NameClashes:
    """The indexes and answers, kept in the bridge's context."""

    rooms: dict[RoomID, Kept] = field(default_factory=dict)
    guilds: dict[GuildID, Kept] = field(default_factory=dict)
    # (room, owner, name) -> (room count, guild count, who else holds the name)
    answers: dict[tuple[RoomID, str, str], tuple[int, int, frozenset[str]]] = field(
        default_factory=dict
    )


async def _room_index(ctx: BridgeContext, room_id: RoomID) -> Kept:
    """Real Matrix users of the room (ghosts and the bot left out), moderators wherever
    they are, and the bridge bot's name."""
    cache = ctx.name_clashes
    version = ctx.matrix.roster_version(room_id)  # read first: later changes come next time
    kept = cache.rooms.get(room_id)
    if kept is not None and kept.version == version:
        return kept
    changed = ctx.matrix.roster_changes(room_id, kept.version) if kept is not None else None
    members = await ctx.matrix.member_names(room_id)
    if kept is None or changed is None:  # from scratch
        fresh = Kept(version, NameIndex())
        fresh.index.add(BRIDGE, ctx.config.appservice.bot_displayname)
        for user in {*members, *map(UserID, ctx.config.moderation.moderators)}:
            await _add_matrix_user(ctx, fresh.index, user, members)
        cache.rooms[room_id] = fresh
        return fresh
    # Moderators outside the room are looked at again too (their profile names are
    # kept a few minutes by the transport: this costs no request most of the time).
    outside = {UserID(m) for m in ctx.config.moderation.moderators} - members.keys()
    for user in changed | outside:
        kept.index.remove(user)
        await _add_matrix_user(ctx, kept.index, user, members)
    kept.version = version
    return kept


async def _add_matrix_user(
    ctx: BridgeContext, index: NameIndex, user: UserID, members: dict[UserID, str | None]
) -> None:
    namer = ctx.namer
    if user == namer.bot_mxid or namer.parse_ghost(user) is not None:
        return
    if user in members:
        index.add(user, members[user] or _localpart(user))
    elif user in ctx.config.moderation.moderators:  # not in the room: their profile's name
        index.add(user, await ctx.matrix.profile_name(user))


# Members indexed between two yields to the event loop (a large guild's first index:
# about 30 ms of work each on a loaded machine).
BUILD_SLICE = 500


async def _guild_index(ctx: BridgeContext, guild_id: GuildID) -> Kept:
    """Every cached member of the guild by all their names, and the bridge's bot."""
    cache = ctx.name_clashes
    discord = ctx.discord
    version = discord.members_version(guild_id)  # read first: later changes come next time
    kept = cache.guilds.get(guild_id)
    if kept is not None and kept.version == version:
        return kept
    changed = discord.member_changes(guild_id, kept.version) if kept is not None else None
    if kept is None or changed is None:  # from scratch
        fresh = Kept(version, NameIndex())
        fresh.index.add(BRIDGE, discord.bot_name())
        members = discord.member_names(guild_id)
        for count, member in enumerate(members, 1):
            _add_discord_member(fresh.index, member)
            if count % BUILD_SLICE == 0:
                await asyncio.sleep(0)
        cache.guilds[guild_id] = fresh
        log.debug("names.guild-index guild=%s members=%s", guild_id, len(members))
        return fresh
    for user_id in changed:
        kept.index.remove(discord_owner(user_id))
    for member in discord.member_names(guild_id, only=changed):
        _add_discord_member(kept.index, member)
    kept.version = version
    return kept


def _add_discord_member(index: NameIndex, member: DiscordAuthor) -> None:
    owner = discord_owner(member.id)
    for name in (member.nick, member.global_name, member.username):
        index.add(owner, name)


async def _others(
    ctx: BridgeContext, room_id: RoomID, guild_id: GuildID, owner: str, name: str
) -> frozenset[str]:
    """Who else (but ``owner``) holds a name that looks like ``name``."""
    room, guild = await _room_index(ctx, room_id), await _guild_index(ctx, guild_id)
    room_version, guild_version = room.version, guild.version
    key = (room_id, owner, name)
    cache = ctx.name_clashes
    kept = cache.answers.get(key)
    if kept is not None and kept[:2] == (room_version, guild_version):
        return kept[2]
    others = (room.index.holders(name) | guild.index.holders(name)) - {owner}
    if len(cache.answers) >= MAX_ANSWERS:
        cache.answers.clear()
    cache.answers[key] = (room_version, guild_version, others)
    return others


async def matrix_name_clashes(
    ctx: BridgeContext, room_id: RoomID, guild_id: GuildID, sender: UserID, name: str | None
) -> bool:
    """Whether the Matrix ``sender``'s display name (``name``; their localpart when
    unset) looks like somebody else's in the room or the guild."""
    others = await _others(ctx, room_id, guild_id, sender, name or _localpart(sender))
    if others and len(others) == 1 and next(iter(others)).startswith("discord:"):
        link = await ctx.stores.links.by_matrix(sender)  # their own Discord account?
        if link is not None and others == {discord_owner(link.discord_id)}:
            return False
    if others:
        log.info("names.clash room=%s sender=%s", room_id, sender)
    return bool(others)


async def ghost_name_clashes(
    ctx: BridgeContext, room_id: RoomID, guild_id: GuildID, user_id: int, name: str
) -> bool:
    """Whether a Discord user's shown name looks like somebody else's in the room
    (real Matrix users) or the guild (other members)."""
    others = await _others(ctx, room_id, guild_id, discord_owner(user_id), name)
    if others and len(others) == 1 and next(iter(others)).startswith("@"):
        link = await ctx.stores.links.by_discord(DiscordUserID(user_id))  # their own?
        if link is not None and others == {link.mxid}:
            return False
    if others:
        log.info("names.clash room=%s discord_user=%s", room_id, user_id)
    return bool(others)


def _localpart(mxid: str) -> str:
    return mxid[1:].split(":", 1)[0] if mxid.startswith("@") else mxid
