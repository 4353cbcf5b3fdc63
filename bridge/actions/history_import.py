"""One-shot history import: a channel's whole Discord history into its Matrix room.

The sovereign archive. Messages are relayed oldest first, with their original
timestamps, by the same code as live messages (so the message map keeps
anything from being copied twice). The import covers what existed when it
first started; live relay covers the rest. Progress is saved after every page,
so an interrupted import resumes where it stopped.

Matrix orders a room by when events were sent, not by their timestamps: in a
room that already has live messages, imported ones appear after them (with
their original dates). Import into a new portal first for a tidy archive.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_message import relay_discord_message
from bridge.db import ImportRow
from bridge.db.common import now_ms
from bridge.ids import ChannelID, MessageID, snowflake_at
from bridge.model import DiscordMessage

log = logging.getLogger(__name__)

PAGE = 100

# Runs one page of relays; the bridge passes one that queues it behind the channel's
# live events (so the two never race), tests may run it directly.
PageRunner = Callable[[ChannelID, Callable[[], Awaitable[int]]], Awaitable[int]]
Progress = Callable[[ImportRow], Awaitable[None]]


async def _direct(channel_id: ChannelID, job: Callable[[], Awaitable[int]]) -> int:
    return await job()


async def import_history(
    ctx: BridgeContext,
    channel_id: ChannelID,
    progress: Progress | None = None,
    run_page: PageRunner = _direct,
) -> ImportRow:
    """Import (or resume importing) ``channel_id``; returns the final state."""
    if ctx.config.bridge.channel(channel_id) is None:
        raise LookupError(f"channel {channel_id} is not bridged (see bridge.channels)")
    state = await ctx.stores.imports.get(channel_id)
    if state is None or state.done:
        # A finished import started again covers what came since, up to now.
        start = state.until_message_id - 1 if state is not None else 0
        until = snowflake_at(now_ms())
        state = ImportRow(channel_id, start, until, state.imported if state else 0, False)
        await ctx.stores.imports.save(state)
    log.info(
        "import.started channel=%s after=%s until=%s",
        channel_id,
        state.last_message_id,
        state.until_message_id,
    )
    while True:
        page = await ctx.discord.messages_after(channel_id, MessageID(state.last_message_id), PAGE)
        page = [m for m in page if m.id < state.until_message_id]
        if not page:
            break
        relayed = await run_page(channel_id, functools.partial(_relay_page, ctx, page))
        state = replace(state, last_message_id=page[-1].id, imported=state.imported + relayed)
        await ctx.stores.imports.save(state)
        if progress is not None:
            await progress(state)
    state = replace(state, done=True)
    await ctx.stores.imports.save(state)
    log.info("import.done channel=%s imported=%s", channel_id, state.imported)
    return state


async def _relay_page(ctx: BridgeContext, page: list[DiscordMessage]) -> int:
    relayed = 0
    for message in page:
        if await relay_discord_message(ctx, message) is not None:
            relayed += 1
    return relayed
