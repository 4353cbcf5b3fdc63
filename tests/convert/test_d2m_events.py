"""bridge.convert.d2m.events: the notice of a scheduled event, in both languages,
from captured GUILD_SCHEDULED_EVENT_CREATE payloads (read through discord.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.convert.d2m.events import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    EXTERNAL,
    STAGE_INSTANCE,
    ScheduledEvent,
    event_notice,
    when_line,
)
from bridge.i18n import translator
from bridge.ids import ChannelID, GuildID
from bridge.transport.discord_events import event_from
from tests.transport.test_discord_bad_input import FIXTURES, Gateway, load

EN, FR = translator("en"), translator("fr")


@pytest.fixture(scope="module")
def voice_event() -> ScheduledEvent:
    gateway = Gateway()
    return event_from(
        gateway.feed(
            "GUILD_SCHEDULED_EVENT_CREATE",
            load(FIXTURES / "guild_scheduled_event_create_voice.json"),
        )
    )


@pytest.fixture(scope="module")
def external_event() -> ScheduledEvent:
    gateway = Gateway()
    data = load(FIXTURES / "guild_scheduled_event_create_external.json")
    return event_from(gateway.feed("GUILD_SCHEDULED_EVENT_CREATE", data), with_count=True)


def test_voice_event_notice_in_english(voice_event: ScheduledEvent) -> None:
    text = event_notice(EN, voice_event, channel_name="permanence", interested=3)
    assert text.msgtype == "m.notice"
    assert text.body.splitlines() == [
        "Event: Permanence juridique",
        "When: Thursday, December 10, 2026, 18:00 to 20:00 (UTC)",
        "Where: the voice channel permanence on Discord",
        "Questions sur le bail? Venez en parler.",
        "3 people interested",
    ]
    assert text.formatted_body is not None
    assert text.formatted_body.startswith("<strong>Event: Permanence juridique</strong><br>")


def test_voice_event_notice_in_french(voice_event: ScheduledEvent) -> None:
    text = event_notice(FR, voice_event, channel_name="permanence", interested=1)
    lines = text.body.splitlines()
    assert lines[0] == "Événement : Permanence juridique"
    assert lines[1] == "Quand : jeudi 10 décembre 2026, de 18:00 à 20:00 (UTC)"
    assert lines[2] == "Où : le salon vocal permanence sur Discord"
    assert lines[-1] == "1 personne intéressée"


def test_external_event_reads_place_count_and_multiline_description(
    external_event: ScheduledEvent,
) -> None:
    assert external_event.entity_type == EXTERNAL
    assert external_event.location == "Place de la République, Paris"
    assert external_event.user_count == 12
    text = event_notice(EN, external_event)
    lines = text.body.splitlines()
    assert "Where: Place de la République, Paris" in lines
    assert lines[1] == (
        "When: from Saturday, December 12, 2026, 13:30 to Sunday, December 13, 2026, 01:00 (UTC)"
    )
    assert "Apportez vos pancartes." in lines
    assert lines[-1] == "12 people interested"
    assert text.formatted_body is not None
    assert "République.<br>Apportez" in text.formatted_body


def test_gateway_event_without_count_is_not_zero(voice_event: ScheduledEvent) -> None:
    """discord.py says 0 when the payload has no user_count: that is unknown."""
    assert voice_event.user_count is None
    assert not any("interested" in line for line in event_notice(EN, voice_event).body.splitlines())


@pytest.mark.parametrize(
    ("status", "deleted", "english", "french"),
    [
        (ACTIVE, False, "This event is happening now.", "Cet événement a lieu en ce moment."),
        (COMPLETED, False, "This event is over.", "Cet événement est terminé."),
        (CANCELED, False, "This event was cancelled.", "Cet événement a été annulé."),
        (1, True, "This event was cancelled.", "Cet événement a été annulé."),
    ],
)
def test_status_lines(
    voice_event: ScheduledEvent, status: int, deleted: bool, english: str, french: str
) -> None:
    event = replace(voice_event, status=status)
    assert event_notice(EN, event, deleted=deleted).body.splitlines()[1] == english
    assert event_notice(FR, event, deleted=deleted).body.splitlines()[1] == french


def test_cancelled_title_is_struck_through(voice_event: ScheduledEvent) -> None:
    text = event_notice(EN, replace(voice_event, status=CANCELED))
    assert text.formatted_body is not None
    assert text.formatted_body.startswith("<strong><del>Event: Permanence juridique</del></strong>")


def test_names_and_html_are_escaped() -> None:
    event = ScheduledEvent(
        1,
        GuildID(1),
        "<b>Réunion</b>",
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        entity_type=STAGE_INSTANCE,
        channel_id=ChannelID(7),
    )
    text = event_notice(EN, event, channel_name="amphi")
    assert text.formatted_body is not None
    assert "&lt;b&gt;Réunion&lt;/b&gt;" in text.formatted_body
    assert "Where: the stage channel amphi on Discord" in text.body
    assert "When: Monday, January 5, 2026, 09:00 (UTC)" in text.body


def test_interest_is_a_count_only() -> None:
    event = ScheduledEvent(2, GuildID(1), "AG", datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    assert event_notice(EN, event, interested=0).body.endswith("0 people interested")
    assert event_notice(FR, event, interested=2).body.endswith("2 personnes intéressées")


def test_naive_times_are_utc() -> None:
    assert (
        when_line(EN, datetime(2026, 6, 1, 8, 5), None) == "When: Monday, June 1, 2026, 08:05 (UTC)"
    )


def test_times_are_written_in_the_bridges_time_zone() -> None:
    """18:00 UTC on 10 December is 19:00 in Paris; the zone is named in the reader's
    language, and the day follows the zone (23:30 UTC on 31 March is 1 April in Paris)."""
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
    end = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)
    assert when_line(FR, start, end, paris) == (
        "Quand : jeudi 10 décembre 2026, de 19:00 à 21:00 (heure d\u2019Europe centrale)"
    )
    assert when_line(EN, start, None, paris) == (
        "When: Thursday, December 10, 2026, 19:00 (Central European Time)"
    )
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert when_line(FR, late, None, paris).startswith("Quand : mercredi 1 avril 2026, à 01:30")
    event = ScheduledEvent(3, GuildID(1), "AG", start)
    assert "19:00" in event_notice(FR, event, zone=paris).body
