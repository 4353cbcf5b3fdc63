"""Rule sets, ban matching and moderation decisions (moderation.policy)."""

from __future__ import annotations

import pytest

from moderation.policy import (
    ADMINISTRATOR,
    BAN_MEMBERS,
    NotPolicyEvent,
    PolicyMatch,
    PolicyRule,
    PolicySet,
    Refusal,
    RuleKey,
    RuleRejected,
    RuleRemoval,
    RuleUpsert,
    ban_level,
    bridge_namespace,
    check_new_rule,
    discord_may_moderate,
    ghost_discord_id,
    glob_covers,
    matrix_may_moderate,
    mxid_server,
    parse_policy_event,
    user_power_level,
)

LIST_A = "!a:lists.example"
LIST_B = "!b:lists.example"


def rule(
    kind: str,
    entity: str,
    *,
    key: str | None = None,
    room: str = LIST_A,
    recommendation: str = "m.ban",
    reason: str = "r",
) -> PolicyRule:
    return PolicyRule(
        kind=kind,  # type: ignore[arg-type]
        entity=entity,
        recommendation=recommendation,
        reason=reason,
        state_key=key if key is not None else f"rule:{entity}",
        source_room=room,
        event_id=f"${kind}-{entity}",
    )


def event(kind: str, state_key: str, content: dict[str, object], room: str = LIST_A) -> dict:
    return {
        "type": f"m.policy.rule.{kind}",
        "state_key": state_key,
        "room_id": room,
        "content": content,
    }


# --------------------------------------------------------------------------- PolicySet changes


def test_empty_set() -> None:
    empty = PolicySet()
    assert len(empty) == 0
    assert empty.rules == ()
    assert empty.lists == frozenset()
    assert empty.is_banned_user("@a:b") is None


def test_add_replace_remove_by_key() -> None:
    spam = rule("user", "@spam:evil.example", key="k1")
    added = PolicySet().apply(RuleUpsert(spam))
    assert added.rules == (spam,)
    assert spam.key in added
    assert added.get(spam.key) == spam

    replacement = rule("user", "@other:evil.example", key="k1", reason="changed")
    replaced = added.apply(RuleUpsert(replacement))
    assert replaced.rules == (replacement,)
    assert replaced.is_banned_user("@spam:evil.example") is None
    assert replaced.is_banned_user("@other:evil.example") is not None

    removed = replaced.apply(RuleRemoval(RuleKey(LIST_A, "user", "k1")))
    assert len(removed) == 0
    assert removed.is_banned_user("@other:evil.example") is None
    # the earlier sets are untouched
    assert added.rules == (spam,)
    assert replaced.rules == (replacement,)


def test_same_state_key_in_other_kind_or_room_is_another_rule() -> None:
    user = rule("user", "@x:evil.example", key="same")
    server = rule("server", "evil.example", key="same")
    other_room = rule("user", "@y:evil.example", key="same", room=LIST_B)
    policies = PolicySet([user, server, other_room])
    assert len(policies) == 3
    assert policies.lists == frozenset({LIST_A, LIST_B})
    dropped = policies.apply(RuleRemoval(user.key))
    assert set(dropped.rules) == {server, other_room}


def test_parsed_events_drive_the_set() -> None:
    policies = PolicySet().apply_all(
        parse_policy_event(e)
        for e in [
            event(
                "user", "a", {"entity": "@a:evil.example", "recommendation": "m.ban", "reason": "x"}
            ),
            event(
                "server", "s", {"entity": "evil.example", "recommendation": "m.ban", "reason": "x"}
            ),
        ]
    )
    assert len(policies) == 2
    blanked = policies.apply(parse_policy_event(event("server", "s", {})))
    assert len(blanked) == 1
    assert blanked.is_banned_user("@b:evil.example") is None
    assert blanked.is_banned_user("@a:evil.example") is not None


def test_malformed_replacement_drops_the_old_rule() -> None:
    policies = PolicySet([rule("user", "@a:evil.example", key="k")])
    change = parse_policy_event(event("user", "k", {"entity": 5, "recommendation": "m.ban"}))
    assert isinstance(change, RuleRejected)
    assert len(policies.apply(change)) == 0


def test_unplaceable_and_foreign_events_change_nothing() -> None:
    policies = PolicySet([rule("user", "@a:evil.example")])
    assert policies.apply(RuleRejected(None, "no state key")) is policies
    assert policies.apply(NotPolicyEvent("m.room.member")) is policies
    assert policies.apply(RuleRemoval(RuleKey(LIST_A, "user", "missing"))) is policies


def test_apply_all_keeps_order() -> None:
    first = rule("user", "@a:x", key="k")
    second = rule("user", "@b:x", key="k")
    result = PolicySet().apply_all([RuleUpsert(first), RuleUpsert(second)])
    assert result.rules == (second,)
    result = PolicySet().apply_all([RuleUpsert(first), RuleRemoval(first.key), RuleUpsert(second)])
    assert result.rules == (second,)


