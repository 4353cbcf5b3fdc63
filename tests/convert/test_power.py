"""Discord roles -> Matrix power levels (pure converter), table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.config_guilds import DEFAULT_POWER_RULES, PERMISSION_BITS, PowerRule
from bridge.convert.power import ghost_cap, member_level, merge_power_levels
from bridge.ids import GhostNamer, UserID

NAMER = GhostNamer("example.org", "_discord_", "_discord_", "passerelle")
BOT = NAMER.bot_mxid
ADMIN = PERMISSION_BITS["administrator"]
BAN = PERMISSION_BITS["ban_members"]
KICK = PERMISSION_BITS["kick_members"]
ROLE = 3000000000000000011
G1 = NAMER.ghost_mxid(2000000000000000001)  # type: ignore[arg-type]
G2 = NAMER.ghost_mxid(2000000000000000002)  # type: ignore[arg-type]
HUMAN = UserID("@alice:example.org")
MOD = UserID("@carol:example.org")


@pytest.mark.parametrize(
    ("rules", "roles", "permissions", "owner", "expected"),
    [
        (DEFAULT_POWER_RULES, frozenset(), 0, False, 0),
        (DEFAULT_POWER_RULES, frozenset(), KICK, False, 0),
        (DEFAULT_POWER_RULES, frozenset(), BAN, False, 50),
        (DEFAULT_POWER_RULES, frozenset(), ADMIN, False, 100),
        (DEFAULT_POWER_RULES, frozenset(), ADMIN | BAN, False, 100),  # highest rule wins
        (DEFAULT_POWER_RULES, frozenset(), 0, True, 100),  # the owner is an administrator
        ((PowerRule(10, role_id=ROLE),), frozenset({ROLE}), 0, False, 10),
        ((PowerRule(10, role_id=ROLE),), frozenset({ROLE + 1}), BAN, False, 0),
        (
            (PowerRule(10, role_id=ROLE), PowerRule(25, permission="kick_members")),
            frozenset({ROLE}),
            KICK,
            False,
            25,
        ),
        ((), frozenset({ROLE}), ADMIN, True, 0),  # no rules: nobody gets a level
    ],
)
def test_member_level(
    rules: tuple[PowerRule, ...],
    roles: frozenset[int],
    permissions: int,
    owner: bool,
    expected: int,
) -> None:
    assert member_level(rules, roles, permissions, owner) == expected


def levels(users: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {"users": users, "ban": 50, "users_default": 0, **rest}


@pytest.mark.parametrize(
    ("content", "ghosts", "moderators", "expected_users"),
    [
        # A ghost gets its level; the bot and a human keep theirs.
        (levels({BOT: 100, HUMAN: 20}), {G1: 50}, (), {BOT: 100, HUMAN: 20, G1: 50}),
        # Already so: nothing to send.
        (levels({BOT: 100, G1: 50}), {G1: 50}, (), None),
        # An administrator is capped below the bot (99 when the bot has 100).
        (levels({BOT: 100}), {G1: 100}, (), {BOT: 100, G1: 99}),
        (levels({BOT: 60}), {G1: 100, G2: 50}, (), {BOT: 60, G1: 59, G2: 50}),
        # A ghost that lost its level loses its entry; a human's entry stays.
        (levels({BOT: 100, G1: 50, HUMAN: 50}), {}, (), {BOT: 100, HUMAN: 50}),
        # Lowered.
        (levels({BOT: 100, G1: 99}), {G1: 50}, (), {BOT: 100, G1: 50}),
        # A ghost at or above the bot's level cannot be changed by it: left alone.
        (levels({BOT: 50, G1: 50}), {}, (), None),
        (levels({BOT: 50, G1: 100}), {G1: 10}, (), None),
        # The bot with no entry: its level is users_default, ghosts get nothing above it.
        (levels({}, users_default=0), {G1: 50}, (), None),
        # A level not above users_default is no entry.
        (levels({BOT: 100}, users_default=10), {G1: 10}, (), None),
        (levels({BOT: 100, G1: 50}, users_default=10), {G1: 5}, (), {BOT: 100}),
        # The "ghost levels" map never touches non-ghosts, nor the bot.
        (levels({BOT: 100}), {HUMAN: 50, BOT: 0}, (), None),
        # Moderators keep at least the ban level, never lowered.
        (levels({BOT: 100}), {G1: 50}, (MOD,), {BOT: 100, G1: 50, MOD: 50}),
        (levels({BOT: 100, MOD: 90}), {}, (MOD,), None),
        (levels({BOT: 100}, ban=75), {}, (MOD,), {BOT: 100, MOD: 75}),
        (levels({BOT: 100, MOD: 30}), {}, (MOD,), {BOT: 100, MOD: 50}),
        # A room with no users map at all (the bot set through users_default).
        ({"users_default": 100}, {G1: 50}, (), None),
        # Numeric strings of older rooms are read as levels.
        (levels({BOT: "100", G1: "50"}), {G1: 50}, (), {BOT: "100", G1: 50}),
    ],
)
def test_merge_power_levels(
    content: dict[str, Any],
    ghosts: dict[UserID, int],
    moderators: tuple[str, ...],
    expected_users: dict[str, Any] | None,
) -> None:
    merged = merge_power_levels(content, ghosts, NAMER, moderators)
    if expected_users is None:
        assert merged is None
        return
    assert merged is not None
    assert merged["users"] == expected_users
    # Everything else of the content is kept as it was.
    assert {k: v for k, v in merged.items() if k != "users"} == {
        k: v for k, v in content.items() if k != "users"
    }


@pytest.mark.parametrize(
    ("content", "ghosts", "moderators", "creators", "expected_users"),
    [
        # Room version 12+: the bot created the room, has unlimited power and no entry.
        ({"users": {}}, {G1: 100, G2: 50}, (), {BOT}, {G1: 100, G2: 50}),
        ({"users": {G1: 100}}, {}, (), {BOT}, {}),  # and may lower anyone
        ({"users": {G1: 50}}, {G1: 50}, (MOD,), {BOT}, {G1: 50, MOD: 50}),
        # A moderator who created the room has unlimited power: never an entry.
        ({"users": {BOT: 100}}, {}, (MOD,), {MOD}, None),
        # A human created it and gave the bot 100: capped at 99 again.
        ({"users": {BOT: 100}}, {G1: 100}, (), {HUMAN}, {BOT: 100, G1: 99}),
    ],
)
def test_merge_with_unlimited_creators(
    content: dict[str, Any],
    ghosts: dict[UserID, int],
    moderators: tuple[str, ...],
    creators: set[str],
    expected_users: dict[str, Any] | None,
) -> None:
    merged = merge_power_levels(content, ghosts, NAMER, moderators, frozenset(creators))
    if expected_users is None:
        assert merged is None
    else:
        assert merged is not None and merged["users"] == expected_users


def test_merge_does_not_mutate_its_input() -> None:
    content = levels({BOT: 100, G1: 50})
    merge_power_levels(content, {G2: 50}, NAMER)
    assert content == levels({BOT: 100, G1: 50})


@pytest.mark.parametrize(
    ("content", "cap"),
    [
        (levels({BOT: 100}), 99),
        (levels({BOT: 50}), 49),
        ({"users_default": 0}, -1),
        ({"users": {BOT: "75"}}, 74),
    ],
)
def test_ghost_cap(content: dict[str, Any], cap: int) -> None:
    assert ghost_cap(content, BOT) == cap
    assert ghost_cap(content, BOT, {BOT}) >= 100  # a creator of a room version 12+
