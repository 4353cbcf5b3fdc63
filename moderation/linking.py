"""Linking a Matrix account to a Discord account, with a one-time code.

Either way round, in direct messages with the bridge bot:

- on Matrix, ``!link`` to the bridge bot (a direct chat) gives a code, which the
  person sends to the Discord bot in a direct message;
- on Discord, ``!link`` to the bot gives a code, which the person sends to the
  bridge bot on Matrix (``!link CODE``, or the code alone).

Codes are single use, expire after ``members.link_code_minutes``, and each new
one withdraws the person's previous one. ``!unlink`` on either side removes the
link. After every change the people concerned are re-checked for members-only
rooms (:func:`moderation.membership.recheck`).
"""

from __future__ import annotations

import logging
import time

from bridge.actions.languages import for_discord_user, for_matrix_user, run_language_command
from bridge.convert.language import parse_language
from bridge.i18n import Translator
from bridge.ids import DiscordUserID, RoomID, UserID
from bridge.model import DiscordDM
from moderation.context import ModerationContext
from moderation.members_only import display_code, extract_code, new_link_code
from moderation.membership import recheck

log = logging.getLogger(__name__)

# French aliases: !lier, !délier (accents optional).
_LINK = frozenset({"!link", "!lier"})
_UNLINK = frozenset({"!unlink", "!delier", "!délier"})


def help_text(tr: Translator) -> str:
    return (
        tr._(
            "Commands: !link (get a code to prove your Discord account), !link CODE (use a "
            "code the Discord bot gave you), !unlink. In French: !lier, !lier CODE, !delier."
        )
        + " "
        + tr._(
            "Your language: !bridge language fr or !bridge language en (in French: "
            "!bridge langue fr)."
        )
    )


def _now() -> int:
    return int(time.time() * 1000)


def _ttl(mctx: ModerationContext) -> int:
    return mctx.bridge.config.members.link_code_minutes * 60_000


def dm_key(user: str) -> str:
    return f"dm:{user}"


async def on_invite(mctx: ModerationContext, room_id: RoomID, sender: UserID, direct: bool) -> bool:
    """The bridge bot was invited somewhere: it accepts direct chats only."""
    if not direct or mctx.namer.is_bridge_owned(sender):
        return False
    if room_id in (mctx.state.mod_room, mctx.state.policy_room) or (
        await mctx.stores.portals.by_room(room_id) is not None
    ):
        return False  # the bridge's own rooms are never anyone's direct chat
    if await mctx.matrix.join(room_id) is None:
        return False
    await mctx.stores.bridge_rooms.put(dm_key(sender), room_id)
    tr = await for_matrix_user(mctx.bridge, sender)
    await mctx.matrix.notice(room_id, tr._("Hello!") + " " + help_text(tr))
    return True


async def is_dm(mctx: ModerationContext, room_id: RoomID, sender: UserID) -> bool:
    return await mctx.stores.bridge_rooms.get(dm_key(sender)) == room_id


async def on_matrix_dm(mctx: ModerationContext, room_id: RoomID, sender: UserID, body: str) -> str:
    """A message in a direct chat with the bridge bot; returns the answer (in the
    sender's language)."""
    language = parse_language(body)
    if language is not None:
        return await run_language_command(mctx.bridge, "matrix", sender, language)
    text, tr = body.strip(), await for_matrix_user(mctx.bridge, sender)
    command = text.split(" ", 1)[0].lower()
    if command in _UNLINK:
        row = await mctx.stores.links.unlink_matrix(sender)
        if row is None:
            return tr._("Your Matrix account is not linked to a Discord account.")
        await recheck(mctx, sender)
        return tr._("Unlinked from Discord user {id}.", id=row.discord_id)
    if text.lower() in _LINK:
        new = new_link_code()
        created = await mctx.stores.link_codes.create(
            new, "m2d", mxid=sender, now_ms=_now(), ttl_ms=_ttl(mctx)
        )
        if created is None:
            return tr._("Please try again.")
        return tr.ngettext(
            "Your code is {code}. On Discord, send it to the bridge bot in a direct message "
            "within {n} minute.",
            "Your code is {code}. On Discord, send it to the bridge bot in a direct message "
            "within {n} minutes.",
            mctx.bridge.config.members.link_code_minutes,
            code=display_code(new),
        )
    code = extract_code(text)  # "!link CODE" or the code alone
    if code is None:
        return help_text(tr)
    taken = await mctx.stores.link_codes.take(code, _now(), "d2m")
    if taken is None or taken.discord_id is None:
        return tr._("That code is unknown, used or expired. Ask the Discord bot for a new one.")
    return await _linked(mctx, sender, DiscordUserID(taken.discord_id), tr)


async def on_discord_dm(mctx: ModerationContext, dm: DiscordDM) -> str:
    """A direct message to the Discord bot; returns the answer (in the author's
    language: their choice, else their Discord client's as the members' page saw it)."""
    language = parse_language(dm.content)
    if language is not None:
        return await run_language_command(mctx.bridge, "discord", dm.author_id, language)
    text, tr = dm.content.strip(), await for_discord_user(mctx.bridge, dm.author_id)
    command = text.split(" ", 1)[0].lower()
    if command in _UNLINK:
        row = await mctx.stores.links.unlink_discord(dm.author_id)
        if row is None:
            return tr._("Your Discord account is not linked to a Matrix account.")
        await recheck(mctx, UserID(row.mxid))
        return tr._("Unlinked from {mxid}.", mxid=row.mxid)
    if text.lower() in _LINK:
        new = new_link_code()
        created = await mctx.stores.link_codes.create(
            new, "d2m", discord_id=dm.author_id, now_ms=_now(), ttl_ms=_ttl(mctx)
        )
        if created is None:
            return tr._("Please try again.")
        return tr.ngettext(
            "Your code is {code}. In Element, send `!link {code}` to {bot} in a direct chat "
            "within {n} minute.",
            "Your code is {code}. In Element, send `!link {code}` to {bot} in a direct chat "
            "within {n} minutes.",
            _ttl(mctx) // 60_000,
            code=display_code(new),
            bot=mctx.namer.bot_mxid,
        )
    code = extract_code(text)
    if code is None:
        return help_text(tr)
    taken = await mctx.stores.link_codes.take(code, _now(), "m2d")
    if taken is None or taken.mxid is None:
        return tr._(
            "That code is unknown, used or expired. Ask the bridge bot on Matrix for a new one."
        )
    return await _linked(mctx, UserID(taken.mxid), dm.author_id, tr)


async def _linked(
    mctx: ModerationContext, mxid: UserID, discord_id: DiscordUserID, tr: Translator
) -> str:
    """Link them; the answer is for the one who sent the code (in ``tr``)."""
    replaced = await mctx.stores.links.link(mxid, discord_id)
    log.info("members.linked mxid=%s discord=%s replaced=%s", mxid, discord_id, len(replaced))
    for old in replaced:
        if old.mxid != mxid:
            await recheck(mctx, UserID(old.mxid))
    invited, _ = await recheck(mctx, mxid)
    answer = tr._("Linked {mxid} to Discord user {id}.", mxid=mxid, id=discord_id)
    if invited:
        answer += " " + tr.ngettext(
            "You are invited to {n} members-only room.",
            "You are invited to {n} members-only rooms.",
            invited,
        )
    return answer
