"""The protections' moderator commands, carried out (``!mod protections``,
``!mod protection <name> on|off``, ``!mod unmute <user>``); each answer is a plain
sentence, each change lands in the moderation log."""

from __future__ import annotations

from bridge.i18n import Translator
from bridge.ids import DiscordUserID, UserID
from moderation import audit
from moderation.context import ModerationContext
from moderation.protections.commands import ListProtections, SwitchProtection
from moderation.protections.enforce import unmute, untimeout
from moderation.protections.notices import join_wave_lines, listing


async def protection_command(
    mctx: ModerationContext,
    command: ListProtections | SwitchProtection,
    *,
    actor: str,
    source: str,
    tr: Translator,
) -> str:
    protections = mctx.state.protections
    if protections is None:
        return tr._("The protections are not running yet; try again in a moment.")
    prefix = mctx.config.command_prefix
    if isinstance(command, ListProtections):
        extra = join_wave_lines(
            mctx.config.lockdown.join_wave, mctx.state.lockdown.active, prefix, tr
        )
        return listing(protections.guard, prefix, tr, extra)
    if not await protections.switch(command.name, command.on, actor):
        return tr._(
            "There is no protection named '{name}'. The protections are: {names}.",
            name=command.name,
            names=", ".join(protections.guard.names()),
        )
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="protect-on" if command.on else "protect-off",
        target=command.name,
        reason="",
        outcome="",
    )
    if command.on:
        return tr._("The {name} protection is on.", name=command.name)
    return tr._(
        "The {name} protection is off until a moderator switches it on again: {command}",
        name=command.name,
        command=f"{prefix} protection {command.name} on",
    )


async def lift_measures(
    mctx: ModerationContext,
    target: tuple[str, DiscordUserID | UserID],
    *,
    actor: str,
    source: str,
    tr: Translator,
) -> str:
    """``!mod unmute``: a Discord user's timeout, a Matrix user's mute, lifted now."""
    protections = mctx.state.protections
    if protections is None:
        return tr._("The protections are not running yet; try again in a moment.")
    side, who = target
    if side == "discord":
        user_id = DiscordUserID(int(who))
        count = await untimeout(protections, user_id)
        protections.guard.forget(f"discord:{user_id}")
        label = str(user_id)
        answer = tr.ngettext(
            "{who} may write again on Discord ({n} server).",
            "{who} may write again on Discord ({n} servers).",
            count,
            who=label,
        )
    else:
        count = await unmute(protections, UserID(str(who)))
        protections.guard.forget(str(who))
        label = str(who)
        answer = tr.ngettext(
            "{who} may write again ({n} room).",
            "{who} may write again ({n} rooms).",
            count,
            who=label,
        )
    await audit.record(
        mctx,
        source=source,
        actor=actor,
        action="protect-unmute",
        target=label,
        reason="",
        outcome=answer,
    )
    return answer
