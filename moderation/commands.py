"""Moderator commands: parsing what was typed, and finding who it names. Pure: no I/O.

Moderators type commands in the moderators' Matrix room or Discord channel::

    !mod ban <user> [reason...]                 ban on both sides (shared ban)
    !mod unban <user> [reason...]
    !mod kick <user> [reason...]
    !mod bans                                   list active shared bans
    !mod lists                                  list the policy lists followed
    !mod rule ban <entity> [reason...] [--force]
    !mod rule unban <entity>
    !mod help

:func:`parse_command` turns a message into one of the frozen command dataclasses,
``None`` when the message is not a command at all, or a :class:`CommandError`
whose ``message`` is written for moderators who are not technical and can be
sent back as it is.

Parsing rules
-------------
- The prefix must be the message's first word (``!modban`` is not a command);
  the prefix and the verbs are case-insensitive. ``!mod`` alone is :class:`Help`.
- The first argument is the target. Put a name with spaces between double
  quotes: ``"Alice Smith"``, ``“Alice Smith”`` (phones) or ``« Alice Smith »``.
  Apostrophes are not quotes, so reasons like ``he's spamming`` need none. An
  unclosed quote around the target is an error; quotes in the reason are text
  (a reason wholly between quotes loses them).
- ``--force`` (also ``—force``, as phones autocorrect it) may stand anywhere as
  its own word; only ``rule ban`` accepts it.
- The reason is the rest of the message, whitespace collapsed to single spaces
  (it ends up in an audit log and an HTTP header); it may be empty.
- A Matrix reply fallback (``> <@user:server> ...`` lines) before the command is ignored.
- Element sends a pill's display name in the plain body, and the pill itself as a
  ``https://matrix.to/#/@user:server`` link in ``formatted_body``. When the
  formatted body has a user pill *in the target position*, the pill's Matrix ID
  is the target (and the reason is read from the formatted body). A pill
  elsewhere (in the reason) never becomes the target.

Targets
-------
:func:`classify_target` and :func:`resolve_name`, re-exported here, live in
:mod:`moderation.targets`.

Policy rules
------------
``rule ban`` only checks syntax here; :func:`check_rule` asks
:func:`moderation.policy.check_new_rule` whether the rule may be published. An
entity starting with ``@`` is a user rule (``@spammer:evil.example``,
``@*:evil.example``); anything else a server rule (``evil.example``,
``*.evil.example``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, TypeAlias

from bridge.convert.m2d.html import strip_reply_fallback
from bridge.i18n import Translator, translator
from moderation.lockdown_command import LOCKDOWN_ALIASES, LOCKDOWN_VERBS, Lockdown, parse_lockdown
from moderation.pills import html_with_pills
from moderation.policy import Refusal, check_new_rule
from moderation.protections import commands as protection_commands
from moderation.protections.commands import ListProtections, SwitchProtection, Unmute
from moderation.targets import (
    Ambiguous,
    Candidate,
    DiscordId,
    Mxid,
    Name,
    NotFound,
    Resolution,
    Resolved,
    TargetRef,
    classify_target,
    resolve_name,
)

__all__ = [
    "ALIASES",
    "Ambiguous",
    "Ban",
    "Candidate",
    "Command",
    "CommandError",
    "DiscordId",
    "Help",
    "Kick",
    "ListBans",
    "ListLists",
    "ListProtections",
    "Lockdown",
    "Mxid",
    "Name",
    "NotFound",
    "Resolution",
    "Resolved",
    "RuleBan",
    "RuleUnban",
    "SwitchProtection",
    "TargetRef",
    "Unban",
    "Unmute",
    "check_rule",
    "classify_target",
    "help_text",
    "parse_command",
    "resolve_name",
    "rule_kind",
]

DEFAULT_PREFIX = "!mod"


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Ban:
    """Ban on both sides (a shared ban). ``target`` is raw: see :func:`classify_target`."""

    target: str
    reason: str = ""


@dataclass(frozen=True)
class Unban:
    target: str
    reason: str = ""


@dataclass(frozen=True)
class Kick:
    target: str
    reason: str = ""


@dataclass(frozen=True)
class ListBans:
    """List the active shared bans."""


@dataclass(frozen=True)
class ListLists:
    """List the policy lists followed and their rule counts."""


@dataclass(frozen=True)
class RuleBan:
    """Publish an ``m.ban`` rule on the bridge's policy list (check it with :func:`check_rule`)."""

    entity: str
    reason: str = ""
    force: bool = False


@dataclass(frozen=True)
class RuleUnban:
    """Remove the bridge's rule for ``entity``."""

    entity: str


