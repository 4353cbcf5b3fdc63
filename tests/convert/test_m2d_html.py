"""Matrix HTML / plain body -> Discord markdown, one table row per construct."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.convert.m2d.html import (
    DiscordFormatted,
    M2DContext,
    escape_discord,
    matrix_to_discord_markdown,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formatting"

GHOSTS = {"@_discord_1001:example.org": 1001, "@linked:example.org": 1002}
CTX = M2DContext(
    ghost_discord_id=GHOSTS.get,
    room_channel={"!general:example.org": 3001, "#_discord_3002:example.org": 3002},
    display_name={"@carol:example.org": "Carol C"},
)
ROOM_CTX = M2DContext(ghost_discord_id=GHOSTS.get, may_mention_room=True)


def html(formatted: str, ctx: M2DContext = CTX) -> DiscordFormatted:
    return matrix_to_discord_markdown("fallback body", formatted, ctx)


def plain(body: str, ctx: M2DContext = CTX) -> DiscordFormatted:
    return matrix_to_discord_markdown(body, None, ctx)


# (formatted_body, expected Discord content)
HTML_CASES = [
    # inline styles
    ("<b>b</b> <strong>s</strong>", "**b** **s**"),
    ("<i>i</i> <em>e</em>", "*i* *e*"),
    ("<u>u</u> <ins>i</ins>", "__u__ __i__"),
    ("<del>d</del> <s>s</s> <strike>k</strike>", "~~d~~ ~~s~~ ~~k~~"),
    ('<span data-mx-spoiler="reason">secret</span>', "||secret||"),
    ("<span data-mx-spoiler>secret</span>", "||secret||"),
    ('<font color="red">red</font> <span data-mx-color="#f00">too</span>', "red too"),
    ("<strong><em>both</em></strong>", "***both***"),
    ("<em>un</em>believable", "*un*believable"),
    ("<strong> padded </strong>x", "**padded** x"),
    ("<strong></strong>empty", "empty"),
    ("<strong>a<br></strong>b", "**a**\nb"),
    ("<em><br><br>x</em>", "*x*"),
    ("a<em><br>x</em>", "a\n*x*"),
    ("<sup>sup</sup> H<sub>2</sub>O", "sup H2O"),
    # nesting
    ("<strong>bold <em>italic</em> bold</strong>", "**bold *italic* bold**"),
    ("<em>a <u><del>b</del></u></em>", "*a __~~b~~__*"),
    # code
    ("<code>x = *y*</code>", "`x = *y*`"),
    ("<code>a`b</code>", "``a`b``"),
    ("<code>`x`</code>", "`` `x` ``"),
    ("<code>&lt;@123&gt; &amp;</code>", "`<@123> &`"),
    (
        '<pre><code class="language-python">def f():\n    return **x\n</code></pre>',
        "```python\ndef f():\n    return **x\n```",
    ),
    ("<pre><code>plain\n</code></pre>", "```\nplain\n```"),
    ("<pre>no code tag</pre>", "```\nno code tag\n```"),
    ('<pre><code class="language-two words">x</code></pre>', "```two\nx\n```"),
    ('<pre><code class="language-x{y}">x</code></pre>', "```\nx\n```"),
    ("<pre><code>has ``` fence</code></pre>", "```\nhas `\u200b`` fence\n```"),
    ("text<pre><code>c</code></pre>more", "text\n```\nc\n```\nmore"),
    # quotes
    ("<blockquote>q</blockquote>after", "> q\nafter"),
    ("<blockquote><p>one</p><p>two</p></blockquote>", "> one\n> \n> two"),
    ("<blockquote>a<br>b</blockquote>", "> a\n> b"),
    ("<blockquote>outer<blockquote>inner</blockquote></blockquote>", "> outer\n> inner"),
    ("<blockquote><ul><li>x</li></ul></blockquote>", "> - x"),
    # headings
    ("<h1>One</h1><h2>Two</h2><h3>Three</h3>", "# One\n## Two\n### Three"),
    ("<h4>Four</h4><h6>Six</h6>", "**Four**\n**Six**"),
    ("<h1><em>fancy</em> title</h1>text", "# *fancy* title\ntext"),
    # subtext
    ("<sub>small print</sub>", "-# small print"),
    ("<sub>small</sub><br>normal", "-# small\nnormal"),
    ("a <sub>b</sub> c", "a b c"),
    # lists
    ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
    ("<ol><li>a</li><li>b</li></ol>", "1. a\n2. b"),
    ('<ol start="7"><li>a</li><li>b</li></ol>', "7. a\n8. b"),
    (
        "<ul><li>a<ul><li>b<ol><li>c</li></ol></li></ul></li><li>d</li></ul>",
        "- a\n  - b\n    1. c\n- d",
    ),
    ("<ul><li><p>loose</p></li><li><p>items</p></li></ul>", "- loose\n- items"),
    ("<ul><li>a<br>b</li></ul>", "- a\n  b"),
    ("<ul><li>unclosed<li>items</ul>", "- unclosed\n- items"),
    ("<p>intro</p><ul><li>x</li></ul>", "intro\n\n- x"),
    # paragraphs, breaks, rules
    ("<p>one</p><p>two</p>", "one\n\ntwo"),
    ("<p>one<br />\ntwo</p>\n<p>three</p>\n", "one\ntwo\n\nthree"),
    ("a<hr>b", "a\n---\nb"),
    ("<div>a</div><div>b</div>", "a\nb"),
    ("line\n  continues", "line continues"),
    # links
    ('<a href="https://example.com">text</a>', "[text](https://example.com)"),
    ('<a href="https://example.com">https://example.com</a>', "https://example.com"),
    ('<a href="https://example.com/a_b">https://example.com/a_b</a>', "https://example.com/a_b"),
    ('<a href="https://example.com/x.">https://example.com/x.</a>', "<https://example.com/x.>"),
    (
        '<a href="https://en.wikipedia.org/wiki/A_(b)">wiki</a>',
        "[wiki](https://en.wikipedia.org/wiki/A_(b))",
    ),
    ('<a href="https://example.com/a)b">odd</a>', "[odd](<https://example.com/a)b>)"),
    (
        '<a href="https://example.com"><strong>bold</strong> [link]</a>',
        "[**bold** \\[link\\]](https://example.com)",
    ),
    ('<a href="mailto:a@example.org">a@example.org</a>', "a@example.org"),
    ('<a href="javascript:alert(1)">click</a>', "click"),
    ("<a>no href</a>", "no href"),
    ("see https://example.com/__init__.py ok", "see https://example.com/__init__.py ok"),
    # pills and room links
    ('<a href="https://matrix.to/#/@_discord_1001:example.org">Ghost One</a>: hi', "<@1001>: hi"),
    ('<a href="https://matrix.to/#/%40linked%3Aexample.org">Linked</a>', "<@1002>"),
    ('<a href="https://matrix.to/#/@carol:example.org">Carol</a> hi', "@Carol C hi"),
    (
        '<a href="https://matrix.to/#/@dave:example.org">dave_the_*great*</a>',
        "@dave_the\\_\\*great\\*",
    ),
    ('<a href="https://matrix.to/#/@everyone:example.org">everyone</a>', "@\u200beveryone"),
    ('<a href="https://matrix.to/#/!general:example.org">#general</a>', "<#3001>"),
    ('<a href="https://matrix.to/#/%23_discord_3002:example.org">#random</a>', "<#3002>"),
    (
        '<a href="https://matrix.to/#/#elsewhere:example.org">#elsewhere</a>',
        "[#elsewhere](https://matrix.to/#/#elsewhere:example.org)",
    ),
    (
        '<a href="https://matrix.to/#/!general:example.org/$event?via=example.org">that message</a>',
        "[that message](https://matrix.to/#/!general:example.org/$event?via=example.org)",
    ),
    ('<a href="matrix:u/_discord_1001:example.org">x</a>', "<@1001>"),
    # images
    (
        '<img data-mx-emoticon src="mxc://x/y" alt=":blobcat:" title=":blobcat:" height="32">',
        ":blobcat:",
    ),
    ('<img data-mx-emoticon src="mxc://x/y" alt="party_parrot">', ":party_parrot:"),
    ('<img src="mxc://x/y" alt="a picture">', "a picture"),
    # replies
    (
        '<mx-reply><blockquote><a href="https://matrix.to/#/!r:x/$e">In reply to</a> '
        '<a href="https://matrix.to/#/@_discord_1001:example.org">@g</a><br>old</blockquote></mx-reply>new',
        "new",
    ),
    # escaping of literal text
    ("2 * 3 * 4", "2 \\* 3 \\* 4"),
    ("*not italic*", "\\*not italic\\*"),
    ("__not underline__", "\\_\\_not underline\\_\\_"),
    ("snake_case_name", "snake_case_name"),
    ("~~no~~ ~ok", "\\~\\~no\\~\\~ ~ok"),
    ("||no|| a|b", "\\|\\|no\\|\\| a|b"),
    ("`tick", "\\`tick"),
    ("[not](https://link)", "\\[not](https://link)"),
    ("[just brackets", "\\[just brackets"),
    (
        "&lt;@123&gt; &lt;#4&gt; &lt;:e:5&gt; &lt;t:1&gt; &lt;3 a&lt;b",
        "<\\@123> <\\#4> <\\:e:5> <\u200bt:1> <3 a<b",
    ),
    (
        "&lt;/cmd:1&gt; &lt;a:e:2&gt; &lt;https://x.org&gt;",
        "<\\/cmd:1> <\u200ba:e:2> <\u200bhttps://x.org>",
    ),
    ("https://x.org/&lt;@1&gt;", "https://x.org/<\\@1>"),
    ("back\\slash \\*", "back\\slash \\\\\\*"),
    (
        "<p># not heading</p><p>&gt; not quote</p><p>- not list</p><p>1. not list</p><p>-# no</p>",
        "\\# not heading\n\n\\> not quote\n\n\\- not list\n\n1\\. not list\n\n\\-# no",
    ),
    ("a # b &gt; c - d", "a # b > c - d"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
    ("<script>alert(1)</script>visible", "visible"),
    # room mentions
    ("@room hello", "@room hello"),
    ("@everyone and @here", "@\u200beveryone and @\u200bhere"),
    ("<strong>@everyone</strong>", "**@\u200beveryone**"),
    ("email@everyone.com", "email@everyone.com"),
]


@pytest.mark.parametrize(("formatted", "expected"), HTML_CASES)
def test_html_to_discord(formatted: str, expected: str) -> None:
    assert html(formatted).content == expected


# (plain body, expected Discord content)
PLAIN_CASES = [
    ("hello", "hello"),
    ("*not italic* _nor_ this", "\\*not italic\\* \\_nor\\_ this"),
    ("> not a quote\n# nor heading", "\\> not a quote\n\\# nor heading"),
    (
        "see https://example.com/a_b_c and snake_case",
        "see https://example.com/a_b_c and snake_case",
    ),
    ("@everyone look", "@\u200beveryone look"),
    ("> <@alice:example.org> original\n> more\n\nthe reply", "the reply"),
    ("line one\n\nline three", "line one\n\nline three"),
    ("  indented", "  indented"),
    ("<@1234> is not a mention", "<\\@1234> is not a mention"),
]


@pytest.mark.parametrize(("body", "expected"), PLAIN_CASES)
def test_plain_body_is_escaped(body: str, expected: str) -> None:
    assert plain(body).content == expected


def test_pill_mentions_are_collected() -> None:
    result = html(
        '<a href="https://matrix.to/#/@linked:example.org">L</a> '
        '<a href="https://matrix.to/#/@_discord_1001:example.org">G</a> '
        '<a href="https://matrix.to/#/@linked:example.org">L</a> '
        '<a href="https://matrix.to/#/@carol:example.org">C</a>'
    )
    assert result.content == "<@1002> <@1001> <@1002> @Carol C"
    assert result.mentioned_user_ids == (1002, 1001)
    assert not result.mention_everyone


@pytest.mark.parametrize("convert", [html, plain])
def test_room_mention_needs_permission(convert: object) -> None:
    assert callable(convert)
    denied = convert("ping @room now")
    assert denied.content == "ping @room now"
    assert not denied.mention_everyone
    allowed = convert("ping @room now", ROOM_CTX)
    assert allowed.content == "ping @everyone now"
    assert allowed.mention_everyone


def test_room_mention_in_code_does_not_ping() -> None:
    result = html("<code>@room</code>", ROOM_CTX)
    assert result.content == "`@room`"
    assert not result.mention_everyone


@pytest.mark.parametrize("text", ["@everyone", "@here", "x @everyone y"])
def test_raw_everyone_never_survives(text: str) -> None:
    for ctx in (CTX, ROOM_CTX):
        assert "@everyone" not in plain(text, ctx).content.replace("@room", "")
        assert "@here" not in plain(text, ctx).content


@pytest.mark.parametrize(
    ("text", "line_start", "expected"),
    [
        ("# x", True, "\\# x"),
        ("# x", False, "# x"),
        ("#channel", True, "#channel"),
        ("#### x", True, "#### x"),
        ("  - nested", True, "  \\- nested"),
        ("10. ten", True, "10\\. ten"),
        (">quote", True, ">quote"),
        ("> quote", True, "\\> quote"),
        (">>> all", True, "\\>>> all"),
    ],
)
def test_escape_line_start(text: str, line_start: bool, expected: str) -> None:
    assert escape_discord(text, line_start) == expected


def load_element_events() -> list[dict[str, str]]:
    return json.loads((FIXTURES / "element_events.json").read_text())["cases"]


@pytest.mark.parametrize("case", load_element_events(), ids=lambda case: case["name"])
def test_element_events(case: dict[str, str]) -> None:
    content = case["content"]
    result = matrix_to_discord_markdown(content["body"], content.get("formatted_body"), CTX)
    assert result.content == case["discord"]


@pytest.mark.parametrize(
    "formatted",
    [
        "<blockquote>" * 5000 + "x" + "</blockquote>" * 5000,
        "<ul><li>" * 3000 + "x",
        "<b>" * 5000 + "x",
        '<a href="https://example.com">' * 3000 + "x",
    ],
)
def test_deeply_nested_html_is_flattened_not_fatal(formatted: str) -> None:
    assert "x" in html(formatted).content
