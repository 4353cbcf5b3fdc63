"""Config of several guilds: discord.guilds, the deprecated single guild_id, category and
whole-guild rules, spaces and role power levels; each mistake named."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from bridge.config import CategoryRule, ConfigError, PowerRule, parse_config
from bridge.config_guilds import DEFAULT_POWER_RULES
from tests.test_config import VALID

HQ, NORD = "3000000000000000001", "3000000000000000002"


def with_guilds(guilds: Any, **bridge: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data["discord"] = {"token": "MTA.real-looking.token", "guilds": guilds}
    data["bridge"] = dict(bridge)
    return data


def test_several_guilds_each_with_its_own_channels_roles_and_mod_channel() -> None:
    config = parse_config(
        with_guilds(
            [
                {
                    "id": HQ,
                    "channels": [{"discord_channel": "4000000000000000001", "access": "public"}],
                    "member_roles": ["3000000000000000011"],
                    "mod_channel": "4000000000000000003",
                },
                {
                    "id": NORD,
                    "categories": ["4100000000000000001", {"id": 4100000000000000002}],
                    "member_roles": ["3000000000000000021"],
                },
                {"id": "3000000000000000003", "all_channels": "public"},
            ]
        )
    )
    hq, nord, yvelines = config.discord.guilds
    assert config.discord.guild_ids == (int(HQ), int(NORD), 3000000000000000003)
    assert [c.discord_channel for c in config.bridge.channels] == [4000000000000000001]
    assert config.bridge.channels[0].guild_id == int(HQ)
    assert hq.mod_channel == 4000000000000000003 and nord.mod_channel is None
    assert nord.categories == (
        CategoryRule(4100000000000000001, "members_only"),  # type: ignore[arg-type]
        CategoryRule(4100000000000000002, "members_only"),  # type: ignore[arg-type]
    )
    assert yvelines.all_channels == "public" and hq.all_channels is None
    # Verified members of a guild: its own roles (and the top-level members.role_ids).
    assert config.member_roles(int(NORD)) == (3000000000000000021,)
    assert config.member_roles(12345) == ()
    assert config.discord.mod_channel_guild(4000000000000000003) is hq
    assert config.discord.mod_channel_guild(4000000000000000001) is None


def test_top_level_member_roles_apply_in_every_guild() -> None:
    data = with_guilds([{"id": HQ, "member_roles": ["11"]}, {"id": NORD}])
    data["members"] = {"role_ids": ["22"]}
    config = parse_config(data)
    assert config.member_roles(int(HQ)) == (11, 22)
    assert config.member_roles(int(NORD)) == (22,)


def test_the_old_single_guild_keeps_working_with_a_deprecation_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = copy.deepcopy(VALID)
    data["moderation"] = {"mod_channel": "4000000000000000009"}
    with caplog.at_level(logging.WARNING):
        config = parse_config(data)
    (guild,) = config.discord.guilds
    assert guild.id == 3000000000000000001 and guild.mod_channel == 4000000000000000009
    assert [c.guild_id for c in config.bridge.channels] == [guild.id, guild.id]
    assert guild.channels == config.bridge.channels
    deprecated = [r.getMessage() for r in caplog.records if "config.deprecated" in r.getMessage()]
    assert deprecated and "discord.guilds" in deprecated[0]


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        (with_guilds([]), "discord.guilds", "at least one"),
        (with_guilds("123"), "discord.guilds", "list"),
        (with_guilds([{"id": HQ}, {"id": HQ}]), "discord.guilds[1].id", "twice"),
        (with_guilds([{"name": "x"}]), "discord.guilds[0].id", "Discord ID"),
        (with_guilds(["x"]), "discord.guilds[0]", "mapping"),
        (
            with_guilds(
                [
                    {"id": HQ, "channels": [{"discord_channel": "5"}]},
                    {"id": NORD, "channels": [{"discord_channel": "5"}]},
                ]
            ),
            "discord.guilds[1].channels[0].discord_channel",
            "twice",
        ),
        (
            with_guilds([{"id": HQ, "categories": [{"id": "1"}, "1"]}]),
            "discord.guilds[0].categories[1].id",
            "twice",
        ),
        (
            with_guilds([{"id": HQ, "categories": [{"id": "1", "access": "open"}]}]),
            "discord.guilds[0].categories[0].access",
            "public or members_only",
        ),
        (
            with_guilds([{"id": HQ, "all_channels": "yes"}]),
            "discord.guilds[0].all_channels",
            "public",
        ),
        (
            with_guilds([{"id": HQ, "member_roles": ["abc"]}]),
            "discord.guilds[0].member_roles[0]",
            "role ID",
        ),
        (
            with_guilds([{"id": HQ, "mod_channel": "mods"}]),
            "discord.guilds[0].mod_channel",
            "digits",
        ),
        (
            with_guilds([{"id": HQ}], channels=[{"discord_channel": "1"}]),
            "bridge.channels",
            "discord.guilds[N].channels",
        ),
    ],
)
def test_mistakes_name_their_key(data: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.key == key
    assert words in info.value.problem


def test_both_forms_at_once_are_refused() -> None:
    data = with_guilds([{"id": HQ}])
    data["discord"]["guild_id"] = HQ
    with pytest.raises(ConfigError, match="not both"):
        parse_config(data)


def test_one_moderation_mod_channel_cannot_serve_several_guilds() -> None:
    data = with_guilds([{"id": HQ}, {"id": NORD}])
    data["moderation"] = {"mod_channel": "4000000000000000003"}
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.key == "moderation.mod_channel"


def test_ban_scope() -> None:
    data = with_guilds([{"id": HQ}])
    assert parse_config(data).moderation.ban_scope == "guild"
    data["moderation"] = {"ban_scope": "party"}
    assert parse_config(data).moderation.ban_scope == "party"
    data["moderation"] = {"ban_scope": "world"}
    with pytest.raises(ConfigError, match="guild or party"):
        parse_config(data)


def test_spaces_defaults_and_keys() -> None:
    spaces = parse_config(with_guilds([{"id": HQ}])).bridge.spaces
    assert spaces.enabled and spaces.party and spaces.party_name == "Passerelle"
    data = with_guilds(
        [{"id": HQ}], spaces={"enabled": False, "party_name": "Le Parti", "party_topic": "Salut"}
    )
    spaces = parse_config(data).bridge.spaces
    assert not spaces.enabled and spaces.party_name == "Le Parti" and spaces.party_topic == "Salut"
    with pytest.raises(ConfigError) as info:
        parse_config(with_guilds([{"id": HQ}], spaces={"enabled": "yes"}))
    assert info.value.key == "bridge.spaces.enabled"


def test_role_power_levels() -> None:
    assert parse_config(with_guilds([{"id": HQ}])).bridge.role_power_levels == DEFAULT_POWER_RULES
    rules = [
        {"permission": "Kick_Members", "level": 25},
        {"role": "3000000000000000011", "level": 10},
    ]
    parsed = parse_config(
        with_guilds([{"id": HQ}], role_power_levels=rules)
    ).bridge.role_power_levels
    assert parsed == (
        PowerRule(25, permission="kick_members"),
        PowerRule(10, role_id=3000000000000000011),
    )
    assert (
        parse_config(with_guilds([{"id": HQ}], role_power_levels=[])).bridge.role_power_levels == ()
    )
    kick = parsed[0]
    assert kick.matches(frozenset(), 1 << 1) and not kick.matches(frozenset(), 1 << 2)
    assert parsed[1].matches(frozenset({3000000000000000011}), 0)


@pytest.mark.parametrize(
    ("rule", "key", "words"),
    [
        ({"permission": "fly", "level": 5}, "bridge.role_power_levels[0].permission", "unknown"),
        (
            {"permission": "ban_members", "level": 101},
            "bridge.role_power_levels[0].level",
            "between",
        ),
        ({"level": 5}, "bridge.role_power_levels[0]", "either"),
        (
            {"role": "1", "permission": "ban_members", "level": 5},
            "bridge.role_power_levels[0]",
            "either",
        ),
        ("admin", "bridge.role_power_levels[0]", "mapping"),
    ],
)
def test_role_power_level_mistakes(rule: Any, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_guilds([{"id": HQ}], role_power_levels=[rule]))
    assert info.value.key == key and words in info.value.problem
