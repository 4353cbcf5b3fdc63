"""Discord roles -> Matrix power levels: the ghosts of a guild's members get, in each
of the guild's portal rooms and spaces, the level their roles give them
(``bridge.role_power_levels``, :mod:`bridge.convert.power`).

A guild's levels are computed once (every member with a non-zero level, from the
gateway's member cache: a moderator's ghost has its level, and is registered with
its profile, before they ever speak), then applied room by room: one
``m.room.power_levels`` event per room, only where it differs. Room reads come from
the bot's state cache, so a pass over a guild of hundreds of rooms where nothing
changed costs no request; a room that needs a write is read again from the homeserver
first (the cache can lag behind a level a person just set).

Recomputed at start-up, when a guild's roles change (created, edited, deleted),
when a member's roles change (or they join or leave; only when their level differs
from the one last applied), when a portal room is created (it gets the current
levels), after a structure change (a new category's space gets them), and when the
config is reloaded (rules, moderators).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.actions.puppets import sync_puppet
from bridge.convert.power import member_level, merge_power_levels
from bridge.db import PortalRow
from bridge.ids import DiscordUserID, GuildID, RoomID, UserID
from bridge.runtime_config import ConfigChange

log = logging.getLogger(__name__)

# Rooms written at once: at a first start every room needs one event; the homeserver
# handles rooms in parallel.
ROOMS_AT_ONCE = 4


async def guild_member_levels(
    ctx: BridgeContext, guild_id: GuildID
) -> dict[DiscordUserID, int] | None:
    """The level of each member of the guild that has one; None when the guild's
    members cannot be listed (then nothing is changed)."""
    members = await ctx.discord.guild_members(guild_id)
    if members is None:
        return None
    rules = ctx.config.bridge.role_power_levels
    own = ctx.discord.own_user_id()  # the bridge's bot posts as the Matrix users
    levels: dict[DiscordUserID, int] = {}
    for user_id, (role_ids, permissions, is_owner) in members.items():
        level = member_level(rules, role_ids, permissions, is_owner)
        if level > 0 and user_id != own:
            levels[user_id] = level
    return levels


def ghost_levels(ctx: BridgeContext, levels: dict[DiscordUserID, int]) -> dict[UserID, int]:
    return {ctx.namer.ghost_mxid(user_id): level for user_id, level in levels.items()}


async def ensure_ghosts(
    ctx: BridgeContext, guild_id: GuildID, users: Iterable[DiscordUserID]
) -> int:
    """Register, with their profile, the ghosts of members with a level who never
    spoke: Element then lists them by name among the room's privileged users."""
    made = 0
    for user_id in users:
        if await ctx.stores.puppets.get(user_id) is not None:
            continue
        author = await ctx.discord.member_profile(guild_id, user_id)
        if author is None:
            continue
        try:
            await sync_puppet(ctx, author)
        except Exception:  # the level works without a profile; the log says why not
            log.exception("power.ghost-failed guild=%s user=%s", guild_id, user_id)
            continue
        made += 1
    return made


async def apply_power_levels(
    ctx: BridgeContext, room_ids: Iterable[RoomID], levels: dict[UserID, int]
) -> int:
    """Give ``levels`` (a guild's ghost levels) in each room; how many rooms changed.

    Reusable for any room of the guild (its portal rooms, its space)."""
    moderators = ctx.config.moderation.moderators
    slots = asyncio.Semaphore(ROOMS_AT_ONCE)

    async def merged(room_id: RoomID, fresh: bool) -> dict[str, Any] | None:
        current = await ctx.matrix.room_power_levels(room_id, fresh)
        if current is None:
            return None
        return merge_power_levels(current.content, levels, ctx.namer, moderators, current.creators)

    async def one(room_id: RoomID) -> bool:
        async with slots:
            if await merged(room_id, False) is None:
                return False  # as cached, nothing to change: no request
            # A change to write: merged into what the room has now, not the cache, so
            # that a level a person set a moment ago is not written over.
            content = await merged(room_id, True)
            return content is not None and await ctx.matrix.set_room_power_levels(room_id, content)

    return sum(await asyncio.gather(*(one(r) for r in dict.fromkeys(room_ids))))


async def guild_rooms(ctx: BridgeContext, guild_id: GuildID) -> list[RoomID]:
    """The guild's portal rooms and its spaces (the guild's, its categories', its
    members'; not the party space, which spans guilds)."""
    portals = [p.room_id for p in await ctx.stores.portals.all() if p.guild_id == guild_id]
    return portals + [s.room_id for s in await ctx.stores.spaces.of_guild(guild_id)]


