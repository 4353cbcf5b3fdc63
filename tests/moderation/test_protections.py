"""Each protection's decision, pure, on a fake clock (moderation.protections)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bridge.config import parse_config
from bridge.config_lockdown import JoinWaveConfig
from bridge.i18n import translator
from moderation.protections.core import Guard, MessageRef, Signals, Verdict
from moderation.protections.notices import (
    author_notice,
    join_wave_lines,
    listing,
    undo_hint,
    why,
)
from moderation.protections.rules import Flooding, Mentions, Newcomers, Repeats, normalized
from moderation.protections.runtime import build, off_in_config
from tests.test_config import VALID

NOW_MS = 1_800_000_000_000
HOUR_MS = 3_600_000


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def msg(
    author: str = "@a:x",
    place: str = "!room:x",
    text: str = "hello",
    n: int = 0,
    **more: object,
) -> Signals:
    side = "discord" if author.startswith("discord:") else "matrix"
    return Signals(MessageRef(side, place, f"m{n}"), author, text=text, **more)  # type: ignore[arg-type]


# -- flooding ---------------------------------------------------------------------


def test_flooding_allows_the_burst_then_holds_then_refills() -> None:
    flood = Flooding(burst=3, per_seconds=3)
    assert [flood.check(msg(n=i), 0.0) for i in range(3)] == [None, None, None]
    verdict = flood.check(msg(n=3), 0.0)
    assert verdict is not None and verdict.protection == "flooding"
    assert verdict.actions == ("hold",) and verdict.figure("burst") == 3
    assert flood.check(msg(n=4), 1.0) is None  # one message a second comes back
    assert flood.check(msg(n=5), 1.0) is not None
    assert flood.check(msg("discord:5", n=6), 1.0) is None  # someone else is not concerned


def test_flooding_counts_both_sides_alike() -> None:
    flood = Flooding(burst=1, per_seconds=60)
    assert flood.check(msg("discord:7"), 0.0) is None
    assert flood.check(msg("discord:7", n=1), 0.0) is not None
    flood.forget("discord:7")
    assert flood.check(msg("discord:7", n=2), 0.0) is None


# -- mentions ---------------------------------------------------------------------


def test_mentions_over_the_limit_of_people_or_groups() -> None:
    rule = Mentions(max_mentions=8, max_mass_mentions=1)
    assert rule.check(msg(user_mentions=8, mass_mentions=1), 0) is None
    many = rule.check(msg(user_mentions=9), 0)
    assert many is not None and many.figure("mentions") == 9
    groups = rule.check(msg(mass_mentions=2), 0)
    assert groups is not None and groups.figure("mass") == 2


# -- newcomers ---------------------------------------------------------------------


def newcomers() -> Newcomers:
    return Newcomers(
        min_account_age_hours=72, min_member_age_minutes=60, wall_clock_ms=lambda: NOW_MS
    )


def test_young_account_with_a_link_is_held_without_a_link_it_passes() -> None:
    rule = newcomers()
    young = NOW_MS - 2 * HOUR_MS
    verdict = rule.check(msg("discord:1", links=1, account_created_ms=young), 0)
    assert verdict is not None and verdict.figure("account") == 1
    assert rule.check(msg("discord:1", account_created_ms=young), 0) is None
    old = NOW_MS - 100 * HOUR_MS
    assert rule.check(msg("discord:1", links=1, account_created_ms=old), 0) is None
    future = NOW_MS + HOUR_MS  # no real account: not held for it
    assert rule.check(msg("discord:1", links=1, account_created_ms=future), 0) is None


def test_member_who_just_joined_posting_a_file_is_held() -> None:
    rule = newcomers()
    verdict = rule.check(msg(media=1, joined_ms=NOW_MS - 10 * 60_000), 0)
    assert verdict is not None and verdict.figure("account") == 0
    assert rule.check(msg(media=1, joined_ms=NOW_MS - 61 * 60_000), 0) is None
    assert rule.check(msg(media=1), 0) is None  # join time unknown: not held


# -- repeats -----------------------------------------------------------------------


def test_same_message_in_three_places_is_caught_with_the_earlier_copies() -> None:
    rule = Repeats(max_places=2, window_seconds=60)
    spam = "Join my server at example.org NOW"
    assert rule.check(msg(place="!a:x", text=spam, n=1), 0) is None
    assert rule.check(msg(place="!b:x", text=spam.upper(), n=2), 10) is None
    verdict = rule.check(msg(place="!c:x", text=f"  {spam} ", n=3), 20)
    assert verdict is not None and verdict.figure("places") == 3
    assert {r.id for r in verdict.related} == {"m1", "m2"}
    assert verdict.actions == ("hold", "redact") and verdict.holds


def test_repeats_in_one_place_or_spread_out_in_time_are_fine() -> None:
    rule = Repeats(max_places=2, window_seconds=60)
    text = "the same long sentence"
    for i in range(5):
        assert rule.check(msg(place="!a:x", text=text, n=i), i) is None
    rule2 = Repeats(max_places=2, window_seconds=60)
    assert rule2.check(msg(place="!a:x", text=text, n=1), 0) is None
    assert rule2.check(msg(place="!b:x", text=text, n=2), 100) is None
    assert rule2.check(msg(place="!c:x", text=text, n=3), 200) is None
    short = Repeats(max_places=1, window_seconds=60)
    assert short.check(msg(place="!a:x", text="ok"), 0) is None
    assert short.check(msg(place="!b:x", text="ok", n=1), 0) is None
    assert normalized("Élan  VITAL") == "elan vital"


# -- the guard ---------------------------------------------------------------------


def test_guard_switches_exempts_and_tells_once_per_burst() -> None:
    clock = Clock()
    flood = Flooding(burst=1, per_seconds=60)
    guard = Guard([flood, Mentions(8, 1)], exempt=lambda a: a == "@mod:x", clock=clock)
    assert guard.check(msg(mass_mentions=5)) is not None  # mentions answers
    assert guard.check(msg("@mod:x", mass_mentions=5)) is None
    assert guard.switch("mentions", False) and not guard.enabled("mentions")
    assert not guard.switch("nope", False)
    assert guard.check(msg("@b:x", mass_mentions=5)) is None
    assert guard.first_of_burst("@a:x", "flooding")
    clock.now += 30
    assert not guard.first_of_burst("@a:x", "flooding")  # same burst
    clock.now += 200
    assert guard.first_of_burst("@a:x", "flooding")  # quiet for long: a new burst


def test_reactions_count_for_flooding_only_and_protections_can_be_added() -> None:
    guard = Guard([Flooding(burst=1, per_seconds=60), Mentions(0, 0)], clock=Clock())
    other = msg(counts_for_flood_only=True, mass_mentions=3)
    assert guard.check(other) is None  # mentions does not look at a reaction
    assert guard.check(msg(n=1)) is not None  # ... but it counted for flooding

    @dataclass
    class Paused:  # what the lockdown adds: new accounts' messages paused
        name: str = "lockdown"
        actions: tuple[str, ...] = ("hold",)

        def check(self, signals: Signals, now: float) -> Verdict | None:
            return Verdict(self.name, self.actions)

        def settings(self) -> tuple[tuple[str, int], ...]:
            return ()

        def forget(self, author: str) -> None:
            return None

    guard.add(Paused(), first=True)
    found = guard.check(msg("@new:x", n=2))
    assert found is not None and found.protection == "lockdown"
    assert guard.names()[0] == "lockdown"


# -- config -------------------------------------------------------------------------


def config_with(**protections: object) -> object:
    data = {**VALID, "moderation": {"protections": protections}}
    return parse_config(data)


def test_defaults_are_on_and_old_flood_keys_still_count() -> None:
    data = {**VALID, "bridge": {**VALID["bridge"], "sender_burst": 4, "sender_per_seconds": 8}}
    cfg = parse_config(data).moderation.protections
    assert (cfg.flooding.burst, cfg.flooding.per_seconds) == (4, 8)
    assert off_in_config(cfg) == set()
    names = [p.name for p in build(cfg)]
    assert names == ["flooding", "mentions", "newcomers", "repeats"]


def test_protections_section_is_read_and_checked() -> None:
    cfg = config_with(  # type: ignore[attr-defined]
        flooding={"burst": 5, "per_seconds": 20, "actions": ["hold", "timeout"]},
        mentions={"enabled": False},
        timeout_minutes=30,
    ).moderation.protections
    assert cfg.flooding.actions == ("hold", "timeout") and cfg.flooding.burst == 5
    assert cfg.timeout_minutes == 30 and off_in_config(cfg) == {"mentions"}
    with pytest.raises(ValueError, match=r"moderation\.protections\.repeats\.actions\[0\]"):
        config_with(repeats={"actions": ["shout"]})


# -- what people read ---------------------------------------------------------------


def test_author_notices_in_english_and_french() -> None:
    flood = Verdict("flooding", ("hold", "timeout"), (("burst", 10), ("seconds", 10)))
    en = author_notice(flood, "@a:x", "matrix", translator("en"), 10)
    assert en.startswith("@a:x: you are sending more than 10 messages in 10 seconds")
    assert "not passed on to Discord" in en and "You cannot write for 10 minutes." in en
    fr = author_notice(flood, "Bob", "discord", translator("fr"), 1)
    assert fr == (
        "Bob : vous envoyez plus de 10 messages en 10 secondes, vos messages ne sont donc "
        "plus transmis à Matrix pour le moment. Attendez un peu avant d'écrire de nouveau. "
        "Vous ne pouvez plus écrire pendant 1 minute."
    )
    young = Verdict("newcomers", ("hold",), (("account", 1), ("hours", 72)))
    assert "72" in why(young, translator("en"))
    hint = undo_hint("mute", "mentions", "@a:x", "!mod", translator("en"))
    assert "!mod unmute @a:x" in hint


def test_listing_shows_state_settings_and_actions() -> None:
    guard = Guard([Flooding(10, 10), Repeats(2, 60)], clock=Clock())
    guard.switch("repeats", False)
    text = listing(guard, "!mod", translator("en"))
    assert "- flooding: on; burst=10, per_seconds=10; actions: hold" in text
    assert "- repeats: off; max_places=2, window_seconds=60; actions: hold, redact" in text
    assert "!mod protection <name> on|off" in text


def test_listing_tells_the_join_wave_and_the_lockdown() -> None:
    guard = Guard([Flooding(10, 10)], clock=Clock())
    en, fr = translator("en"), translator("fr")
    more = join_wave_lines(JoinWaveConfig(joins=20, seconds=30), False, "!mod", en)
    text = listing(guard, "!mod", en, more)
    assert "- join wave: on; 20 joins within 30 seconds turn the lockdown on" in text
    assert "- lockdown: off; start it: !mod lockdown on" in text
    # After the protections, before how to switch one.
    assert text.index("join wave") > text.index("flooding") > 0
    assert text.index("join wave") < text.index("protection <name> on|off")
    off = join_wave_lines(JoinWaveConfig(enabled=False), True, "!mod", fr)
    assert off[1].endswith("!mod lockdown off") and "vague" in off[0].casefold()
