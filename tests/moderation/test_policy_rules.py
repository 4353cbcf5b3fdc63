"""Glob language and policy event parsing (moderation.policy_rules)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from moderation.policy_rules import (
    BAN,
    POLICY_EVENT_TYPES,
    NotPolicyEvent,
    PolicyRule,
    RuleKey,
    RuleRejected,
    RuleRemoval,
    RuleUpsert,
    _compile_glob,
    glob_matches,
    is_wildcard,
    normalise_recommendation,
    parse_policy_event,
    policy_kind,
)
from tests.matrix_spec import EVENT_EXAMPLES, event_example

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "policy"


def load_fixture(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text())


# --------------------------------------------------------------------------- globs

GLOB_CASES = [
    # (pattern, value, expected)
    # literal, whole-string
    ("@alice:example.org", "@alice:example.org", True),
    ("@alice:example.org", "@alice:example.org.evil", False),
    ("@alice:example.org", "x@alice:example.org", False),
    ("example.org", "sub.example.org", False),
    # * : any sequence, including empty and ':'
    ("@alice*:example.org", "@alice:example.org", True),
    ("@alice*:example.org", "@alice2:example.org", True),
    ("@alice*:example.org", "@alic:example.org", False),
    ("*:example.org", "@bob:example.org", True),
    ("@*", "@bob:other.org:8448", True),
    ("@bob*", "@bob:other.org", True),  # * swallows ':'
    ("*.example.org", "a.b.example.org", True),
    ("*.example.org", "example.org", False),
    ("*", "", True),
    ("*", "anything:at all", True),
    ("**", "", True),
    ("a*b*c", "abc", True),
    ("a*b*c", "axxbyyc", True),
    ("a*b*c", "acb", False),
    ("a*a", "a", False),
    ("a*a", "aa", True),
    ("*ab*ab*", "abab", True),
    ("*ab*ab*", "aba", False),
    # ? : exactly one character, ':' included
    ("@b?b:example.org", "@bob:example.org", True),
    ("@b?b:example.org", "@bb:example.org", False),
    ("@b?b:example.org", "@boob:example.org", False),
    ("@bob?example.org", "@bob:example.org", True),
    ("?", "", False),
    ("?", "x", True),
    ("??", "x", False),
    ("?*", "", False),
    ("?*", "x", True),
    ("*?", "xy", True),
    # regex metacharacters are literal
    ("ex.mple.org", "example.org", False),
    ("ex.mple.org", "ex.mple.org", True),
    ("@a+b:x", "@aab:x", False),
    ("@a+b:x", "@a+b:x", True),
    ("[::1]:8448", "[::1]:8448", True),
    ("[::1]:8448", "1", False),
    ("@(a|b):x", "@a:x", False),
    ("@(a|b):x", "@(a|b):x", True),
    ("@a{2}:x", "@aa:x", False),
    ("@^a$:x", "@^a$:x", True),
    ("@a\\d:x", "@a1:x", False),
    ("@a\\d:x", "@a\\d:x", True),
    ("[ab]*", "a.example", False),
    # case-insensitive
    ("EVIL.example", "evil.EXAMPLE", True),
    ("@Alice:Example.org", "@alice:example.org", True),
    ("@alice*:example.org", "@ALICEBOT:EXAMPLE.ORG", True),
    ("@b?B:x", "@BOb:x", True),
    # ports are part of the server name
    ("example.org", "example.org:8448", False),
    ("example.org:8448", "example.org:8448", True),
    ("example.org:8448", "example.org", False),
    ("example.org*", "example.org:8448", True),
    ("example.org:*", "example.org:8448", True),
    ("example.org:*", "example.org", False),
    ("*:8448", "evil.example:8448", True),
    # empty strings
    ("", "", True),
    ("", "a", False),
    ("a", "", False),
    # newlines are ordinary characters for * and ?
    ("a*b", "a\nb", True),
    ("a?b", "a\nb", True),
]


@pytest.mark.parametrize(("pattern", "value", "expected"), GLOB_CASES)
def test_glob_matches(pattern: str, value: str, expected: bool) -> None:
    assert glob_matches(pattern, value) is expected


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ("@a:b", False),
        ("example.org", False),
        ("[::1]:8448", False),
        ("@a*:b", True),
        ("@a?:b", True),
        ("*", True),
        ("", False),
    ],
)
def test_is_wildcard(entity: str, expected: bool) -> None:
    assert is_wildcard(entity) is expected


def test_globs_are_compiled_once() -> None:
    pattern = "@cache-probe-*:example.org"
    glob_matches(pattern, "@cache-probe-1:example.org")
    first = _compile_glob(pattern)
    glob_matches(pattern, "@cache-probe-2:example.org")
    assert _compile_glob(pattern) is first


def test_hostile_glob_does_not_backtrack() -> None:
    # A naive regex translation (.*a.*a...b) takes exponential-ish time here.
    pattern = "*a" * 25 + "*b"
    value = "a" * 5000
    started = time.perf_counter()
    assert glob_matches(pattern, value) is False
    assert glob_matches(pattern, value + "b") is True
    assert time.perf_counter() - started < 2.0


# --------------------------------------------------------------------------- types


def test_every_family_and_spelling_is_recognised() -> None:
    for prefix in ("m.policy.rule.", "m.room.rule.", "org.matrix.mjolnir.rule."):
        for kind in ("user", "server", "room"):
            assert policy_kind(prefix + kind) == kind
    assert len(POLICY_EVENT_TYPES) == 9
    assert policy_kind("m.policy.rule") is None
    assert policy_kind("m.policy.rule.users") is None
    assert policy_kind("m.room.member") is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [("m.ban", BAN), ("org.matrix.mjolnir.ban", BAN), ("org.example.mute", "org.example.mute")],
)
def test_normalise_recommendation(given: str, expected: str) -> None:
    assert normalise_recommendation(given) == expected


# --------------------------------------------------------------------------- spec examples

SPEC_EXAMPLES = [
    ("m.policy.rule.user.yaml", "user", "@alice*:example.org", "undesirable behaviour"),
    ("m.policy.rule.server.yaml", "server", "*.example.org", "undesirable engagement"),
    ("m.policy.rule.room.yaml", "room", "#*:example.org", "undesirable content"),
]


@pytest.mark.parametrize(("name", "kind", "entity", "reason"), SPEC_EXAMPLES)
def test_spec_examples_parse(name: str, kind: str, entity: str, reason: str) -> None:
    if not (EVENT_EXAMPLES / name).exists():
        pytest.skip(f"spec examples not found under {EVENT_EXAMPLES}")
    event = event_example(name)
    change = parse_policy_event(event)
    assert isinstance(change, RuleUpsert), change
    rule = change.rule
    assert rule == PolicyRule(
        kind=kind,  # type: ignore[arg-type]
        entity=entity,
        recommendation=BAN,
        reason=reason,
        state_key=event["state_key"],
        source_room=event["room_id"],
        event_id=event["event_id"],
    )
    assert rule.is_ban and rule.is_wildcard
    assert change.key == RuleKey(event["room_id"], kind, event["state_key"])  # type: ignore[arg-type]


def test_spec_user_example_matches_what_it_says() -> None:
    if not (EVENT_EXAMPLES / "m.policy.rule.user.yaml").exists():
        pytest.skip("spec examples not found")
    change = parse_policy_event(event_example("m.policy.rule.user.yaml"))
    assert isinstance(change, RuleUpsert)
    assert change.rule.matches("@alice:example.org")
    assert change.rule.matches("@alice_bot:example.org")
    assert not change.rule.matches("@bob:example.org")
    assert not change.rule.matches("@alice:example.org.evil")


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("case", load_fixture("legacy_events.json"), ids=lambda c: c["name"])
def test_rules_parse(case: dict[str, Any]) -> None:
    event, expect = case["event"], case["expect"]
    change = parse_policy_event(event)
    assert isinstance(change, RuleUpsert), change
    rule = change.rule
    assert rule.kind == expect["kind"]
    assert rule.entity == expect["entity"]
    assert rule.recommendation == expect["recommendation"]
    assert rule.reason == expect["reason"]
    assert rule.is_ban is expect["is_ban"]
    assert rule.state_key == event["state_key"]
    assert rule.source_room == event["room_id"]
    assert rule.event_id == event.get("event_id")


@pytest.mark.parametrize("case", load_fixture("removal_events.json"), ids=lambda c: c["name"])
def test_removals_parse(case: dict[str, Any]) -> None:
    event, expect = case["event"], case["expect"]
    change = parse_policy_event(event)
    assert change == RuleRemoval(
        RuleKey(event["room_id"], expect["kind"], expect["state_key"]), event.get("event_id")
    )


@pytest.mark.parametrize("case", load_fixture("malformed_events.json"), ids=lambda c: c["name"])
def test_malformed_events_are_rejected_not_raised(case: dict[str, Any]) -> None:
    event = case["event"]
    change = parse_policy_event(event)
    assert isinstance(change, RuleRejected), change
    assert case["reason_contains"] in change.reason
    if case["keyed"]:
        kind = policy_kind(event["type"])
        assert kind is not None
        assert change.key == RuleKey(event["room_id"], kind, event["state_key"])
    else:
        assert change.key is None


def test_not_policy_events_are_ignored() -> None:
    event = {"type": "m.room.member", "state_key": "@a:b", "room_id": "!r:b", "content": {}}
    assert parse_policy_event(event) == NotPolicyEvent("m.room.member")


def test_room_id_argument_names_the_source_room() -> None:
    event = {
        "type": "m.policy.rule.user",
        "state_key": "k",
        "content": {"entity": "@a:b", "recommendation": "m.ban", "reason": "r"},
    }
    change = parse_policy_event(event, room_id="!sync:example.org")
    assert isinstance(change, RuleUpsert)
    assert change.rule.source_room == "!sync:example.org"
    with_own = {**event, "room_id": "!event:example.org"}
    change = parse_policy_event(with_own, room_id="!sync:example.org")
    assert isinstance(change, RuleUpsert)
    assert change.rule.source_room == "!sync:example.org"
    change = parse_policy_event(with_own)
    assert isinstance(change, RuleUpsert)
    assert change.rule.source_room == "!event:example.org"


def test_legacy_and_modern_types_share_a_key() -> None:
    base = {"state_key": "k", "room_id": "!l:x", "content": {}}
    keys = {
        parse_policy_event({**base, "type": t}).key  # type: ignore[union-attr]
        for t in ("m.policy.rule.user", "m.room.rule.user", "org.matrix.mjolnir.rule.user")
    }
    assert keys == {RuleKey("!l:x", "user", "k")}


def test_reason_null_reads_as_empty() -> None:
    event = {
        "type": "m.policy.rule.user",
        "state_key": "k",
        "room_id": "!l:x",
        "content": {"entity": "@a:b", "recommendation": "m.ban", "reason": None},
    }
    change = parse_policy_event(event)
    assert isinstance(change, RuleUpsert)
    assert change.rule.reason == ""