async def sync_guild_power(ctx: BridgeContext, guild_id: GuildID) -> int:
    """Recompute a guild's levels and apply them to its portal rooms and spaces."""
    started = time.monotonic()
    async with ctx.power_lock:
        members = await guild_member_levels(ctx, guild_id)
        if members is None:
            log.warning("power.skipped guild=%s reason=guild-unavailable", guild_id)
            return 0
        await ensure_ghosts(ctx, guild_id, members)
        levels = ghost_levels(ctx, members)
        rooms = await guild_rooms(ctx, guild_id)
        changed = await apply_power_levels(ctx, rooms, levels)
        ctx.power_levels[guild_id] = members
    log.log(
        logging.INFO if changed else logging.DEBUG,
        "power.applied guild=%s ghosts=%s rooms=%s changed=%s ms=%d",
        guild_id,
        len(levels),
        len(rooms),
        changed,
        (time.monotonic() - started) * 1000,
    )
    return changed


async def member_changed(ctx: BridgeContext, guild_id: GuildID, user_id: DiscordUserID) -> int:
    """A member's roles changed (or they joined or left): the guild is recomputed only
    when their level differs from the one last applied (most joins and role changes
    change no level: in a large guild they cost one look-up)."""
    # Under the lock: a pass in progress may have read the members before this change
    # and record its levels after; compared before it ends, its stale levels would
    # look current and this change would be lost.
    async with ctx.power_lock:
        applied = ctx.power_levels.get(guild_id)
        if applied is not None:
            member = await ctx.discord.member_roles(guild_id, user_id)
            level = 0
            if member is not None and user_id != ctx.discord.own_user_id():
                level = member_level(ctx.config.bridge.role_power_levels, *member)
            if applied.get(user_id, 0) == level:
                return 0
    return await sync_guild_power(ctx, guild_id)


async def sync_all_power(ctx: BridgeContext) -> int:
    """Every bridged guild (start-up, config reloads)."""
    changed = 0
    for guild_id in ctx.config.discord.guild_ids:
        try:
            changed += await sync_guild_power(ctx, guild_id)
        except Exception:  # one guild's failure leaves the others' levels right
            log.exception("power.failed guild=%s", guild_id)
    return changed


async def config_changed(ctx: BridgeContext, change: ConfigChange) -> int:
    """After a reload: the rules or the moderators may differ (new portals got their
    levels when created; a pass changes nothing when neither differs)."""
    return await sync_all_power(ctx) if change.other_changes else 0


async def _portal_created(ctx: BridgeContext, row: PortalRow) -> None:
    async with ctx.power_lock:
        members = await guild_member_levels(ctx, row.guild_id)
        if members is None:
            return
        levels = ghost_levels(ctx, members)
        if await apply_power_levels(ctx, [row.room_id], levels):
            log.info(
                "power.applied guild=%s room=%s ghosts=%s", row.guild_id, row.room_id, len(levels)
            )


async def install_power(ctx: BridgeContext) -> None:
    """Apply every guild's levels (in the background; ``ctx.power_ready`` when done),
    then follow role, member and portal changes."""

    pending: set[GuildID] = set()

    async def on_roles(guild_id: GuildID) -> None:
        """Roles or structure changed: the guild's pass runs beside the structure queue,
        never in it (it may wait for the start-up pass; a channel move must not)."""
        if guild_id in pending:
            return  # the queued pass will see this change too
        pending.add(guild_id)

        async def run() -> object:
            pending.discard(guild_id)
            return await sync_guild_power(ctx, guild_id)

        _background(ctx, run(), f"power-{guild_id}")

    async def on_member(guild_id: GuildID, user_id: DiscordUserID) -> None:
        """Beside the structure queue as well: the check waits for a pass in progress."""
        _background(ctx, member_changed(ctx, guild_id, user_id), f"power-{guild_id}-{user_id}")

    async def on_portal(row: PortalRow) -> None:  # beside the queue too, as on_roles
        _background(ctx, _portal_created(ctx, row), f"power-{row.room_id}")

    ctx.guild_roles_changed.append(on_roles)
    ctx.structure_changed.append(on_roles)  # after the spaces' hook: new spaces
    ctx.member_roles_changed.append(on_member)
    ctx.portal_created.append(on_portal)

    async def first_pass() -> object:
        started = time.monotonic()
        try:
            return await sync_all_power(ctx)
        finally:
            ctx.power_ready.set()
            log.info("power.start-up-done ms=%d", (time.monotonic() - started) * 1000)

    # Behind start-up: a warm start reads every room's levels once (two requests a
    # room: 1,000 rooms held "bridge.started" back by ~20 s); relay needs none of it.
    _background(ctx, first_pass(), "power-start-up")


def _background(ctx: BridgeContext, work: Coroutine[Any, Any, object], name: str) -> None:
    """Run ``work`` as a task kept in ``ctx.background`` until done; failures logged."""

    async def guarded() -> object:
        try:
            return await work
        except Exception:
            log.exception("power.failed task=%s", name)
            return None

    task: asyncio.Task[object] = asyncio.create_task(guarded(), name=name)
    ctx.background.add(task)
    task.add_done_callback(ctx.background.discard)
