"""Which of a message's Discord reactions differ from what was relayed. Pure.

Backfill compares a message's reactions summary (emoji, count, whether the bridge
bot reacted) with the ghost reactions relayed for it, and reads who reacted only
with the emoji whose counts differ. The bot's own reaction stands for Matrix users:
it is never a Discord user's reaction, so it is left out of every count.

A custom emoji is known by its ID (Discord's API form is ``name:id``, and a renamed
emoji is the same reaction); a unicode emoji by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bridge.ids import DiscordUserID
from bridge.model import DiscordReactionCount


def emoji_identity(emoji: str) -> str:
    """What identifies a reaction's emoji: the ID of a custom one, else the emoji."""
    name, sep, tail = emoji.rpartition(":")
    return tail if sep and name and tail.isdigit() else emoji


def split_api_form(emoji: str) -> tuple[str, int | None]:
    """``name:id`` -> (name, id); a unicode emoji -> (emoji, None)."""
    name, sep, tail = emoji.rpartition(":")
    if sep and name and tail.isdigit():
        return name, int(tail)
    return emoji, None


def discord_users_count(count: DiscordReactionCount) -> int:
    """How many Discord users (the bridge bot left out) react with this emoji."""
    return max(count.count - (1 if count.me else 0), 0)


@dataclass(frozen=True)
class ReactionCheck:
    """``fetch``: emoji whose reactors must be read (their counts differ); ``gone``:
    relayed emoji (as stored) that no Discord user reacts with any more."""

    fetch: tuple[DiscordReactionCount, ...] = ()
    gone: tuple[str, ...] = ()


def check_reactions(
    summary: Iterable[DiscordReactionCount],
    relayed: Mapping[str, Iterable[DiscordUserID]],
) -> ReactionCheck:
    """Compare a message's reactions summary with ``relayed`` (stored emoji -> the
    Discord users whose reaction was relayed with it)."""
    relayed_users: dict[str, set[DiscordUserID]] = {}
    for emoji, users in relayed.items():
        relayed_users.setdefault(emoji_identity(emoji), set()).update(users)
    fetch: list[DiscordReactionCount] = []
    present: set[str] = set()
    for count in summary:
        identity = emoji_identity(count.emoji)
        expected = discord_users_count(count)
        if expected == 0:
            continue  # only the bot's: every relayed one of this emoji is gone
        present.add(identity)
        if expected != len(relayed_users.get(identity, ())):
            fetch.append(count)
    gone = tuple(emoji for emoji in relayed if emoji_identity(emoji) not in present)
    return ReactionCheck(tuple(fetch), gone)


@dataclass(frozen=True)
class ReactorDiff:
    added: tuple[DiscordUserID, ...] = ()
    removed: tuple[DiscordUserID, ...] = ()


def diff_reactors(
    relayed: Iterable[DiscordUserID],
    reacting: Iterable[DiscordUserID],
    own_user: DiscordUserID | None,
    horizon: DiscordUserID | None = None,
) -> ReactorDiff:
    """Who reacts on Discord but was not relayed, and who was relayed but reacts no
    more. ``horizon``: the list of reactors was cut there (they come by ascending user
    ID), so a relayed user above it may still react and is not removed."""
    now = {u for u in reacting if u != own_user}
    before = {u for u in relayed if u != own_user}
    removed = {u for u in before - now if horizon is None or u <= horizon}
    return ReactorDiff(tuple(sorted(now - before)), tuple(sorted(removed)))
