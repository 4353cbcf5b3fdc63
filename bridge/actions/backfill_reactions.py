"""Backfill of reactions: what Discord users added or removed while the bridge was away.

For each message read back by backfill, its reactions summary (emoji, count, whether
the bridge bot reacted) is compared with the ghost reactions relayed for it (one
query for all of them). Only where a count differs are the reactors of that emoji
read from Discord; the differences go through the live actions
(:func:`relay_discord_reaction_add` / :func:`relay_discord_reaction_remove`), so
custom emoji, ghosts and the rule that the bot's own reactions (Matrix users') are
never relayed back hold here too, and the reaction table keeps any reaction from
being relayed twice. An emoji the summary no longer has is removed without asking.

Bounded: ``EMOJI_PER_MESSAGE`` emoji read per message, ``REACTORS`` reactors per emoji
(a relayed reactor beyond that is left alone), ``FETCHES`` reads per channel and
start, newest messages first. What is left over is caught up at the next start.
A user who removed a reaction while another added the same one (the count unchanged)
is not noticed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.actions.context import BridgeContext
from bridge.actions.d2m_reaction import relay_discord_reaction_add, relay_discord_reaction_remove
from bridge.convert.d2m.reaction_sync import (
    check_reactions,
    diff_reactors,
    emoji_identity,
    split_api_form,
)
from bridge.db import ReactionRow
from bridge.ids import DiscordUserID, MessageID
from bridge.model import DiscordAuthor, DiscordMessage, DiscordReaction, DiscordReactionCount

log = logging.getLogger(__name__)

# Emoji whose reactors are read per message (Discord allows 20 different ones).
EMOJI_PER_MESSAGE = 10
# Reactors read per emoji (and per kind, normal or super), in pages of 100.
REACTORS = 200
# Reactor reads per channel and per start.
FETCHES = 100


@dataclass(frozen=True)
class ReactionsBackfilled:
    """Ghost reactions sent and redacted."""

    added: int = 0
    removed: int = 0
    # Emoji whose reactors were read, and those left for later (over a bound).
    fetched: int = 0
    deferred: int = 0


@dataclass
class _Run:
    budget: int
    added: int = 0
    removed: int = 0
    fetched: int = 0
    deferred: int = 0


async def backfill_reactions(
    ctx: BridgeContext, messages: Sequence[DiscordMessage]
) -> ReactionsBackfilled:
    """Reconcile the reactions of ``messages`` (as just read back from Discord)."""
    if not messages:
        return ReactionsBackfilled()
    ids = [m.id for m in messages]
    relayed: dict[MessageID, list[ReactionRow]] = {}
    for row in await ctx.stores.reactions.discord_between(min(ids), max(ids)):
        relayed.setdefault(row.discord_message_id, []).append(row)
    run = _Run(budget=FETCHES)
    for message in sorted(messages, key=lambda m: m.id, reverse=True):
        rows = relayed.get(message.id, [])
        if message.reactions or rows:
            await _reconcile(ctx, message, rows, run)
    return ReactionsBackfilled(run.added, run.removed, run.fetched, run.deferred)


async def _reconcile(
    ctx: BridgeContext, message: DiscordMessage, rows: list[ReactionRow], run: _Run
) -> None:
    by_emoji: dict[str, list[DiscordUserID]] = {}
    for row in rows:
        if row.discord_user_id is not None:
            by_emoji.setdefault(row.emoji, []).append(row.discord_user_id)
    check = check_reactions(message.reactions, by_emoji)
    for row in rows:
        if row.emoji in check.gone:
            await _remove(ctx, message, row, run)
    if not check.fetch or not await ctx.stores.messages.by_discord(message.id):
        return  # nothing to read, or a message never relayed (nothing to react to)
    for count in check.fetch[:EMOJI_PER_MESSAGE]:
        if run.budget <= 0:
            run.deferred += 1
            continue
        identity = emoji_identity(count.emoji)
        same = [r for r in rows if emoji_identity(r.emoji) == identity]
        await _reconcile_emoji(ctx, message, count, same, run)
    run.deferred += max(len(check.fetch) - EMOJI_PER_MESSAGE, 0)


async def _reconcile_emoji(
    ctx: BridgeContext,
    message: DiscordMessage,
    count: DiscordReactionCount,
    rows: list[ReactionRow],
    run: _Run,
) -> None:
    reacting: dict[DiscordUserID, DiscordAuthor] = {}
    horizon: DiscordUserID | None = None
    for burst, expected in ((False, count.normal_count), (True, count.burst_count)):
        if expected == 0:
            continue
        run.budget -= 1
        found = await ctx.discord.reactors(
            message.channel_id, message.id, count.emoji, REACTORS, burst
        )
        if found is None:
            log.info("d2m.backfill-reactors-unknown message=%s emoji=%s", message.id, count.emoji)
            return  # Discord would not say: conclude nothing
        for author in found:
            reacting.setdefault(author.id, author)
        if len(found) >= REACTORS:
            cut = max(a.id for a in found)
            horizon = cut if horizon is None else min(horizon, cut)
    run.fetched += 1
    relayed = [r.discord_user_id for r in rows if r.discord_user_id is not None]
    diff = diff_reactors(relayed, reacting, ctx.discord.own_user_id(), horizon)
    for user_id in diff.added:
        author = reacting[user_id]
        # A known ghost keeps its profile: a reactor may come without its server nickname.
        member = author if await ctx.stores.puppets.get(user_id) is None else None
        reaction = DiscordReaction(
            channel_id=message.channel_id,
            guild_id=message.guild_id,
            message_id=message.id,
            user_id=user_id,
            emoji_name=count.emoji_name,
            emoji_id=count.emoji_id,
            animated=count.animated,
            emoji_url=count.emoji_url,
            member=member,
        )
        if await relay_discord_reaction_add(ctx, reaction) is not None:
            run.added += 1
    for row in rows:
        if row.discord_user_id in diff.removed:
            await _remove(ctx, message, row, run)
    log.debug(
        "d2m.backfill-reactors message=%s emoji=%s reacting=%s added=%s removed=%s",
        message.id,
        count.emoji,
        len(reacting),
        len(diff.added),
        len(diff.removed),
    )


async def _remove(ctx: BridgeContext, message: DiscordMessage, row: ReactionRow, run: _Run) -> None:
    if row.discord_user_id is None:
        return
    name, emoji_id = split_api_form(row.emoji)
    reaction = DiscordReaction(
        channel_id=message.channel_id,
        guild_id=message.guild_id,
        message_id=message.id,
        user_id=row.discord_user_id,
        emoji_name=name,
        emoji_id=emoji_id,
    )
    if await relay_discord_reaction_remove(ctx, reaction) is not None:
        run.removed += 1