def test_without_list() -> None:
    a = rule("user", "@a:x", room=LIST_A)
    b = rule("user", "@b:x", room=LIST_B)
    assert PolicySet([a, b]).without_list(LIST_A).rules == (b,)


def test_equality_and_iteration_order() -> None:
    a = rule("user", "@a:x", key="2")
    b = rule("server", "x", key="1")
    assert PolicySet([a, b]) == PolicySet([b, a])
    assert PolicySet([a]) != PolicySet([b])
    assert list(PolicySet([a, b])) == sorted([a, b], key=lambda r: r.key)


# --------------------------------------------------------------------------- matching

POLICIES = PolicySet(
    [
        rule("user", "@spammer:evil.example"),
        rule("user", "@bot*:example.org"),
        rule("user", "@watched:example.org", recommendation="org.example.watch"),
        rule("user", "@Mixed:Example.org", room=LIST_B),
        rule("server", "evil.example"),
        rule("server", "*.bad.example"),
        rule("server", "porty.example:8448"),
        rule("server", "watched.example", recommendation="org.example.watch"),
        rule("room", "#spam:evil.example"),
    ]
)

BAN_CASES = [
    # (mxid, via, entity) ; via None = not banned
    ("@spammer:evil.example", "user", "@spammer:evil.example"),
    ("@SPAMMER:Evil.Example", "user", "@spammer:evil.example"),
    ("@anyone:evil.example", "server", "evil.example"),
    ("@anyone:EVIL.EXAMPLE", "server", "evil.example"),
    ("@bot:example.org", "user", "@bot*:example.org"),
    ("@botnet42:example.org", "user", "@bot*:example.org"),
    ("@robot:example.org", None, None),
    ("@mixed:example.org", "user", "@Mixed:Example.org"),
    ("@x:a.bad.example", "server", "*.bad.example"),
    ("@x:bad.example", None, None),
    ("@x:porty.example:8448", "server", "porty.example:8448"),
    ("@x:porty.example", None, None),
    ("@x:evil.example:8448", None, None),  # port is part of the server name
    ("@watched:example.org", None, None),  # unknown recommendation never bans
    ("@x:watched.example", None, None),
    ("@x:notevil.example", None, None),
    ("not-an-mxid", None, None),
    ("", None, None),
]


@pytest.mark.parametrize(("mxid", "via", "entity"), BAN_CASES)
def test_is_banned_user(mxid: str, via: str | None, entity: str | None) -> None:
    found = POLICIES.is_banned_user(mxid)
    if via is None:
        assert found is None
    else:
        assert isinstance(found, PolicyMatch)
        assert found.via == via
        assert found.rule.entity == entity
        assert found.rule.is_ban
        assert found.subject == (mxid if via == "user" else mxid_server(mxid))


def test_user_rule_wins_over_server_rule_and_exact_over_wildcard() -> None:
    policies = PolicySet(
        [
            rule("server", "evil.example"),
            rule("user", "@*:evil.example", key="a-wild"),
            rule("user", "@spam:evil.example", key="z-exact"),
        ]
    )
    found = policies.is_banned_user("@spam:evil.example")
    assert found is not None and found.rule.entity == "@spam:evil.example"
    found = policies.is_banned_user("@other:evil.example")
    assert found is not None and found.rule.entity == "@*:evil.example"


def test_rules_for_user_server_room_include_non_ban_rules() -> None:
    assert [r.entity for r in POLICIES.rules_for_user("@watched:example.org")] == [
        "@watched:example.org"
    ]
    assert [r.entity for r in POLICIES.rules_for_user("@botty:EXAMPLE.org")] == [
        "@bot*:example.org"
    ]
    assert POLICIES.rules_for_user("@nobody:example.org") == ()
    assert [r.entity for r in POLICIES.rules_for_server("watched.example")] == ["watched.example"]
    assert [r.entity for r in POLICIES.rules_for_server("x.bad.example")] == ["*.bad.example"]
    assert POLICIES.rules_for_server("porty.example") == ()
    assert [r.entity for r in POLICIES.rules_for_room("#SPAM:evil.example")] == [
        "#spam:evil.example"
    ]
    # rules_for_user only looks at user rules
    assert POLICIES.rules_for_user("evil.example") == ()


def test_is_banned_server() -> None:
    found = POLICIES.is_banned_server("evil.example")
    assert found is not None and found.via == "server"
    assert POLICIES.is_banned_server("watched.example") is None


