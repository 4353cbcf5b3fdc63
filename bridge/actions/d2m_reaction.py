"""Relay Discord reactions to Matrix: a ghost's ``m.reaction``, redacted when removed.

A unicode emoji is its own key. A custom emoji's image is downloaded from
Discord's CDN and uploaded to the media repository once (cached in the
``emoji`` table); the key is that mxc URI, with the ``:name:`` shortcode.
The bridge bot's own reactions (it shows Matrix users' reactions) are never
relayed back.
"""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.actions.emoji_pack import custom_emoji_mxc
from bridge.actions.puppets import sync_puppet
from bridge.convert.d2m.reaction import matrix_reaction_key
from bridge.db import ReactionRow
from bridge.i18n import N_, translator
from bridge.ids import EventID, UserID
from bridge.model import DiscordReaction, DiscordReactionClear

log = logging.getLogger(__name__)

REMOVED = N_("Reaction removed on Discord")  # a redaction reason: in bridge.language


async def _relayed(ctx: BridgeContext, reaction: DiscordReaction) -> bool:
    if reaction.guild_id not in ctx.config.discord.guild_ids:
        return False
    if reaction.user_id == ctx.discord.own_user_id():
        return False  # the bot's reaction stands for Matrix users: never echo it back
    if ctx.config.bridge.channel(reaction.channel_id) is not None:
        return True
    # A thread of a bridged channel (its messages live in the parent's portal).
    return await ctx.stores.threads.by_thread(reaction.channel_id) is not None


async def _custom_emoji_mxc(ctx: BridgeContext, reaction: DiscordReaction) -> str | None:
    """The mxc URI of a custom emoji's image, uploading it the first time."""
    assert reaction.emoji_id is not None
    return await custom_emoji_mxc(
        ctx, reaction.emoji_id, reaction.emoji_name, reaction.animated, reaction.emoji_url
    )


async def _ghost(ctx: BridgeContext, reaction: DiscordReaction) -> UserID:
    if reaction.member is not None:
        return await sync_puppet(ctx, reaction.member)
    ghost = ctx.namer.ghost_mxid(reaction.user_id)
    if await ctx.stores.puppets.get(reaction.user_id) is None:
        await ctx.matrix.ensure_ghost(ghost, None, None)
    return ghost


async def relay_discord_reaction_add(
    ctx: BridgeContext, reaction: DiscordReaction
) -> EventID | None:
    """Returns the ghost's ``m.reaction`` event ID, or None when not relayed."""
    if not await _relayed(ctx, reaction):
        return None
    rows = await ctx.stores.messages.by_discord(reaction.message_id)
    if not rows:
        log.debug("d2m.reaction-skipped message=%s reason=unmapped", reaction.message_id)
        return None
    target = rows[0]  # part 0: the text, or the first file
    stored = await ctx.stores.reactions.by_discord_user(
        reaction.message_id, reaction.emoji, reaction.user_id
    )
    if stored is not None:
        log.debug(
            "d2m.reaction-duplicate message=%s user=%s", reaction.message_id, reaction.user_id
        )
        return None
    mxc = await _custom_emoji_mxc(ctx, reaction) if reaction.emoji_id is not None else None
    key, shortcode = matrix_reaction_key(reaction, mxc)
    ghost = await _ghost(ctx, reaction)
    await ctx.matrix.ensure_in_room(target.room_id, ghost)
    event_id = await ctx.matrix.send_reaction(
        target.room_id, ghost, target.event_id, key, shortcode
    )
    await ctx.stores.reactions.insert(
        ReactionRow(
            event_id=event_id,
            room_id=target.room_id,
            target_event_id=target.event_id,
            discord_channel_id=reaction.channel_id,
            discord_message_id=reaction.message_id,
            emoji=reaction.emoji,
            origin="discord",
            sender=ghost,
            discord_user_id=reaction.user_id,
        )
    )
    log.info(
        "d2m.reaction-added message=%s user=%s emoji=%s event=%s",
        reaction.message_id,
        reaction.user_id,
        reaction.emoji,
        event_id,
    )
    return event_id


async def relay_discord_reaction_remove(
    ctx: BridgeContext, reaction: DiscordReaction
) -> EventID | None:
    """Redact the ghost's reaction; returns the redacted event ID."""
    if not await _relayed(ctx, reaction):
        return None
    row = await ctx.stores.reactions.by_discord_user(
        reaction.message_id, reaction.emoji, reaction.user_id
    )
    if row is None:
        return None
    # Forget first: our own redaction echoes back and must find nothing to do.
    await ctx.stores.reactions.forget_event(row.event_id)
    await ctx.matrix.redact(
        row.room_id, row.event_id, translator(ctx.config.bridge.language)._(REMOVED)
    )
    log.info(
        "d2m.reaction-removed message=%s user=%s emoji=%s event=%s",
        reaction.message_id,
        reaction.user_id,
        reaction.emoji,
        row.event_id,
    )
    return row.event_id


async def relay_discord_reaction_clear(
    ctx: BridgeContext, clear: DiscordReactionClear
) -> list[EventID]:
    """All reactions (or all of one emoji) removed from a message on Discord.

    Ghost reactions are redacted. Matrix users' reactions stay on Matrix but are
    forgotten: the bot's reaction that showed them on Discord is gone.
    """
    if clear.guild_id not in ctx.config.discord.guild_ids:
        return []
    redacted: list[EventID] = []
    for row in await ctx.stores.reactions.forget_message(clear.message_id, clear.emoji):
        if row.origin == "discord":
            await ctx.matrix.redact(
                row.room_id, row.event_id, translator(ctx.config.bridge.language)._(REMOVED)
            )
            redacted.append(row.event_id)
    if redacted:
        log.info(
            "d2m.reactions-cleared message=%s emoji=%s events=%s",
            clear.message_id,
            clear.emoji or "*",
            len(redacted),
        )
    return redacted
