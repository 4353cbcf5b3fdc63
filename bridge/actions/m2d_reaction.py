"""Relay Matrix reactions to Discord: the bridge bot adds the emoji.

Discord has one reaction per user and emoji and no way to react in someone
else's name, so every Matrix user's reaction with the same emoji on a message
is shown as the bot's single reaction. Each Matrix reaction is stored; when
the last one with that emoji is redacted, the bot removes its reaction.

Unicode keys are used as they are; an mxc key that is the image of a Discord
custom emoji (see :mod:`bridge.actions.d2m_reaction`) becomes that emoji;
other keys (free text, foreign images) are not relayed.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.convert.m2d.reaction import discord_emoji_for_key
from bridge.db import ReactionRow
from bridge.model import MatrixReaction, MatrixRedaction

log = logging.getLogger(__name__)


async def relay_matrix_reaction(ctx: BridgeContext, reaction: MatrixReaction) -> str | None:
    """Returns the Discord emoji the bot reacted with, or None when not relayed."""
    if ctx.namer.is_bridge_owned(reaction.sender):
        return None  # ghost reactions mirror Discord users' own reactions
    rows = await ctx.stores.messages.by_event(reaction.target, reaction.room_id)
    if not rows:
        return None
    target = rows[0]  # a split message: react on its first part
    custom = None
    if reaction.key.startswith("mxc://"):
        emoji_row = await ctx.stores.reactions.emoji_by_mxc(reaction.key)
        custom = emoji_row.api_form if emoji_row is not None else None
    emoji = discord_emoji_for_key(reaction.key, custom)
    if emoji is None:
        log.info(
            "m2d.reaction-skipped event=%s reason=no-discord-emoji key=%r",
            reaction.event_id,
            reaction.key[:64],
        )
        return None
    inserted = await ctx.stores.reactions.insert(
        ReactionRow(
            event_id=reaction.event_id,
            room_id=reaction.room_id,
            target_event_id=reaction.target,
            discord_channel_id=target.discord_channel_id,
            discord_message_id=target.discord_message_id,
            emoji=emoji,
            origin="matrix",
            sender=reaction.sender,
        )
    )
    if not inserted:
        log.debug("m2d.reaction-duplicate event=%s", reaction.event_id)
        return None
    # Adding is idempotent on Discord: doing it for every reactor also restores
    # the bot's reaction if a Discord moderator removed it.
    if not await ctx.discord.add_reaction(
        target.discord_channel_id, target.discord_message_id, emoji
    ):
        await ctx.stores.reactions.forget_event(reaction.event_id)
        log.warning(
            "m2d.reaction-failed event=%s message=%s emoji=%s",
            reaction.event_id,
            target.discord_message_id,
            emoji,
        )
        return None
    log.info(
        "m2d.reaction-added event=%s message=%s emoji=%s",
        reaction.event_id,
        target.discord_message_id,
        emoji,
    )
    return emoji


async def relay_matrix_reaction_redaction(ctx: BridgeContext, redaction: MatrixRedaction) -> bool:
    """Handle the redaction of a known reaction; False if it redacts something else."""
    row = await ctx.stores.reactions.by_event(redaction.redacts)
    if row is None or row.room_id != redaction.room_id:
        return row is not None  # a reaction of another room: not ours to touch here
    if ctx.namer.is_bridge_owned(redaction.sender):
        return True  # our own redaction of a ghost's reaction (already forgotten)
    if redaction.sender != row.sender and not await ctx.matrix.may_redact(
        redaction.room_id, redaction.sender, row.sender
    ):
        log.warning(
            "m2d.reaction-redaction-refused event=%s sender=%s reason=no-power",
            redaction.event_id,
            redaction.sender,
        )
        return True
    await ctx.stores.reactions.forget_event(row.event_id)
    if row.origin == "discord":
        # A Matrix moderator removed a ghost's reaction: the Discord user's own
        # reaction stays on Discord.
        log.info("m2d.ghost-reaction-redacted event=%s", row.event_id)
        return True
    remaining = await ctx.stores.reactions.count_matrix(row.discord_message_id, row.emoji)
    if remaining == 0:
        await ctx.discord.remove_own_reaction(
            row.discord_channel_id, row.discord_message_id, row.emoji
        )
    log.info(
        "m2d.reaction-removed event=%s message=%s emoji=%s remaining=%s",
        row.event_id,
        row.discord_message_id,
        row.emoji,
        remaining,
    )
    return True
