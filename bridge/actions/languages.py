"""Who reads in which language: a person's own choice (``!bridge language``), else
what their side told (a Discord client's ``locale``, read when they log in on the
members' page), else ``bridge.language``. Messages to a shared room (the moderators'
room, the log) keep ``bridge.language``; answers and notices addressed to one person
use theirs."""

from __future__ import annotations

import logging

from bridge.actions.context import BridgeContext
from bridge.convert.language import LanguageCommand
from bridge.db.user_languages import Side
from bridge.i18n import Translator, normalize, translator

log = logging.getLogger(__name__)


def configured(ctx: BridgeContext) -> Translator:
    """The bridge's language, for shared rooms."""
    return translator(ctx.config.bridge.language)


async def for_user(ctx: BridgeContext, side: Side, user_id: object) -> Translator:
    """The language of one person on ``side`` (a Matrix ID, or a Discord user ID)."""
    stored = await ctx.stores.user_languages.get(side, str(user_id))
    return translator(normalize(stored, normalize(ctx.config.bridge.language)))


async def for_matrix_user(ctx: BridgeContext, mxid: object) -> Translator:
    return await for_user(ctx, "matrix", mxid)


async def for_discord_user(ctx: BridgeContext, discord_id: object) -> Translator:
    return await for_user(ctx, "discord", discord_id)


def _name(tr: Translator, language: str) -> str:
    return tr._("French") if language == "fr" else tr._("English")


async def run_language_command(
    ctx: BridgeContext, side: Side, user_id: object, command: LanguageCommand
) -> str:
    """Store (or show) the person's language; the answer is in the new one."""
    key = str(user_id)
    if command.unknown:
        tr = await for_user(ctx, side, key)
        return tr._(
            "Unknown language '{typed}'. Choose fr (French) or en (English), or default"
            " for the bridge's language: {command}",
            typed=command.unknown,
            command="!bridge language fr",
        )
    if command.choice is None:
        tr = await for_user(ctx, side, key)
        stored = await ctx.stores.user_languages.get(side, key)
        if stored is None:
            return tr._(
                "The bridge writes to you in {language}, its default language. To change:"
                " {command}",
                language=_name(tr, tr.language),
                command="!bridge language fr|en",
            )
        return tr._(
            "The bridge writes to you in {language}. To change: {command}",
            language=_name(tr, tr.language),
            command="!bridge language fr|en|default",
        )
    if command.choice == "":
        await ctx.stores.user_languages.forget(side, key)
        tr = configured(ctx)
        log.info("language.reset side=%s", side)
        return tr._(
            "The bridge writes to you in its default language again ({language}).",
            language=_name(tr, tr.language),
        )
    await ctx.stores.user_languages.choose(side, key, command.choice)
    log.info("language.chosen side=%s language=%s", side, command.choice)
    tr = translator(command.choice)
    return tr._(
        "From now on, the bridge writes to you in {language}.", language=_name(tr, tr.language)
    )
