"""Discord -> Matrix -> Discord round trips.

``m2d(d2m(x)) == x`` for Discord messages already in the bridge's normal form.
The normal form (what the Matrix -> Discord converter writes) is:

* italics with ``*`` (``_a_`` -> ``*a*``), ``___a___`` -> ``*__a__*``;
* ``>>> `` block quotes as ``> `` on every line;
* bullets as ``- `` (``* a`` -> ``- a``), nested by two spaces, ordered lists
  numbered consecutively from the first number;
* fenced code on its own lines (````` ```x``` ````` -> ```` ```\\nx\\n``` ````);
* ``<https://x>`` -> ``https://x`` and ``[t](<https://x>)`` -> ``[t](https://x)``
  (embed suppression is lost); a masked link whose text is its URL -> bare URL;
* backslash escapes only where needed (``\\:`` -> ``:``), with the needed set of
  ``bridge.convert.m2d.html``;
* spaces after a heading marker squeezed to one; trailing whitespace trimmed.

Lossy (not restored): role mentions (``@Role`` text), mentions of users or
channels the bridge cannot resolve, custom emoji (``:name:``), timestamps (UTC
text), slash-command mentions (``/name``), ``@everyone``/``@here`` (defused),
unbridged channel mentions (``#name``).
"""

from __future__ import annotations

import random

import pytest

from bridge.convert.d2m.markdown import D2MContext, discord_markdown_to_matrix
from bridge.convert.m2d.html import M2DContext, matrix_to_discord_markdown

D2M = D2MContext(
    user_mxid={1001: "@_discord_1001:example.org", 1002: "@linked:example.org"},
    user_names={1001: "Ghost One", 1002: "Linked", 1003: "Unbridged"},
    role_names={2001: "Moderators"},
    channel_rooms={
        3001: ("general", "!general:example.org"),
        3002: ("random", "#_discord_3002:example.org"),
    },
    channel_names={3003: "staff"},
    custom_emoji_mxc={4001: "mxc://example.org/blobcat"},
)
_GHOSTS = {mxid: user for user, mxid in D2M.user_mxid.items()}
M2D = M2DContext(
    ghost_discord_id=_GHOSTS.get,
    room_channel={room: channel for channel, (_, room) in D2M.channel_rooms.items()},
)


def round_trip(content: str) -> str:
    matrix = discord_markdown_to_matrix(content, D2M)
    return matrix_to_discord_markdown(matrix.body, matrix.formatted_body, M2D).content


STABLE = [
    "plain text",
    "snake_case_names stay",
    "**bold** *italic* __underline__ ~~strike~~ ||spoiler||",
    "***bold italic*** and **bold *nested* bold**",
    "*italic **bold** italic*",
    "__*underlined italic*__ un*believ*able",
    "||**secret** with ~~strike~~||",
    "`inline code` and ``code with ` tick``",
    "`` `tick at edges` ``",
    "`**not bold** <@1001> # not heading`",
    "```py\ndef f(x):\n    return x ** 2  # __dunder__\n```",
    "```\n> not a quote\n- not a list\n```",
    "before\n```js\nif (a < b) {}\n```\nafter",
    "> quoted line\n> second line\nnot quoted",
    "> **bold** in a quote\n> - and a list",
    "# Heading\n## Sub heading\n### Third\ntext",
    "-# subtext line\nnormal line",
    "- one\n- two\n  - nested\n    - deeper\n- three",
    "1. first\n2. second\n  - mixed",
    "5. five\n6. six",
    "[masked link](https://example.com/page) and https://example.com/bare_url",
    "[**bold** link](https://example.com)",
    "https://en.wikipedia.org/wiki/Foo_(bar)",
    "hi <@1001> and <@1002>",
    "see <#3001> and <#3002>",
    "\\*escaped\\* \\_\\_also\\_\\_ \\`tick\\`",
    "\\# not a heading\n\\> not a quote\n\\- not a list\n1\\. not a list",
    "line one\n\nline three\n\n\nline six",
    "a\n\n> quote after a blank line\n\n# heading after a blank line",
    "**multi\nline bold**",
    "tab\there and  two spaces",
    "unicode ✨ émoji 🎉 and <3",
    "a < b > c & d",
]


@pytest.mark.parametrize("content", STABLE)
def test_round_trip_is_identity(content: str) -> None:
    assert round_trip(content) == content


NORMALISED = [
    ("_italic_", "*italic*"),
    ("___both___", "*__both__*"),
    (">>> all\nof this", "> all\n> of this"),
    ("* a\n* b", "- a\n- b"),
    ("1. a\n1. b\n1. c", "1. a\n2. b\n3. c"),
    ("- a\n    - deep indent", "- a\n  - deep indent"),
    ("```one line```", "```\none line\n```"),
    ("<https://example.com>", "https://example.com"),
    ("[t](<https://example.com>)", "[t](https://example.com)"),
    ("[https://example.com](https://example.com)", "https://example.com"),
    ("\\:smile\\: \\.", ":smile: ."),
    ("#   spaced   heading  ", "# spaced   heading"),
    ("trimmed  \n\n", "trimmed"),
]


@pytest.mark.parametrize(("content", "normal"), NORMALISED)
def test_round_trip_normal_form(content: str, normal: str) -> None:
    assert round_trip(content) == normal
    assert round_trip(normal) == normal


LOSSY = [
    ("<@&2001> ping", "@Moderators ping"),
    ("<@1003> and <@1004>", "@Unbridged and <\\@1004>"),
    ("<#3003> <#3004>", "#staff <\\#3004>"),
    ("<:blobcat:4001> <a:dance:4002>", ":blobcat: :dance:"),
    ("<t:1618953630:d>", "2021-04-20"),
    ("</ping:5001>", "/ping"),
    ("@everyone @here", "@\u200beveryone @\u200bhere"),
]


@pytest.mark.parametrize(("content", "result"), LOSSY)
def test_round_trip_lossy_cases(content: str, result: str) -> None:
    assert round_trip(content) == result


_ATOMS = [
    "*", "**", "_", "__", "~", "~~", "|", "||", "`", "```", "```py\n", ">", "> ", ">>> ",
    "#", "# ", "## ", "-# ", "-", "- ", "1. ", "  ", "\n", "a", "b c", "word", "x_y",
    "https://ex.com/a_b", "[t](https://e.com)", "[", "]", "(", ")", "<", "<@1001>",
    "<#3001>", "<:e:4001>", "<t:1:R>", "</a:1>", "\\", "&", ":", ".",
]  # fmt: skip


def test_plain_matrix_text_shows_literally_on_discord() -> None:
    """Escaped plain text parses back, as Discord reads it, to exactly the same text."""
    rng = random.Random(20240601)
    for _ in range(3000):
        text = "".join(rng.choice(_ATOMS) for _ in range(rng.randint(1, 10))).strip()
        if not text:
            continue
        discord = matrix_to_discord_markdown(text, None, M2DContext()).content
        seen = discord_markdown_to_matrix(discord, D2MContext())
        assert seen.formatted_body is None, (text, discord)
        assert seen.body.replace("\u200b", "") == text, (text, discord)
