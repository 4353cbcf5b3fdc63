"""Moderation across several guilds, with fakes: ``moderation.ban_scope`` guild and
party, commands per guild's moderators' channel, the relay gate per room's guild,
start-up reconciliation per guild, members-only decided per guild."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge.db import BanRow
from bridge.ids import DiscordUserID, GuildID, MessageID, UserID
from bridge.model import DiscordAuthor, DiscordMessage
from moderation import bans, lists, membership, run_commands, startup
from moderation.gate import relay_blocked
from tests.moderation.fakes import (
    BAN_MEMBERS,
    CHANNEL_B,
    GUILD,
    GUILD_2,
    GUILD_3,
    MEMBER_ROLE_1,
    MEMBER_ROLE_2,
    MOD_CHANNEL,
    MOD_CHANNEL_2,
    MOD_CHANNEL_3,
    MOD_ROOM,
    POLICY_ROOM,
    ROOM_A,
    ROOM_B,
    ROOM_C,
    ROOM_D,
    ROOM_E,
    SUB_LIST,
    Harness,
    moderation_context,
)
from tests.moderation.test_flows import matrix_command, member_event, push_state, rule_event

UID = DiscordUserID(5000000000000000001)
DISCORD_MOD = DiscordUserID(5000000000000000009)
ALICE = UserID("@alice:other.example")
ROOM_ADMIN = UserID("@admin:example.org")
ALL_ROOMS = (ROOM_A, ROOM_B, ROOM_C, ROOM_D, ROOM_E)
CHANNELS = {GUILD: MOD_CHANNEL, GUILD_2: MOD_CHANNEL_2, GUILD_3: MOD_CHANNEL_3}


def banned_rooms(h: Harness, user: UserID) -> set[str]:
    return {room for room in ALL_ROOMS if user in h.matrix.bans_in(room)}


async def guilds_of(h: Harness, side: str, target: str) -> dict[GuildID, str]:
    rows = await h.stores.bans.of(side, target)  # type: ignore[arg-type]
    return {row.guild_id: row.origin for row in rows}


def discord_command(
    text: str, author: DiscordUserID, channel: int, guild: GuildID
) -> DiscordMessage:
    return DiscordMessage(
        id=MessageID(1),
        channel_id=channel,  # type: ignore[arg-type]
        guild_id=guild,
        author=DiscordAuthor(author, f"user{author}"),
        content=text,
        timestamp_ms=1_700_000_000_000,
    )


# -- ban_scope: guild ----------------------------------------------------------------


async def test_guild_scope_discord_ban_stays_in_its_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        ghost = h.ghost(UID)
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ghost)
        h.discord.authors_in[GUILD_2] = {UID: (DISCORD_MOD, "raid")}
        await bans.on_discord_ban(h.mctx, GUILD_2, UID)
        assert await guilds_of(h, "discord", str(UID)) == {GUILD_2: "discord"}
        assert banned_rooms(h, ghost) == {ROOM_C, ROOM_D}
        assert h.discord.ban_calls == []  # it came from Discord, and goes nowhere else
        # Not published: the party's list would carry one federation's ban everywhere.
        assert h.matrix.set_state_calls == []
        (entry,) = await h.audits()
        assert entry.guild_id == GUILD_2
        assert [c for c, _ in h.discord.posts] == [MOD_CHANNEL_2]
        ((room, line),) = h.matrix.notices
        assert room == MOD_ROOM and " in Nord" in line and "raid" in line


async def test_guild_scope_element_ban_of_a_ghost_bans_in_the_rooms_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        ghost = h.ghost(UID)
        await member_event(h, ROOM_A, ROOM_ADMIN, ghost, "ban", "join", "spam")
        assert [(g, u) for g, u, _, _ in h.discord.ban_calls] == [(GUILD, UID)]
        assert await guilds_of(h, "discord", str(UID)) == {GUILD: "matrix"}
        assert banned_rooms(h, ghost) == {ROOM_A, ROOM_B}
        # Its echo from Discord changes nothing.
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        assert len(await h.audits()) == 1
        # Lifted in Element: on G's Discord only.
        await member_event(h, ROOM_B, ROOM_ADMIN, ghost, "leave", "ban", "appeal")
        assert [(g, u) for g, u, _ in h.discord.unban_calls] == [(GUILD, UID)]
        assert await h.stores.bans.of("discord", str(UID)) == []


async def test_guild_scope_matrix_ban_blocks_relay_into_that_guild_only(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ALICE)
        await member_event(h, ROOM_C, ROOM_ADMIN, ALICE, "ban", "join", "trolling")
        assert await guilds_of(h, "matrix", ALICE) == {GUILD_2: "matrix"}
        assert banned_rooms(h, ALICE) == {ROOM_C, ROOM_D}
        ctx = h.mctx.bridge
        assert await relay_blocked(ctx, ALICE, ROOM_C)
        assert await relay_blocked(ctx, ALICE, ROOM_D)
        assert not await relay_blocked(ctx, ALICE, ROOM_A)
        assert not await relay_blocked(ctx, ALICE, ROOM_E)
        # Joining a room of another guild is fine; of the same guild, refused.
        h.matrix.memberships[(ROOM_D, ALICE)] = "leave"
        assert not await bans.enforce_on_join(h.mctx, ROOM_A, ALICE)
        assert await bans.enforce_on_join(h.mctx, ROOM_D, ALICE)
        # The unban in a room of that guild lifts it there.
        await member_event(h, ROOM_D, ROOM_ADMIN, ALICE, "leave", "ban")
        assert await h.stores.bans.of("matrix", ALICE) == []
        assert not await relay_blocked(ctx, ALICE, ROOM_C)


async def test_guild_scope_unban_in_one_guild_keeps_the_others(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        await bans.on_discord_ban(h.mctx, GUILD_2, UID)
        await bans.on_discord_unban(h.mctx, GUILD_2, UID)
        assert await guilds_of(h, "discord", str(UID)) == {GUILD: "discord"}
        assert banned_rooms(h, h.ghost(UID)) == {ROOM_A, ROOM_B}
        assert h.discord.unban_calls == []  # lifted on Discord already


async def test_matrix_room_commands_and_policy_rules_apply_in_every_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        answer = await matrix_command(h, f"!mod ban {UID} scam")
        assert answer == f"Banned Discord user {UID} on Discord and in every bridged room."
        assert sorted(g for g, *_ in h.discord.ban_calls) == [GUILD, GUILD_2, GUILD_3]
        assert await guilds_of(h, "discord", str(UID)) == {
            GUILD: "command",
            GUILD_2: "command",
            GUILD_3: "command",
        }
        assert len(await h.audits()) == 3  # one line per guild
        posted = sorted(c for c, _ in h.discord.posts)
        assert posted == sorted(CHANNELS.values())
        # Held in every guild: published in the bridge's list.
        assert [c[0] for c in h.matrix.set_state_calls] == [POLICY_ROOM]
        # A rule of a followed list too, whatever ban_scope.
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ALICE)
        await push_state(h, rule_event(SUB_LIST, ALICE, reason="spam"))
        assert set(await guilds_of(h, "matrix", ALICE)) == {GUILD, GUILD_2, GUILD_3}
        assert banned_rooms(h, ALICE) == set(ALL_ROOMS)
        # ...and removing it lifts exactly what it caused, everywhere.
        await push_state(h, rule_event(SUB_LIST, None, state_key=f"rule:{ALICE}"))
        assert await h.stores.bans.of("matrix", ALICE) == []


async def test_a_rule_does_not_take_over_a_guilds_own_ban(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ALICE)
        await member_event(h, ROOM_C, ROOM_ADMIN, ALICE, "ban", "join", "own")
        await push_state(h, rule_event(SUB_LIST, ALICE, reason="listed"))
        assert await guilds_of(h, "matrix", ALICE) == {
            GUILD: "policy",
            GUILD_2: "matrix",
            GUILD_3: "policy",
        }
        await push_state(h, rule_event(SUB_LIST, None, state_key=f"rule:{ALICE}"))
        assert await guilds_of(h, "matrix", ALICE) == {GUILD_2: "matrix"}


async def test_commands_in_a_guilds_channel_act_in_that_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        # Ban Members in HQ counts for nothing in Nord's channel.
        h.discord.add_member(int(DISCORD_MOD), "boss", permissions=BAN_MEMBERS, guild=GUILD)
        h.discord.add_member(int(DISCORD_MOD), "boss", guild=GUILD_2)
        await run_commands.on_discord_message(
            h.mctx, discord_command(f"!mod ban {UID}", DISCORD_MOD, MOD_CHANNEL_2, GUILD_2)
        )
        assert h.discord.posts[-1] == (
            MOD_CHANNEL_2,
            "Only members with Ban Members can use these commands.",
        )
        h.discord.add_member(int(DISCORD_MOD), "boss", permissions=BAN_MEMBERS, guild=GUILD_2)
        # Names are looked up among Nord's members: HQ's Mallory is nobody there.
        h.discord.add_member(int(UID), "Mallory", guild=GUILD)
        await run_commands.on_discord_message(
            h.mctx, discord_command("!mod ban Mallory", DISCORD_MOD, MOD_CHANNEL_2, GUILD_2)
        )
        assert h.discord.posts[-1][1].startswith("Nobody called 'Mallory'")
        h.discord.add_member(int(UID), "Mallory", guild=GUILD_2)
        await run_commands.on_discord_message(
            h.mctx, discord_command("!mod ban Mallory raid", DISCORD_MOD, MOD_CHANNEL_2, GUILD_2)
        )
        assert h.discord.posts[-1] == (
            MOD_CHANNEL_2,
            f"Banned Discord user {UID} on Discord and in the bridged rooms of Nord.",
        )
        assert [g for g, *_ in h.discord.ban_calls] == [GUILD_2]
        assert await guilds_of(h, "discord", str(UID)) == {GUILD_2: "command"}
        assert banned_rooms(h, h.ghost(UID)) == {ROOM_C, ROOM_D}
        # A moderator of the guild is refused, as before.
        await run_commands.on_discord_message(
            h.mctx, discord_command(f"!mod ban {DISCORD_MOD}", DISCORD_MOD, MOD_CHANNEL_2, GUILD_2)
        )
        assert "is a moderator" in h.discord.posts[-1][1]
        # !mod bans in Nord's channel lists Nord's bans.
        await member_event(h, ROOM_A, ROOM_ADMIN, ALICE, "ban", "join")
        await run_commands.on_discord_message(
            h.mctx, discord_command("!mod bans", DISCORD_MOD, MOD_CHANNEL_2, GUILD_2)
        )
        assert h.discord.posts[-1][1].startswith("1 shared ban:\n- Discord user")


# -- ban_scope: party ----------------------------------------------------------------


async def test_party_scope_discord_ban_applies_in_every_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3, ban_scope="party") as h:
        ghost = h.ghost(UID)
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ghost)
        h.discord.authors_in[GUILD_2] = {UID: (DISCORD_MOD, "raid")}
        await bans.on_discord_ban(h.mctx, GUILD_2, UID)
        assert await guilds_of(h, "discord", str(UID)) == {
            GUILD: "party",
            GUILD_2: "discord",
            GUILD_3: "party",
        }
        assert sorted(g for g, *_ in h.discord.ban_calls) == [GUILD, GUILD_3]
        assert banned_rooms(h, ghost) == set(ALL_ROOMS)
        entries = await h.audits()
        assert [e.guild_id for e in entries] == [GUILD_2, GUILD, GUILD_3]  # where it was first
        for channel, line in h.discord.posts:
            guild = next(g for g, c in CHANNELS.items() if c == channel)
            name = {GUILD: "HQ", GUILD_2: "Nord", GUILD_3: "Yvelines"}[guild]
            assert f" in {name}. " in line
        assert len(h.discord.posts) == 3 and len(h.matrix.notices) == 3
        # The echoes of the bridge's own bans change nothing.
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        await bans.on_discord_ban(h.mctx, GUILD_3, UID)
        assert len(await h.audits()) == 3
        # An unban in any guild mirrors: lifted everywhere, on the other servers too.
        await bans.on_discord_unban(h.mctx, GUILD_3, UID)
        assert await h.stores.bans.of("discord", str(UID)) == []
        assert sorted(g for g, *_ in h.discord.unban_calls) == [GUILD, GUILD_2]
        assert banned_rooms(h, ghost) == set()
        assert len(await h.audits()) == 6


async def test_party_scope_element_ban_applies_everywhere(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3, ban_scope="party") as h:
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ALICE)
        await member_event(h, ROOM_E, ROOM_ADMIN, ALICE, "ban", "join", "spam")
        assert set(await guilds_of(h, "matrix", ALICE)) == {GUILD, GUILD_2, GUILD_3}
        assert banned_rooms(h, ALICE) == set(ALL_ROOMS)
        assert await relay_blocked(h.mctx.bridge, ALICE, ROOM_A)
        assert len(await h.audits()) == 3


async def test_party_scope_command_from_a_guild_channel_applies_everywhere(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3, ban_scope="party") as h:
        h.discord.add_member(int(DISCORD_MOD), "boss", permissions=BAN_MEMBERS, guild=GUILD_3)
        await run_commands.on_discord_message(
            h.mctx, discord_command(f"!mod ban {UID}", DISCORD_MOD, MOD_CHANNEL_3, GUILD_3)
        )
        assert sorted(g for g, *_ in h.discord.ban_calls) == [GUILD, GUILD_2, GUILD_3]


async def test_linked_account_follows_per_scope(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        await h.stores.links.link(ALICE, UID)
        await bans.on_discord_ban(h.mctx, GUILD_2, UID)
        assert await guilds_of(h, "matrix", ALICE) == {GUILD_2: "discord"}
        assert await relay_blocked(h.mctx.bridge, ALICE, ROOM_C)
        assert not await relay_blocked(h.mctx.bridge, ALICE, ROOM_A)
        await bans.on_discord_unban(h.mctx, GUILD_2, UID)
        assert await h.stores.bans.of("matrix", ALICE) == []
    (tmp_path / "party").mkdir()
    async with moderation_context(tmp_path / "party", guilds=3, ban_scope="party") as h:
        await h.stores.links.link(ALICE, UID)
        await bans.on_discord_ban(h.mctx, GUILD_2, UID)
        assert set(await guilds_of(h, "matrix", ALICE)) == {GUILD, GUILD_2, GUILD_3}
        await bans.on_discord_unban(h.mctx, GUILD, UID)
        assert await h.stores.bans.of("matrix", ALICE) == []


# -- start-up ------------------------------------------------------------------------


async def test_reconcile_runs_per_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        gone = DiscordUserID(5000000000000000003)
        h.discord.bans_in[GUILD_2] = {UID: "raid while down"}
        await h.stores.bans.put(BanRow("discord", str(gone), "", "x", "discord", guild_id=GUILD_3))
        # A guild whose bans cannot be listed is left alone.
        await h.stores.bans.put(BanRow("discord", str(gone), "", "x", "discord", guild_id=GUILD))
        h.discord.bans_unlisted.add(GUILD)
        assert await startup.reconcile_discord_bans(h.mctx) == (1, 1)
        assert await guilds_of(h, "discord", str(UID)) == {GUILD_2: "startup"}
        assert await guilds_of(h, "discord", str(gone)) == {GUILD: "discord"}
        assert h.discord.ban_calls == [] and h.discord.unban_calls == []


async def test_party_copies_survive_a_restart_where_discord_refused(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3, ban_scope="party") as h:
        h.discord.refuses_bans_in.add(GUILD_3)  # the bridge lacks Ban Members there
        h.discord.bans_in[GUILD_2] = {UID: "raid"}
        await bans.on_discord_ban(h.mctx, GUILD_2, UID)
        assert UID not in h.discord.bans_in.get(GUILD_3, {})
        # At the next start, Yvelines' missing Discord ban does not lift the party's.
        assert await startup.reconcile_discord_bans(h.mctx) == (0, 0)
        assert set(await guilds_of(h, "discord", str(UID))) == {GUILD, GUILD_2, GUILD_3}
        # Lifted on Nord's Discord while down: lifted everywhere.
        h.discord.bans_in[GUILD_2] = {}
        assert await startup.reconcile_discord_bans(h.mctx) == (0, 1)
        assert await h.stores.bans.of("discord", str(UID)) == []
        assert UID not in h.discord.bans_in[GUILD]


async def test_legacy_bans_are_adopted_at_start(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        await h.stores.bans.put(BanRow("discord", str(UID), "", "x", "discord"))  # guild 0
        await h.stores.bans.put(BanRow("matrix", ALICE, "", "x", "command"))
        assert await startup.adopt_legacy_bans(h.mctx) == 2
        assert await guilds_of(h, "discord", str(UID)) == {GUILD: "discord"}
        assert set(await guilds_of(h, "matrix", ALICE)) == {GUILD, GUILD_2, GUILD_3}


# -- members-only per guild ----------------------------------------------------------


async def test_members_only_is_decided_per_guild(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, guilds=3) as h:
        await h.stores.portals.set_access(CHANNEL_B, "members_only")  # HQ's members room
        await h.stores.links.link(ALICE, UID)
        # A Member in Nord, not in HQ (there, another guild's role counts for nothing).
        h.discord.roles_in[GUILD_2] = {UID: (MEMBER_ROLE_2,)}
        h.discord.roles_in[GUILD] = {UID: (MEMBER_ROLE_2,)}
        assert (await membership.decide(h.mctx, ALICE, GUILD_2)).allowed
        assert not (await membership.decide(h.mctx, ALICE, GUILD)).allowed
        assert (await membership.recheck(h.mctx, ALICE)) == (1, 0)
        assert h.matrix.invite_calls == [(ROOM_D, ALICE)]
        # Invited to HQ's members room by someone: refused.
        h.matrix.memberships[(ROOM_B, ALICE)] = "invite"
        assert await membership.on_join(h.mctx, ROOM_B, ALICE)
        assert not await membership.on_join(h.mctx, ROOM_D, ALICE)
        # Given HQ's member role: a role change in HQ re-checks HQ's rooms only.
        h.discord.roles_in[GUILD] = {UID: (MEMBER_ROLE_1,)}
        h.discord.roles_in[GUILD_2] = {}  # (not re-checked: no event from Nord)
        await membership.on_discord_roles(h.mctx, GUILD, UID)
        assert h.matrix.invite_calls[-1] == (ROOM_B, ALICE)
        assert h.matrix.memberships[(ROOM_D, ALICE)] == "invite"
        # Nord's event: removed from Nord's room.
        await membership.on_discord_roles(h.mctx, GUILD_2, UID)
        assert h.matrix.memberships[(ROOM_D, ALICE)] == "leave"
        # Discord unreachable for a guild: refused there (fails closed).
        h.discord.roles_in[GUILD_2] = {UID: (MEMBER_ROLE_2,)}
        h.discord.unreachable.add(GUILD_2)
        assert not (await membership.decide(h.mctx, ALICE, GUILD_2)).allowed
        # The allowlist is party-wide.
        config = h.mctx.bridge.config
        members = dataclasses.replace(config.members, allowlist=(ALICE,))
        h.mctx.bridge.config = dataclasses.replace(config, members=members)
        assert (await membership.decide(h.mctx, ALICE, GUILD_2)).allowed
        assert (await membership.decide(h.mctx, ALICE, GUILD_3)).allowed


async def test_lists_module_sees_every_guild(tmp_path: Path) -> None:
    """reapply_all at start-up skips targets banned in every guild already."""
    async with moderation_context(tmp_path, guilds=3) as h:
        for room in ALL_ROOMS:
            h.matrix.join_member(room, ALICE)
        await push_state(h, rule_event(SUB_LIST, ALICE, reason="spam"))
        audits = len(await h.audits())
        assert await lists.reapply_all(h.mctx) == 0
        assert len(await h.audits()) == audits
