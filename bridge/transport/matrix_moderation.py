"""Matrix side of moderation: room bans and kicks by the bridge bot, state of
policy-list rooms, the moderators' room. Implements
:class:`moderation.ports.MatrixModerationPort` over :class:`MatrixTransport`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mautrix.errors import MatrixRequestError
from mautrix.types import (
    EventType,
    Membership,
    RoomAlias,
    RoomCreatePreset,
    RoomDirectoryVisibility,
)

from bridge.ids import EventID, RoomID, UserID
from bridge.model import MatrixText
from bridge.transport.matrix import MatrixTransport

log = logging.getLogger(__name__)


class MatrixModeration:
    def __init__(self, transport: MatrixTransport) -> None:
        self.transport = transport

    async def _call(self, what: str, room_id: RoomID, user_id: UserID, coro: object) -> bool:
        try:
            await coro  # type: ignore[misc]
        except MatrixRequestError as exc:
            log.warning(
                "matrix.%s-failed room=%s user=%s errcode=%s", what, room_id, user_id, exc.errcode
            )
            return False
        return True

    async def ban(self, room_id: RoomID, user_id: UserID, reason: str) -> bool:
        bot = self.transport.bot
        return await self._call("ban", room_id, user_id, bot.ban_user(room_id, user_id, reason))

    async def unban(self, room_id: RoomID, user_id: UserID, reason: str) -> bool:
        bot = self.transport.bot
        return await self._call("unban", room_id, user_id, bot.unban_user(room_id, user_id, reason))

    async def kick(self, room_id: RoomID, user_id: UserID, reason: str) -> bool:
        bot = self.transport.bot
        return await self._call("kick", room_id, user_id, bot.kick_user(room_id, user_id, reason))

    async def invite(self, room_id: RoomID, user_id: UserID) -> bool:
        bot = self.transport.bot
        return await self._call("invite", room_id, user_id, bot.invite_user(room_id, user_id))

    async def set_room_access(self, room_id: RoomID, *, public: bool) -> bool:
        bot = self.transport.bot
        try:
            await bot.send_state_event(
                room_id,
                EventType.ROOM_JOIN_RULES,
                {"join_rule": "public" if public else "invite"},  # type: ignore[dict-item]
            )
            await bot.send_state_event(
                room_id,
                EventType.ROOM_HISTORY_VISIBILITY,
                {"history_visibility": "shared" if public else "joined"},  # type: ignore[dict-item]
            )
        except MatrixRequestError as exc:
            log.error("matrix.room-access-failed room=%s errcode=%s", room_id, exc.errcode)
            return False
        return True

    async def invited_members(self, room_id: RoomID) -> list[UserID]:
        try:
            events = await self.transport.bot.get_members(room_id, membership=Membership.INVITE)
        except MatrixRequestError as exc:
            log.warning("matrix.members-failed room=%s errcode=%s", room_id, exc.errcode)
            return []
        return [UserID(e.state_key) for e in events]

    async def membership(self, room_id: RoomID, user_id: UserID) -> str | None:
        try:
            member = await self.transport.bot.get_state_event(
                room_id, EventType.ROOM_MEMBER, user_id
            )
        except MatrixRequestError:
            return None
        membership = member.serialize().get("membership")
        return str(membership) if membership else None

    async def joined_members(self, room_id: RoomID) -> list[UserID]:
        try:
            members = await self.transport.bot.get_joined_members(room_id)
        except MatrixRequestError as exc:
            log.warning("matrix.members-failed room=%s errcode=%s", room_id, exc.errcode)
            return []
        return [UserID(u) for u in members]

    async def power_levels(self, room_id: RoomID) -> Mapping[str, Any]:
        try:
            levels = await self.transport.bot.get_power_levels(room_id)
        except MatrixRequestError:
            return {}
        return dict(levels.serialize())

    async def raise_power(self, room_id: RoomID, users: list[UserID], level: int) -> bool:
        bot = self.transport.bot
        try:
            levels = await bot.get_power_levels(room_id)
            low = [u for u in users if levels.get_user_level(u) < level]
            if not low:
                return False
            for user in low:
                levels.set_user_level(user, level)
            await bot.set_power_levels(room_id, levels)
        except MatrixRequestError as exc:
            log.warning("matrix.power-failed room=%s errcode=%s", room_id, exc.errcode)
            return False
        return True

    async def set_user_level(self, room_id: RoomID, user_id: UserID, level: int | None) -> bool:
        bot = self.transport.bot
        try:
            levels = await bot.get_power_levels(room_id)
            if level is None:
                levels.users.pop(user_id, None)
            else:
                levels.users[user_id] = level
            await bot.set_power_levels(room_id, levels)
        except MatrixRequestError as exc:
            log.warning("matrix.power-failed room=%s errcode=%s", room_id, exc.errcode)
            return False
        return True

    async def join(self, room: str) -> RoomID | None:
        bot = self.transport.bot
        try:
            if room.startswith("#"):
                room = str((await bot.resolve_room_alias(RoomAlias(room))).room_id)
            return RoomID(await bot.join_room(RoomID(room)))
        except MatrixRequestError as exc:
            log.warning("matrix.join-failed room=%s errcode=%s", room, exc.errcode)
            return None

    async def room_state(self, room_id: RoomID) -> list[dict[str, Any]]:
        events = await self.transport.bot.get_state(room_id)
        return [{**e.serialize(), "room_id": str(room_id)} for e in events]

    async def set_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> EventID:
        event_id = await self.transport.bot.send_state_event(
            room_id,
            EventType.find(event_type, EventType.Class.STATE),
            content,
            state_key=state_key,
        )
        return EventID(event_id)

    async def create_room(
        self, name: str, topic: str, invite: list[UserID], state: list[dict[str, Any]]
    ) -> RoomID:
        room_id = await self.transport.bot.create_room(
            visibility=RoomDirectoryVisibility.PRIVATE,
            preset=RoomCreatePreset.PRIVATE,
            name=name,
            topic=topic or None,
            invitees=invite,
            initial_state=state,
        )
        return RoomID(room_id)

    async def notice(self, room_id: RoomID, text: str, html: str | None = None) -> None:
        try:
            await self.transport.send_text(
                room_id,
                self.transport.bot_mxid,
                MatrixText(body=text, formatted_body=html, msgtype="m.notice"),
                None,
            )
        except MatrixRequestError as exc:
            log.warning("matrix.notice-failed room=%s errcode=%s", room_id, exc.errcode)
