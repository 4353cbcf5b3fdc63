"""Pruning of the bookkeeping tables the relay path fills: in batches, in the background.

- ``as_txn``: the homeserver transactions already handled, one row each, forever until
  now. A row is what makes a resent transaction a no-op, so it must outlive any
  resend: Synapse keeps a transaction it got no 200 for and its recoverer resends it
  (backing off to a few minutes between tries) until the bridge answers. The age
  (``database.txn_retention_days``, 7 by default) counts from the newest
  transaction handled, not from now, so a long downtime never makes the last ones
  old, and the newest is always kept (start-up reads it: bridge.txn_order).
- ``m2d_inflight``: marks whose part is already in the message map (a crash between
  the two writes, before they became one statement), older than the same age.

Rows that stay: ``m2d_outbox`` rows are deleted as soon as delivered; the dead ones
are kept for the operator. The message map is needed for edits, replies and
redactions of old messages.

Runs once at start-up, then every ``PRUNE_INTERVAL_S``; each batch is one short
statement, so relay never waits behind it; a failure (database down) is logged and
tried again at the next round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bridge.db import Stores
from bridge.db.common import now_ms

log = logging.getLogger(__name__)

PRUNE_INTERVAL_S = 3600.0
BATCH = 1000
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Pruned:
    as_txn: int
    inflight: int


async def prune_once(
    stores: Stores, appservice_id: str, retention_days: int, batch: int = BATCH
) -> Pruned:
    """Delete, batch by batch, what is older than ``retention_days`` (see the module)."""
    keep_ms = retention_days * DAY_MS
    txns = inflight = 0
    while True:
        n = await stores.txns.prune(appservice_id, keep_ms, batch)
        txns += n
        if n < batch:
            break
        await asyncio.sleep(0)  # let the relay's statements in between batches
    while True:
        n = await stores.inflight.prune_recorded(now_ms() - keep_ms, batch)
        inflight += n
        if n < batch:
            break
        await asyncio.sleep(0)
    log.info("db.pruned as_txn=%s inflight=%s retention_days=%s", txns, inflight, retention_days)
    return Pruned(txns, inflight)


async def prune_forever(
    stores: Stores,
    appservice_id: str,
    retention_days: Callable[[], int],
    interval: float = PRUNE_INTERVAL_S,
) -> None:
    """:func:`prune_once` now and every ``interval`` seconds, until cancelled
    (``retention_days()``: the configured age, read at each round: a reload counts)."""
    while True:
        try:
            await prune_once(stores, appservice_id, retention_days())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: next round
            log.warning("db.prune-failed error=%s", type(exc).__name__)
        await asyncio.sleep(interval)
