"""Lockdown's pure parts: join-wave counting on a fake clock, join rules, who is new,
durations, and the command's parsing (English and French)."""

from __future__ import annotations

import pytest

from bridge.i18n import translator
from moderation.commands import CommandError, Help, parse_command
from moderation.lockdown_command import Lockdown
from moderation.lockdown_rules import (
    DISCORD_EPOCH_MS,
    JoinWave,
    LockdownState,
    discord_account_created_ms,
    is_new_account,
    locked_join_rule,
    parse_duration,
)

NOW = 1_765_000_000_000
DAY = 86_400_000


def snowflake_at(ms: int) -> int:
    return (ms - DISCORD_EPOCH_MS) << 22


def test_join_wave_needs_n_joins_within_the_window() -> None:
    wave = JoinWave(joins=3, seconds=10)
    assert not wave.add(0.0) and not wave.add(4.0)
    assert not wave.add(10.5)  # the join at 0 is out of the window: 2 joins in it
    assert wave.count(10.5) == 2
    assert wave.add(12.0)  # 4, 10.5, 12: three within 10 s
    assert wave.count(12.0) == 0  # reported once, counting starts again
    assert not wave.add(12.1) and not wave.add(12.2)
    assert wave.add(12.3)


def test_join_wave_counts_people_not_rooms() -> None:
    wave = JoinWave(joins=3, seconds=10)
    # One member joining many bridged rooms at once is one join.
    assert not any(wave.add(0.1 * n, "matrix:@alice:example.org") for n in range(20))
    assert wave.count(2.0) == 1
    assert not wave.add(2.1, "discord:1")
    assert wave.add(2.2, "matrix:@bob:example.org")


def test_join_wave_slow_joins_never_make_a_wave() -> None:
    wave = JoinWave(joins=20, seconds=30)
    assert not any(wave.add(second * 2.0) for second in range(200))  # one join every 2 s


def test_a_building_wave_makes_its_newcomers_suspect() -> None:
    wave = JoinWave(joins=6, seconds=10, alert=3)
    assert not wave.add(0.0, "discord:1") and not wave.add(1.0, "matrix:@a:x")
    assert not wave.alerting(1.0) and not wave.suspect(1.0, "discord:1")
    wave.add(2.0, "discord:2")  # the third join: alert
    assert wave.alerting(2.0)
    assert wave.suspect(2.5, "discord:1") and wave.suspect(2.5, "matrix:@a:x")
    assert not wave.suspect(2.5, "discord:99")  # not one of the newcomers
    # The window slides: once joins calm down, nobody is suspect any more.
    assert not wave.suspect(11.5, "discord:2") and not wave.alerting(11.5)
    # An alert at or above the wave, or 0, means no alert.
    assert JoinWave(joins=3, seconds=10, alert=3).alert == 0
    assert JoinWave(joins=3, seconds=10).alert == 0


def test_join_wave_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        JoinWave(joins=0, seconds=10)
    with pytest.raises(ValueError):
        JoinWave(joins=3, seconds=0)


@pytest.mark.parametrize(
    ("current", "version", "wanted"),
    [
        ("public", "10", "knock"),
        ("public", "7", "knock"),
        ("public", "6", "invite"),
        ("public", "org.example.custom", "invite"),
        ("restricted", "9", "knock"),
        ("knock_restricted", "10", "knock"),
        ("invite", "10", None),  # members-only rooms: already closed
        ("knock", "10", None),
        ("private", "1", None),
    ],
)
def test_locked_join_rule(current: str, version: str, wanted: str | None) -> None:
    assert locked_join_rule(current, version) == wanted


def test_who_is_new() -> None:
    young = snowflake_at(NOW - 2 * DAY)
    old = snowflake_at(NOW - 400 * DAY)
    assert discord_account_created_ms(old) == NOW - 400 * DAY
    common = {"now_ms": NOW, "new_member_minutes": 60, "new_account_days": 7}
    assert is_new_account(first_join_ms=None, discord_user_id=young, **common)
    assert not is_new_account(first_join_ms=None, discord_user_id=old, **common)
    # An old account that joined ten minutes ago is a new member.
    assert is_new_account(first_join_ms=NOW - 600_000, discord_user_id=old, **common)
    assert not is_new_account(first_join_ms=NOW - 2 * 3_600_000, discord_user_id=old, **common)
    # Matrix users: only the first join counts; never seen joining = not new.
    assert is_new_account(first_join_ms=NOW - 1000, **common)
    assert not is_new_account(first_join_ms=None, **common)
    # An ID from the future is no evidence of a young account.
    future = snowflake_at(NOW + 400 * DAY)
    assert not is_new_account(first_join_ms=None, discord_user_id=future, **common)
    # Both measures off: nobody is new.
    off = {"now_ms": NOW, "new_member_minutes": 0, "new_account_days": 0}
    assert not is_new_account(first_join_ms=NOW, discord_user_id=young, **off)


def test_state_expiry() -> None:
    state = LockdownState(active=True, since_ms=NOW, until_ms=NOW + 1000)
    assert not state.expired(NOW + 999) and state.expired(NOW + 1000)
    assert not LockdownState(active=True, until_ms=None).expired(NOW * 2)
    assert not LockdownState(active=False, until_ms=NOW).expired(NOW)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1j", 86400),
        ("90s", 90),
        ("45", 2700),
        ("10 min", 600),
        ("0", None),
        ("soon", None),
        ("5y", None),
        ("", None),
    ],
)
def test_parse_duration(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("!mod lockdown", Lockdown("status")),
        ("!mod lockdown on", Lockdown("on")),
        ("!mod LOCKDOWN On 2h", Lockdown("on", 7200)),
        ("!mod lockdown off", Lockdown("off")),
        ("!mod lock 15m", Lockdown("on", 900)),
        ("!mod unlock", Lockdown("off")),
        ("!mod verrouiller", Lockdown("on")),
        ("!mod verrouiller 1j", Lockdown("on", 86400)),
        ("!mod déverrouiller", Lockdown("off")),
        ("!mod verrouillage", Lockdown("status")),
        ("!mod verrouillage oui 30m", Lockdown("on", 1800)),
        ("!mod verrouillage non", Lockdown("off")),
    ],
)
def test_parse_lockdown_commands(typed: str, parsed: Lockdown) -> None:
    assert parse_command(typed) == parsed


def test_lockdown_command_errors_are_plain() -> None:
    bad = parse_command("!mod lockdown maybe")
    assert isinstance(bad, CommandError) and "'maybe'" in bad.message
    assert "!mod lockdown off" in bad.message
    bad = parse_command("!mod lockdown on tomorrow")
    assert isinstance(bad, CommandError) and "30m" in bad.message
    bad = parse_command("!mod lockdown off now")
    assert isinstance(bad, CommandError)
    french = parse_command("!mod verrouillage peut-être", tr=translator("fr"))
    assert isinstance(french, CommandError) and "ni on ni off" in french.message
    assert isinstance(parse_command("!mod"), Help)
