"""Discord markdown -> Matrix body/formatted_body, one table row per construct."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bridge.convert.d2m.markdown import (
    D2MContext,
    MatrixFormatted,
    discord_markdown_to_matrix,
    format_timestamp,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formatting"

CTX = D2MContext(
    user_mxid={1001: "@_discord_1001:example.org", 1002: "@alice:example.org"},
    user_names={1001: "Ghost One", 1002: "Alice", 1003: "Bob"},
    role_names={2001: "Moderators"},
    channel_rooms={
        3001: ("general", "!general:example.org"),
        3002: ("random", "#_discord_3002:example.org"),
    },
    channel_names={3003: "staff-only"},
    custom_emoji_mxc={4001: "mxc://example.org/blobcat"},
)


def convert(content: str) -> MatrixFormatted:
    return discord_markdown_to_matrix(content, CTX)


# (discord content, expected formatted_body); None means the message stays plain.
HTML_CASES = [
    # plain text stays plain
    ("hello world", None),
    ("snake_case_name and 2 * 3 = 6", None),
    ("a ~ b | c", None),
    # inline styles
    ("**bold**", "<strong>bold</strong>"),
    ("*italic*", "<em>italic</em>"),
    ("_italic_", "<em>italic</em>"),
    ("__underline__", "<u>underline</u>"),
    ("~~strike~~", "<del>strike</del>"),
    ("||spoiler||", "<span data-mx-spoiler>spoiler</span>"),
    ("***both***", "<em><strong>both</strong></em>"),
    ("___both___", "<em><u>both</u></em>"),
    ("un*frigging*believable", "un<em>frigging</em>believable"),
    ("not_italic_here but _this_ is", "not_italic_here but <em>this</em> is"),
    ("a * not italic *", None),
    ("* a list, not italic *", "<ul><li>a list, not italic *</li></ul>"),
    # nesting
    ("**bold *italic* bold**", "<strong>bold <em>italic</em> bold</strong>"),
    ("*italic **bold** italic*", "<em>italic <strong>bold</strong> italic</em>"),
    ("||**secret** ~~x~~||", "<span data-mx-spoiler><strong>secret</strong> <del>x</del></span>"),
    ("__~~*all*~~__", "<u><del><em>all</em></del></u>"),
    # inline code: nothing inside is interpreted, everything escaped
    ("`code`", "<code>code</code>"),
    ("`**not bold** <@1001> <b>`", "<code>**not bold** &lt;@1001&gt; &lt;b&gt;</code>"),
    ("``a ` b``", "<code>a ` b</code>"),
    ("`` `tick` ``", "<code>`tick`</code>"),
    # code blocks
    ("```py\nprint('hi')\n```", "<pre><code class=\"language-py\">print('hi')</code></pre>"),
    ("```\nno language\n```", "<pre><code>no language</code></pre>"),
    ("```one line```", "<pre><code>one line</code></pre>"),
    (
        "```md\n# not a heading\n**not bold** > not quote\n- not list\n```",
        '<pre><code class="language-md"># not a heading\n**not bold** &gt; not quote\n- not list</code></pre>',
    ),
    ("before\n```\ncode\n```\nafter", "before<br><pre><code>code</code></pre>after"),
    (
        "```js\nif (a < b && c > d) {}\n```",
        '<pre><code class="language-js">if (a &lt; b &amp;&amp; c &gt; d) {}</code></pre>',
    ),
    ("```unclosed", None),
    # block quotes
    ("> quoted", "<blockquote>quoted</blockquote>"),
    ("> one\n> two\nafter", "<blockquote>one<br>two</blockquote>after"),
    (">>> all\nthe\nrest", "<blockquote>all<br>the<br>rest</blockquote>"),
    (
        "text\n> **bold** in quote",
        "text<br><blockquote><strong>bold</strong> in quote</blockquote>",
    ),
    (">not a quote", None),
    ("a > b", None),
    ("> # heading\n> - item", "<blockquote><h1>heading</h1><ul><li>item</li></ul></blockquote>"),
    # headings
    ("# One", "<h1>One</h1>"),
    ("## Two\n### Three", "<h2>Two</h2><h3>Three</h3>"),
    ("#### Four", None),
    ("#hashtag", None),
    ("text # not heading", None),
    ("# **bold** title\nbody", "<h1><strong>bold</strong> title</h1>body"),
    # subtext
    ("-# small print", "<sub>small print</sub>"),
    ("-# small\nnormal", "<sub>small</sub><br>normal"),
    # lists
    ("- a\n- b", "<ul><li>a</li><li>b</li></ul>"),
    ("* a\n* b", "<ul><li>a</li><li>b</li></ul>"),
    ("1. one\n2. two", "<ol><li>one</li><li>two</li></ol>"),
    ("3. three\n4. four", '<ol start="3"><li>three</li><li>four</li></ol>'),
    (
        "- a\n  - nested\n    - deeper\n- b",
        "<ul><li>a<ul><li>nested<ul><li>deeper</li></ul></li></ul></li><li>b</li></ul>",
    ),
    ("1. a\n  - x\n2. b", "<ol><li>a<ul><li>x</li></ul></li><li>b</li></ol>"),
    ("- *it* and `code`", "<ul><li><em>it</em> and <code>code</code></li></ul>"),
    ("-not a list", None),
    # links
    ("[text](https://example.com)", '<a href="https://example.com">text</a>'),
    (
        "[**bold** text](<https://example.com/a>)",
        '<a href="https://example.com/a"><strong>bold</strong> text</a>',
    ),
    ("[x](javascript:alert(1))", None),
    ("see https://example.com/a_b_c!", None),
    (
        "**see** https://example.com/a_b_c!",
        '<strong>see</strong> <a href="https://example.com/a_b_c">https://example.com/a_b_c</a>!',
    ),
    (
        "**w** https://en.wikipedia.org/wiki/Foo_(bar).",
        '<strong>w</strong> <a href="https://en.wikipedia.org/wiki/Foo_(bar)">https://en.wikipedia.org/wiki/Foo_(bar)</a>.',
    ),
    (
        "**a** (https://example.com)",
        '<strong>a</strong> (<a href="https://example.com">https://example.com</a>)',
    ),
    (
        "**a** <https://example.com/?q=1&r=2>",
        '<strong>a</strong> <a href="https://example.com/?q=1&amp;r=2">https://example.com/?q=1&amp;r=2</a>',
    ),
    # escapes
    ("\\*not italic\\*", None),
    ("\\_\\_not underline\\_\\_ \\`not code\\`", None),
    ("**a** \\<@1001>", "<strong>a</strong> &lt;@1001&gt;"),
    ("C:\\path\\to", None),
    # HTML is escaped
    ("<script>alert(1)</script>", None),
    ('**<b>x</b>** & "q"', '<strong>&lt;b&gt;x&lt;/b&gt;</strong> &amp; "q"'),
    # mentions
    ("hi <@1001>", 'hi <a href="https://matrix.to/#/@_discord_1001:example.org">Ghost One</a>'),
    ("hi <@!1002>", 'hi <a href="https://matrix.to/#/@alice:example.org">Alice</a>'),
    ("hi <@1003>", None),
    ("hi <@1004>", None),
    ("<@&2001> and <@&2002>", None),
    ("<#3001>", '<a href="https://matrix.to/#/!general:example.org">#general</a>'),
    ("<#3002>", '<a href="https://matrix.to/#/%23_discord_3002:example.org">#random</a>'),
    ("<#3003> <#3004>", None),
    (
        "<:blobcat:4001>",
        '<img data-mx-emoticon src="mxc://example.org/blobcat" alt=":blobcat:" title=":blobcat:" height="32">',
    ),
    ("<a:dance:4002>", None),
    ("<t:1618953630:R>", None),
    ("</ping:5001>", None),
    ("@everyone look", None),
    # line breaks
    ("**a**\nb\n\nc", "<strong>a</strong><br>b<br><br>c"),
]


@pytest.mark.parametrize(("content", "expected"), HTML_CASES)
def test_formatted_body(content: str, expected: str | None) -> None:
    assert convert(content).formatted_body == expected


# (discord content, expected body)
BODY_CASES = [
    ("hello", "hello"),
    ("\\*not italic\\*", "*not italic*"),
    ("_it_ **b**", "*it* **b**"),
    (">>> a\nb", "> a\n> b"),
    ("* a\n* b", "- a\n- b"),
    ("```one line```", "```\none line\n```"),
    ("hi <@1001> <@1003> <@1004>", "hi @Ghost One @Bob <@1004>"),
    ("<@&2001> <@&2002>", "@Moderators <@&2002>"),
    ("<#3001> <#3003> <#3004>", "#general #staff-only <#3004>"),
    ("<:blobcat:4001> <a:dance:4002>", ":blobcat: :dance:"),
    ("</ping:5001> </admin ban:5002>", "/ping /admin ban"),
    ("[text](https://example.com)", "[text](https://example.com)"),
    ("<https://example.com>", "https://example.com"),
    ("<t:1618953630:t> <t:99999999999999:R>", "21:20 UTC <t:99999999999999:R>"),
    ("<script>", "<script>"),
]


@pytest.mark.parametrize(("content", "expected"), BODY_CASES)
def test_body(content: str, expected: str) -> None:
    assert convert(content).body == expected


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("t", "21:20 UTC"),
        ("T", "21:20:30 UTC"),
        ("d", "2021-04-20"),
        ("D", "20 April 2021"),
        ("f", "20 April 2021 21:20 UTC"),
        ("F", "Tuesday, 20 April 2021 21:20 UTC"),
        ("R", "Tuesday, 20 April 2021 21:20 UTC"),
    ],
)
def test_timestamp_styles(style: str, expected: str) -> None:
    assert format_timestamp(1618953630, style) == expected
    assert convert(f"<t:1618953630:{style}>").body == expected


def test_timestamp_default_style_is_f() -> None:
    assert convert("<t:1618953630>").body == "20 April 2021 21:20 UTC"


def test_user_mentions_are_collected_once_in_order() -> None:
    result = convert("<@1002> <@1001> <@!1002> <@1003>")
    assert result.mentioned_user_ids == ("@alice:example.org", "@_discord_1001:example.org")
    assert not result.mentions_room


@pytest.mark.parametrize("content", ["@everyone hi", "ping @here", "**@everyone**"])
def test_room_mentions(content: str) -> None:
    result = convert(content)
    assert result.mentions_room
    assert "@everyone" in result.body or "@here" in result.body


@pytest.mark.parametrize("content", ["`@everyone`", "```\n@here\n```", "\\@everyone", "@everyones"])
def test_room_mention_not_in_code_or_escaped(content: str) -> None:
    assert not convert(content).mentions_room


def test_mention_in_code_is_not_a_pill() -> None:
    result = convert("`<@1001>`")
    assert result.mentioned_user_ids == ()
    assert result.formatted_body == "<code>&lt;@1001&gt;</code>"


def test_attribute_values_are_escaped() -> None:
    ctx = D2MContext(custom_emoji_mxc={1: 'mxc://x/"><script>'})
    result = discord_markdown_to_matrix("<:e:1>", ctx)
    assert result.formatted_body is not None
    assert "<script>" not in result.formatted_body
    assert "&quot;&gt;&lt;script&gt;" in result.formatted_body


def test_empty_context_leaves_mentions_readable() -> None:
    result = discord_markdown_to_matrix("<@1> <#2> <@&3> **x**", D2MContext())
    assert result.body == "<@1> <#2> <@&3> **x**"
    assert result.formatted_body == "&lt;@1&gt; &lt;#2&gt; &lt;@&amp;3&gt; <strong>x</strong>"


@pytest.mark.parametrize(
    "content",
    ["*" * 4000, "_" * 4000, "**a" * 1000, "||" * 2000, "`" * 4000, "[" * 2000 + "](", "> " * 2000],
)
def test_pathological_input_is_fast(content: str) -> None:
    start = time.monotonic()
    convert(content)
    assert time.monotonic() - start < 2.0


def load_fixture_cases() -> list[dict[str, str | None]]:
    data = json.loads((FIXTURES / "discord_messages.json").read_text())
    return data["cases"]


@pytest.mark.parametrize("case", load_fixture_cases(), ids=lambda case: case["name"])
def test_real_world_messages(case: dict[str, str | None]) -> None:
    content = case["content"]
    assert content is not None
    result = convert(content)
    assert result.formatted_body == case["formatted_body"]
    assert result.body == case["body"]


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("t", "21:20 UTC"),
        ("d", "2021-04-20"),
        ("D", "20 avril 2021"),
        ("f", "20 avril 2021 21:20 UTC"),
        ("F", "mardi 20 avril 2021 21:20 UTC"),
    ],
)
def test_timestamp_styles_in_french(style: str, expected: str) -> None:
    assert format_timestamp(1618953630, style, "fr") == expected
    ctx = D2MContext(language="fr")
    assert discord_markdown_to_matrix(f"<t:1618953630:{style}>", ctx).body == expected
