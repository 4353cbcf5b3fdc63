"""How long a message spent inside the bridge before the request that delivers it.

From its receipt (the gateway's MESSAGE_CREATE handed to the bridge, the homeserver's
transaction request) to the start of the first request that carries it to the other
side (the PUT of the event to the homeserver, the webhook execute on Discord): the
bridge's own share of the relay latency, lookups, conversion and database waits
included, the other side's answer not. It is written on the ``d2m.relayed`` and
``m2d.relayed`` log lines as ``inside_ms`` (``-`` when not measured: a message read
back by backfill, or resumed from the outbox after a restart), and read by
``python -m bench overhead``.

Not counted: the parsing of the input before the bridge's handler runs (discord.py's
gateway event, aiohttp's request body) and the building of the output request.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RelayClock:
    received: float  # time.monotonic() at receipt
    requested: float | None = None  # the first delivering request's start

    def inside_ms(self) -> str:
        if self.requested is None:
            return "-"
        return f"{(self.requested - self.received) * 1000:.2f}"


_CURRENT: ContextVar[RelayClock | None] = ContextVar("relay_clock", default=None)


def start(received: float) -> Token[RelayClock | None]:
    """Time the relay that runs in this context (undo with :func:`stop`)."""
    return _CURRENT.set(RelayClock(received))


def stop(token: Token[RelayClock | None]) -> None:
    _CURRENT.reset(token)


def request_starts() -> None:
    """A request that delivers the message starts now (only the first one counts)."""
    clock = _CURRENT.get()
    if clock is not None and clock.requested is None:
        clock.requested = time.monotonic()


def inside_ms() -> str:
    """The time inside the bridge so far, for a log line (``-``: not measured)."""
    clock = _CURRENT.get()
    return clock.inside_ms() if clock is not None else "-"
