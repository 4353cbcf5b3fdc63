"""Where the moderation layer hooks into the running bridge: raw homeserver events
and Discord moderation events in, moderation flows out."""

from __future__ import annotations

import logging
from typing import Any

from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID, UserID
from bridge.model import DiscordDM, DiscordMessage
from moderation import bans, linking, lists, run_commands
from moderation import membership as membership_flows
from moderation.context import ModerationContext
from moderation.gate import relay_blocked
from moderation.startup import moderators_may_ban

log = logging.getLogger(__name__)


def _membership(raw: dict[str, Any]) -> tuple[str, str | None, str] | None:
    """(membership, previous membership, reason) of an ``m.room.member`` event."""
    content = raw.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("membership"), str):
        return None
    unsigned = raw.get("unsigned") if isinstance(raw.get("unsigned"), dict) else {}
    prev = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    previous = prev.get("membership") if isinstance(prev, dict) else None
    reason = content.get("reason")
    return (
        content["membership"],
        previous if isinstance(previous, str) else None,
        reason if isinstance(reason, str) else "",
    )


class ModerationDispatch:
    def __init__(self, mctx: ModerationContext) -> None:
        self.mctx = mctx

    async def on_matrix_event(self, raw: dict[str, Any]) -> bool:
        """Moderation's look at every pushed event; True when it consumed it (a command),
        so the relay must not see it."""
        room_id, sender = raw.get("room_id"), raw.get("sender")
        if not isinstance(room_id, str) or not isinstance(sender, str):
            return False
        event_type = raw.get("type")
        state_key = raw.get("state_key")
        if isinstance(state_key, str):
            if event_type == "m.room.member":
                await self._member_event(raw, RoomID(room_id), UserID(sender), UserID(state_key))
            else:
                await lists.on_state_event(self.mctx, raw)
            return False
        content = raw.get("content")
        if event_type != "m.room.message" or not isinstance(content, dict):
            return False
        body = content.get("body")
        if not isinstance(body, str) or self.mctx.namer.is_bridge_owned(sender):
            return False
        if RoomID(room_id) == self.mctx.state.mod_room:
            html = content.get("formatted_body")
            return await run_commands.on_matrix_message(
                self.mctx,
                RoomID(room_id),
                UserID(sender),
                body,
                html if isinstance(html, str) else None,
            )
        if await linking.is_dm(self.mctx, RoomID(room_id), UserID(sender)):
            answer = await linking.on_matrix_dm(self.mctx, RoomID(room_id), UserID(sender), body)
            await self.mctx.matrix.notice(RoomID(room_id), answer)
            return True
        return False

    async def _member_event(
        self, raw: dict[str, Any], room_id: RoomID, sender: UserID, target: UserID
    ) -> None:
        parsed = _membership(raw)
        if parsed is None:
            return
        membership = parsed[0]
        if target == self.mctx.namer.bot_mxid and membership == "invite":
            content = raw.get("content")
            direct = isinstance(content, dict) and content.get("is_direct") is True
            await linking.on_invite(self.mctx, room_id, sender, direct)
            return
        await bans.on_matrix_membership(self.mctx, room_id, sender, target, *parsed)
        if membership in ("join", "invite") and sender != self.mctx.namer.bot_mxid:
            await membership_flows.on_join(self.mctx, room_id, target)

    async def blocked(self, sender: str, room_id: object = None) -> bool:
        """Whether nothing of ``sender`` may reach Discord from ``room_id``."""
        room = RoomID(room_id) if isinstance(room_id, str) else None
        return await relay_blocked(self.mctx.bridge, UserID(sender), room)

    async def on_discord_message(self, message: DiscordMessage) -> None:
        """A message in the moderators' channel: a command, or nothing (never relayed)."""
        await run_commands.on_discord_message(self.mctx, message)

    async def on_discord_ban(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        await bans.on_discord_ban(self.mctx, guild_id, user_id)

    async def on_discord_unban(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        await bans.on_discord_unban(self.mctx, guild_id, user_id)

    async def on_discord_dm(self, dm: DiscordDM) -> None:
        answer = await linking.on_discord_dm(self.mctx, dm)
        await self.mctx.discord.send_dm(dm.author_id, answer)

    async def on_discord_roles(self, guild_id: GuildID, user_id: DiscordUserID) -> None:
        await membership_flows.on_discord_roles(self.mctx, guild_id, user_id)

    async def on_channel_access(self, channel_id: ChannelID) -> None:
        await membership_flows.on_channel_access(self.mctx, channel_id)

    async def on_portals_changed(self) -> None:
        """Channels were bridged, or the moderators changed (reload): moderators get the
        ban level in every portal, new ones included."""
        await moderators_may_ban(self.mctx)