@dataclass(frozen=True)
class Help:
    pass


Command: TypeAlias = (
    Ban | Unban | Kick | ListBans | ListLists | RuleBan | RuleUnban | Help | Lockdown
    | ListProtections | SwitchProtection | Unmute
)  # fmt: skip


@dataclass(frozen=True)
class CommandError:
    """The message was meant as a command but cannot be run; ``message`` is for the moderator."""

    message: str

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- parsing

_TARGET_VERBS: dict[str, type[Ban | Unban | Kick]] = {"ban": Ban, "unban": Unban, "kick": Kick}
_VERBS = (
    "ban", "unban", "kick", "bans", "lists", "rule", "help",
    *LOCKDOWN_VERBS, *protection_commands.VERBS,
)  # fmt: skip
# French aliases (read case- and accent-insensitively), listed in the help.
ALIASES: dict[str, str] = {
    "bannir": "ban",
    "debannir": "unban",
    "expulser": "kick",
    "bannis": "bans",
    "listes": "lists",
    "regle": "rule",
    "aide": "help",
    **protection_commands.ALIASES,
    **LOCKDOWN_ALIASES,
}

# ``--force`` as a word of its own; phones turn ``--`` into an en or em dash.
_FORCE = re.compile(r"(?<!\S)(?:--|\u2013|\u2014)force(?!\S)", re.IGNORECASE)
_CLOSERS = {
    '"': '"\u201c\u201d',
    "\u201c": '"\u201c\u201d',  # “ ” (some keyboards close with “ too)
    "\u201d": '"\u201c\u201d',
    "\u201e": '"\u201c\u201d',  # „ “ (German)
    "\u00ab": "\u00bb",  # « » (French)
    "\u00bb": "\u00ab",  # » « (Danish)
}
_MENTION_AT_START = re.compile(r"<@!?[0-9]+>")
_NOT_A_PERSON = re.compile(r"<(?:@&|#)[0-9]+>")


def parse_command(
    text: str,
    prefix: str = DEFAULT_PREFIX,
    *,
    formatted_body: str | None = None,
    tr: Translator | None = None,
) -> Command | CommandError | None:
    """Read a moderator's message; see the module docstring for the rules.

    ``text`` is the plain body (Matrix) or the content (Discord); ``formatted_body``
    the Matrix ``org.matrix.custom.html`` body, if any, used for pills. Errors are
    written in ``tr``'s language (default English).
    """
    if not prefix or any(char.isspace() for char in prefix):
        raise ValueError(f"command prefix must be one word, got {prefix!r}")
    tr = tr or translator()
    plain = _parse_text(strip_reply_fallback(text), prefix, tr)
    if plain is None or formatted_body is None:
        return plain
    pill_text, pills = html_with_pills(formatted_body)
    if not pills:
        return plain
    rich = _parse_text(pill_text, prefix, tr)
    if isinstance(rich, Ban | Unban | Kick | Unmute) and rich.target in pills:
        pill_wins = isinstance(plain, CommandError) or type(plain) is type(rich)
    elif isinstance(rich, RuleBan | RuleUnban) and rich.entity in pills:
        pill_wins = isinstance(plain, CommandError) or type(plain) is type(rich)
    else:
        pill_wins = False
    return rich if pill_wins else plain


def _split_word(text: str) -> tuple[str, str]:
    """The first whitespace-delimited word and what follows it (unstripped)."""
    found = re.match(r"\s*(\S+)", text)
    if found is None:
        return "", ""
    return found.group(1), text[found.end() :]