@pytest.mark.parametrize(
    ("mxid", "server"),
    [
        ("@a:example.org", "example.org"),
        ("@a:example.org:8448", "example.org:8448"),
        ("@a:[::1]:8448", "[::1]:8448"),
        ("@a:", None),
        ("@a", None),
        ("a:example.org", None),
        ("", None),
    ],
)
def test_mxid_server(mxid: str, server: str | None) -> None:
    assert mxid_server(mxid) == server


# --------------------------------------------------------------------------- ghosts


@pytest.mark.parametrize(
    ("mxid", "expected"),
    [
        ("@_discord_123456789012345678:own.example", 123456789012345678),
        ("@_DISCORD_123:Own.Example", 123),
        ("@_discord_18446744073709551615:own.example", 2**64 - 1),
        ("@_discord_18446744073709551616:own.example", None),
        ("@_discord_0123:own.example", None),
        ("@_discord_0:own.example", None),
        ("@_discord_:own.example", None),
        ("@_discord_12a:own.example", None),
        ("@_discord_*:own.example", None),
        ("@_discord_12?:own.example", None),
        ("@_discord_123:other.example", None),
        ("@_discord_123:own.example:8448", None),
        ("@_discordx123:own.example", None),
        ("@alice:own.example", None),
    ],
)
def test_ghost_discord_id(mxid: str, expected: int | None) -> None:
    assert ghost_discord_id(mxid, "_discord_", "own.example") == expected


def test_wildcard_rules_reach_ghosts_through_is_banned_user() -> None:
    policies = PolicySet([rule("user", "@_discord_1*:own.example")])
    ghost = "@_discord_123:own.example"
    assert ghost_discord_id("@_discord_1*:own.example", "_discord_", "own.example") is None
    assert policies.is_banned_user(ghost) is not None
    assert policies.is_banned_user("@_discord_923:own.example") is None


# --------------------------------------------------------------------------- glob_covers


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("@_discord_*:own.example", "@_discord_*:own.example", True),
        ("@*:own.example", "@_discord_*:own.example", True),
        ("*:own.example", "@_discord_*:own.example", True),
        ("@_discord_*", "@_discord_*:own.example", True),
        ("@_*", "@_discord_*:own.example", True),
        ("@_discord_*:*", "@_discord_*:own.example", True),
        ("*", "@_discord_*:own.example", True),
        ("@_DISCORD_*:OWN.example", "@_discord_*:own.example", True),
        ("*?", "?*", True),
        ("?*", "*?", True),
        ("@_discord_1*:own.example", "@_discord_*:own.example", False),
        ("@_discord_?*:own.example", "@_discord_*:own.example", False),
        ("@_discord_*:other.example", "@_discord_*:own.example", False),
        ("@_discord_*:own.example", "@*:own.example", False),
        ("@a:b", "@a:b", True),
        ("@a:b", "@a:c", False),
        ("a?c", "abc", True),
        ("abc", "a?c", False),
        ("", "", True),
        ("*", "", True),
        ("?", "", False),
    ],
)
def test_glob_covers(outer: str, inner: str, expected: bool) -> None:
    assert glob_covers(outer, inner) is expected


# --------------------------------------------------------------------------- check_new_rule

OWN = "own.example"
BOT = "@discordbot:own.example"
BRIDGE_IDS = (BOT, bridge_namespace("_discord_", OWN))
MODS = ("@alice:mods.example", "@bob:own.example")


def check(kind: str, entity: str, *, force: bool = False) -> Refusal | None:
    return check_new_rule(
        kind, entity, own_server=OWN, bridge_ids=BRIDGE_IDS, moderators=MODS, force=force
    )


def test_bridge_namespace() -> None:
    assert bridge_namespace("_discord_", "own.example") == "@_discord_*:own.example"


