"""Which reactions of a message differ from what was relayed (pure, table-driven)."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.reaction_sync import (
    ReactionCheck,
    ReactorDiff,
    check_reactions,
    diff_reactors,
    emoji_identity,
    split_api_form,
)
from bridge.ids import DiscordUserID
from bridge.model import DiscordReactionCount

BOT = DiscordUserID(1)
A, B, C = DiscordUserID(10), DiscordUserID(20), DiscordUserID(30)


def count(emoji: str, n: int, me: bool = False, burst: int = 0) -> DiscordReactionCount:
    name, emoji_id = split_api_form(emoji)
    return DiscordReactionCount(name, emoji_id, count=n, burst_count=burst, me=me)


@pytest.mark.parametrize(
    ("emoji", "identity", "split"),
    [
        ("👍", "👍", ("👍", None)),
        ("party:77", "77", ("party", 77)),
        ("a:b:77", "77", ("a:b", 77)),
        (":77", ":77", (":77", None)),
        ("party:", "party:", ("party:", None)),
        ("party:x7", "party:x7", ("party:x7", None)),
    ],
)
def test_emoji_identity_and_api_form(
    emoji: str, identity: str, split: tuple[str, int | None]
) -> None:
    assert emoji_identity(emoji) == identity
    assert split_api_form(emoji) == split


@pytest.mark.parametrize(
    ("summary", "relayed", "fetch", "gone"),
    [
        # Nothing anywhere, or counts that match: nothing to read.
        ((), {}, (), ()),
        ((count("👍", 2),), {"👍": [A, B]}, (), ()),
        # The bot's reaction (Matrix users') is not counted as a Discord user's.
        ((count("🎉", 1, me=True),), {}, (), ()),
        ((count("🎉", 2, me=True),), {"🎉": [A]}, (), ()),
        ((count("🎉", 2, me=True),), {}, ("🎉",), ()),
        # More, or fewer, than relayed: read who.
        ((count("👍", 3),), {"👍": [A, B]}, ("👍",), ()),
        ((count("👍", 1),), {"👍": [A, B]}, ("👍",), ()),
        # Gone from the summary, or only the bot left: removed without reading.
        ((), {"👍": [A]}, (), ("👍",)),
        ((count("👍", 1, me=True),), {"👍": [A]}, (), ("👍",)),
        # A renamed custom emoji is the same reaction.
        ((count("fiesta:77", 1),), {"party:77": [A]}, (), ()),
        ((count("fiesta:77", 2),), {"party:77": [A]}, ("fiesta:77",), ()),
        # Super reactions count too.
        ((count("👍", 2, burst=1),), {"👍": [A, B]}, (), ()),
    ],
)
def test_check_reactions(
    summary: tuple[DiscordReactionCount, ...],
    relayed: dict[str, list[DiscordUserID]],
    fetch: tuple[str, ...],
    gone: tuple[str, ...],
) -> None:
    check = check_reactions(summary, relayed)
    assert tuple(c.emoji for c in check.fetch) == fetch
    assert check.gone == gone


def test_check_reactions_keeps_the_summary_entry_to_read() -> None:
    entry = count("party:77", 3)
    assert check_reactions([entry], {"party:77": [A]}) == ReactionCheck((entry,), ())


@pytest.mark.parametrize(
    ("relayed", "reacting", "horizon", "diff"),
    [
        ([A], [A], None, ReactorDiff()),
        ([A], [A, B], None, ReactorDiff(added=(B,))),
        ([A, B], [B], None, ReactorDiff(removed=(A,))),
        ([A], [C, B], None, ReactorDiff(added=(B, C), removed=(A,))),
        # The bot is never added nor removed.
        ([], [BOT, A], None, ReactorDiff(added=(A,))),
        ([BOT], [], None, ReactorDiff()),
        # A list cut at B: C may still react further on, A is before the cut.
        ([A, C], [B], B, ReactorDiff(added=(B,), removed=(A,))),
    ],
)
def test_diff_reactors(
    relayed: list[DiscordUserID],
    reacting: list[DiscordUserID],
    horizon: DiscordUserID | None,
    diff: ReactorDiff,
) -> None:
    assert diff_reactors(relayed, reacting, BOT, horizon) == diff
