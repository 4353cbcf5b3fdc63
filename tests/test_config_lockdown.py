"""The ``moderation.lockdown`` section: defaults, values read, plain errors naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bridge.config import ConfigError, parse_config
from bridge.config_lockdown import JoinWaveConfig, LockdownConfig
from tests.test_config import VALID


def with_lockdown(section: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data["moderation"] = {"lockdown": section}
    return data


def test_defaults_when_left_out() -> None:
    assert parse_config(copy.deepcopy(VALID)).moderation.lockdown == LockdownConfig()
    assert parse_config(with_lockdown(None)).moderation.lockdown == LockdownConfig()
    defaults = LockdownConfig()
    assert (defaults.duration_seconds, defaults.slowmode_seconds) == (1800, 30)
    assert defaults.join_wave == JoinWaveConfig(enabled=True, joins=20, seconds=30)
    assert defaults.join_wave.alert_joins == 5


def test_values_are_read() -> None:
    section = {
        "duration_seconds": 0,
        "slowmode_seconds": 120,
        "verification_level": 4,
        "new_account_days": 30,
        "new_member_minutes": 60,
        "join_wave": {"enabled": False, "joins": 5, "seconds": 10},
    }
    got = parse_config(with_lockdown(section)).moderation.lockdown
    # alert_joins left out: a quarter of joins (at least 1).
    assert got == LockdownConfig(0, 120, 4, 30, 60, JoinWaveConfig(False, 5, 10, 1))


@pytest.mark.parametrize(("alert", "expected"), [(0, 0), (3, 3)])
def test_the_join_alert_level_is_read(alert: int, expected: int) -> None:
    section = {"join_wave": {"joins": 8, "alert_joins": alert}}
    assert parse_config(with_lockdown(section)).moderation.lockdown.join_wave.alert_joins == (
        expected
    )


def test_a_join_alert_at_or_above_the_wave_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(with_lockdown({"join_wave": {"joins": 8, "alert_joins": 8}}))
    assert "join_wave.alert_joins" in str(err.value) and "8" in str(err.value)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("yes", "moderation.lockdown"),
        ({"verification_level": 5}, "moderation.lockdown.verification_level"),
        ({"slowmode_seconds": 21601}, "moderation.lockdown.slowmode_seconds"),
        ({"duration_seconds": "soon"}, "moderation.lockdown.duration_seconds"),
        ({"join_wave": {"joins": 1}}, "moderation.lockdown.join_wave.joins"),
        ({"join_wave": {"enabled": "yes"}}, "moderation.lockdown.join_wave.enabled"),
        ({"join_wave": []}, "moderation.lockdown.join_wave"),
    ],
)
def test_bad_values_name_their_key(section: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(with_lockdown(section))
    assert key in str(caught.value)


def test_a_misspelt_lockdown_key_names_the_right_one() -> None:
    data = with_lockdown({"slowmode_second": 10, "join_wave": {"join": 3}})
    with pytest.raises(ConfigError) as caught:
        parse_config(data, strict=True)
    text = str(caught.value)
    assert "did you mean 'moderation.lockdown.slowmode_seconds'?" in text
    assert "did you mean 'moderation.lockdown.join_wave.joins'?" in text
