"""The party's structure as Matrix spaces, kept in step with Discord.

At start-up (after the portals) and whenever a guild's structure changes, each guild's
desired spaces (:mod:`bridge.convert.spaces`) are compared with what was applied last
(:class:`bridge.db.spaces.SpaceStore`) and only the differences are sent: a restart
with nothing changed sends nothing. A deleted Discord channel's room is unlinked (as by
``!bridge remove``: a notice, nothing relayed any more, history kept) and leaves its
space.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.convert.spaces import (
    PARTY_ID,
    DesiredSpace,
    PortalPlace,
    SpaceChild,
    SpaceKey,
    guild_spaces,
    party_space,
)
from bridge.db import PortalRow, SpaceRow
from bridge.i18n import translator
from bridge.ids import ChannelID, GuildID, RoomID, UserID

log = logging.getLogger(__name__)


def join_rule(space: DesiredSpace) -> dict[str, Any]:
    if space.restricted_to is None:
        return {"join_rule": "public"}
    allow = [{"type": "m.room_membership", "room_id": r} for r in space.restricted_to]
    return {"join_rule": "restricted", "allow": allow}


class Spaces:
    """Reconciles the spaces; one at a time (a lock), as the structure queue runs."""

    def __init__(self, ctx: BridgeContext, reapply: Callable[[], Awaitable[object]]) -> None:
        self.ctx = ctx
        self._reapply = reapply
        self._lock = asyncio.Lock()
        self.via = [ctx.namer.bot_mxid.split(":", 1)[1]]

    # -- entry points ------------------------------------------------------------------

    async def reconcile_all(self) -> None:
        async with self._lock:
            created = [g for g in self.ctx.config.discord.guild_ids if await self._guild(g)]
            party = await self._party()
            for guild_id in created:  # people in its rooms learn of the new space
                await self._invite(guild_id, party)

    async def reconcile(self, guild_id: GuildID) -> None:
        config = self.ctx.config
        if not config.bridge.spaces.enabled or guild_id not in config.discord.guild_ids:
            return
        async with self._lock:
            created = await self._guild(guild_id)
            party = await self._party()
            if created:
                await self._invite(guild_id, party)

    async def on_channels_changed(self) -> None:
        """Channels bridged or unbridged by a command, a reload or a rule: every guild
        (only what differs is sent)."""
        if self.ctx.config.bridge.spaces.enabled:
            await self.reconcile_all()

    async def on_portal_created(self, row: PortalRow) -> None:
        await self.reconcile(row.guild_id)

    async def on_member_joined(self, room_id: RoomID, user_id: UserID) -> None:
        """Someone joined a portal room: invite them to its guild's space and to the
        party space (once each: who leaves a space is not invited again)."""
        portal = await self.ctx.stores.portals.by_room(room_id)
        if portal is None or not self.ctx.config.bridge.spaces.enabled:
            return
        party = await self.ctx.stores.spaces.get("party", PARTY_ID)
        party_room = party.room_id if party and self.ctx.config.bridge.spaces.party else None
        await self._invite_once(portal.guild_id, {user_id}, party_room)

    async def on_channel_deleted(self, channel_id: ChannelID) -> None:
        """Unlink the room of a deleted channel (``!bridge remove``'s path) and take it
        out of its space."""
        portal = await self.ctx.stores.portals.by_channel(channel_id)
        if portal is None:
            return
        if self.ctx.config.bridge.channel(channel_id) is not None:  # a notice says why
            await self.ctx.stores.channel_overrides.put(
                channel_id, False, None, "discord:channel-deleted"
            )
            await self._reapply()
        log.info("space.channel-deleted channel=%s room=%s", channel_id, portal.room_id)
        await self.reconcile(portal.guild_id)

    # -- reconciling -------------------------------------------------------------------

    async def _guild(self, guild_id: GuildID) -> bool:
        """Bring the guild's spaces up to date; True when its guild space was created."""
        guild = await self.ctx.discord.guild(guild_id)
        channels = await self.ctx.discord.guild_channels(guild_id)
        if guild is None or channels is None:
            log.warning("space.guild-unavailable guild=%s", guild_id)
            return False
        places = {
            p.discord_channel_id: PortalPlace(p.room_id, p.access != "public")
            for p in await self.ctx.stores.portals.all()
            if p.guild_id == guild_id and self.ctx.config.bridge.channel(p.discord_channel_id)
        }
        desired = guild_spaces(guild, channels, places, translator(self.ctx.config.bridge.language))
        rooms: dict[SpaceKey, RoomID] = {}
        created = False
        for space in desired:  # sub-spaces first: the guild space lists them
            row, new = await self._ensure(space)
            created = created or (new and space.key.kind == "guild")
            rooms[space.key] = row.room_id
        # Where rooms arrive first, then where they left: a moved channel shows in its
        # new space after one state event pair, whatever else the run has to send.
        for space in desired:
            await self._children(rooms[space.key], space.children, rooms, removals=False)
        for space in desired:
            await self._children(rooms[space.key], space.children, rooms, additions=False)
        wanted = {s.key for s in desired}
        for row in await self.ctx.stores.spaces.of_guild(guild_id):
            if SpaceKey(row.kind, row.discord_id) not in wanted:  # type: ignore[arg-type]
                await self._children(row.room_id, (), rooms)  # an empty category's space
        return created

    async def _party(self) -> RoomID | None:
        config = self.ctx.config.bridge.spaces
        stored = await self.ctx.stores.spaces.get("party", PARTY_ID)
        if not config.party:
            if stored is not None:  # switched off: the guild spaces leave it
                await self._children(stored.room_id, (), {})
            return None
        guild_ids = self.ctx.config.discord.guild_ids
        rooms: dict[SpaceKey, RoomID] = {}
        for guild_id in guild_ids:
            row = await self.ctx.stores.spaces.get("guild", guild_id)
            if row is not None:
                rooms[SpaceKey("guild", guild_id)] = row.room_id
        space = party_space(config.party_name, config.party_topic, list(guild_ids))
        row, _ = await self._ensure(space)
        await self._children(row.room_id, space.children, rooms)
        return row.room_id

    async def _ensure(self, space: DesiredSpace) -> tuple[SpaceRow, bool]:
        """The space's room, created or updated; True when created."""
        stores, matrix = self.ctx.stores, self.ctx.matrix
        key = space.key
        row = await stores.spaces.get(key.kind, key.discord_id)
        icon_url, avatar = (row.icon_url, row.avatar_mxc) if row else (None, None)
        if space.icon_url != icon_url:
            uploaded = await matrix.upload_avatar(space.icon_url) if space.icon_url else None
            if uploaded is not None or space.icon_url is None:
                icon_url, avatar = space.icon_url, uploaded
        allow = ",".join(space.restricted_to or ())
        if row is None:
            room_id = await matrix.create_space(space.name, space.topic, avatar, join_rule(space))
            row = SpaceRow(
                key.kind, key.discord_id, space.guild_id, room_id, space.name, space.topic
            )
            row = replace(row, icon_url=icon_url, avatar_mxc=avatar, join_allow=allow)
            await stores.spaces.put(row)
            log.info("space.created kind=%s id=%s room=%s", key.kind, key.discord_id, room_id)
            return row, True
        room_id = row.room_id
        if space.name != row.name:
            await matrix.set_room_state(room_id, "m.room.name", "", {"name": space.name})
        if space.topic != row.topic:
            await matrix.set_room_state(room_id, "m.room.topic", "", {"topic": space.topic})
        if avatar != row.avatar_mxc:
            content = {"url": avatar} if avatar else {}
            await matrix.set_room_state(room_id, "m.room.avatar", "", content)
        if allow != row.join_allow:
            await matrix.set_room_state(room_id, "m.room.join_rules", "", join_rule(space))
        new = replace(
            row,
            name=space.name,
            topic=space.topic,
            icon_url=icon_url,
            avatar_mxc=avatar,
            join_allow=allow,
        )
        if new != row:
            await stores.spaces.put(new)
            log.info("space.updated kind=%s id=%s room=%s", key.kind, key.discord_id, room_id)
        return new, False

    async def _children(
        self,
        space_room: RoomID,
        children: Sequence[SpaceChild],
        rooms: dict[SpaceKey, RoomID],
        *,
        additions: bool = True,
        removals: bool = True,
    ) -> None:
        """Send the ``m.space.child`` events (and the children's ``m.space.parent``) that
        differ from those applied last, new children before changed orders; children no
        longer wanted get empty ones (``additions``/``removals``: only those)."""
        stores, matrix = self.ctx.stores, self.ctx.matrix
        have = await stores.spaces.children(space_room)
        want: dict[RoomID, str] = {}
        for child in children:
            target = rooms.get(child.target) if isinstance(child.target, SpaceKey) else child.target
            if target is not None:
                want[target] = child.order
        changed = [r for r in want if have.get(r) != want[r]] if additions else []
        for room_id in sorted(changed, key=lambda r: r in have):  # new ones first
            order = want[room_id]
            content = {"via": self.via, "order": order}
            await matrix.set_room_state(space_room, "m.space.child", room_id, content)
            if room_id not in have:
                await self._parent(room_id, space_room, {"via": self.via, "canonical": True})
            await stores.spaces.set_child(space_room, room_id, order)
            log.info("space.child space=%s room=%s order=%s", space_room, room_id, order)
        for room_id in have.keys() - want.keys() if removals else ():
            await matrix.set_room_state(space_room, "m.space.child", room_id, {})
            await self._parent(room_id, space_room, {})
            await stores.spaces.drop_child(space_room, room_id)
            log.info("space.child-removed space=%s room=%s", space_room, room_id)

    async def _parent(self, room_id: RoomID, space_room: RoomID, content: dict[str, Any]) -> None:
        """The child's side; best effort (an adopted room may not let the bot)."""
        try:
            await self.ctx.matrix.set_room_state(room_id, "m.space.parent", space_room, content)
        except Exception as exc:
            log.warning("space.parent-failed room=%s space=%s error=%s", room_id, space_room, exc)

    async def _invite(self, guild_id: GuildID, party: RoomID | None) -> None:
        """Invite the Matrix people in the guild's portal rooms (not the bridge's own
        users) to its new guild space and to the party space, once each."""
        stores, namer = self.ctx.stores, self.ctx.namer
        people: set[UserID] = set()
        for portal in await stores.portals.all():
            if portal.guild_id != guild_id:
                continue
            try:
                members = await self.ctx.matrix.joined_members(portal.room_id)
            except Exception as exc:
                log.warning("space.members-failed room=%s error=%s", portal.room_id, exc)
                continue
            people.update(m for m in members if not namer.is_bridge_owned(m))
        await self._invite_once(guild_id, people, party)

    async def _invite_once(
        self, guild_id: GuildID, people: set[UserID], party: RoomID | None
    ) -> None:
        guild_space = await self.ctx.stores.spaces.get("guild", guild_id)
        for space_room in (guild_space.room_id if guild_space else None, party):
            if space_room is None:
                continue
            done = await self.ctx.stores.spaces.invited(space_room)
            for user_id in sorted(people - done):
                try:
                    await self.ctx.matrix.invite(space_room, user_id)
                except Exception as exc:  # already in it, or refused: once is enough
                    log.info(
                        "space.invite-failed space=%s user=%s error=%s", space_room, user_id, exc
                    )
                await self.ctx.stores.spaces.add_invited(space_room, user_id)
                log.info("space.invited space=%s user=%s", space_room, user_id)


async def install_spaces(
    ctx: BridgeContext, reapply: Callable[[], Awaitable[object]]
) -> Spaces | None:
    """Bring the spaces up to date now (after the portals), then follow every structure
    change, new portal and deleted channel. None when ``bridge.spaces.enabled`` is off."""
    if not ctx.config.bridge.spaces.enabled:
        return None
    spaces = Spaces(ctx, reapply)
    try:
        await spaces.reconcile_all()
    except Exception:  # relay works without spaces; the next change retries
        log.exception("space.start-failed")
    ctx.structure_changed.append(spaces.reconcile)
    ctx.portal_created.append(spaces.on_portal_created)
    ctx.channel_deleted.append(spaces.on_channel_deleted)
    ctx.member_joined.append(spaces.on_member_joined)
    ctx.channels_changed.append(spaces.on_channels_changed)
    return spaces


async def on_member_event(ctx: BridgeContext, raw: dict[str, Any]) -> None:
    """A pushed Matrix event: a join of someone not the bridge's, to the joined hooks
    (best effort: the event's relay goes on whatever happens here)."""
    user_id, room_id = raw.get("state_key"), raw.get("room_id")
    if raw.get("type") != "m.room.member" or not ctx.member_joined:
        return
    content = raw.get("content")
    if not isinstance(content, dict) or content.get("membership") != "join":
        return
    if not isinstance(user_id, str) or not isinstance(room_id, str):
        return
    unsigned = raw.get("unsigned")
    previous = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    if isinstance(previous, dict) and previous.get("membership") == "join":
        return  # a profile change
    if ctx.namer.is_bridge_owned(user_id):
        return
    for hook in ctx.member_joined:
        try:
            await hook(RoomID(room_id), UserID(user_id))
        except Exception:
            log.exception("space.member-hook-failed room=%s user=%s", room_id, user_id)
