"""bridge.actions.voice_channels over fake ports: joining, moving and leaving voice
are room state (never a message), the topic follows after a quiet moment, and a
restart sets out of voice whoever left meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.actions.voice_channels import VoiceRooms
from bridge.convert.d2m.voice_state import VOICE_EVENT_TYPE, VoiceState
from bridge.db import PortalRow
from bridge.ids import ChannelID, DiscordUserID, GuildID, RoomID
from bridge.model import DiscordAuthor
from tests.actions.fakes import CHANNEL, GUILD, FakeDiscord, FakeMatrix, fake_context

OTHER = ChannelID(4000000000000000002)  # configured too
ROOM, OTHER_ROOM = RoomID("!voice:example.org"), RoomID("!other:example.org")
BOB, CAROL = DiscordUserID(2000000000000000002), DiscordUserID(2000000000000000003)


class StateMatrix(FakeMatrix):
    def __init__(self) -> None:
        super().__init__()
        self.state: list[tuple[RoomID, str, str, dict[str, Any]]] = []

    async def set_room_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        self.state.append((room_id, event_type, state_key, content))

    def voice(self, room: RoomID) -> dict[str, dict[str, Any]]:
        """The room's current voice state, by state key."""
        current: dict[str, dict[str, Any]] = {}
        for r, kind, key, content in self.state:
            if r == room and kind == VOICE_EVENT_TYPE:
                current[key] = content
        return current

    def topics(self, room: RoomID) -> list[str]:
        return [c["topic"] for r, k, _, c in self.state if r == room and k == "m.room.topic"]


class NamedDiscord(FakeDiscord):
    async def member_profile(self, guild_id: GuildID, user_id: DiscordUserID) -> DiscordAuthor:
        names = {BOB: "bob", CAROL: "carol"}
        return DiscordAuthor(user_id, names[user_id], global_name=names[user_id].title())


def joined(user: DiscordUserID, channel: ChannelID | None, **flags: bool) -> VoiceState:
    return VoiceState(GUILD, user, channel, **flags)


async def test_join_move_leave_are_state_and_topic(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, _):
        matrix = StateMatrix()
        ctx.matrix, ctx.discord = matrix, NamedDiscord()
        await ctx.stores.portals.upsert(
            PortalRow(CHANNEL, GUILD, ROOM, "permanence", "Drop-in", "public")
        )
        await ctx.stores.portals.upsert(
            PortalRow(OTHER, GUILD, OTHER_ROOM, "bureau", "", "members_only")
        )

        async def nothing(room: RoomID) -> dict[str, dict[str, Any]]:
            return {}

        rooms = VoiceRooms(ctx, nothing, topic_delay=0.1)
        bob_key = str(BOB)
        await rooms.on_voice_state(joined(BOB, CHANNEL, self_mute=True))
        await rooms.on_voice_state(joined(CAROL, CHANNEL))
        state = matrix.voice(ROOM)[bob_key]
        assert state["in_voice"] is True and state["self_mute"] is True
        assert isinstance(state["since"], int)
        assert state["matrix_user_id"] == ctx.namer.ghost_mxid(BOB)
        await rooms.flush()
        assert matrix.topics(ROOM) == [
            "Drop-in\nIn voice now: Bob and Carol.\nThis is a Discord voice channel: calls stay"
            " on Discord. From Matrix you can read and write in its chat, but not join the call."
        ]  # two joins, one topic change

        since = state["since"]
        await rooms.on_voice_state(joined(BOB, CHANNEL, streaming=True))  # unmuted, live
        state = matrix.voice(ROOM)[bob_key]
        assert state["streaming"] is True and state["self_mute"] is False
        assert state["since"] == since  # still the same stay in voice
        await rooms.flush()
        assert len(matrix.topics(ROOM)) == 1  # nobody came or went: topic unchanged

        await rooms.on_voice_state(joined(BOB, OTHER))  # moves
        assert matrix.voice(ROOM)[bob_key] == {
            "in_voice": False,
            "discord_user_id": str(BOB),
            "matrix_user_id": ctx.namer.ghost_mxid(BOB),
        }
        assert matrix.voice(OTHER_ROOM)[bob_key]["in_voice"] is True
        await rooms.on_voice_state(joined(BOB, None))  # leaves voice
        assert matrix.voice(OTHER_ROOM)[bob_key]["in_voice"] is False
        await rooms.flush()
        assert matrix.topics(ROOM)[-1].splitlines()[1] == "In voice now: Carol."
        assert matrix.topics(OTHER_ROOM)[-1].splitlines()[0] == "Nobody is in voice right now."
        assert matrix.sent == [] and matrix.edits == []  # never a message


async def test_unbridged_voice_channel_is_ignored(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, _):
        matrix = StateMatrix()
        ctx.matrix, ctx.discord = matrix, NamedDiscord()

        async def nothing(room: RoomID) -> dict[str, dict[str, Any]]:
            return {}

        rooms = VoiceRooms(ctx, nothing, topic_delay=0.01)
        await rooms.on_voice_state(joined(BOB, ChannelID(4000000000000000099)))
        await rooms.flush()
        assert matrix.state == []


async def test_sync_sets_out_of_voice_who_left_while_away(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, _):
        matrix = StateMatrix()
        ctx.matrix, ctx.discord = matrix, NamedDiscord()
        await ctx.stores.portals.upsert(PortalRow(CHANNEL, GUILD, ROOM, "permanence", "", "public"))
        carol_key = str(CAROL)

        async def shown(room: RoomID) -> dict[str, dict[str, Any]]:
            assert room == ROOM
            return {carol_key: {"in_voice": True}, "not-a-user": {"in_voice": True}}

        rooms = VoiceRooms(ctx, shown, topic_delay=0.01)
        await rooms.sync_channel(CHANNEL, [joined(BOB, CHANNEL)])
        voice = matrix.voice(ROOM)
        assert voice[str(BOB)]["in_voice"] is True
        assert voice[carol_key]["in_voice"] is False
        assert "not-a-user" not in voice  # not one of ours: left alone
        assert matrix.topics(ROOM)[-1].splitlines()[0] == "In voice now: Bob."


async def test_sync_all_of_one_guild_leaves_the_others_alone(tmp_path: Path) -> None:
    async with fake_context(tmp_path) as (ctx, _, _):
        matrix = StateMatrix()
        ctx.matrix, ctx.discord = matrix, NamedDiscord()
        await ctx.stores.portals.upsert(PortalRow(CHANNEL, GUILD, ROOM, "permanence", "", "public"))
        await ctx.stores.portals.upsert(
            PortalRow(OTHER, GuildID(7), OTHER_ROOM, "ailleurs", "", "public")
        )

        async def nothing(room: RoomID) -> dict[str, dict[str, Any]]:
            return {}

        asked: list[ChannelID] = []

        def states(channel: ChannelID) -> list[VoiceState] | None:
            asked.append(channel)
            return [joined(BOB, CHANNEL)] if channel == CHANNEL else None

        await VoiceRooms(ctx, nothing, topic_delay=0.01).sync_all(states, GUILD)
        assert asked == [CHANNEL]
        assert matrix.voice(ROOM)[str(BOB)]["in_voice"] is True
        assert matrix.voice(OTHER_ROOM) == {}
