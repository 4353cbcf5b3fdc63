"""Config keys of the moderation section: defaults, a full section, each mistake named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import Config, ConfigError, ModerationConfig, parse_config
from tests.test_config import ROOT, VALID


def with_moderation(section: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data["moderation"] = section
    return data


def test_defaults_when_the_section_is_absent(tmp_path: Path) -> None:
    config = parse_config(VALID, tmp_path / "config.yaml")
    assert config.moderation == ModerationConfig()
    mod = config.moderation
    assert mod.guild_wide_bans and mod.ban_on_discord and mod.kick_on_discord
    assert mod.moderators == () and mod.subscriptions == ()
    assert mod.policy_room is None and mod.mod_room is None and mod.ban_scope == "guild"
    assert config.discord.guilds[0].mod_channel is None
    assert mod.command_prefix == "!mod"


@pytest.mark.parametrize("section", [None, {}])
def test_empty_section_means_defaults(section: Any) -> None:
    assert parse_config(with_moderation(section)).moderation == ModerationConfig()


def test_moderation_follows_path_in_config_fields() -> None:
    names = list(Config.__dataclass_fields__)
    # Added fields go last, with defaults: positional Config(...) calls keep working.
    assert names[-5:] == ["path", "moderation", "members", "log_format", "web"]


def test_full_section(tmp_path: Path) -> None:
    section = {
        "guild_wide_bans": False,
        "ban_on_discord": False,
        "kick_on_discord": False,
        "moderators": ["@alice:example.org", " @bob:other.example "],
        "policy_room": "!policy:example.org",
        "subscriptions": ["!list:matrix.org", "#community-bans:matrix.org"],
        "mod_room": "!mods:example.org",
        "mod_channel": "4000000000000000009",
        "command_prefix": "!ban-bot",
        "ban_scope": "party",
    }
    config = parse_config(with_moderation(section), tmp_path / "config.yaml")
    # The old single-guild key lands on that guild.
    assert config.discord.guilds[0].mod_channel == 4000000000000000009
    assert config.moderation == ModerationConfig(
        guild_wide_bans=False,
        ban_on_discord=False,
        kick_on_discord=False,
        moderators=("@alice:example.org", "@bob:other.example"),
        policy_room="!policy:example.org",  # type: ignore[arg-type]
        subscriptions=("!list:matrix.org", "#community-bans:matrix.org"),
        mod_room="!mods:example.org",  # type: ignore[arg-type]
        command_prefix="!ban-bot",
        ban_scope="party",
    )


def test_create_and_empty_values(tmp_path: Path) -> None:
    section = {
        "policy_room": "create",
        "mod_room": "create",
        "mod_channel": "",
        "moderators": None,
        "subscriptions": [],
    }
    mod = parse_config(with_moderation(section), tmp_path / "config.yaml").moderation
    assert mod == ModerationConfig()
    # A channel ID written as a YAML number works as well.
    config = parse_config(with_moderation({"mod_channel": 4000000000000000009}))
    assert config.discord.guilds[0].mod_channel == 4000000000000000009


def test_example_config_documents_the_defaults() -> None:
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data = copy.deepcopy(VALID)
    data["moderation"] = example["moderation"]
    assert parse_config(data).moderation == ModerationConfig()
    assert set(example["moderation"]) == set(ModerationConfig.__dataclass_fields__)


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ("yes", "moderation", "mapping"),
        (["!mod"], "moderation", "mapping"),
        ({"guild_wide_bans": "yes"}, "moderation.guild_wide_bans", "true or false"),
        ({"ban_on_discord": 1}, "moderation.ban_on_discord", "true or false"),
        ({"kick_on_discord": None}, "moderation.kick_on_discord", "true or false"),
        ({"moderators": "@alice:example.org"}, "moderation.moderators", "list"),
        ({"moderators": ["alice"]}, "moderation.moderators[0]", "not a Matrix user ID"),
        (
            {"moderators": ["@alice:example.org", "#mods:example.org"]},
            "moderation.moderators[1]",
            "not a Matrix user ID",
        ),
        ({"moderators": ["@alice"]}, "moderation.moderators[0]", "not a Matrix user ID"),
        ({"moderators": [42]}, "moderation.moderators[0]", "not a Matrix user ID"),
        (
            {"moderators": ["@a:example.org", "@a:example.org"]},
            "moderation.moderators[1]",
            "twice",
        ),
        ({"policy_room": "#bans:example.org"}, "moderation.policy_room", "room ID"),
        ({"policy_room": "policy"}, "moderation.policy_room", "'create'"),
        ({"policy_room": ""}, "moderation.policy_room", "empty"),
        ({"mod_room": "!mods"}, "moderation.mod_room", "room ID"),
        ({"subscriptions": "#list:matrix.org"}, "moderation.subscriptions", "list"),
        ({"subscriptions": ["list:matrix.org"]}, "moderation.subscriptions[0]", "alias"),
        (
            {"subscriptions": ["!a:x", "@user:matrix.org"]},
            "moderation.subscriptions[1]",
            "room ID",
        ),
        (
            {"subscriptions": ["#l:matrix.org", "#l:matrix.org"]},
            "moderation.subscriptions[1]",
            "twice",
        ),
        ({"mod_channel": "mods"}, "moderation.mod_channel", "digits only"),
        ({"mod_channel": "!mods:example.org"}, "moderation.mod_channel", "Discord ID"),
        ({"command_prefix": ""}, "moderation.command_prefix", "empty"),
        ({"command_prefix": "mod bot"}, "moderation.command_prefix", "spaces"),
        ({"command_prefix": ["!mod"]}, "moderation.command_prefix", "text"),
    ],
)
def test_bad_values_name_the_key(section: Any, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_moderation(section))
    assert info.value.key == key
    assert words in str(info.value)
    assert str(info.value).startswith(f"config key '{key}': ")