@pytest.mark.parametrize(
    ("kind", "entity", "force", "code"),
    [
        # kind and shape
        ("channel", "@a:b", False, "malformed"),
        ("user", "spammer", False, "malformed"),
        ("user", "#room:evil.example", False, "malformed"),
        ("server", "@spam:evil.example", False, "malformed"),
        ("room", "spam:evil.example", False, "malformed"),
        ("user", "@spam :evil.example", False, "malformed"),
        ("user", "@spam:evil.example\n", True, "malformed"),
        # empty, even with force
        ("user", "", True, "empty"),
        ("server", "   ", True, "empty"),
        # absurd, even with force
        ("server", "*", True, "absurd"),
        ("user", "*:*", True, "absurd"),
        ("user", "?*", True, "absurd"),
        ("user", "@*:*", True, "absurd"),
        ("server", "*.*", True, "absurd"),
        ("room", "#*:*", True, "absurd"),
        ("room", "!*", True, "absurd"),
        # own homeserver, even with force
        ("server", "own.example", True, "own_server"),
        ("server", "OWN.example", True, "own_server"),
        ("server", "own.*", True, "own_server"),
        ("server", "*.example", True, "own_server"),
        # bridge bot and whole namespace, even with force
        ("user", BOT, True, "bridge"),
        ("user", "@DiscordBot:own.example", True, "bridge"),
        ("user", "@discord*:own.example", True, "bridge"),
        ("user", "@_discord_*:own.example", True, "bridge"),
        ("user", "@*:own.example", True, "bridge"),
        ("user", "*:own.example", True, "bridge"),
        ("user", "@_discord_*", True, "bridge"),
        # moderators, even with force
        ("user", "@alice:mods.example", True, "moderator"),
        ("user", "@ALICE:mods.example", True, "moderator"),
        ("user", "@ali*:mods.example", True, "moderator"),
        ("user", "@bob:own.example", True, "moderator"),
        ("server", "mods.example", True, "moderator"),
        ("server", "*.mods.example", False, "wildcard"),
        # wildcards need force
        ("user", "@spam*:evil.example", False, "wildcard"),
        ("user", "@sp?m:evil.example", False, "wildcard"),
        ("user", "@_discord_1*:own.example", False, "wildcard"),
        ("server", "*.evil.example", False, "wildcard"),
        ("room", "#*:evil.example", False, "wildcard"),
    ],
)
def test_check_new_rule_refuses(kind: str, entity: str, force: bool, code: str) -> None:
    refusal = check(kind, entity, force=force)
    assert refusal is not None
    assert refusal.code == code
    assert refusal.message  # plain words for the moderator


@pytest.mark.parametrize(
    ("kind", "entity", "force"),
    [
        ("user", "@spam:evil.example", False),
        ("user", "@_discord_123456789:own.example", False),  # one ghost = one Discord user
        ("user", "@carol:own.example", False),
        ("user", "@spam*:evil.example", True),
        ("user", "@_discord_1*:own.example", True),  # part of the namespace only
        ("user", "*:evil.example", True),
        ("server", "evil.example", False),
        ("server", "own.example.evil", False),
        ("server", "*.evil.example", True),
        ("server", "*.mods.example", True),  # the moderator's server itself is not matched
        ("room", "#spam:evil.example", False),
        ("room", "!abc:evil.example", False),
        ("room", "#*:evil.example", True),
    ],
)
def test_check_new_rule_accepts(kind: str, entity: str, force: bool) -> None:
    assert check(kind, entity, force=force) is None


def test_self_protection_is_reported_before_the_wildcard_refusal() -> None:
    refusal = check("user", "@*:own.example", force=False)
    assert refusal is not None and refusal.code == "bridge"


# --------------------------------------------------------------------------- who may moderate


@pytest.mark.parametrize(
    ("permissions", "is_owner", "expected"),
    [
        (0, False, False),
        (BAN_MEMBERS, False, True),
        (ADMINISTRATOR, False, True),
        (1 << 1, False, False),  # KICK_MEMBERS alone is not enough
        ((1 << 1) | (1 << 13), False, False),
        (0xFFFFFFFF & ~(BAN_MEMBERS | ADMINISTRATOR), False, False),
        (BAN_MEMBERS | (1 << 40), False, True),
        (-1, False, False),
        (0, True, True),
    ],
)
def test_discord_may_moderate(permissions: int, is_owner: bool, expected: bool) -> None:
    assert discord_may_moderate(permissions, is_owner=is_owner) is expected


@pytest.mark.parametrize(
    ("mxid", "power", "ban", "expected"),
    [
        ("@u:x", 50, 50, True),
        ("@u:x", 100, 50, True),
        ("@u:x", 49, 50, False),
        ("@u:x", 0, 0, True),
        ("@alice:mods.example", 0, 50, True),
        ("@ALICE:mods.example", 0, 50, False),  # privilege is never widened by case folding
    ],
)
def test_matrix_may_moderate(mxid: str, power: int, ban: int, expected: bool) -> None:
    assert matrix_may_moderate(mxid, power_level=power, ban_level=ban, moderators=MODS) is expected


def test_power_level_helpers() -> None:
    content: dict[str, object] = {
        "ban": 60,
        "users_default": 10,
        "users": {"@mod:x": 75, "@str:x": "80", "@bad:x": "lots", "@flag:x": True},
    }
    assert ban_level(content) == 60
    assert ban_level({}) == 50
    assert ban_level({"ban": "70"}) == 70
    assert ban_level({"ban": None}) == 50
    assert user_power_level(content, "@mod:x") == 75
    assert user_power_level(content, "@str:x") == 80
    assert user_power_level(content, "@bad:x") == 10
    assert user_power_level(content, "@flag:x") == 10
    assert user_power_level(content, "@other:x") == 10
    assert user_power_level({}, "@other:x") == 0
    assert user_power_level({"users": "nonsense"}, "@mod:x") == 0
