"""Matrix users' poll votes: they cannot cross (Discord webhooks cannot vote)."""

from __future__ import annotations

import logging

from bridge.convert.d2m.poll import MATRIX_VOTE_TYPES

log = logging.getLogger(__name__)


def ignore_matrix_vote(event_type: object, event_id: object, sender: object) -> bool:
    """True for a Matrix user's poll vote: dropped, logged at debug level. A bridged
    poll's start says to vote on Discord."""
    if event_type not in MATRIX_VOTE_TYPES:
        return False
    log.debug("m2d.skipped event=%s sender=%s reason=poll-vote", event_id, sender)
    return True
