"""The fast lane of a plain Matrix message: its first part's in-flight mark, written in
the same commit as the homeserver's transaction.

A Matrix message is sent to Discord once, even across a crash, because each part's
in-flight mark is committed before its webhook execute (bridge.actions.webhooks,
``send_once``). Written on its own, that mark is a second commit on the message's way,
after the transaction's. For a plain message (text, notice or emote, no reply, no
thread, no edit) in a portal whose outbox queue is idle, the first part is converted
on receipt instead and its mark goes into the transaction's own statement
(``OutboxStore.accept_transaction``); the send then finds it already written
(``InflightStore.preclaimed``) and posts at once.

Nothing else changes: the delivery still checks, converts and claims as always. If its
text differs from the one converted here, the mark is rewritten before the send; if
the message is not sent at all (a protection holds it, a moderator's ban), the mark
goes with the outbox row. Only an idle room's first event takes the lane, so a crash
leaves at most one such mark per room, as before (each is looked for on Discord
before its message is sent again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.actions.m2d_forum import is_forum_channel
from bridge.actions.m2d_message import RELAYED_MSGTYPES, convert_text
from bridge.db.common import now_ms
from bridge.db.outbox import InflightRow
from bridge.ids import EventID
from bridge.model import MatrixMessage

log = logging.getLogger(__name__)


async def first_part_marks(
    ctx: BridgeContext,
    parse: Callable[[dict[str, Any]], object],
    events: list[dict[str, Any]],
    idle: Callable[[str], bool],
) -> list[InflightRow]:
    """The marks of the transaction's plain messages that can take the fast lane: the
    first event of each room whose queue is ``idle``. Never raises: a message this
    cannot convert takes the usual way."""
    marks: list[InflightRow] = []
    rooms: set[str] = set()
    for raw in events:
        room_id = raw.get("room_id")
        if not isinstance(room_id, str) or room_id in rooms:
            continue
        rooms.add(room_id)  # the room's later events queue behind this one
        if not idle(room_id) or not _plain(ctx, raw):
            continue
        try:
            mark = await _first_part(ctx, parse(raw))
        except Exception as exc:  # the usual way converts it again, and says why
            log.debug("m2d.fast-lane-skipped event=%s error=%s", raw.get("event_id"), exc)
            continue
        if mark is not None:
            marks.append(mark)
    return marks


def _plain(ctx: BridgeContext, raw: dict[str, Any]) -> bool:
    content = raw.get("content")
    sender = raw.get("sender")
    if raw.get("type") != "m.room.message" or not isinstance(content, dict):
        return False
    if not isinstance(sender, str) or ctx.namer.is_bridge_owned(sender):
        return False
    body = content.get("body")
    return (
        content.get("msgtype") in RELAYED_MSGTYPES
        and isinstance(body, str)
        and not body.startswith("!")  # a command, maybe: answered, not relayed
        and "m.relates_to" not in content
        and "m.new_content" not in content
    )


async def _first_part(ctx: BridgeContext, message: object) -> InflightRow | None:
    if not isinstance(message, MatrixMessage) or message.reply_to or message.thread_root:
        return None
    portal = await ctx.stores.portals.by_room(message.room_id)
    if portal is None or await is_forum_channel(ctx, portal.discord_channel_id):
        return None  # not bridged; a forum's first part opens a post (no mark)
    sends = await convert_text(ctx, message, portal, None)
    if not sends:
        return None
    first = sends[0]
    if first.files or first.poll or first.voice or first.thread_id or first.thread_name:
        return None
    return InflightRow(
        EventID(message.event_id),
        0,
        portal.discord_channel_id,
        first.content,
        first.username,
        now_ms(),
    )
