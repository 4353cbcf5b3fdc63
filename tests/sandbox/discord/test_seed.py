"""Seed loading and validation: normalised output, plain errors naming the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sandbox.discord.seed import SeedError, load_seed, validate_seed
from tests.sandbox.discord.world import make_seed

DEMO = Path(__file__).resolve().parents[3] / "sandbox" / "discord" / "demo_seed.yaml"


def test_demo_seed_loads() -> None:
    seed = load_seed(DEMO)
    assert [u["username"] for u in seed["users"]] == [
        "passerelle",
        "alice",
        "bob",
        "carol",
        "mallory",
        "trent",
        "oscar",
    ]
    assert seed["users"][0]["bot"] is True
    assert seed["users"][1]["avatar"] is True
    guild = seed["guilds"][0]
    assert guild["channels"][1]["permission_overwrites"][0] == {
        "id": "3000000000000000001",
        "type": 0,
        "allow": "0",
        "deny": "1024",
    }
    assert guild["members"][1]["nick"] == "Alice (HQ)"
    assert guild["emojis"][0] == {
        "id": "5000000000000000001",
        "name": "passerelle",
        "animated": False,
    }


def test_integer_snowflakes_become_strings_and_everyone_role_is_added() -> None:
    seed = validate_seed(
        {
            "users": [{"id": 11, "username": "u", "token": "t"}],
            "guilds": [{"id": 22, "name": "g", "owner_id": 11, "members": [{"user_id": 11}]}],
        }
    )
    assert seed["users"][0]["id"] == "11"
    guild = seed["guilds"][0]
    assert guild["id"] == "22" and guild["owner_id"] == "11"
    assert guild["roles"][0]["id"] == "22" and guild["roles"][0]["name"] == "@everyone"


def _broken(change: Any) -> dict[str, Any]:
    seed = copy.deepcopy(make_seed())
    change(seed)
    return seed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("users"), "seed: missing required key 'users'"),
        (lambda s: s.update(extra=1), "seed: unknown key 'extra'"),
        (lambda s: s["users"][1].pop("token"), "users[1]: missing required key 'token'"),
        (lambda s: s["users"][1].update(id="abc"), "users[1].id: expected a snowflake"),
        (lambda s: s["users"][2].update(token="alice-token"), "users: two users share a token"),
        (lambda s: s["users"][2].update(id=s["users"][1]["id"]), "users: duplicate id"),
        (lambda s: s["guilds"][0].update(owner_id="42"), "guilds[0].owner_id: unknown user 42"),
        (
            lambda s: s["guilds"][0]["channels"][0].update(topc="x"),
            "guilds[0].channels[0]: unknown key 'topc'",
        ),
        (
            lambda s: s["guilds"][0]["channels"][0].update(type="text"),
            "guilds[0].channels[0].type: expected an integer",
        ),
        (
            lambda s: s["guilds"][0]["channels"][0].update(type=11),
            "guilds[0].channels[0].type: unsupported channel type 11",
        ),
        (
            lambda s: s["guilds"][0]["channels"][1]["permission_overwrites"][0].update(deny="x"),
            "guilds[0].channels[1].permission_overwrites[0].deny: expected a permission bitfield",
        ),
        (
            lambda s: s["guilds"][0]["members"][1].update(roles=["999"]),
            "guilds[0].members[1].roles: unknown role 999",
        ),
        (
            lambda s: s["guilds"][0]["members"].append({"user_id": "77"}),
            "guilds[0].members[4].user_id: unknown user 77",
        ),
        (lambda s: s["users"][0].update(bot="yes"), "users[0].bot: expected true or false"),
        (
            lambda s: s["guilds"][0]["emojis"][0].update(name="no spaces"),
            "guilds[0].emojis[0].name: expected 2-32 letters",
        ),
        (
            lambda s: s["guilds"][0]["emojis"][1].update(id=s["guilds"][0]["emojis"][0]["id"]),
            "guilds[0].emojis: duplicate id",
        ),
    ],
)
def test_errors_name_the_bad_key(change: Any, message: str) -> None:
    with pytest.raises(SeedError) as info:
        validate_seed(_broken(change))
    assert message in str(info.value)


def test_load_seed_reports_yaml_errors(tmp_path: Path) -> None:
    bad = tmp_path / "seed.yaml"
    bad.write_text("users: [\n", encoding="utf-8")
    with pytest.raises(SeedError, match="not valid YAML"):
        load_seed(bad)
    with pytest.raises(SeedError, match="cannot read seed"):
        load_seed(tmp_path / "missing.yaml")
