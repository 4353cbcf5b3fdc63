"""Tell a Matrix sender, in the room, that Discord refused their event for good."""

from __future__ import annotations

import logging
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.actions.languages import configured, for_matrix_user
from bridge.convert.m2d.undelivered import reason, undelivered_notice
from bridge.ids import EventID
from bridge.retry import failure_origin

log = logging.getLogger(__name__)


async def notify_undelivered(
    ctx: BridgeContext, raw: dict[str, Any], exc: BaseException
) -> EventID | None:
    """An ``m.notice`` from the bridge bot replying to ``raw``; None when none is due
    (turned off, or an event kind that gets none, such as a reaction)."""
    if not ctx.config.bridge.delivery_error_notices:
        return None
    origin, status, code = failure_origin(exc)
    # Addressed to the sender (a reply naming them): in their language.
    sender = raw.get("sender")
    tr = await for_matrix_user(ctx, sender) if isinstance(sender, str) else configured(ctx)
    notice = undelivered_notice(raw, reason(origin, status, code), tr)
    if notice is None:
        return None
    room_id, text = notice
    event_id = await ctx.matrix.send_text(room_id, ctx.namer.bot_mxid, text, None)
    log.info(
        "m2d.undelivered-notice event=%s room=%s origin=%s status=%s code=%s",
        raw.get("event_id"),
        room_id,
        origin,
        status,
        code,
    )
    return event_id
