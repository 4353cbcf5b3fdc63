"""The forward rule (bridge.convert.d2m.forward.forward_hidden) and the quote's shape."""

from __future__ import annotations

import pytest

from bridge.convert.d2m.forward import ForwardOrigin, forward_hidden, forward_to_matrix, jump_url
from bridge.ids import ChannelID, GuildID, MessageID
from bridge.model import DiscordForward, MatrixText


@pytest.mark.parametrize(
    ("target", "origin_access", "origin_hidden", "hidden"),
    [
        ("public", "public", False, False),  # public to public
        ("public", "members_only", False, True),  # a bridged members-only channel
        ("public", "members_only", True, True),
        ("public", None, True, True),  # not bridged, @everyone cannot see it
        ("public", None, False, False),  # unknown origin: what Discord showed
        ("public", "public", True, True),  # Discord says hidden: that wins
        ("members_only", "members_only", True, False),  # a members-only room sees all
        ("members_only", None, True, False),
    ],
)
def test_forward_hidden(
    target: str, origin_access: str | None, origin_hidden: bool, hidden: bool
) -> None:
    assert forward_hidden(target, origin_access, origin_hidden) is hidden


def test_jump_url_without_guild_or_message() -> None:
    forward = DiscordForward(ChannelID(5), None, None)
    assert jump_url(forward) == "https://discord.com/channels/@me/5"
    forward = DiscordForward(ChannelID(5), GuildID(3), MessageID(9))
    assert jump_url(forward) == "https://discord.com/channels/3/5/9"


def test_quote_escapes_names_and_links_and_pings_nobody() -> None:
    inner = MatrixText(
        body="line one\n\nline <two>",
        formatted_body=None,
        mentioned_user_ids=("@x:y",),  # type: ignore[arg-type]
        mentions_room=True,
    )
    origin = ForwardOrigin('a"b<i>\u202e', 'https://x/?a="1"&b')
    text = forward_to_matrix(inner, origin)
    assert text.body.splitlines()[1:] == ["> line one", ">", "> line <two>"]
    assert text.formatted_body is not None
    assert "<i>" not in text.formatted_body and "\u202e" not in text.formatted_body
    assert 'href="https://x/?a=&quot;1&quot;&amp;b"' in text.formatted_body
    assert "line &lt;two&gt;" in text.formatted_body
    assert text.mentioned_user_ids == () and text.mentions_room is False
    # Files only: the line alone (the files follow as their own events).
    bare = forward_to_matrix(None, ForwardOrigin(None, "https://discord.com/channels/1/2/3"))
    assert bare.body == "↪️ Forwarded message (https://discord.com/channels/1/2/3)"


def test_a_huge_forward_still_fits_one_event() -> None:
    inner = MatrixText(body="x" * 70_000, formatted_body="<b>" + "x" * 70_000 + "</b>")
    text = forward_to_matrix(inner, ForwardOrigin("general", "https://matrix.to/#/!r:x/$e"))
    size = len(text.body.encode()) + len((text.formatted_body or "").encode())
    assert size < 65_536
