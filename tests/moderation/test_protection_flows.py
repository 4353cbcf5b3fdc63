"""Protections carried out against fake networks (moderation.protections.enforce and
the ``!mod protections`` / ``protection`` / ``unmute`` commands)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from bridge.db import MessageRow
from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID, UserID
from bridge.model import DiscordAuthor, DiscordMessage, MatrixEdit, MatrixMessage
from moderation.commands import parse_command
from moderation.protections.enforce import carry_out, resume_mutes
from moderation.protections.rules import Flooding
from moderation.protections.runtime import Protections
from moderation.run_commands import run
from tests.moderation.fakes import (
    BAN_MEMBERS,
    CHANNEL_A,
    CHANNEL_B,
    GUILD,
    MOD_ROOM,
    MODERATOR,
    ROOM_A,
    ROOM_B,
    moderation_context,
)

SPAMMER = UserID("@spammer:evil.example")
RAIDER = DiscordUserID(1311000000000000777)  # a snowflake of late 2024


def pills(n: int) -> str:
    return "".join(f'<a href="https://matrix.to/#/@u{i}:x">u{i}</a> ' for i in range(n))


def spam_event(n: int = 12) -> MatrixMessage:
    return MatrixMessage(
        ROOM_A, EventID("$spam"), SPAMMER, "m.text", "hi all", formatted_body=pills(n)
    )


async def test_matrix_mention_spam_is_held_the_author_muted_and_moderators_told(
    tmp_path: Path,
) -> None:
    async with moderation_context(tmp_path) as h:
        protections = Protections(h.mctx)
        found = protections.check_matrix(spam_event())
        assert found is not None and found[0].protection == "mentions"
        assert await carry_out(protections, *found)  # held: not relayed
        # Muted below the writing level in both portal rooms.
        for room in (ROOM_A, ROOM_B):
            assert h.matrix.levels[room]["users"][SPAMMER] == -1
        # The author is told in the room, in plain words.
        room, _bot, text, _ts = h.relay_matrix.sent[-1]
        assert room == ROOM_A and "mentions too many people" in text.body
        assert "You cannot write for 10 minutes." in text.body
        # The moderators: one line per action, each with its way back.
        lines = [t for r, t in h.matrix.notices if r == MOD_ROOM]
        assert any("The mentions protection held a message from " + SPAMMER in t for t in lines)
        mute = next(t for t in lines if "muted" in t)
        assert f"!mod unmute {SPAMMER}" in mute
        actions = [e.action for e in await h.audits()]
        assert actions == ["protect-hold", "protect-mute"]
        # A second message of the same burst: held, nobody told again.
        again = protections.check_matrix(spam_event())
        assert again is not None and await carry_out(protections, *again)
        assert [e.action for e in await h.audits()] == actions
        # !mod unmute gives the default level back everywhere.
        answer = await run(
            h.mctx, parse_command(f"!mod unmute {SPAMMER}"), actor=MODERATOR, source="matrix"
        )  # type: ignore[arg-type]
        assert "may write again (2 rooms)" in answer
        assert SPAMMER not in h.matrix.levels[ROOM_A]["users"]


async def test_moderators_are_never_held(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        protections = Protections(h.mctx)
        h.matrix.join_member(MOD_ROOM, SPAMMER)  # a member of the moderators' room
        found = protections.check_matrix(spam_event())
        assert found is not None and not await carry_out(protections, *found)
        assert await h.audits() == [] and h.matrix.levels == {}


def discord_message(n: int, content: str, channel: ChannelID = CHANNEL_A) -> DiscordMessage:
    return DiscordMessage(
        MessageID(1400000000000000000 + n),
        channel,
        GUILD,
        DiscordAuthor(RAIDER, "raider"),
        content,
        0,
    )


async def test_discord_flood_is_held_told_once_and_timed_out(tmp_path: Path) -> None:
    async with moderation_context(
        tmp_path, protections={"flooding": {"burst": 2, "actions": ["hold", "timeout"]}}
    ) as h:
        protections = Protections(h.mctx)
        assert protections.check_discord(discord_message(1, "one")) is None
        assert protections.check_discord(discord_message(2, "two")) is None
        for n in (3, 4, 5):
            found = protections.check_discord(discord_message(n, f"msg {n}"))
            assert found is not None and found[0].protection == "flooding"
            assert await carry_out(protections, *found)
        assert len(h.discord.dms) == 1 and h.discord.dms[0][0] == RAIDER
        # Held messages are remembered, so a backfill does not relay them later.
        assert await h.stores.protection_held.contains(1400000000000000003)
        assert not await h.stores.protection_held.contains(1400000000000000002)
        assert "more than 2 messages in 10 seconds" in h.discord.dms[0][1]
        assert len(h.discord.timeout_calls) == 1
        guild, user, until, _reason = h.discord.timeout_calls[0]
        assert (guild, user) == (GUILD, RAIDER) and until is not None
        posted = [t for c, t in h.discord.posts]
        assert any(f"!mod unmute {RAIDER}" in t and "timed out" in t for t in posted)
        # !mod unmute from the moderators' room lifts the timeout.
        h.discord.add_member(RAIDER, "raider")
        answer = await run(
            h.mctx, parse_command(f"!mod unmute {RAIDER}"), actor=MODERATOR, source="matrix"
        )  # type: ignore[arg-type]
        assert "may write again on Discord (1 server)" in answer
        assert h.discord.timeout_calls[-1][2] is None


async def test_discord_moderator_flooding_is_relayed(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, protections={"flooding": {"burst": 1}}) as h:
        protections = Protections(h.mctx)
        h.discord.add_member(RAIDER, "raider", permissions=BAN_MEMBERS)
        protections.check_discord(discord_message(1, "one"))
        found = protections.check_discord(discord_message(2, "two"))
        assert found is not None and not await carry_out(protections, *found)


async def test_repeats_delete_every_copy_on_both_sides(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, protections={"repeats": {"max_places": 1}}) as h:
        protections = Protections(h.mctx)
        text = "free followers at spam.example"
        first = discord_message(1, text)
        await h.stores.messages.insert(
            MessageRow(first.id, 0, CHANNEL_A, ROOM_A, EventID("$copy1"), "discord")
        )
        assert protections.check_discord(first) is None
        outside = discord_message(2, text, ChannelID(CHANNEL_A + 50))
        assert protections.check_discord(outside) is None  # not bridged: not checked
        second = discord_message(3, text, CHANNEL_B)
        found = protections.check_discord(second)
        assert found is not None and found[0].protection == "repeats"
        assert await carry_out(protections, *found)
        # Both copies deleted on Discord, the relayed one redacted on Matrix.
        assert {m for _how, m in h.relay_discord.deleted} == {first.id, second.id}
        assert [(r, e) for r, e, _ in h.relay_matrix.redactions] == [(ROOM_A, EventID("$copy1"))]
        lines = [t for r, t in h.matrix.notices if r == MOD_ROOM]
        deleted = next(t for t in lines if "deleted a message" in t)
        assert "on both sides" in deleted and "!mod protection repeats off" in deleted


async def test_switching_a_protection_off_is_kept_and_logged(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        protections = Protections(h.mctx)
        h.mctx.state.protections = protections
        answer = await run(
            h.mctx,
            parse_command("!mod protection mentions off"),  # type: ignore[arg-type]
            actor=MODERATOR,
            source="matrix",
        )
        assert "The mentions protection is off" in answer
        assert "!mod protection mentions on" in answer
        assert protections.check_matrix(spam_event()) is None
        again = Protections(h.mctx)  # a restart: the switch is read back
        await again.load()
        assert not again.guard.enabled("mentions")
        listing = await run(
            h.mctx, parse_command("!mod protections"), actor=MODERATOR, source="matrix"
        )  # type: ignore[arg-type]
        assert "- mentions: off" in listing and "- flooding: on" in listing
        unknown = await run(
            h.mctx, parse_command("!mod protection nope on"), actor=MODERATOR, source="matrix"
        )  # type: ignore[arg-type]
        assert "no protection named 'nope'" in unknown
        assert [e.action for e in await h.audits()] == ["protect-off"]


def test_protection_commands_parse_in_both_languages() -> None:
    from moderation.protections.commands import ListProtections, SwitchProtection, Unmute

    assert parse_command("!mod protections") == ListProtections()
    assert parse_command("!mod protection Flooding OFF") == SwitchProtection("flooding", False)
    assert parse_command("!mod protection repeats arrêt") == SwitchProtection("repeats", False)
    assert parse_command("!mod protection repeats marche") == SwitchProtection("repeats", True)
    assert parse_command("!mod démuter @x:y") == Unmute("@x:y")
    assert parse_command("!mod untimeout 123") == Unmute("123")
    error = parse_command("!mod protection flooding maybe")
    assert error is not None and "on or off" in str(error)
    assert "unmute" in str(parse_command("!mod unmute"))
    assert isinstance(parse_command("!mod protections now"), type(error))


async def test_a_mute_outlives_a_restart_and_ends_on_time(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        protections = Protections(h.mctx)
        found = protections.check_matrix(spam_event())
        assert found is not None and await carry_out(protections, *found)
        assert list(await h.stores.protection_mutes.all()) == [SPAMMER]
        for task in protections.lifts.values():
            task.cancel()  # the bridge stops before the mute ends
        later = Protections(h.mctx, wall_ms=lambda: protections.wall_ms() + 11 * 60_000)
        assert await resume_mutes(later) == 1
        await asyncio.wait_for(later.lifts[SPAMMER], 5)  # past its end: lifted at once
        assert SPAMMER not in h.matrix.levels[ROOM_A]["users"]
        assert await h.stores.protection_mutes.all() == {}


async def test_ban_action_goes_through_the_shared_ban_flow(tmp_path: Path) -> None:
    async with moderation_context(
        tmp_path, protections={"mentions": {"actions": ["redact", "ban"]}}
    ) as h:
        protections = Protections(h.mctx)
        found = protections.check_matrix(spam_event())
        assert found is not None and await carry_out(protections, *found)
        # Banned from the portal rooms like "!mod ban" does, and the event redacted.
        assert {room for room, user, _ in h.matrix.ban_calls if user == SPAMMER} >= {
            ROOM_A,
            ROOM_B,
        }
        assert (ROOM_A, EventID("$spam")) in [(r, e) for r, e, _ in h.relay_matrix.redactions]
        lines = [t for r, t in h.matrix.notices if r == MOD_ROOM]
        banned = next(t for t in lines if "protection banned" in t)
        assert f"!mod unban {SPAMMER}" in banned
        actions = [e.action for e in await h.audits()]
        assert "ban" in actions and actions[-1] == "protect-ban"
        assert "protect-redact" in actions and "protect-hold" not in actions


async def test_a_reload_keeps_added_protections_and_switches(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        protections = Protections(h.mctx)
        extra = Flooding(1, 60, name="lockdown")
        protections.guard.add(extra)
        protections.guard.switch("lockdown", False)
        await protections.switch("repeats", False, MODERATOR)
        config = h.mctx.bridge.config
        new_protections = dataclasses.replace(
            config.moderation.protections,
            flooding=dataclasses.replace(config.moderation.protections.flooding, burst=3),
        )
        h.mctx.bridge.config = dataclasses.replace(
            config, moderation=dataclasses.replace(config.moderation, protections=new_protections)
        )
        protections.reconfigure()
        flooding = protections.guard.get("flooding")
        assert isinstance(flooding, Flooding) and flooding.burst == 3
        assert protections.guard.get("lockdown") is extra
        assert not protections.guard.enabled("lockdown")
        assert not protections.guard.enabled("repeats")


async def test_edits_are_checked_for_what_they_carry_not_for_flooding(tmp_path: Path) -> None:
    async with moderation_context(tmp_path, protections={"flooding": {"burst": 1}}) as h:
        protections = Protections(h.mctx)
        # A harmless message edited into a mention spam is caught ...
        edit = MatrixEdit(ROOM_A, EventID("$edit"), SPAMMER, EventID("$spam"), spam_event())
        found = protections.check_matrix(edit)
        assert found is not None and found[0].protection == "mentions"
        assert found[1].ref.id == "$edit" and found[1].is_edit
        # ... while editing often is no flood (the burst is 1 here).
        message = discord_message(1, "typo")
        assert protections.check_discord(message) is None
        for _ in range(3):
            assert protections.check_discord(message, edit=True) is None
        assert protections.check_discord(discord_message(2, "next")) is not None  # a flood


def member_event(user: str, membership: str, ts: int, prev: str | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "type": "m.room.member",
        "room_id": ROOM_A,
        "sender": user,
        "state_key": user,
        "origin_server_ts": ts,
        "content": {"membership": membership},
    }
    if prev is not None:
        raw["unsigned"] = {"prev_content": {"membership": prev}}
    return raw


async def test_a_matrix_user_who_just_joined_cannot_post_links_yet(tmp_path: Path) -> None:
    now = 1_800_000_000_000
    async with moderation_context(tmp_path) as h:
        protections = Protections(h.mctx, wall_ms=lambda: now)
        link = MatrixMessage(ROOM_A, EventID("$l"), SPAMMER, "m.text", "see https://x.example")
        assert protections.check_matrix(link) is None  # join time unknown: not held
        protections.observe_matrix(member_event(SPAMMER, "join", now - 5 * 60_000))
        found = protections.check_matrix(link)
        assert found is not None and found[0].protection == "newcomers"
        assert found[0].figure("account") == 0
        # A profile change is no new arrival; leaving forgets the join.
        protections.observe_matrix(member_event(SPAMMER, "join", now, prev="join"))
        assert protections.joins[(ROOM_A, SPAMMER)] == now - 5 * 60_000
        protections.observe_matrix(member_event(SPAMMER, "leave", now, prev="join"))
        assert (ROOM_A, SPAMMER) not in protections.joins
        protections.observe_matrix(member_event(SPAMMER, "join", now - 61 * 60_000))
        assert protections.check_matrix(link) is None  # joined over an hour ago


async def test_a_newcomer_stays_one_across_a_restart(tmp_path: Path) -> None:
    """Join times seen before a restart are gone from memory; the first joins the
    lockdown keeps in the database (first_join) still make a recent arrival a newcomer."""
    now = 1_800_000_000_000
    async with moderation_context(tmp_path) as h:
        store = h.mctx.stores.lockdown
        await store.note_join("matrix", SPAMMER, now - 10 * 60_000)  # joined 10 min ago
        await store.note_join("matrix", "@old:x", now - 3 * 3_600_000)  # 3 hours ago
        protections = Protections(h.mctx, wall_ms=lambda: now)
        await protections.load()
        assert protections.first_joins == {SPAMMER: now - 10 * 60_000}
        link = MatrixMessage(ROOM_A, EventID("$l"), SPAMMER, "m.text", "see https://x.example")
        found = protections.check_matrix(link)
        assert found is not None and found[0].protection == "newcomers"
        old = MatrixMessage(ROOM_A, EventID("$o"), UserID("@old:x"), "m.text", "https://x.example")
        assert protections.check_matrix(old) is None
