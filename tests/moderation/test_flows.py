"""Moderation flows with fake networks and a real (SQLite) database: Discord bans,
Element bans/unbans/kicks/joins, the relay gate, policy lists, start-up
reconciliation and moderator commands."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from bridge.db import BanRow
from bridge.ids import ChannelID, DiscordUserID, MessageID, RoomID, UserID
from bridge.model import DiscordAuthor, DiscordMessage
from moderation import bans, lists, run_commands, startup
from moderation.audit import describe
from moderation.dispatch import ModerationDispatch
from moderation.gate import relay_blocked
from moderation.policy import RuleKey
from tests.actions.fakes import BOT_USER
from tests.moderation.fakes import (
    BAN_MEMBERS,
    BOT,
    GUILD,
    MOD_CHANNEL,
    MOD_ROOM,
    MODERATOR,
    POLICY_ROOM,
    ROOM_A,
    ROOM_B,
    SUB_LIST,
    Harness,
    moderation_context,
)

ALICE = UserID("@alice:other.example")
CAROL = UserID("@carol:example.org")
ROOM_ADMIN = UserID("@admin:example.org")
SPAMMER = UserID("@spammer:evil.example")
UID = DiscordUserID(5000000000000000001)
OTHER_UID = DiscordUserID(5000000000000000002)
DISCORD_MOD = DiscordUserID(5000000000000000009)
RULE_USER = "m.policy.rule.user"
RULE_SERVER = "m.policy.rule.server"

_event_ids = itertools.count(1)


# -- helpers -------------------------------------------------------------------------


async def member_event(
    h: Harness,
    room: RoomID,
    sender: UserID,
    target: UserID,
    membership: str,
    previous: str | None = None,
    reason: str = "",
) -> bool:
    """The homeserver applied a membership change and pushes its event to the bridge."""
    h.matrix.memberships[(room, target)] = membership
    content: dict[str, Any] = {"membership": membership}
    if reason:
        content["reason"] = reason
    raw: dict[str, Any] = {
        "type": "m.room.member",
        "room_id": room,
        "sender": sender,
        "state_key": target,
        "event_id": f"$member{next(_event_ids)}",
        "content": content,
    }
    if previous is not None:
        raw["unsigned"] = {"prev_content": {"membership": previous}}
    return await ModerationDispatch(h.mctx).on_matrix_event(raw)


def rule_event(
    room: RoomID,
    entity: str | None,
    *,
    event_type: str = RULE_USER,
    state_key: str | None = None,
    recommendation: str = "m.ban",
    reason: str = "spam",
    sender: str = "@listbot:other.example",
) -> dict[str, Any]:
    content: dict[str, Any] = (
        {} if entity is None else {"entity": entity, "recommendation": recommendation}
    )
    if entity is not None and reason:
        content["reason"] = reason
    return {
        "type": event_type,
        "room_id": room,
        "sender": sender,
        "state_key": state_key if state_key is not None else f"rule:{entity}",
        "event_id": f"$rule{next(_event_ids)}",
        "content": content,
    }


async def push_state(h: Harness, raw: dict[str, Any]) -> bool:
    """A state event pushed by the homeserver, through the dispatcher."""
    await ModerationDispatch(h.mctx).on_matrix_event(raw)
    return raw["room_id"] in h.mctx.state.list_rooms


async def echo_own_rules(h: Harness, start: int = 0) -> int:
    """The homeserver echoes the rules the bridge wrote to its own list."""
    calls = h.matrix.set_state_calls[start:]
    for room, event_type, state_key, content in calls:
        raw: dict[str, object] = {
            "type": event_type,
            "room_id": room,
            "sender": BOT,
            "state_key": state_key,
            "event_id": f"$echo{next(_event_ids)}",
            "content": content,
        }
        await lists.on_state_event(h.mctx, raw)
    return start + len(calls)


def discord_message(content: str, author: DiscordUserID, *, bot: bool = False) -> DiscordMessage:
    return DiscordMessage(
        id=MessageID(next(_event_ids)),
        channel_id=MOD_CHANNEL,
        guild_id=GUILD,
        author=DiscordAuthor(author, f"user{author}", bot=bot),
        content=content,
        timestamp_ms=1_700_000_000_000,
    )


async def matrix_command(h: Harness, body: str, sender: UserID = MODERATOR) -> str | None:
    """Send a command in the moderators' room; the bridge's last answer there."""
    before = len(h.matrix.notices)
    handled = await run_commands.on_matrix_message(h.mctx, MOD_ROOM, sender, body, None)
    assert handled
    answers = [text for room, text in h.matrix.notices[before:] if room == MOD_ROOM]
    return answers[-1] if answers else None


# -- Discord bans --------------------------------------------------------------------


async def test_discord_ban_bans_ghost_everywhere_writes_rule_and_logs(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        h.matrix.join_member(ROOM_A, ghost)
        h.matrix.memberships[(ROOM_B, ghost)] = "ban"  # already banned there
        h.discord.authors[UID] = (DISCORD_MOD, "raiding")

        await ModerationDispatch(h.mctx).on_discord_ban(GUILD, UID)

        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None
        assert (row.reason, row.moderator, row.origin) == (
            "raiding",
            f"discord:{DISCORD_MOD}",
            "discord",
        )
        assert h.matrix.ban_calls == [(ROOM_A, ghost, "Banned: raiding")]
        assert h.discord.ban_calls == []  # it came from Discord
        assert h.matrix.set_state_calls == [
            (
                POLICY_ROOM,
                RULE_USER,
                f"rule:{ghost}",
                {"entity": ghost, "recommendation": "m.ban", "reason": "raiding"},
            )
        ]
        (entry,) = await h.audits()
        assert (entry.source, entry.actor, entry.action, entry.reason) == (
            "discord",
            f"discord:{DISCORD_MOD}",
            "ban",
            "raiding",
        )
        assert str(UID) in entry.target and ghost in entry.target
        assert "ghost banned from 1 more room." in entry.outcome
        line = describe(entry)
        assert h.matrix.notices == [(MOD_ROOM, line)]
        assert h.discord.posts == [(MOD_CHANNEL, line)]


async def test_discord_ban_without_audit_log_names_a_discord_moderator(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None and row.moderator == "a Discord moderator" and row.reason == ""
        assert h.matrix.ban_calls == [
            (ROOM_A, h.ghost(UID), "Banned"),
            (ROOM_B, h.ghost(UID), "Banned"),
        ]


async def test_discord_ban_repeat_or_echo_is_not_logged_twice(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        # A room the first pass missed (e.g. the ban was undone by hand there).
        h.matrix.memberships[(ROOM_B, ghost)] = "join"
        h.discord.authors[UID] = (DISCORD_MOD, "other reason")

        await bans.on_discord_ban(h.mctx, GUILD, UID)

        assert len(await h.audits()) == 1
        assert len(h.matrix.set_state_calls) == 1
        assert h.matrix.ban_calls[-1] == (ROOM_B, ghost, "Banned on Discord")
        assert h.matrix.bans_in(ROOM_A) == {ghost} and h.matrix.bans_in(ROOM_B) == {ghost}
        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None and row.reason == ""  # the first record stands


async def test_own_rule_echo_does_not_ban_again(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        calls = len(h.matrix.ban_calls)
        await echo_own_rules(h)
        assert h.discord.ban_calls == [] and len(h.matrix.ban_calls) == calls
        assert len(await h.audits()) == 1
        assert h.mctx.state.policy.get(RuleKey(POLICY_ROOM, "user", f"rule:{h.ghost(UID)}"))


async def test_discord_unban_lifts_room_bans_and_rule(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        seen = await echo_own_rules(h)

        await ModerationDispatch(h.mctx).on_discord_unban(GUILD, UID)

        assert await h.stores.bans.get("discord", str(UID), GUILD) is None
        assert h.matrix.unban_calls == [
            (ROOM_A, ghost, "Unbanned: unbanned on Discord"),
            (ROOM_B, ghost, "Unbanned: unbanned on Discord"),
        ]
        assert h.matrix.set_state_calls[seen:] == [(POLICY_ROOM, RULE_USER, f"rule:{ghost}", {})]
        assert h.discord.unban_calls == []  # it came from Discord
        entry = (await h.audits())[-1]
        assert (entry.action, entry.source) == ("unban", "discord")
        assert "ghost unbanned in 2 rooms." in entry.outcome
        # The echo of the blanked rule lifts nothing more.
        await echo_own_rules(h, seen)
        assert h.mctx.state.policy.get(RuleKey(POLICY_ROOM, "user", f"rule:{ghost}")) is None
        assert len(await h.audits()) == 2


async def test_unban_before_the_rule_echo_leaves_no_rule(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        await bans.on_discord_unban(h.mctx, GUILD, UID)  # before the homeserver echoed the rule
        await echo_own_rules(h)
        assert h.matrix.set_state_calls[-1] == (POLICY_ROOM, RULE_USER, f"rule:{ghost}", {})
        assert not await h.stores.bans.is_banned("discord", str(UID))
        assert h.discord.ban_calls == []


async def test_discord_unban_without_record_unbans_rooms_quietly(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        h.matrix.memberships[(ROOM_A, ghost)] = "ban"
        await bans.on_discord_unban(h.mctx, GUILD, UID)
        assert h.matrix.unban_calls == [(ROOM_A, ghost, "Unbanned: unbanned on Discord")]
        assert await h.audits() == []
        assert h.matrix.notices == [] and h.discord.posts == []
        assert h.matrix.set_state_calls == []


# -- what Element users do -----------------------------------------------------------


async def test_element_ban_of_ghost_bans_on_discord_with_reason(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        h.matrix.join_member(ROOM_A, ghost)
        h.matrix.join_member(ROOM_B, ghost)

        consumed = await member_event(h, ROOM_A, ROOM_ADMIN, ghost, "ban", "join", "spam")

        assert consumed is False  # the relay sees membership events too
        assert h.discord.ban_calls == [(GUILD, UID, f"{ROOM_ADMIN}: spam", 0)]
        assert h.matrix.ban_calls == [(ROOM_B, ghost, "Banned: spam")]
        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None and (row.moderator, row.origin) == (ROOM_ADMIN, "matrix")
        (entry,) = await h.audits()
        assert (entry.source, entry.actor, entry.action) == ("matrix", ROOM_ADMIN, "ban")
        assert "banned from the server" in entry.outcome
        # Discord's GUILD_BAN_ADD echo of that ban: nothing new.
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        assert len(await h.audits()) == 1 and len(h.discord.ban_calls) == 1


async def test_element_ban_of_ghost_without_reason(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await member_event(h, ROOM_A, ROOM_ADMIN, h.ghost(UID), "ban", "join")
        assert h.discord.ban_calls == [(GUILD, UID, ROOM_ADMIN, 0)]


async def test_element_ban_of_ghost_with_ban_on_discord_off(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, ban_on_discord=False) as h:
        ghost = h.ghost(UID)
        h.matrix.join_member(ROOM_B, ghost)
        await member_event(h, ROOM_A, ROOM_ADMIN, ghost, "ban", "join", "spam")
        assert h.discord.ban_calls == []
        assert h.matrix.ban_calls == [(ROOM_B, ghost, "Banned: spam")]
        (entry,) = await h.audits()
        assert "ban_on_discord is off" in entry.outcome


async def test_element_ban_of_ghost_refused_by_discord_is_logged(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.may_ban = False
        await member_event(h, ROOM_A, ROOM_ADMIN, h.ghost(UID), "ban", "join", "spam")
        assert len(h.discord.ban_calls) == 1
        (entry,) = await h.audits()
        assert "could not ban" in entry.outcome
        # The shared ban holds on Matrix regardless.
        assert await h.stores.bans.is_banned("discord", str(UID))
        assert h.matrix.bans_in(ROOM_B) == {h.ghost(UID)}


async def test_element_ban_of_matrix_user_is_guild_wide(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        h.matrix.join_member(ROOM_B, ALICE)
        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "ban", "join", "spam")

        row = await h.stores.bans.get("matrix", ALICE, GUILD)
        assert row is not None and (row.moderator, row.origin) == (ROOM_ADMIN, "matrix")
        assert h.matrix.ban_calls == [(ROOM_B, ALICE, "Banned: spam")]
        assert h.discord.ban_calls == []
        assert await relay_blocked(h.mctx.bridge, ALICE)
        assert h.matrix.set_state_calls[0][2] == f"rule:{ALICE}"
        (entry,) = await h.audits()
        assert "banned from 1 more room." in entry.outcome


async def test_element_ban_of_matrix_user_stays_in_room_when_not_guild_wide(
    tmp_path: Path,
) -> None:
    async with moderation_context(tmp_path, guild_wide_bans=False) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        h.matrix.join_member(ROOM_B, ALICE)
        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "ban", "join", "spam")
        assert h.matrix.ban_calls == []  # the homeserver already banned them in ROOM_A
        assert h.matrix.memberships[(ROOM_B, ALICE)] == "join"
        # Only that room: nothing recorded, so nothing follows them elsewhere.
        assert not await h.stores.bans.is_banned("matrix", ALICE)
        (entry,) = await h.audits()
        assert "that room only" in entry.outcome


async def test_ban_not_guild_wide_does_not_follow_user_into_other_rooms(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guild_wide_bans=False) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "ban", "join", "spam")
        await member_event(h, ROOM_B, ALICE, ALICE, "join", None)
        assert h.matrix.memberships[(ROOM_B, ALICE)] == "join"


async def test_element_ban_of_configured_moderator_is_refused(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_B, MODERATOR)
        await member_event(h, ROOM_A, ROOM_ADMIN, MODERATOR, "ban", "join", "oops")
        assert await h.stores.bans.all() == []
        assert h.matrix.ban_calls == [] and h.matrix.set_state_calls == []
        assert h.matrix.memberships[(ROOM_B, MODERATOR)] == "join"
        (entry,) = await h.audits()
        assert (entry.action, entry.target) == ("refused", MODERATOR)
        assert not await relay_blocked(h.mctx.bridge, MODERATOR)


async def test_element_ban_of_the_bot_is_refused(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await member_event(h, ROOM_A, ROOM_ADMIN, BOT, "ban", "join")
        assert await h.stores.bans.all() == [] and h.matrix.ban_calls == []
        assert [e.action for e in await h.audits()] == ["refused"]


async def test_element_unban_of_matrix_user_reverses_everywhere(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        h.matrix.join_member(ROOM_B, ALICE)
        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "ban", "join", "spam")
        seen = await echo_own_rules(h)

        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "leave", "ban", "appeal")

        assert not await h.stores.bans.is_banned("matrix", ALICE)
        assert h.matrix.unban_calls == [(ROOM_B, ALICE, "appeal")]
        assert h.matrix.set_state_calls[seen:] == [(POLICY_ROOM, RULE_USER, f"rule:{ALICE}", {})]
        await echo_own_rules(h, seen)
        assert not await relay_blocked(h.mctx.bridge, ALICE)
        assert [e.action for e in await h.audits()] == ["ban", "unban"]


async def test_element_unban_of_ghost_unbans_on_discord(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        await member_event(h, ROOM_A, ROOM_ADMIN, ghost, "ban", "join", "spam")
        await member_event(h, ROOM_A, ROOM_ADMIN, ghost, "leave", "ban", "sorry")
        assert h.discord.unban_calls == [(GUILD, UID, f"{ROOM_ADMIN}: sorry")]
        assert UID not in h.discord.guild_bans
        assert h.matrix.unban_calls == [(ROOM_B, ghost, "Unbanned: sorry")]
        assert not await h.stores.bans.is_banned("discord", str(UID))
        # Discord's GUILD_BAN_REMOVE echo: nothing recorded any more, nothing logged.
        await bans.on_discord_unban(h.mctx, GUILD, UID)
        assert [e.action for e in await h.audits()] == ["ban", "unban"]


async def test_element_kick_of_ghost_kicks_on_discord(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await member_event(h, ROOM_A, ROOM_ADMIN, h.ghost(UID), "leave", "join", "calm down")
        assert h.discord.kick_calls == [(GUILD, UID, f"{ROOM_ADMIN}: calm down")]
        assert await h.stores.bans.all() == []
        (entry,) = await h.audits()
        assert entry.action == "kick" and "kicked from the server" in entry.outcome


async def test_element_kick_of_ghost_with_kick_on_discord_off(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, kick_on_discord=False) as h:
        await member_event(h, ROOM_A, ROOM_ADMIN, h.ghost(UID), "leave", "join")
        assert h.discord.kick_calls == []
        (entry,) = await h.audits()
        assert "kick_on_discord is off" in entry.outcome


async def test_element_kick_of_matrix_user_is_logged_only(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "leave", "join")
        assert h.discord.kick_calls == [] and h.matrix.kick_calls == []
        (entry,) = await h.audits()
        assert entry.action == "kick" and "kicked from the room" in entry.outcome


async def test_leaving_by_oneself_is_no_kick(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await member_event(h, ROOM_A, h.ghost(UID), h.ghost(UID), "leave", "join")
        await member_event(h, ROOM_A, ALICE, ALICE, "leave", "join")
        assert h.discord.kick_calls == [] and await h.audits() == []


@pytest.mark.parametrize("who", ["bot", "ghost"])
async def test_member_events_sent_by_the_bridge_are_ignored(tmp_path: Path, who: str) -> None:
    async with moderation_context(tmp_path) as h:
        sender = BOT if who == "bot" else h.ghost(OTHER_UID)
        await member_event(h, ROOM_A, sender, ALICE, "ban", "join", "x")
        await member_event(h, ROOM_A, sender, h.ghost(UID), "ban", "join", "x")
        await member_event(h, ROOM_A, sender, h.ghost(UID), "leave", "ban", "x")
        await member_event(h, ROOM_A, sender, ALICE, "leave", "join", "x")
        assert await h.stores.bans.all() == [] and await h.audits() == []
        assert h.discord.ban_calls == h.discord.kick_calls == h.discord.unban_calls == []
        assert h.matrix.ban_calls == []


async def test_member_events_outside_portal_rooms_are_ignored(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        elsewhere = RoomID("!random:example.org")
        await member_event(h, elsewhere, ROOM_ADMIN, ALICE, "ban", "join", "x")
        await member_event(h, elsewhere, ROOM_ADMIN, h.ghost(UID), "ban", "join", "x")
        await member_event(h, elsewhere, ROOM_ADMIN, h.ghost(UID), "leave", "join", "x")
        await bans.ban_matrix_user(
            h.mctx, CAROL, reason="r", actor=MODERATOR, origin="command", source="matrix"
        )
        calls = len(h.matrix.ban_calls)
        await member_event(h, elsewhere, CAROL, CAROL, "join", "leave")
        assert len(h.matrix.ban_calls) == calls
        assert not await h.stores.bans.is_banned("matrix", ALICE)
        assert not await h.stores.bans.is_banned("discord", str(UID))
        assert h.discord.ban_calls == h.discord.kick_calls == []


async def test_join_of_banned_user_is_banned_in_that_room(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await h.stores.bans.put(
            BanRow("matrix", ALICE, "spam", MODERATOR, "command", guild_id=GUILD)
        )
        await member_event(h, ROOM_B, ALICE, ALICE, "join", "leave")
        assert h.matrix.ban_calls == [(ROOM_B, ALICE, "Banned: spam")]
        assert await h.audits() == []  # enforcement of an existing ban, not a new action


async def test_join_of_rule_matching_user_is_banned_in_that_room(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await push_state(h, rule_event(SUB_LIST, "evil.example", event_type=RULE_SERVER))
        await member_event(h, ROOM_A, SPAMMER, SPAMMER, "join", None)
        assert h.matrix.ban_calls == [(ROOM_A, SPAMMER, "Banned: spam")]


async def test_join_of_ordinary_user_moderator_or_ghost_is_left_alone(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await push_state(h, rule_event(SUB_LIST, "example.org*", event_type=RULE_SERVER))
        await h.stores.bans.put(BanRow("discord", str(UID), "", "x", "discord", guild_id=GUILD))
        await member_event(h, ROOM_A, ALICE, ALICE, "join", None)
        await member_event(h, ROOM_A, MODERATOR, MODERATOR, "join", None)  # matches the rule
        await member_event(h, ROOM_A, h.ghost(UID), h.ghost(UID), "join", None)
        assert h.matrix.ban_calls == []


# -- the relay gate ------------------------------------------------------------------


async def test_relay_gate(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ctx = h.mctx.bridge
        assert not await relay_blocked(ctx, ALICE)
        await h.stores.bans.put(
            BanRow("matrix", ALICE, "spam", MODERATOR, "command", guild_id=GUILD)
        )
        assert await relay_blocked(ctx, ALICE)
        assert await ModerationDispatch(h.mctx).blocked(ALICE)

        assert not await relay_blocked(ctx, SPAMMER)
        await push_state(h, rule_event(SUB_LIST, "@spam*:EVIL.example"))
        assert await relay_blocked(ctx, SPAMMER)  # glob, case-insensitive

        # Moderators never, even with a record and a matching rule.
        await h.stores.bans.put(BanRow("matrix", MODERATOR, "x", "y", "command", guild_id=GUILD))
        await push_state(h, rule_event(SUB_LIST, "example.org", event_type=RULE_SERVER))
        assert not await relay_blocked(ctx, MODERATOR)
        assert not await relay_blocked(ctx, BOT)
        assert await relay_blocked(ctx, CAROL)


# -- policy lists --------------------------------------------------------------------


async def test_exact_ghost_rule_bans_the_discord_user_once(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        h.matrix.join_member(ROOM_A, ghost)
        assert await push_state(h, rule_event(SUB_LIST, ghost, reason="scam links"))

        assert h.discord.ban_calls == [
            (GUILD, UID, "policy:#community:other.example: scam links", 0),
        ]
        assert h.matrix.bans_in(ROOM_A) == {ghost} and h.matrix.bans_in(ROOM_B) == {ghost}
        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None
        assert (row.origin, row.rule_room, row.rule_entity) == ("policy", SUB_LIST, ghost)
        stored = await h.stores.policy_rules.all(SUB_LIST)
        assert [(r.entity, r.event_type) for r in stored] == [(ghost, RULE_USER)]

        # The same rule again (new event), or with a new reason: no second ban.
        await push_state(h, rule_event(SUB_LIST, ghost, reason="scam links"))
        await push_state(h, rule_event(SUB_LIST, ghost, reason="still scamming"))
        await echo_own_rules(h)
        assert len(h.discord.ban_calls) == 1
        assert [e.action for e in await h.audits()] == ["ban"]


async def test_ghost_rule_is_case_insensitive(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await push_state(h, rule_event(SUB_LIST, f"@_discord_{UID}:EXAMPLE.org"))
        assert [call[1] for call in h.discord.ban_calls] == [UID]


async def test_glob_user_rule_bans_matching_portal_members_only(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        h.matrix.join_member(ROOM_A, ALICE, MODERATOR, ghost)
        h.matrix.join_member(ROOM_B, CAROL)
        await push_state(h, rule_event(SUB_LIST, "@*", state_key="everyone", reason="lockdown"))

        assert {r.target for r in await h.stores.bans.all("matrix")} == {ALICE, CAROL}
        assert await h.stores.bans.all("discord") == []
        assert h.discord.ban_calls == []
        banned = {user for _room, user, _reason in h.matrix.ban_calls}
        assert banned == {ALICE, CAROL}
        for target in (ALICE, CAROL):
            row = await h.stores.bans.get("matrix", target, GUILD)
            assert row is not None
            assert (row.origin, row.rule_room, row.rule_entity) == ("policy", SUB_LIST, "@*")
        assert h.matrix.bans_in(ROOM_A) == {ALICE, CAROL}


async def test_server_rule_bans_users_of_that_server(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE, SPAMMER, CAROL)
        await push_state(h, rule_event(SUB_LIST, "Evil.Example", event_type=RULE_SERVER))
        assert [r.target for r in await h.stores.bans.all()] == [SPAMMER]
        assert h.matrix.bans_in(ROOM_A) == {SPAMMER}


@pytest.mark.parametrize("entity", ["example.org", "*.org", "EXAMPLE.ORG"])
async def test_server_rule_matching_own_server_is_refused(tmp_path: Path, entity: str) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, CAROL, ALICE)
        await push_state(h, rule_event(SUB_LIST, entity, event_type=RULE_SERVER))
        assert await h.stores.bans.all() == [] and h.matrix.ban_calls == []
        (entry,) = await h.audits()
        assert (entry.action, entry.target, entry.source) == ("refused", entity, "policy")
        assert "example.org" in entry.outcome


async def test_rule_removal_lifts_the_bans_it_caused(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        ghost = h.ghost(UID)
        h.matrix.join_member(ROOM_A, SPAMMER)
        await push_state(h, rule_event(SUB_LIST, ghost))
        await push_state(h, rule_event(SUB_LIST, "evil.example", event_type=RULE_SERVER))
        # Another ban, not from these rules: it stays.
        await bans.ban_matrix_user(
            h.mctx, ALICE, reason="", actor=MODERATOR, origin="command", source="matrix"
        )
        seen = await echo_own_rules(h)

        await push_state(h, rule_event(SUB_LIST, None, state_key=f"rule:{ghost}"))
        assert not await h.stores.bans.is_banned("discord", str(UID))
        assert h.discord.unban_calls == [
            (GUILD, UID, "policy:#community:other.example: the policy rule was removed")
        ]
        assert h.matrix.bans_in(ROOM_A) >= {SPAMMER} and ghost not in h.matrix.bans_in(ROOM_A)

        await push_state(
            h, rule_event(SUB_LIST, None, event_type=RULE_SERVER, state_key="rule:evil.example")
        )
        assert [r.target for r in await h.stores.bans.all()] == [ALICE]
        assert SPAMMER not in h.matrix.bans_in(ROOM_A)
        assert await h.stores.policy_rules.all(SUB_LIST) == []
        # The bridge blanked the rules it had written for them in its own list.
        assert sorted(c[2] for c in h.matrix.set_state_calls[seen:] if c[3] == {}) == sorted(
            [f"rule:{ghost}", f"rule:{SPAMMER}"]
        )
        await echo_own_rules(h, seen)
        assert not await relay_blocked(h.mctx.bridge, SPAMMER)
        assert [r.target for r in await h.stores.bans.all()] == [ALICE]
        lifts = [e for e in await h.audits() if e.action == "unban"]
        assert len(lifts) == 2
        assert all(e.reason == "the policy rule was removed" for e in lifts)


async def test_changing_a_rules_entity_lifts_the_old_one(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE, SPAMMER)
        await push_state(h, rule_event(SUB_LIST, ALICE, state_key="r1"))
        assert await h.stores.bans.is_banned("matrix", ALICE)
        await push_state(h, rule_event(SUB_LIST, SPAMMER, state_key="r1"))
        assert not await h.stores.bans.is_banned("matrix", ALICE)
        assert await h.stores.bans.is_banned("matrix", SPAMMER)
        assert ALICE not in h.matrix.bans_in(ROOM_A)
        (stored,) = await h.stores.policy_rules.all(SUB_LIST)
        assert stored.entity == SPAMMER


async def test_legacy_mjolnir_rule_types(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE, SPAMMER)
        await push_state(
            h,
            rule_event(
                SUB_LIST,
                ALICE,
                event_type="org.matrix.mjolnir.rule.user",
                recommendation="org.matrix.mjolnir.ban",
            ),
        )
        await push_state(
            h,
            rule_event(
                SUB_LIST,
                "evil.example",
                event_type="org.matrix.mjolnir.rule.server",
                recommendation="org.matrix.mjolnir.ban",
            ),
        )
        assert {r.target for r in await h.stores.bans.all()} == {ALICE, SPAMMER}
        # Removed in the legacy spelling too.
        await push_state(
            h,
            rule_event(
                SUB_LIST, None, event_type="org.matrix.mjolnir.rule.user", state_key=f"rule:{ALICE}"
            ),
        )
        assert {r.target for r in await h.stores.bans.all()} == {SPAMMER}
        assert [r.entity for r in await h.stores.policy_rules.all(SUB_LIST)] == ["evil.example"]


async def test_rules_in_rooms_that_are_not_followed_are_ignored(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        raw = rule_event(RoomID("!unfollowed:other.example"), ALICE)
        assert not await lists.on_state_event(h.mctx, raw)
        await push_state(h, raw)
        assert len(h.mctx.state.policy) == 0
        assert await h.stores.bans.all() == [] and await h.stores.policy_rules.all() == []
        # A portal room's own state (a topic, say) is no policy change either.
        topic: dict[str, object] = {
            "type": "m.room.topic",
            "room_id": SUB_LIST,
            "state_key": "",
            "content": {},
        }
        assert not await lists.on_state_event(h.mctx, topic)


async def test_non_ban_recommendations_are_inert(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        assert await lists.on_state_event(
            h.mctx, rule_event(SUB_LIST, ALICE, recommendation="org.example.watch")
        )
        assert len(h.mctx.state.policy) == 1
        assert await h.stores.bans.all() == [] and h.matrix.ban_calls == []
        assert not await relay_blocked(h.mctx.bridge, ALICE)
        await member_event(h, ROOM_B, ALICE, ALICE, "join", None)
        assert h.matrix.ban_calls == []


async def test_rule_no_longer_a_ban_lifts_its_bans(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        await push_state(h, rule_event(SUB_LIST, ALICE))
        assert await h.stores.bans.is_banned("matrix", ALICE)
        await push_state(h, rule_event(SUB_LIST, ALICE, recommendation="org.example.watch"))
        assert not await h.stores.bans.is_banned("matrix", ALICE)


async def test_setup_makes_rooms_and_loads_lists(tmp_path: Path) -> None:
    async with moderation_context(
        tmp_path, subscriptions=["#community:other.example", "#gone:other.example"]
    ) as h:
        state = h.mctx.state
        state.policy_room = state.mod_room = None
        state.list_rooms.clear()
        h.matrix.joinable["#community:other.example"] = SUB_LIST
        h.matrix.state[SUB_LIST] = [
            rule_event(SUB_LIST, "evil.example", event_type=RULE_SERVER),
            rule_event(SUB_LIST, ALICE, recommendation="org.example.watch"),
            {"type": "m.room.name", "state_key": "", "content": {"name": "Community"}},
        ]
        h.matrix.join_member(ROOM_A, SPAMMER)

        await startup.start_moderation(h.mctx)

        assert state.policy_room == RoomID("!created1:example.org")
        assert state.mod_room == RoomID("!created2:example.org")
        assert [c[2] for c in h.matrix.created] == [(MODERATOR,), (MODERATOR,)]
        assert await h.stores.bridge_rooms.get("policy") == state.policy_room
        assert set(state.list_rooms) == {state.policy_room, SUB_LIST}
        assert len(await h.stores.policy_rules.all(SUB_LIST)) == 2
        # Moderators may ban in every portal room; the rule met at start-up applies.
        assert {(room, level) for room, _users, level in h.matrix.raised} >= {
            (ROOM_A, 50),
            (ROOM_B, 50),
        }
        assert await h.stores.bans.is_banned("matrix", SPAMMER)


# -- start-up reconciliation ---------------------------------------------------------


async def test_reconcile_discord_bans(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        missed, lifted_d, lifted_s, kept_m = (
            DiscordUserID(5000000000000000000 + i) for i in range(4)
        )
        h.discord.guild_bans = {missed: "raid while down", kept_m: None}
        for uid, origin in ((lifted_d, "discord"), (lifted_s, "startup"), (kept_m, "matrix")):
            await h.stores.bans.put(BanRow("discord", str(uid), "", "x", origin, guild_id=GUILD))  # type: ignore[arg-type]
            h.matrix.memberships[(ROOM_A, h.ghost(uid))] = "ban"
        matrix_only = DiscordUserID(5000000000000000010)  # banned on Matrix, ban_on_discord off
        await h.stores.bans.put(
            BanRow("discord", str(matrix_only), "", "x", "matrix", guild_id=GUILD)
        )

        added, lifted = await startup.reconcile_discord_bans(h.mctx)

        assert (added, lifted) == (1, 2)
        row = await h.stores.bans.get("discord", str(missed), GUILD)
        assert row is not None and (row.origin, row.reason) == ("startup", "raid while down")
        assert h.matrix.bans_in(ROOM_A) == {h.ghost(missed), h.ghost(kept_m)}
        assert h.matrix.bans_in(ROOM_B) == {h.ghost(missed)}
        remaining = {int(r.target) for r in await h.stores.bans.all("discord")}
        assert remaining == {missed, kept_m, matrix_only}
        assert h.ghost(lifted_d) not in h.matrix.bans_in(ROOM_A)
        assert h.ghost(lifted_s) not in h.matrix.bans_in(ROOM_A)
        assert h.discord.ban_calls == [] and h.discord.unban_calls == []
        assert sorted(e.action for e in await h.audits()) == ["ban", "unban", "unban"]
        assert {e.source for e in await h.audits()} == {"startup"}
        # Nothing more to do on a second pass.
        assert await startup.reconcile_discord_bans(h.mctx) == (0, 0)


# -- commands ------------------------------------------------------------------------


async def test_matrix_non_moderator_is_refused(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.levels[MOD_ROOM] = {"users": {ALICE: 10}, "ban": 50}
        answer = await matrix_command(h, f"!mod ban {CAROL} spam", sender=ALICE)
        assert answer == "Only moderators can use moderation commands."
        assert await h.stores.bans.all() == [] and h.matrix.ban_calls == []


async def test_matrix_moderator_by_config_or_power_level(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.levels[MOD_ROOM] = {"users": {ROOM_ADMIN: 50}, "ban": 50}
        answer = await matrix_command(h, f"!mod ban {CAROL} spam", sender=MODERATOR)
        assert answer is not None and answer.startswith(f"Banned {CAROL}")
        answer = await matrix_command(h, f"!mod ban {ALICE} spam", sender=ROOM_ADMIN)
        assert answer is not None and answer.startswith(f"Banned {ALICE}")
        assert {r.target for r in await h.stores.bans.all()} == {ALICE, CAROL}
        rows = {r.target: r for r in await h.stores.bans.all()}
        assert rows[ALICE].moderator == ROOM_ADMIN and rows[ALICE].origin == "command"


async def test_matrix_messages_that_are_no_commands(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        m = h.mctx
        assert not await run_commands.on_matrix_message(m, MOD_ROOM, MODERATOR, "hello", None)
        assert not await run_commands.on_matrix_message(m, ROOM_A, MODERATOR, "!mod bans", None)
        assert not await run_commands.on_matrix_message(m, MOD_ROOM, BOT, "!mod bans", None)
        assert h.matrix.notices == []
        # Through the dispatcher: a command in the moderators' room is consumed.
        raw = {
            "type": "m.room.message",
            "room_id": MOD_ROOM,
            "sender": MODERATOR,
            "event_id": "$cmd",
            "content": {"msgtype": "m.text", "body": "!mod bans"},
        }
        assert await ModerationDispatch(m).on_matrix_event(raw)
        assert h.matrix.notices == [(MOD_ROOM, "No shared bans.")]


async def test_command_errors_are_answered(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        answer = await matrix_command(h, "!mod bna x", sender=ALICE)
        assert answer is not None and "Unknown command 'bna'" in answer
        assert await run_commands.on_discord_message(h.mctx, discord_message("!mod ban", UID))
        assert h.discord.posts[-1][1].startswith("Who should be banned?")


async def test_discord_non_moderator_is_refused(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.add_member(int(UID), "pleb", permissions=0)
        for author in (UID, OTHER_UID):  # a member without Ban Members; an unknown member
            assert await run_commands.on_discord_message(
                h.mctx, discord_message(f"!mod ban {ALICE}", author)
            )
            assert h.discord.posts[-1] == (
                MOD_CHANNEL,
                "Only members with Ban Members can use these commands.",
            )
        assert await h.stores.bans.all() == []


async def test_discord_commands_from_elsewhere_or_bots_are_ignored(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.add_member(int(DISCORD_MOD), "boss", permissions=BAN_MEMBERS)
        bot = discord_message("!mod bans", DISCORD_MOD, bot=True)
        assert not await run_commands.on_discord_message(h.mctx, bot)
        other = discord_message("!mod bans", DISCORD_MOD)
        other = dataclasses.replace(other, channel_id=ChannelID(42))
        assert not await run_commands.on_discord_message(h.mctx, other)
        await ModerationDispatch(h.mctx).on_discord_message(discord_message("hello", DISCORD_MOD))
        assert h.discord.posts == []


async def test_discord_moderator_bans_matrix_user(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.add_member(int(DISCORD_MOD), "boss", is_owner=True)
        h.matrix.join_member(ROOM_A, ALICE)
        await ModerationDispatch(h.mctx).on_discord_message(
            discord_message(f"!mod ban {ALICE} flooding", DISCORD_MOD)
        )
        reply = h.discord.posts[-1]
        assert reply[0] == MOD_CHANNEL and reply[1].startswith(f"Banned {ALICE}")
        row = await h.stores.bans.get("matrix", ALICE, GUILD)
        assert row is not None and row.moderator == f"discord:{DISCORD_MOD}"
        assert h.matrix.bans_in(ROOM_A) == h.matrix.bans_in(ROOM_B) == {ALICE}
        (entry,) = await h.audits()
        assert entry.source == "discord" and entry.reason == "flooding"


async def test_command_ban_of_discord_user(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, ban_on_discord=False) as h:
        answer = await matrix_command(h, f"!mod ban <@{UID}> scam")
        assert answer == f"Banned Discord user {UID} on Discord and in every bridged room."
        # Commands ban on Discord even with ban_on_discord off (that is for Element's button).
        assert h.discord.ban_calls == [(GUILD, UID, f"{MODERATOR}: scam", 0)]
        assert h.matrix.bans_in(ROOM_A) == {h.ghost(UID)}
        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None and row.origin == "command"
        # By ghost MXID, too.
        answer = await matrix_command(h, f"!mod ban {h.ghost(OTHER_UID)}")
        assert answer is not None and str(OTHER_UID) in answer
        assert h.discord.ban_calls[-1][1] == OTHER_UID


async def test_command_ban_refusals(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.add_member(int(DISCORD_MOD), "boss", permissions=BAN_MEMBERS)
        assert await matrix_command(h, f"!mod ban {BOT_USER}") == "The bridge cannot ban itself."
        answer = await matrix_command(h, f"!mod ban {DISCORD_MOD}")
        assert answer is not None and "is a moderator" in answer
        answer = await matrix_command(h, f"!mod kick {DISCORD_MOD}")
        assert answer is not None and "are not kicked" in answer
        answer = await matrix_command(h, f"!mod ban {MODERATOR}")
        assert answer is not None and "not banned by command" in answer
        answer = await matrix_command(h, f"!mod ban {BOT}")
        assert answer is not None and "not banned by command" in answer
        answer = await matrix_command(h, f"!mod kick {MODERATOR}")
        assert answer is not None and "not kicked by command" in answer
        assert await h.stores.bans.all() == []
        assert h.discord.ban_calls == h.discord.kick_calls == [] and h.matrix.ban_calls == []


async def test_command_unban(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await matrix_command(h, f"!mod ban {UID} scam")
        await matrix_command(h, f"!mod ban {ALICE}")
        assert await matrix_command(h, f"!mod unban {UID} appeal") == (
            f"Unbanned Discord user {UID} on both sides."
        )
        assert h.discord.unban_calls == [(GUILD, UID, f"{MODERATOR}: appeal")]
        assert h.ghost(UID) not in h.matrix.bans_in(ROOM_A)
        assert await matrix_command(h, f"!mod unban {ALICE}") == (
            f"Unbanned {ALICE} in every bridged room."
        )
        assert h.matrix.bans_in(ROOM_A) == h.matrix.bans_in(ROOM_B) == set()
        assert await matrix_command(h, f"!mod unban {ALICE}") == f"{ALICE} has no shared ban."
        # A Discord ban the bridge never recorded is lifted on Discord anyway.
        await matrix_command(h, f"!mod unban {OTHER_UID} old ban")
        assert h.discord.unban_calls[-1] == (GUILD, OTHER_UID, f"{MODERATOR}: old ban")
        assert [e.action for e in await h.audits()] == ["ban", "ban", "unban", "unban"]


async def test_command_kick(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE)
        h.matrix.join_member(ROOM_B, ALICE)
        assert await matrix_command(h, f"!mod kick {ALICE} cool off") == (
            f"{ALICE}: kicked from 2 rooms."
        )
        assert h.matrix.kick_calls == [(ROOM_A, ALICE, "cool off"), (ROOM_B, ALICE, "cool off")]
        assert await matrix_command(h, f"!mod kick {UID}") == f"{UID}: kicked from the server."
        assert h.discord.kick_calls == [(GUILD, UID, MODERATOR)]
        h.discord.may_kick = False
        assert await matrix_command(h, f"!mod kick {OTHER_UID} x") == (
            f"{OTHER_UID}: could not kick."
        )
        assert await h.stores.bans.all() == []
        assert [e.action for e in await h.audits()] == ["kick"] * 3


async def test_command_name_resolution(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.add_member(int(UID), "Alex", "alex_d")
        h.discord.add_member(int(OTHER_UID), "Bobby", "bobby")
        h.matrix.join_member(ROOM_A, ALICE)
        h.relay_matrix.names[(ROOM_A, ALICE)] = "alex"

        answer = await matrix_command(h, "!mod ban Alex spam")
        assert answer is not None and answer.startswith("2 people are called 'Alex'")
        assert f"ID {UID}" in answer and ALICE in answer
        assert await h.stores.bans.all() == [] and h.discord.ban_calls == []

        answer = await matrix_command(h, "!mod ban nobody-here")
        assert answer is not None and answer.startswith("Nobody called 'nobody-here'")

        answer = await matrix_command(h, "!mod ban BOBBY spam")
        assert answer == f"Banned Discord user {OTHER_UID} on Discord and in every bridged room."
        answer = await matrix_command(h, "!mod ban alex_d")
        assert answer is not None and str(UID) in answer
        answer = await matrix_command(h, "!mod kick alice")  # the MXID's localpart
        assert answer == f"{ALICE}: kicked from 1 room."


async def test_command_rules(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        answer = await matrix_command(h, "!mod rule ban example.org spam")
        assert answer is not None and "this homeserver" in answer
        answer = await matrix_command(h, "!mod rule ban *.evil.example spam")
        assert answer is not None and "force" in answer
        answer = await matrix_command(h, "!mod rule ban @_discord_*:example.org")
        assert answer is not None and "bridge" in answer
        assert h.matrix.set_state_calls == [] and await h.audits() == []

        h.matrix.join_member(ROOM_A, SPAMMER)
        answer = await matrix_command(h, "!mod rule ban *.evil.example spam --force")
        assert answer == "Published a ban rule for *.evil.example."
        answer = await matrix_command(h, f"!mod rule ban {SPAMMER} phishing")
        assert answer == f"Published a ban rule for {SPAMMER}."
        assert h.matrix.set_state_calls == [
            (
                POLICY_ROOM,
                RULE_SERVER,
                "rule:*.evil.example",
                {"entity": "*.evil.example", "recommendation": "m.ban", "reason": "spam"},
            ),
            (
                POLICY_ROOM,
                RULE_USER,
                f"rule:{SPAMMER}",
                {"entity": SPAMMER, "recommendation": "m.ban", "reason": "phishing"},
            ),
        ]
        # The rule applies at once; its echo from the homeserver changes nothing.
        assert await h.stores.bans.is_banned("matrix", SPAMMER)
        bans_before = list(h.discord.ban_calls)
        await echo_own_rules(h)
        assert h.discord.ban_calls == bans_before

        assert await matrix_command(h, f"!mod rule unban {SPAMMER}") == (
            f"Removed the rule for {SPAMMER}."
        )
        assert h.matrix.set_state_calls[-1] == (POLICY_ROOM, RULE_USER, f"rule:{SPAMMER}", {})
        assert not await h.stores.bans.is_banned("matrix", SPAMMER)
        await echo_own_rules(h, 2)
        assert not await h.stores.bans.is_banned("matrix", SPAMMER)
        actions = [e.action for e in await h.audits()]
        assert actions[:2] == ["rule-add", "rule-add"] and "rule-remove" in actions


async def test_command_listings_and_help(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        assert await matrix_command(h, "!mod bans") == "No shared bans."
        await matrix_command(h, f"!mod ban {ALICE} flooding")
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        answer = await matrix_command(h, "!mod bans")
        assert answer is not None and answer.startswith("2 shared bans:")
        assert f"- {ALICE} by {MODERATOR}: flooding" in answer
        assert f"- Discord user {UID} by a Discord moderator" in answer

        await push_state(h, rule_event(SUB_LIST, "evil.example", event_type=RULE_SERVER))
        answer = await matrix_command(h, "!mod lists")
        assert answer is not None and answer.startswith("Policy lists followed:")
        assert f"- #community:other.example ({SUB_LIST}): 1 rule" in answer
        # The bridge's list holds the two shared bans' rules (written at once).
        assert f"({POLICY_ROOM}): 2 rules" in answer

        answer = await matrix_command(h, "!mod help")
        assert answer is not None and answer.startswith("Moderation commands:")
        assert await matrix_command(h, "!mod") == answer