def _verb(word: str) -> str:
    """The English verb for ``word`` (an English verb or a French alias; accents optional)."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return ALIASES.get(plain, word.casefold())


def _parse_text(text: str, prefix: str, tr: Translator) -> Command | CommandError | None:
    head, rest = _split_word(text)
    if head.casefold() != prefix.casefold():
        return None
    rest, forced = _FORCE.subn(" ", rest)
    typed, rest = _split_word(rest)
    verb = _verb(typed)
    if not verb or verb in ("help", "?"):
        return Help() if not forced else _force_misplaced(prefix, tr)
    if verb == "rule":
        return _parse_rule(rest, prefix, tr, force=bool(forced))
    if forced:
        return _force_misplaced(prefix, tr)
    if verb in LOCKDOWN_VERBS:
        lockdown = parse_lockdown(verb, rest, prefix, tr)
        return lockdown if isinstance(lockdown, Lockdown) else CommandError(lockdown)
    if verb in _TARGET_VERBS:
        return _parse_target_command(verb, typed, rest, prefix, tr)
    if verb in ("bans", "lists"):
        if rest.strip():
            return CommandError(
                tr._(
                    "'{command}' takes nothing after it. Try: {command}",
                    command=f"{prefix} {typed.casefold()}",
                )
            )
        return ListBans() if verb == "bans" else ListLists()
    if verb in protection_commands.VERBS:
        found = protection_commands.parse(verb, typed, rest, prefix, tr, _take_target)
        if isinstance(found, ListProtections | SwitchProtection | Unmute | CommandError):
            return found
        return CommandError(str(found))
    return _unknown(typed.casefold(), prefix, tr)


def _unknown(verb: str, prefix: str, tr: Translator) -> CommandError:
    # The help command's name in the moderator's language ("aide" in French).
    help_verb = tr.pgettext("command", "help")
    close = difflib.get_close_matches(verb, (*_VERBS, *ALIASES), n=1, cutoff=0.6)
    if close:
        return CommandError(
            tr._(
                "Unknown command '{verb}'. Did you mean '{suggestion}'? Try: {help}",
                verb=verb,
                suggestion=f"{prefix} {close[0]}",
                help=f"{prefix} {help_verb}",
            )
        )
    return CommandError(
        tr._(
            "Unknown command '{verb}'. Try: {help}",
            verb=verb,
            help=f"{prefix} {help_verb}",
        )
    )


def _force_misplaced(prefix: str, tr: Translator) -> CommandError:
    return CommandError(tr._("--force only goes with '{command}'.", command=f"{prefix} rule ban"))


def _parse_target_command(
    verb: str, typed: str, rest: str, prefix: str, tr: Translator
) -> Ban | Unban | Kick | CommandError:
    usage = tr._("{command} <user> [reason]", command=f"{prefix} {typed.casefold()}")
    taken = _take_target(rest, usage, tr)
    if isinstance(taken, CommandError):
        return taken
    if taken is None:
        who = {
            "ban": tr._("Who should be banned? Write: {usage}", usage=usage),
            "unban": tr._("Who should be unbanned? Write: {usage}", usage=usage),
            "kick": tr._("Who should be kicked? Write: {usage}", usage=usage),
        }
        return CommandError(who[verb])
    target, remainder = taken
    if _NOT_A_PERSON.fullmatch(target):
        return CommandError(
            tr._(
                "{target} is a role or a channel, not a person. Write: {usage}",
                target=target,
                usage=usage,
            )
        )
    if target.startswith("@") and ":" in target and any(char in target for char in "*?"):
        return CommandError(
            tr._(
                "{target} contains * or ?, which only work in policy rules: {usage}",
                target=target,
                usage=tr._("{command} <entity> [reason] --force", command=f"{prefix} rule ban"),
            )
        )
    return _TARGET_VERBS[verb](target, _reason(remainder))


def _rule_usage(prefix: str, sub: str, tr: Translator) -> str:
    if sub == "ban":
        return tr._("{command} <entity> [reason] [--force]", command=f"{prefix} rule ban")
    return tr._("{command} <entity>", command=f"{prefix} rule unban")


def _parse_rule(
    rest: str, prefix: str, tr: Translator, *, force: bool
) -> RuleBan | RuleUnban | CommandError:
    typed, rest = _split_word(rest)
    sub = _verb(typed)
    if sub not in ("ban", "unban"):
        both = {
            "ban": _rule_usage(prefix, "ban", tr),
            "unban": _rule_usage(prefix, "unban", tr),
        }
        if not typed:
            return CommandError(tr._("'rule' needs more. Write: {ban} or {unban}", **both))
        return CommandError(
            tr._(
                "Unknown rule command '{sub}'. Write: {ban} or {unban}",
                sub=typed.casefold(),
                **both,
            )
        )
    usage = _rule_usage(prefix, sub, tr)
    taken = _take_target(rest, usage, tr)
    if isinstance(taken, CommandError):
        return taken
    if taken is None:
        return CommandError(
            tr._(
                "Which user or server? For example @spammer:evil.example or evil.example. "
                "Write: {usage}",
                usage=usage,
            )
        )
    entity, remainder = taken
    if any(char.isspace() for char in entity):
        return CommandError(
            tr._(
                "'{entity}' has spaces: a rule names a Matrix ID like @spammer:evil.example "
                "or a server like evil.example.",
                entity=entity,
            )
        )
    if sub == "ban":
        return RuleBan(entity, _reason(remainder), force)
    if force:
        return _force_misplaced(prefix, tr)
    if remainder.strip():
        return CommandError(
            tr._(
                "'{command}' takes only the rule's user or server. Write: {usage}",
                command=f"{prefix} rule unban",
                usage=usage,
            )
        )
    return RuleUnban(entity)


def _take_target(text: str, usage: str, tr: Translator) -> tuple[str, str] | CommandError | None:
    """The first argument (quotes removed) and the text after it; ``None`` if there is none."""
    text = text.lstrip()
    if not text:
        return None
    mention = _MENTION_AT_START.match(text)
    if mention is not None:
        return mention.group(0), text[mention.end() :]
    opener = text[0]
    closers = _CLOSERS.get(opener)
    if closers is None:
        word, rest = _split_word(text)
        return word, rest
    end = next((i for i, char in enumerate(text) if i > 0 and char in closers), None)
    if end is None:
        first = _split_word(text[1:])[0] or opener
        return CommandError(
            tr._(
                "The quote before '{first}' is never closed. "
                'Put a name with spaces between two quotes, like "Alice Smith". Write: {usage}',
                first=first,
                usage=usage,
            )
        )
    inner = " ".join(text[1:end].split())
    if not inner:
        return CommandError(
            tr._("The quotes are empty: put the name between them. Write: {usage}", usage=usage)
        )
    rest = text[end + 1 :]
    if rest and not rest[0].isspace():
        return CommandError(
            tr._(
                "Put a space after the closing quote of '{name}'. Write: {usage}",
                name=inner,
                usage=usage,
            )
        )
    return inner, rest


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if len(reason) >= 2 and reason[-1] in _CLOSERS.get(reason[0], ""):
        inner = reason[1:-1]
        if not any(char in _CLOSERS for char in inner):
            reason = inner.strip()
    return reason


# --------------------------------------------------------------------------- rules


def rule_kind(entity: str) -> Literal["user", "server"]:
    """``@...`` is a user rule (``@*:evil.example`` too); anything else a server rule."""
    return "user" if entity.startswith("@") else "server"


def check_rule(
    command: RuleBan,
    *,
    own_server: str,
    bridge_ids: Collection[str],
    moderators: Collection[str],
) -> Refusal | None:
    """:func:`moderation.policy.check_new_rule` for a ``rule ban`` command; ``None`` means go."""
    return check_new_rule(
        rule_kind(command.entity),
        command.entity,
        own_server=own_server,
        bridge_ids=bridge_ids,
        moderators=moderators,
        force=command.force,
    )


# --------------------------------------------------------------------------- help


def help_text(prefix: str = DEFAULT_PREFIX, tr: Translator | None = None) -> str:
    """Short help in plain words, one line per command, with the French aliases."""
    tr = tr or translator()
    p = prefix
    return "\n".join(
        [
            tr._("Moderation commands:"),
            tr._(
                "{p} ban <user> [reason]: ban someone on both Discord and Matrix "
                "(also: {p} bannir)",
                p=p,
            ),
            tr._("{p} unban <user> [reason]: lift that ban (also: {p} debannir)", p=p),
            tr._(
                "{p} kick <user> [reason]: remove someone; they may come back (also: {p} expulser)",
                p=p,
            ),
            tr._("{p} bans: list the current bans (also: {p} bannis)", p=p),
            tr._("{p} lists: list the ban lists we follow (also: {p} listes)", p=p),
            tr._(
                "{p} rule ban <user or server> [reason]: add a rule to our ban list, "
                "e.g. @spammer:evil.example or evil.example; "
                "add --force when it contains * or ? (also: {p} regle bannir)",
                p=p,
            ),
            tr._(
                "{p} rule unban <user or server>: remove that rule (also: {p} regle debannir)",
                p=p,
            ),
            tr._(
                "{p} lockdown on|off [30m]: close the doors to newcomers on both sides, or "
                "open them again; alone, shows the state "
                "(also: {p} verrouiller, {p} deverrouiller, {p} verrouillage)",
                p=p,
            ),
            tr._(
                "{p} protections: list the protections against spam and raids, on or off",
                p=p,
            ),
            tr._("{p} protection <name> on|off: switch one protection on or off", p=p),
            tr._(
                "{p} unmute <user>: let someone write again after a timeout or a mute "
                "(also: {p} demuter, {p} untimeout)",
                p=p,
            ),
            tr._("{p} help: show this help (also: {p} aide)", p=p),
            tr._(
                "<user> is a mention, a Matrix ID (@name:server), a Discord user ID, or a name; "
                'put names with spaces between quotes: "Alice Smith".'
            ),
        ]
    )
