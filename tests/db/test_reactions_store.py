"""The reaction and emoji tables on both databases, after running the real migrations."""

from __future__ import annotations

from bridge.db import EmojiRow, ReactionRow, Stores
from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID, RoomID, UserID

ROOM = RoomID("!r:x")
CHAN = ChannelID(4000000000000000001)
MSG = MessageID(2**62 + 5)
BOB = DiscordUserID(2000000000000000002)


def ghost_row(event: str, emoji: str = "👍", user: DiscordUserID = BOB) -> ReactionRow:
    return ReactionRow(
        EventID(event),
        ROOM,
        EventID("$target"),
        CHAN,
        MSG,
        emoji,
        "discord",
        UserID(f"@_discord_{user}:x"),
        user,
    )


def matrix_row(event: str, sender: str, emoji: str = "👍") -> ReactionRow:
    return ReactionRow(
        EventID(event), ROOM, EventID("$target"), CHAN, MSG, emoji, "matrix", UserID(sender)
    )


async def test_discord_reaction_round_trip(stores: Stores) -> None:
    row = ghost_row("$g1")
    assert await stores.reactions.insert(row) is True
    assert await stores.reactions.insert(row) is False  # replay
    # The same user, emoji and message under another event: refused as well.
    assert await stores.reactions.insert(ghost_row("$g2")) is False
    assert await stores.reactions.by_event(EventID("$g1")) == row
    assert await stores.reactions.by_discord_user(MSG, "👍", BOB) == row
    assert await stores.reactions.by_discord_user(MSG, "🎉", BOB) is None
    assert await stores.reactions.count_matrix(MSG, "👍") == 0
    assert await stores.reactions.forget_event(EventID("$g1")) == row
    assert await stores.reactions.forget_event(EventID("$g1")) is None
    assert await stores.reactions.by_discord_user(MSG, "👍", BOB) is None


async def test_matrix_reactors_are_counted_per_emoji(stores: Stores) -> None:
    assert await stores.reactions.insert(matrix_row("$m1", "@alice:x"))
    assert await stores.reactions.insert(matrix_row("$m2", "@carol:x"))
    assert await stores.reactions.insert(matrix_row("$m3", "@carol:x", "party:123"))
    assert await stores.reactions.insert(ghost_row("$g1"))
    assert await stores.reactions.count_matrix(MSG, "👍") == 2
    assert await stores.reactions.count_matrix(MSG, "party:123") == 1
    removed = await stores.reactions.forget_event(EventID("$m1"))
    assert removed is not None and removed.origin == "matrix" and removed.discord_user_id is None
    assert await stores.reactions.count_matrix(MSG, "👍") == 1
    cleared = await stores.reactions.forget_message(MSG, "👍")
    assert sorted(r.event_id for r in cleared) == ["$g1", "$m2"]
    assert [r.event_id for r in await stores.reactions.forget_message(MSG)] == ["$m3"]
    assert await stores.reactions.forget_message(MSG) == []


async def test_emoji_cache(stores: Stores) -> None:
    assert await stores.reactions.emoji_by_id(123) is None
    row = EmojiRow(2**62 + 1, "party", False, "mxc://x/party")
    await stores.reactions.put_emoji(row)
    assert await stores.reactions.emoji_by_id(2**62 + 1) == row
    assert await stores.reactions.emoji_by_mxc("mxc://x/party") == row
    assert row.api_form == f"party:{2**62 + 1}"
    renamed = EmojiRow(2**62 + 1, "fiesta", True, "mxc://x/party")
    await stores.reactions.put_emoji(renamed)
    assert await stores.reactions.emoji_by_mxc("mxc://x/party") == renamed
    assert await stores.reactions.emoji_by_mxc("mxc://x/other") is None


async def test_discord_reactions_of_a_range_of_messages(stores: Stores) -> None:
    def on(message: MessageID, event: str, user: DiscordUserID = BOB) -> ReactionRow:
        row = ghost_row(event, user=user)
        return ReactionRow(
            row.event_id,
            row.room_id,
            row.target_event_id,
            row.discord_channel_id,
            message,
            row.emoji,
            row.origin,
            row.sender,
            row.discord_user_id,
        )

    before, first, last, after = (MessageID(MSG + i) for i in (-1, 0, 10, 11))
    carol = DiscordUserID(2000000000000000003)
    for row in (on(before, "$b"), on(first, "$f"), on(last, "$l"), on(last, "$l2", carol)):
        assert await stores.reactions.insert(row)
    assert await stores.reactions.insert(on(after, "$a"))
    assert await stores.reactions.insert(matrix_row("$m", "@alice:x"))  # on MSG: not a ghost's
    found = await stores.reactions.discord_between(first, last)
    assert [(r.discord_message_id, r.event_id) for r in found] == [
        (first, "$f"),
        (last, "$l"),
        (last, "$l2"),
    ]
    assert found[2].discord_user_id == carol
