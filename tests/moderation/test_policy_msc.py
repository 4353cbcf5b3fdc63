"""MSC4204 (``m.takedown``) and MSC4205 (hashed entities) in policy lists: parsing of
real-shaped events, matching, and the ban flows they drive (fake networks, SQLite)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from bridge.ids import DiscordUserID, UserID
from moderation import lists
from moderation.dispatch import ModerationDispatch
from moderation.gate import relay_blocked
from moderation.policy import (
    PolicySet,
    RuleRejected,
    RuleRemoval,
    RuleUpsert,
    entity_hash,
    parse_policy_event,
)
from tests.moderation.fakes import GUILD, ROOM_A, ROOM_B, SUB_LIST, Harness, moderation_context

SPAMMER = UserID("@spammer:evil.example")
ALICE = UserID("@alice:other.example")
UID = DiscordUserID(5000000000000000001)
OTHER_UID = DiscordUserID(5000000000000000002)


def sha(value: str, *, padded: bool = True) -> str:
    """How Draupnir writes a hash: standard base64 of SHA-256, padded."""
    text = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
    return text if padded else text.rstrip("=")


def hashed_event(
    value: str,
    *,
    kind: str = "user",
    key: str = "org.matrix.msc4205.hashes",
    recommendation: str = "m.ban",
    state_key: str | None = None,
    padded: bool = True,
) -> dict[str, Any]:
    return {
        "type": f"m.policy.rule.{kind}",
        "room_id": SUB_LIST,
        "sender": "@draupnir:other.example",
        "state_key": state_key or f"rule:{sha(value)}",
        "event_id": f"$hashed-{sha(value)[:8]}-{recommendation}",
        "origin_server_ts": 1_765_000_000_000,
        "content": {key: {"sha256": sha(value, padded=padded)}, "recommendation": recommendation},
    }


def test_msc_example_hash() -> None:
    # The example of MSC4205 itself is @yarrgh:example.com's hash, padded.
    assert sha("@yarrgh:example.com") == "VPqwbUV7mMMkOVto3kPwsNXXiALMs7VCKWh3OeqqjGs="
    assert entity_hash("@yarrgh:example.com") == "VPqwbUV7mMMkOVto3kPwsNXXiALMs7VCKWh3OeqqjGs"


def test_takedown_is_a_ban_in_both_spellings() -> None:
    for recommendation in ("m.takedown", "org.matrix.msc4204.takedown"):
        event = {
            "type": "m.policy.rule.user",
            "room_id": SUB_LIST,
            "state_key": "rule:spam",
            "content": {"entity": SPAMMER, "recommendation": recommendation},
        }
        change = parse_policy_event(event)
        assert isinstance(change, RuleUpsert)
        assert change.rule.recommendation == "m.takedown" and change.rule.is_ban
        assert PolicySet([change.rule]).is_banned_user(SPAMMER) is not None
    inert = parse_policy_event({**event, "content": {"entity": SPAMMER, "recommendation": "x"}})
    assert isinstance(inert, RuleUpsert) and not inert.rule.is_ban


def test_hashed_user_rule_matches_only_that_user() -> None:
    for key in ("hashes", "org.matrix.msc4205.hashes"):
        for padded in (True, False):
            change = parse_policy_event(hashed_event(SPAMMER, key=key, padded=padded))
            assert isinstance(change, RuleUpsert), change
            rule = change.rule
            assert rule.entity == "" and rule.sha256 == entity_hash(SPAMMER)
            assert rule.label == f"sha256:{entity_hash(SPAMMER)}" and not rule.is_wildcard
            rules = PolicySet([rule])
            match = rules.is_banned_user(SPAMMER)
            assert match is not None and match.via == "user"
            assert rules.is_banned_user(ALICE) is None
            assert rules.is_banned_user("@Spammer:evil.example") is not None  # case folded


def test_hashed_server_rule_bans_the_servers_users() -> None:
    change = parse_policy_event(
        hashed_event("evil.example", kind="server", recommendation="m.takedown")
    )
    assert isinstance(change, RuleUpsert)
    rules = PolicySet([change.rule])
    match = rules.is_banned_user(SPAMMER)
    assert match is not None and match.via == "server" and match.subject == "evil.example"
    assert rules.is_banned_user(ALICE) is None


def test_bad_hashes_are_rejected_and_blank_content_removes() -> None:
    base = hashed_event(SPAMMER)
    for hashes in ({"sha256": "not base64!"}, {"sha256": "AAAA"}, {"sha512": sha(SPAMMER)}, "x"):
        event = {**base, "content": {"hashes": hashes, "recommendation": "m.ban"}}
        assert isinstance(parse_policy_event(event), RuleRejected), hashes
    assert isinstance(parse_policy_event({**base, "content": {}}), RuleRemoval)
    # An entity wins over hashes: the rule is read by its entity.
    both = {
        **base,
        "content": {"entity": ALICE, "hashes": {"sha256": sha(SPAMMER)}, "recommendation": "m.ban"},
    }
    change = parse_policy_event(both)
    assert isinstance(change, RuleUpsert) and change.rule.sha256 is None
    assert change.rule.entity == ALICE


async def _push(h: Harness, raw: dict[str, Any]) -> None:
    await ModerationDispatch(h.mctx).on_matrix_event(raw)


async def test_hashed_rule_bans_a_matrix_member_and_lifts_on_removal(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.join_member(ROOM_A, ALICE, SPAMMER)
        event = hashed_event(SPAMMER, recommendation="org.matrix.msc4204.takedown")
        await _push(h, event)
        assert h.matrix.bans_in(ROOM_A) == {SPAMMER} and h.matrix.bans_in(ROOM_B) == {SPAMMER}
        row = await h.stores.bans.get("matrix", SPAMMER, GUILD)
        assert row is not None and row.rule_entity == f"sha256:{entity_hash(SPAMMER)}"
        assert await relay_blocked(h.mctx.bridge, SPAMMER)
        assert not await relay_blocked(h.mctx.bridge, ALICE)
        (stored,) = await h.stores.policy_rules.all(SUB_LIST)
        assert stored.entity == f"sha256:{entity_hash(SPAMMER)}"

        await _push(h, {**event, "event_id": "$blank", "content": {}})
        assert not await h.stores.bans.is_banned("matrix", SPAMMER)
        assert SPAMMER not in h.matrix.bans_in(ROOM_A)


async def test_hashed_rule_naming_a_ghost_bans_the_discord_user(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.discord.add_member(UID, "raider")
        h.discord.add_member(OTHER_UID, "regular")
        await _push(h, hashed_event(h.ghost(UID)))
        assert [(guild, uid) for guild, uid, _reason, _secs in h.discord.ban_calls] == [
            (GUILD, UID)
        ]
        row = await h.stores.bans.get("discord", str(UID), GUILD)
        assert row is not None and row.origin == "policy"
        assert h.ghost(UID) in h.matrix.bans_in(ROOM_A)
        assert await h.stores.bans.get("discord", str(OTHER_UID), GUILD) is None


async def test_hashed_rules_reapplied_at_start_up(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        h.matrix.state[SUB_LIST] = [hashed_event(SPAMMER)]
        assert await lists.load_list(h.mctx, SUB_LIST) == 1
        h.matrix.join_member(ROOM_A, SPAMMER)
        assert await lists.reapply_all(h.mctx) == 1
        assert h.matrix.bans_in(ROOM_A) == {SPAMMER}
