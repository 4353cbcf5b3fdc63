"""Sends whose answer was lost: found again instead of sent twice.

A Matrix transaction ID makes a retried send idempotent only while the homeserver
remembers it. Synapse keeps an appservice user's transaction IDs in memory (its
persisted ones need a device, which a ghost has not), so when Synapse stops after
storing an event and before answering, the retry after its restart makes a second
event. The transport therefore sends with no retry of its own; a send that failed
without a clear "no" (a connection error, a timeout, a 5xx) is *uncertain*, and before
the same transaction is sent again the room's latest events are searched for it.

:func:`find_sent` is the pure search; :class:`UncertainSends` remembers, bounded.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from bridge.ids import EventID, UserID

log = logging.getLogger(__name__)

# How far back (ms) before the first try an event without a given timestamp may be.
CLOCK_SLACK_MS = 60_000


class UncertainSends:
    """Transaction ID -> when its first uncertain try started (ms), the oldest dropped
    past ``limit``: a bridge that loses more answers than that has bigger troubles."""

    def __init__(self, limit: int = 10_000) -> None:
        self._started: OrderedDict[str, int] = OrderedDict()
        self._limit = limit

    def mark(self, txn_id: str, started_ms: int) -> None:
        self._started.setdefault(txn_id, started_ms)
        self._started.move_to_end(txn_id)
        while len(self._started) > self._limit:
            self._started.popitem(last=False)

    def started(self, txn_id: str) -> int | None:
        return self._started.get(txn_id)

    def forget(self, txn_id: str) -> None:
        self._started.pop(txn_id, None)

    def __len__(self) -> int:
        return len(self._started)


def find_sent(
    events: Iterable[Mapping[str, Any]],
    sender: UserID,
    event_type: str,
    content: Mapping[str, Any],
    timestamp_ms: int | None,
    since_ms: int,
) -> EventID | None:
    """The event among ``events`` (a room's latest, any order) that an uncertain send
    of ``content`` by ``sender`` made, if any.

    With a given timestamp (Discord's, massaged onto the event) the event must carry
    exactly it; without, it must be no older than the first try (less clock slack).
    Body and msgtype must match, and relations (replies, threads, edits) too."""
    for event in events:
        if event.get("sender") != sender or event.get("type") != event_type:
            continue
        ts = event.get("origin_server_ts")
        if not isinstance(ts, int):
            continue
        if timestamp_ms is not None and ts != timestamp_ms:
            continue
        if timestamp_ms is None and ts < since_ms - CLOCK_SLACK_MS:
            continue
        got = event.get("content")
        if not isinstance(got, Mapping):
            continue
        if all(got.get(k) == content.get(k) for k in ("body", "msgtype", "m.relates_to")):
            event_id = event.get("event_id")
            if isinstance(event_id, str):
                return EventID(event_id)
    return None
