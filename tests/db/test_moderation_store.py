"""The moderation tables (mod_ban, policy_rule, mod_audit, bridge_room) on both databases,
after running the real migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import asyncpg
import pytest

from bridge.db import AuditEntry, BanRow, PolicyRuleRow, Stores, open_database
from bridge.db.migrate import current_revision, upgrade_head
from bridge.ids import GuildID

POLICY = "!policy:x"
OTHER_LIST = "!list:elsewhere"
GHOST = "@_discord_2000000000000000002:x"
BOB = "2000000000000000002"
G1 = GuildID(3000000000000000001)
G2 = GuildID(3000000000000000002)


def rule(
    state_key: str,
    entity: str,
    room: str = POLICY,
    event_type: str = "m.policy.rule.user",
    reason: str = "spam",
    event_id: str | None = "$r",
) -> PolicyRuleRow:
    return PolicyRuleRow(room, event_type, state_key, entity, "m.ban", reason, event_id)


async def test_schema_is_at_0004_or_later(stores: Stores, database_url: str) -> None:
    revision = await current_revision(database_url)
    assert revision is not None and revision >= "0004"


# -- bans --------------------------------------------------------------------


async def test_ban_put_get_remove(stores: Stores) -> None:
    bans = stores.bans
    assert await bans.get("matrix", "@spam:evil", G1) is None
    assert not await bans.is_banned("matrix", "@spam:evil")
    before = int(time.time() * 1000)
    row = BanRow("matrix", "@spam:evil", "spam", "@mod:x", "matrix", guild_id=G1)
    assert await bans.put(row) is True
    held = await bans.get("matrix", "@spam:evil", G1)
    assert held is not None
    assert before <= held.created_at <= int(time.time() * 1000) + 1
    assert held == BanRow(
        "matrix", "@spam:evil", "spam", "@mod:x", "matrix", held.created_at, guild_id=G1
    )
    assert await bans.is_banned("matrix", "@spam:evil")
    # The same target on the other side is another ban.
    assert not await bans.is_banned("discord", "@spam:evil")
    assert await bans.get("discord", "@spam:evil", G1) is None
    assert await bans.remove("matrix", "@spam:evil", G1) == held
    assert await bans.remove("matrix", "@spam:evil", G1) is None
    assert not await bans.is_banned("matrix", "@spam:evil")
    assert await bans.all() == []


async def test_ban_put_updates_in_place_and_keeps_created_at(stores: Stores) -> None:
    bans = stores.bans
    first = BanRow(
        "discord", BOB, "raid", "discord:1000000000000000001", "discord", 1000, guild_id=G1
    )
    assert await bans.put(first) is True
    assert await bans.get("discord", BOB, G1) == first
    # Another ban of the same person (say a policy rule now matches them) updates the row.
    again = BanRow(
        "discord",
        BOB,
        "listed",
        f"policy:{POLICY}",
        "policy",
        5000,
        rule_room=POLICY,
        rule_entity="@_discord_*:x",
        guild_id=G1,
    )
    assert await bans.put(again) is False
    held = await bans.get("discord", BOB, G1)
    assert held == BanRow(
        "discord",
        BOB,
        "listed",
        f"policy:{POLICY}",
        "policy",
        1000,  # the ban is as old as it first was
        rule_room=POLICY,
        rule_entity="@_discord_*:x",
        guild_id=G1,
    )
    # ... and the rule can be cleared again by a manual ban.
    manual = BanRow("discord", BOB, "by hand", "@mod:x", "command", guild_id=G1)
    assert await bans.put(manual) is False
    held = await bans.get("discord", BOB, G1)
    assert held is not None
    assert (held.reason, held.origin, held.rule_room, held.rule_entity) == (
        "by hand",
        "command",
        None,
        None,
    )
    assert held.created_at == 1000
    assert len(await bans.all()) == 1
    # Once removed, the next ban is new again.
    assert await bans.remove("discord", BOB, G1) is not None
    assert await bans.put(manual) is True


async def test_ban_listing_is_oldest_first_and_filters_by_side(stores: Stores) -> None:
    bans = stores.bans
    rows = [
        BanRow("matrix", "@c:x", "", "@mod:x", "matrix", 3000, guild_id=G1),
        BanRow("discord", "42", "", "discord:7", "discord", 1000, guild_id=G1),
        BanRow("matrix", "@a:x", "", "@mod:x", "command", 2000, guild_id=G1),
        BanRow("discord", "43", "", "@mod:x", "startup", 4000, guild_id=G1),
    ]
    for row in rows:
        assert await bans.put(row)
    assert [r.target for r in await bans.all()] == ["42", "@a:x", "@c:x", "43"]
    assert [r.target for r in await bans.all("matrix")] == ["@a:x", "@c:x"]
    assert [r.target for r in await bans.all("discord")] == ["42", "43"]
    assert await bans.all("discord") == [rows[1], rows[3]]


async def test_bans_by_rule(stores: Stores) -> None:
    bans = stores.bans
    by_glob = [
        BanRow(
            "matrix",
            "@x:spam.example",
            "",
            f"policy:{POLICY}",
            "policy",
            2000,
            POLICY,
            "*:spam.example",
            guild_id=G1,
        ),
        BanRow(
            "matrix",
            "@w:spam.example",
            "",
            f"policy:{POLICY}",
            "policy",
            1000,
            POLICY,
            "*:spam.example",
            guild_id=G1,
        ),
        BanRow(
            "discord",
            BOB,
            "",
            f"policy:{POLICY}",
            "policy",
            3000,
            POLICY,
            "*:spam.example",
            guild_id=G1,
        ),
    ]
    for row in by_glob:
        assert await bans.put(row)
    # The same entity in another list, and a ban without a rule.
    elsewhere = BanRow(
        "matrix",
        "@y:spam.example",
        "",
        f"policy:{OTHER_LIST}",
        "policy",
        500,
        OTHER_LIST,
        "*:spam.example",
        guild_id=G1,
    )
    assert await bans.put(elsewhere)
    assert await bans.put(BanRow("matrix", "@z:x", "", "@mod:x", "matrix", 100, guild_id=G1))
    assert await bans.by_rule(POLICY, "*:spam.example") == [by_glob[1], by_glob[0], by_glob[2]]
    assert await bans.by_rule(OTHER_LIST, "*:spam.example") == [elsewhere]
    assert await bans.by_rule(POLICY, "@z:x") == []
    # Lifting the rule's bans one by one empties the list.
    for row in await bans.by_rule(POLICY, "*:spam.example"):
        assert await bans.remove(row.side, row.target, G1) == row
    assert await bans.by_rule(POLICY, "*:spam.example") == []
    assert [r.target for r in await bans.all()] == ["@z:x", "@y:spam.example"]


async def test_ban_refuses_unknown_side_or_origin(stores: Stores) -> None:
    errors = (sqlite3.IntegrityError, asyncpg.CheckViolationError)
    with pytest.raises(errors):
        await stores.bans.put(BanRow("irc", "nick", "", "@mod:x", "matrix", guild_id=G1))  # type: ignore[arg-type]
    with pytest.raises(errors):
        await stores.bans.put(BanRow("matrix", "@a:x", "", "@mod:x", "gossip", guild_id=G1))  # type: ignore[arg-type]
    assert await stores.bans.all() == []


async def test_bans_are_per_guild(stores: Stores) -> None:
    bans = stores.bans
    assert await bans.put(BanRow("discord", BOB, "raid", "@mod:x", "discord", 1000, guild_id=G1))
    # The same person in another guild is another ban, with its own origin.
    assert await bans.put(BanRow("discord", BOB, "raid", "@mod:x", "party", 2000, guild_id=G2))
    assert await bans.is_banned("discord", BOB, G1) and await bans.is_banned("discord", BOB, G2)
    assert await bans.is_banned("discord", BOB)  # in any guild
    assert [r.guild_id for r in await bans.of("discord", BOB)] == [G1, G2]
    assert [r.origin for r in await bans.all("discord", G2)] == ["party"]
    removed = await bans.remove("discord", BOB, G1)
    assert removed is not None and removed.guild_id == G1
    assert not await bans.is_banned("discord", BOB, G1)
    assert await bans.is_banned("discord", BOB, G2) and await bans.is_banned("discord", BOB)
    assert await bans.get("discord", BOB, G1) is None


async def test_legacy_bans_are_adopted_by_their_guilds(stores: Stores) -> None:
    bans = stores.bans
    # Rows of before 0013 (guild 0): a Discord user's and a Matrix user's ban.
    await bans.put(BanRow("discord", BOB, "raid", "discord:7", "discord", 1000))
    await bans.put(BanRow("matrix", "@a:x", "spam", "@mod:x", "command", 2000, POLICY, "@a:x"))
    # A guild where the Matrix user has a ban of its own keeps it.
    await bans.put(BanRow("matrix", "@a:x", "own", "@mod2:x", "matrix", 3000, guild_id=G2))
    assert await bans.adopt_legacy((G1,), (G1, G2)) == 2
    assert await bans.adopt_legacy((G1,), (G1, G2)) == 0  # once
    (discord_row,) = await bans.of("discord", BOB)
    assert discord_row == BanRow("discord", BOB, "raid", "discord:7", "discord", 1000, guild_id=G1)
    matrix_rows = await bans.of("matrix", "@a:x")
    assert [(r.guild_id, r.reason, r.rule_entity) for r in matrix_rows] == [
        (G1, "spam", "@a:x"),
        (G2, "own", None),
    ]
    assert len(await bans.all()) == 3


async def test_audit_entries_name_their_guild(stores: Stores) -> None:
    await stores.audit.add(AuditEntry("discord", "d:1", "ban", "@g:x", "", "", guild_id=G2))
    await stores.audit.add(AuditEntry("policy", "p", "rule-add", "@s:x", "", ""))
    newest, oldest = await stores.audit.recent()
    assert (oldest.guild_id, newest.guild_id) == (G2, None)


# -- policy rules ------------------------------------------------------------


async def test_policy_rule_upsert_delete_and_listing(stores: Stores) -> None:
    rules = stores.policy_rules
    assert await rules.all() == []
    user_rule = rule("rule:spammer", "@spammer:evil")
    server_rule = rule("rule:evil", "evil.example", event_type="m.policy.rule.server")
    legacy = rule("r1", "@old:x", room=OTHER_LIST, event_type="org.matrix.mjolnir.rule.user")
    for row in (user_rule, server_rule, legacy):
        await rules.upsert(row)
    # Listed by room, then event type, then state key.
    assert await rules.all() == [legacy, server_rule, user_rule]
    assert await rules.all(POLICY) == [server_rule, user_rule]
    assert await rules.all(OTHER_LIST) == [legacy]
    assert await rules.all("!none:x") == []
    # A new event under the same (room, type, state key) replaces the rule in place.
    changed = rule("rule:spammer", "@spammer*:evil", reason="ban evasion", event_id="$r2")
    await rules.upsert(changed)
    assert await rules.all(POLICY) == [server_rule, changed]
    # Rules without an event ID (read from a state snapshot) are fine.
    no_event = rule("rule:b", "@b:x", event_id=None)
    await rules.upsert(no_event)
    assert no_event in await rules.all(POLICY)
    # Deleting returns what was known.
    assert await rules.delete(POLICY, "m.policy.rule.user", "rule:spammer") == changed
    assert await rules.delete(POLICY, "m.policy.rule.user", "rule:spammer") is None
    assert await rules.delete(POLICY, "m.policy.rule.server", "rule:spammer") is None
    assert await rules.all(POLICY) == [server_rule, no_event]


async def test_replace_room_swaps_one_room_only(stores: Stores) -> None:
    rules = stores.policy_rules
    await rules.upsert(rule("a", "@a:x"))
    await rules.upsert(rule("b", "@b:x"))
    kept = rule("a", "@a:x", room=OTHER_LIST)
    await rules.upsert(kept)
    fresh = [rule("b", "@b2:x", event_id="$new"), rule("c", "@c:x"), rule("c", "@c2:x")]
    await rules.replace_room(POLICY, fresh)
    # "a" is gone, "b" replaced, "c" given twice keeps the last; the other list untouched.
    assert await rules.all(POLICY) == [fresh[0], fresh[2]]
    assert await rules.all(OTHER_LIST) == [kept]
    await rules.replace_room(POLICY, [])
    assert await rules.all() == [kept]


async def test_replace_room_is_atomic(stores: Stores) -> None:
    rules = stores.policy_rules
    before = [rule("a", "@a:x"), rule("b", "@b:x")]
    for row in before:
        await rules.upsert(row)
    # The second new row cannot be stored (no entity): nothing of the swap may remain.
    broken = PolicyRuleRow(POLICY, "m.policy.rule.user", "d", None, "m.ban", "")  # type: ignore[arg-type]
    with pytest.raises((sqlite3.IntegrityError, asyncpg.NotNullViolationError)):
        await rules.replace_room(POLICY, [rule("c", "@c:x"), broken])
    assert await rules.all(POLICY) == before
    # The database is usable afterwards (the transaction was rolled back, not left open).
    await rules.replace_room(POLICY, [rule("c", "@c:x")])
    assert await rules.all(POLICY) == [rule("c", "@c:x")]


async def test_replace_room_refuses_rows_of_another_room(stores: Stores) -> None:
    await stores.policy_rules.upsert(rule("a", "@a:x"))
    with pytest.raises(ValueError, match="given for room"):
        await stores.policy_rules.replace_room(POLICY, [rule("b", "@b:x", room=OTHER_LIST)])
    assert await stores.policy_rules.all() == [rule("a", "@a:x")]


# -- audit log ---------------------------------------------------------------


async def test_audit_add_recent_count(stores: Stores) -> None:
    audit = stores.audit
    assert await audit.count() == 0
    assert await audit.recent() == []
    before = int(time.time() * 1000)
    first = AuditEntry(
        "discord", "discord:7", "ban", BOB, "raid", "banned on Discord; ghost banned in 2 rooms"
    )
    first_id = await audit.add(first)
    second_id = await audit.add(
        AuditEntry("matrix", "@mod:x", "unban", "@a:x", "", "relay restored")
    )
    assert isinstance(first_id, int) and second_id > first_id
    assert await audit.count() == 2
    newest, oldest = await audit.recent()
    assert newest.id == second_id and newest.action == "unban"
    assert oldest.id == first_id
    assert before <= oldest.at <= int(time.time() * 1000) + 1
    assert oldest == AuditEntry(
        "discord",
        "discord:7",
        "ban",
        BOB,
        "raid",
        "banned on Discord; ghost banned in 2 rooms",
        oldest.at,
        first_id,
    )
    # An explicit time is kept; "newest first" is by time, then by insertion.
    old_id = await audit.add(
        AuditEntry("startup", "startup", "ban", "@late:x", "", "applied at start-up", at=1000)
    )
    entries = await audit.recent()
    assert [e.id for e in entries] == [second_id, first_id, old_id]
    assert entries[-1].at == 1000
    # An id given in the entry is ignored: the store numbers entries.
    forced = await audit.add(
        AuditEntry("policy", f"policy:{POLICY}", "rule-add", "@s:x", "", "", id=1)
    )
    assert forced not in (first_id, second_id, old_id)
    assert [e.id for e in await audit.recent(limit=2)] == [forced, second_id]
    assert await audit.count() == 4


async def test_audit_same_millisecond_keeps_insertion_order(stores: Stores) -> None:
    ids = [
        await stores.audit.add(AuditEntry("matrix", "@mod:x", "kick", f"@u{n}:x", "", "", at=5000))
        for n in range(5)
    ]
    assert [e.id for e in await stores.audit.recent()] == ids[::-1]
    assert [e.target for e in await stores.audit.recent(3)] == ["@u4:x", "@u3:x", "@u2:x"]


# -- bridge rooms ------------------------------------------------------------


async def test_bridge_rooms(stores: Stores) -> None:
    rooms = stores.bridge_rooms
    assert await rooms.get("policy") is None
    await rooms.put("policy", "!p:x")
    await rooms.put("moderation", "!m:x")
    assert await rooms.get("policy") == "!p:x"
    assert await rooms.get("moderation") == "!m:x"
    # Re-created (e.g. the old room was lost): the key points at the new room.
    await rooms.put("policy", "!p2:x")
    assert await rooms.get("policy") == "!p2:x"
    assert await rooms.get("other") is None


async def test_everything_survives_a_reconnect(database_url: str) -> None:
    await asyncio.to_thread(upgrade_head, database_url)
    db = open_database(database_url)
    await db.start()
    try:
        stores = Stores(db)
        await stores.bans.put(BanRow("matrix", GHOST, "r", "@mod:x", "matrix", 10))
        await stores.policy_rules.upsert(rule("a", "@a:x"))
        await stores.audit.add(AuditEntry("matrix", "@mod:x", "ban", GHOST, "r", "done"))
        await stores.bridge_rooms.put("policy", POLICY)
    finally:
        await db.stop()
    db = open_database(database_url)
    await db.start()
    try:
        stores = Stores(db)
        assert await stores.bans.all() == [BanRow("matrix", GHOST, "r", "@mod:x", "matrix", 10)]
        assert await stores.policy_rules.all() == [rule("a", "@a:x")]
        assert await stores.audit.count() == 1
        assert await stores.bridge_rooms.get("policy") == POLICY
    finally:
        await db.stop()
