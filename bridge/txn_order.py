"""Spotting a homeserver transaction that overtook an earlier one, and asking for order.

Synapse numbers the transactions it pushes to an appservice 1, 2, 3... and
sends them one at a time. After the bridge was unreachable, its "recoverer"
resends what was stored, oldest first, then marks the bridge up again. There is
a race in that hand-over (synapse/appservice/scheduler.py, Synapse 1.163): a
transaction created while the recoverer finishes is stored but never sent; the
next one is sent at once, and the stored one waits until the bridge fails again,
maybe forever. The fault-injection suite caught it: one Matrix message in a few
hundred lost, or delivered minutes late and out of order, after a bridge crash.

The bridge cannot fetch a transaction, but it can refuse one: the homeserver then
marks it down and its recoverer sends every stored transaction, oldest first.
So a transaction whose number skips ahead of the last one handled is refused
once; the second time it comes it is taken whatever happened, so a gap that is
real (a PostgreSQL sequence may skip numbers) costs one retry (about 2 s), never
a stall. Transaction IDs that are not numbers, numbers going down (Synapse on
SQLite restarts its counter after a restart) and jumps larger than ``window``
(another numbering) are taken as they come.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def _number(txn_id: str) -> int | None:
    if txn_id.isascii() and txn_id.isdigit() and len(txn_id) <= 18:
        return int(txn_id)
    return None


@dataclass
class TxnOrder:
    """Pure: which transaction to refuse once, given the last one handled."""

    window: int = 1000
    last: int | None = None
    # Numbers already refused once: taken the next time.
    refused: set[int] = field(default_factory=set)

    @classmethod
    def after(cls, txn_id: str | None) -> TxnOrder:
        """Starting from the last transaction handled (by a previous run, say)."""
        return cls(last=_number(txn_id) if txn_id is not None else None)

    def in_sequence(self, txn_id: str) -> bool:
        """What :meth:`admit` would answer, without counting it as a refusal."""
        n = _number(txn_id)
        if n is None or self.last is None or n <= self.last + 1 or n - self.last > self.window:
            return True
        return n in self.refused

    def admit(self, txn_id: str) -> bool:
        """True to handle ``txn_id`` now; False to refuse it once (an earlier one is missing)."""
        n = _number(txn_id)
        if n is None or self.last is None or n <= self.last + 1 or n - self.last > self.window:
            return True
        if n in self.refused:
            self.refused.discard(n)
            return True
        self.refused.add(n)
        if len(self.refused) > self.window:  # never grows without bound
            self.refused.clear()
        log.warning(
            "appservice.txn-out-of-sequence txn=%s last=%s missing=%s: refused once so the"
            " homeserver resends its stored transactions in order",
            n,
            self.last,
            n - self.last - 1,
        )
        return False

    def handled(self, txn_id: str) -> None:
        """``txn_id`` was taken: the homeserver's numbering is here now."""
        n = _number(txn_id)
        if n is not None:
            self.last = n
            self.refused.discard(n)
