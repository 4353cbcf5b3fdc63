"""What people read about the protections, in whole translated sentences. Pure.

- the author of a held message (:func:`author_notice`), once per burst;
- the moderators, one sentence per action with how to undo it (:func:`why` is the
  reason written in their log lines, :func:`undo_hint` the way back);
- ``!mod protections`` (:func:`listing`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.config_lockdown import JoinWaveConfig
from bridge.i18n import Translator
from moderation.protections.core import Guard, Verdict, describe_settings


def other_side(side: str) -> str:
    return "Matrix" if side == "discord" else "Discord"


def author_notice(verdict: Verdict, who: str, side: str, tr: Translator, minutes: int) -> str:
    """The author's explanation: why their message did not cross, and what follows."""
    other = other_side(side)
    name = verdict.protection
    if name == "flooding":
        text = tr._(
            "{who}: you are sending more than {burst} messages in {seconds} seconds, so "
            "your messages are not passed on to {other} for now. Wait a little before "
            "writing again.",
            who=who,
            burst=verdict.figure("burst"),
            seconds=verdict.figure("seconds"),
            other=other,
        )
    elif name == "mentions":
        text = tr._(
            "{who}: your message mentions too many people or groups at once, so it was "
            "not passed on to {other}.",
            who=who,
            other=other,
        )
    elif name == "newcomers" and verdict.figure("account"):
        text = tr._(
            "{who}: links and files from accounts less than {hours} hours old are not "
            "passed on to {other}, so your message was held. Write without a link, or ask "
            "a moderator.",
            who=who,
            hours=verdict.figure("hours"),
            other=other,
        )
    elif name == "newcomers":
        text = tr._(
            "{who}: links and files from people who arrived less than {minutes} minutes "
            "ago are not passed on to {other}, so your message was held. Write without a "
            "link, or try again later.",
            who=who,
            minutes=verdict.figure("minutes"),
            other=other,
        )
    elif name == "repeats":
        text = tr._(
            "{who}: the same message posted in {places} places in a short time is not "
            "passed on to {other}.",
            who=who,
            places=verdict.figure("places"),
            other=other,
        )
    else:  # a protection added later, without words of its own
        text = tr._("{who}: your message was not passed on to {other}.", who=who, other=other)
    if "redact" in verdict.actions:
        text += " " + tr._("It was deleted.")
    if "timeout" in verdict.actions:
        text += " " + tr.ngettext(
            "You cannot write for {n} minute.", "You cannot write for {n} minutes.", minutes
        )
    return text


def why(verdict: Verdict, tr: Translator) -> str:
    """The reason in the moderators' log line (without a final period)."""
    name = verdict.protection
    if name == "flooding":
        return tr._(
            "more than {burst} messages in {seconds} seconds",
            burst=verdict.figure("burst"),
            seconds=verdict.figure("seconds"),
        )
    if name == "mentions":
        return tr._(
            "{people} people and {groups} roles or @everyone mentioned in one message",
            people=verdict.figure("mentions"),
            groups=verdict.figure("mass"),
        )
    if name == "newcomers" and verdict.figure("account"):
        return tr._(
            "a link or a file from an account less than {hours} hours old",
            hours=verdict.figure("hours"),
        )
    if name == "newcomers":
        return tr._(
            "a link or a file from someone who arrived less than {minutes} minutes ago",
            minutes=verdict.figure("minutes"),
        )
    if name == "repeats":
        return tr._(
            "the same message in {places} places within {seconds} seconds",
            places=verdict.figure("places"),
            seconds=verdict.figure("seconds"),
        )
    return name


def undo_hint(action: str, protection: str, target: str, prefix: str, tr: Translator) -> str:
    """How a moderator takes the action back, as a sentence with the command."""
    if action in ("timeout", "mute"):
        return tr._(
            "It ends by itself; to lift it now: {command}", command=f"{prefix} unmute {target}"
        )
    if action == "ban":
        return tr._("To lift the ban: {command}", command=f"{prefix} unban {target}")
    if action == "redact":
        return tr._(
            "A deletion cannot be undone; to stop these deletions: {command}",
            command=f"{prefix} protection {protection} off",
        )
    return tr._(
        "If this was a mistake, switch the protection off: {command}",
        command=f"{prefix} protection {protection} off",
    )


def listing(guard: Guard, prefix: str, tr: Translator, more: Sequence[str] = ()) -> str:
    """``!mod protections``: each protection, on or off, its settings and actions (then
    ``more`` lines, such as :func:`join_wave_lines`)."""
    lines = [tr._("Protections (checked on every message, both ways):")]
    for protection in guard.protections:
        state = tr._("on") if guard.enabled(protection.name) else tr._("off")
        lines.append(
            tr._(
                "- {name}: {state}; {settings}; actions: {actions}",
                name=protection.name,
                state=state,
                settings=describe_settings(protection.settings()),
                actions=", ".join(protection.actions) or "-",
            )
        )
    lines.extend(more)
    lines.append(
        tr._(
            "Switch one on or off: {command}",
            command=f"{prefix} protection <name> on|off",
        )
    )
    return "\n".join(lines)


def join_wave_lines(
    wave: JoinWaveConfig, lockdown_active: bool, prefix: str, tr: Translator
) -> list[str]:
    """The join wave and the lockdown, after the message protections in ``!mod
    protections`` (they are set in the config, and the lockdown has its own command)."""
    if wave.enabled:
        wave_line = tr.ngettext(
            "- join wave: on; {n} joins within {seconds} seconds turn the lockdown on "
            "(set in the config file)",
            "- join wave: on; {n} joins within {seconds} seconds turn the lockdown on "
            "(set in the config file)",
            wave.joins,
            seconds=wave.seconds,
        )
    else:
        wave_line = tr._("- join wave: off (set in the config file)")
    if lockdown_active:
        lock_line = tr._("- lockdown: on; lift it: {command}", command=f"{prefix} lockdown off")
    else:
        lock_line = tr._("- lockdown: off; start it: {command}", command=f"{prefix} lockdown on")
    return [wave_line, lock_line]
