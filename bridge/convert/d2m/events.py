"""Discord scheduled events -> the text of their Matrix notice. Pure.

One notice per event, edited in place as the event changes: its title, status (when
it is not simply "scheduled"), when it happens (in the room's language, UTC as
everywhere in the bridge), where (a place, or a voice or stage channel), its
description, and how many people are interested: a count, never who.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from babel.dates import get_timezone_name

from bridge.i18n import Translator
from bridge.ids import ChannelID, GuildID
from bridge.model import MatrixText

# Discord's statuses and entity types.
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3


@dataclass(frozen=True)
class ScheduledEvent:
    """A guild scheduled event as the transport reads it (GUILD_SCHEDULED_EVENT_*,
    or GET /guilds/{id}/scheduled-events)."""

    id: int
    guild_id: GuildID
    name: str
    start: datetime
    end: datetime | None = None
    description: str = ""
    status: int = SCHEDULED
    entity_type: int = EXTERNAL
    channel_id: ChannelID | None = None
    location: str | None = None
    # Interested people, when the payload carried it (user_count); None: unknown.
    user_count: int | None = None

    @property
    def over(self) -> bool:
        return self.status in (COMPLETED, CANCELED)


def _in(value: datetime, zone: tzinfo) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)


def zone_label(tr: Translator, zone: tzinfo) -> str:
    """How the time zone is named after a time: ``UTC``, or Babel's long name in the
    reader's language (``heure d'Europe centrale``, ``Central European Time``)."""
    if zone in (UTC, UTC) or getattr(zone, "key", "") in ("UTC", "Etc/UTC"):
        return "UTC"
    return str(get_timezone_name(zone, width="long", locale=tr.language))


def when_line(tr: Translator, start: datetime, end: datetime | None, zone: tzinfo = UTC) -> str:
    """``When: Monday, December 7, 2026, 19:00 to 21:00 (Central European Time)`` in
    the reader's language, in the bridge's time zone (``bridge.timezone``)."""
    start = _in(start, zone)
    label = zone_label(tr, zone)
    day = tr.date(start.date(), "full")
    begins = tr.datetime(start, "HH:mm", zone)
    if end is None:
        return tr._("When: {day}, {time} ({zone})", day=day, time=begins, zone=label)
    end = _in(end, zone)
    ends = tr.datetime(end, "HH:mm", zone)
    if end.date() == start.date():
        return tr._(
            "When: {day}, {start} to {end} ({zone})", day=day, start=begins, end=ends, zone=label
        )
    return tr._(
        "When: from {start_day}, {start} to {end_day}, {end} ({zone})",
        start_day=day,
        start=begins,
        end_day=tr.date(end.date(), "full"),
        end=ends,
        zone=label,
    )


def status_line(tr: Translator, status: int, deleted: bool) -> str | None:
    if deleted or status == CANCELED:
        return tr._("This event was cancelled.")
    if status == COMPLETED:
        return tr._("This event is over.")
    if status == ACTIVE:
        return tr._("This event is happening now.")
    return None


def place_line(tr: Translator, event: ScheduledEvent, channel_name: str | None) -> str | None:
    if event.entity_type == EXTERNAL and event.location:
        return tr._("Where: {place}", place=event.location)
    if event.channel_id is not None:
        name = channel_name or str(event.channel_id)
        if event.entity_type == STAGE_INSTANCE:
            return tr._("Where: the stage channel {channel} on Discord", channel=name)
        return tr._("Where: the voice channel {channel} on Discord", channel=name)
    return None


def interest_line(tr: Translator, count: int | None) -> str | None:
    if count is None:
        return None
    return tr.ngettext("{n} person interested", "{n} people interested", count)


def event_notice(
    tr: Translator,
    event: ScheduledEvent,
    *,
    channel_name: str | None = None,
    interested: int | None = None,
    deleted: bool = False,
    zone: tzinfo = UTC,
) -> MatrixText:
    """The notice of ``event`` (``m.notice``): plain lines, and the same as HTML with
    the title in bold and a cancelled event's title struck through."""
    title = tr._("Event: {name}", name=event.name)
    lines: list[str | None] = [
        status_line(tr, event.status, deleted),
        when_line(tr, event.start, event.end, zone),
        place_line(tr, event, channel_name),
        event.description.strip() or None,
        interest_line(tr, interested if interested is not None else event.user_count),
    ]
    rest = [line for line in lines if line]
    body = "\n".join([title, *rest])
    shown_title = html.escape(title)
    if deleted or event.status == CANCELED:
        shown_title = f"<del>{shown_title}</del>"
    formatted = "<br>".join(
        [
            f"<strong>{shown_title}</strong>",
            *(html.escape(line).replace("\n", "<br>") for line in rest),
        ]
    )
    return MatrixText(body=body, formatted_body=formatted, msgtype="m.notice")
