"""The members section: who is a verified member, validated with plain messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bridge.config import ConfigError, MembersConfig, parse_config
from tests.test_config import VALID


def with_members(section: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data["members"] = section
    return data


def test_absent_section_fails_closed() -> None:
    config = parse_config(copy.deepcopy(VALID))
    assert config.members == MembersConfig()
    assert config.members.role_ids == () and config.members.allowlist == ()


def test_full_section() -> None:
    config = parse_config(
        with_members(
            {
                "role_ids": ["3000000000000000011", 3000000000000000011],
                "allowlist": ["@ally:example.org"],
                "auto_invite": False,
                "link_code_minutes": 5,
            }
        )
    )
    assert config.members == MembersConfig(
        role_ids=(3000000000000000011,),
        allowlist=("@ally:example.org",),
        auto_invite=False,
        link_code_minutes=5,
    )


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("roles", "members"),
        ({"role_ids": ["Member"]}, "members.role_ids[0]"),
        ({"allowlist": ["ally"]}, "members.allowlist[0]"),
        ({"auto_invite": "yes"}, "members.auto_invite"),
        ({"link_code_minutes": 0}, "members.link_code_minutes"),
    ],
)
def test_errors_name_the_key(section: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(with_members(section))
    assert err.value.key == key
