"""Bad input Discord -> Matrix (issue 6): odd, hostile and huge payloads through the
pure d2m converters.

Properties checked on every output, for generated and hand-picked inputs:

- nothing raises; text that is not blank gives a non-empty ``body``;
- ``formatted_body`` is well-formed HTML made only of the tags and attributes the
  converter writes (so no tag of the input, like ``<script>`` or ``<b>``, is ever
  interpreted) and links only go to http(s);
- the content fits one Matrix event, even once edited;
- names (ghost display names, mention pills, file names) carry no bidi override or
  invisible character, and a name with nothing visible falls back to the username,
  then the ID.

Generated runs are derandomized (reproducible in CI) and bounded: about a second.
"""

from __future__ import annotations

import html
import json
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bridge.convert.d2m.limits import (
    EDITABLE_CONTENT_MAX,
    EVENT_CONTENT_MAX,
    TRUNCATED,
    content_size,
    fit_content,
)
from bridge.convert.d2m.markdown import D2MContext, discord_markdown_to_matrix
from bridge.convert.d2m.media import (
    attachment_link_text,
    attachment_to_matrix,
    display_filename,
    embeds_to_matrix,
)
from bridge.convert.d2m.text import (
    MAX_DISPLAYNAME,
    author_name,
    discord_to_matrix_text,
    ghost_displayname,
    mention_context,
)
from bridge.convert.names import clean_name, is_visible
from bridge.ids import ChannelID, DiscordUserID, GuildID, MessageID, UserID
from bridge.model import (
    DiscordAttachment,
    DiscordAuthor,
    DiscordEmbed,
    DiscordEmbedField,
    DiscordMessage,
    MatrixText,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord" / "bad"

FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Every bidi control and the usual zero-width / invisible characters.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f"
BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"
COMBINING = "\u0300\u0301\u0336\u0489\u20dd"
EMOJI = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family: ZWJ sequence
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England flag
    "\U0001f44d\U0001f3fd",  # skin tone
    "\u2764\ufe0f",
    "\U0001f1eb\U0001f1f7",  # regional indicators
]
MARKDOWN = [
    *"*_~|`\\<>[]()#->:@!&\"' \n\t",
    "**",
    "__",
    "~~",
    "||",
    "```",
    "```py\n",
    "> ",
    ">>> ",
    "-# ",
    "# ",
    "- ",
    "1. ",
    "  - ",
    "http://",
    "https://e.org/a_(b)",
    "<https://e.org/x>",
    "[t](https://e.org)",
    "@everyone",
    "@here",
    "<@1>",
    "<@!2>",
    "<@3>",
    "<@&10>",
    "<@&11>",
    "<#20>",
    "<#21>",
    "<#22>",
    "<:e:30>",
    "<a:e:31>",
    "<t:0>",
    "<t:1700000000:R>",
    "</cmd:40>",
    "<script>",
    "</script>",
    "<b>",
    "&amp;",
    "&#x3c;",
    "<!--",
    "<img src=x onerror=alert(1)>",
]
# Lone surrogates: JSON's \\u escapes can carry them, UTF-8 cannot.
UNUSUAL = [
    *BIDI,
    *ZERO_WIDTH,
    *BLANK_LETTERS,
    *COMBINING,
    *EMOJI,
    "\x00",
    "\x07",
    "\x7f",
    "\ud800",
    "\udfff",
]

markdown_text = st.lists(
    st.one_of(
        st.sampled_from(MARKDOWN),
        st.sampled_from(UNUSUAL),
        st.text(max_size=8),
        st.text(alphabet="abc XYZ", min_size=1, max_size=6),
    ),
    max_size=60,
).map("".join)

GHOST_A = UserID("@_discord_1:example.org")


def ghost(user_id: DiscordUserID) -> UserID:
    return UserID(f"@_discord_{user_id}:example.org")


def author(user_id: int, username: str = "user", **names: Any) -> DiscordAuthor:
    return DiscordAuthor(DiscordUserID(user_id), username, **names)


def message(content: str, **fields: Any) -> DiscordMessage:
    return DiscordMessage(
        id=MessageID(1311000000000000001),
        channel_id=ChannelID(4000000000000000001),
        guild_id=GuildID(3000000000000000001),
        author=author(2000000000000000001, "alice", global_name="Alice"),
        content=content,
        timestamp_ms=0,
        **fields,
    )


# Mentioned users: a plain one, one with an RTL override, one with only zero-width chars.
MENTIONED = (
    author(1, "one", global_name="One"),
    author(2, "two", global_name="\u202eowT", nick="\u2067Two\u2069"),
    author(3, "three", global_name="\u200b\u200d", nick="\u3164"),
)


def fuzz_message(content: str) -> DiscordMessage:
    return message(
        content,
        mentions=MENTIONED,
        role_mentions=((10, "Role <b>"), (11, "\u202eRole")),
        channel_mentions=((20, "campaign"), (21, "\u202esecret"), (22, "\u200b")),
        hidden_channel_ids=(21,),
        mention_everyone=True,
    )


def convert(content: str) -> MatrixText | None:
    msg = fuzz_message(content)
    rooms = {20: ("campaign", "!c:example.org"), 22: ("\u202epriv", "!p:example.org")}
    ctx = mention_context(msg, ghost, rooms, {21}, {30: "mxc://example.org/emoji"})
    return discord_to_matrix_text(msg, ctx)


# -- checking HTML -------------------------------------------------------------------

ALLOWED: dict[str, set[str]] = {
    "strong": set(),
    "em": set(),
    "u": set(),
    "del": set(),
    "span": {"data-mx-spoiler"},
    "code": {"class"},
    "pre": set(),
    "a": {"href"},
    "h1": set(),
    "h2": set(),
    "h3": set(),
    "sub": set(),
    "blockquote": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "br": set(),
    "p": set(),
    "img": {"data-mx-emoticon", "src", "alt", "title", "height"},
}
VOID = {"br", "img"}


class HTMLCheck(HTMLParser):
    """Collects what is wrong with a formatted_body: unknown tags or attributes,
    unbalanced tags, non-http links, comments or declarations."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.errors.append(f"tag <{tag}>")
            return
        for name, value in attrs:
            if name not in ALLOWED[tag]:
                self.errors.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src") and not (value or "").startswith(
                ("https://", "http://", "mxc://")
            ):
                self.errors.append(f"{name}={value!r}")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("unknown declaration")


def html_errors(formatted: str) -> list[str]:
    check = HTMLCheck()
    check.feed(formatted)
    check.close()
    if check.open:
        check.errors.append(f"unclosed {check.open}")
    return check.errors


def html_text(formatted: str) -> str:
    check = HTMLCheck()
    check.feed(formatted)
    check.close()
    return "".join(check.text)


def assert_sane(text: MatrixText | None, content: str) -> MatrixText:
    if not content.strip():
        assert text is None
        return MatrixText(body="")
    assert text is not None, f"text lost: {content!r}"
    assert text.body.strip()
    if text.formatted_body is not None:
        assert html_errors(text.formatted_body) == [], text.formatted_body
    assert content_size(text) <= EDITABLE_CONTENT_MAX
    # What the homeserver gets: UTF-8 JSON (no lone surrogates).
    json.dumps(text.to_content(), ensure_ascii=False).encode()
    return text


# -- generated input -------------------------------------------------------------------


@FUZZ
@given(markdown_text)
@example("<script>alert(1)</script>")
@example("**<b>x</b>**")
@example("\u202e**abc**\u202c")
@example("``")
@example("||||")
@example("```\n```")
@example("\\")
@example("# \u200b")
@example("<@3>")
@example("<#22>")
def test_any_text_converts_to_sane_content(content: str) -> None:
    assert_sane(convert(content), content)


plain_letters = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters="<\\",  # mentions, emoji, timestamps and escapes rewrite text
    ),
    max_size=300,
)


MARKERS = [m for m in MARKDOWN if "<" not in m and "\\" not in m]


@FUZZ
@given(st.lists(st.one_of(plain_letters, st.sampled_from(MARKERS)), max_size=20).map("".join))
def test_no_letter_is_lost(content: str) -> None:
    """Formatting keeps its markers in ``body``: every letter written is still there."""
    text = convert(content)
    if not content.strip():
        return
    assert text is not None

    def letters(s: str) -> str:
        return "".join(ch for ch in s if ch.isalpha()).casefold()

    assert letters(text.body) == letters(content)


@FUZZ
@given(st.text(max_size=60))
@example("\u202eeilrahC")
@example("\u200b\u200d\ufeff")
@example("\u3164\u3164")
@example(" \u0301\u0301 ")
@example("\x00\x01evil\x1b[31m")
def test_names_are_clean(name: str) -> None:
    clean = clean_name(name)
    assert clean == clean_name(clean)  # idempotent
    assert not any(ch in BIDI for ch in clean)
    assert all(
        unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
        or ch in "\u200c\u200d"
        or "\U000e0020" <= ch <= "\U000e007f"
        for ch in clean
    )
    assert clean == "" or any(is_visible(ch) for ch in clean)
    assert clean == clean.strip()
    display = ghost_displayname("{name} (Discord)", name, "fallback", 7)
    assert display.endswith(" (Discord)") and len(display) <= MAX_DISPLAYNAME
    assert display == f"{clean or 'fallback'} (Discord)"


# -- HTML from Discord is text ---------------------------------------------------------


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_html_in_discord_text_is_escaped_never_interpreted() -> None:
    content = load("message_create_html.json")["content"]
    text = convert(content)
    assert text is not None and text.formatted_body is not None  # **...** formats it
    assert text.body == content
    assert html_errors(text.formatted_body) == []
    formatted = text.formatted_body
    for raw in ("<script>", "<b>", "<img", "<a href", "<!--", "</div>", "<u>"):
        assert raw not in formatted
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in formatted
    assert "&lt;b&gt;bold?&lt;/b&gt;" in formatted
    assert "<strong>&lt;u&gt;x&lt;/u&gt;</strong>" in formatted
    # Entities are text as typed: "&amp;" shows as "&amp;", not "&".
    assert "&amp;amp;" in formatted
    assert html_text(formatted).startswith("<script>alert(1)</script> <b>bold?</b>")


def test_html_without_markdown_stays_plain() -> None:
    text = convert("<b>not bold</b> & <i>not italic</i>")
    assert text is not None
    assert text.formatted_body is None
    assert text.body == "<b>not bold</b> & <i>not italic</i>"


@pytest.mark.parametrize(
    "content",
    [
        "[x](javascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        '[x](https://e.org/" onmouseover="alert(1))',
        'https://e.org/"><script>alert(1)</script>',
        "<https://e.org/\"onerror='x'>",
        '```html"><script>\nx```',
        "[**<b>**](https://e.org/<b>)",
    ],
)
def test_links_and_code_cannot_inject(content: str) -> None:
    text = assert_sane(convert(content), content)  # links only to http(s)
    assert "<script" not in (text.formatted_body or "")


# -- unknown mentions, broken emoji ----------------------------------------------------


def test_unknown_mentions_and_malformed_emoji_stay_as_written() -> None:
    content = load("message_create_unknown_mentions.json")["content"]
    text = discord_to_matrix_text(message(content), mention_context(message(content), ghost, {}))
    assert text is not None
    assert text.mentioned_user_ids == ()
    assert text.body == (
        "<@1> <@!22> <@&333> <#4444> <:blob:> <a:x:abc> <::123> <:na me:1>"
        " <:x:123456789012345678901234> </:1> <t:99999999999999> <t:abc>"
    )
    assert text.formatted_body is None


def test_mention_names_are_neutralised() -> None:
    text = convert("hi <@1> <@2> <@3> <@&10> <@&11> <#20> <#21> <#22>")
    assert text is not None and text.formatted_body is not None
    # <@2>: RTL override in nick dropped; <@3>: nothing visible -> username.
    assert text.body == ("hi @One @Two @three @Role <b> @Role #campaign #private channel #priv")
    assert not any(ch in BIDI for ch in text.body + text.formatted_body)
    assert "&lt;b&gt;" in text.formatted_body
    assert text.mentioned_user_ids == tuple(ghost(DiscordUserID(i)) for i in (1, 2, 3))


def test_author_name_falls_back_to_username_then_id() -> None:
    assert author_name(author(5, "five", global_name="\u200b", nick="\u202e")) == "five"
    assert author_name(author(5, "", global_name="\u200b")) == "5"
    assert author_name(author(5, "five", global_name="Fünf", nick="\u3164")) == "Fünf"


# -- ghost display names ---------------------------------------------------------------


@pytest.mark.parametrize("char", list(BIDI))
def test_bidi_controls_cannot_turn_the_suffix_around(char: str) -> None:
    name = ghost_displayname("{name} (Discord)", f"{char}eilrahC{char}", "charlie", 7)
    assert name == "eilrahC (Discord)"


@pytest.mark.parametrize(
    ("name", "username", "expected"),
    [
        (ZERO_WIDTH, "mallory", "mallory (Discord)"),
        (BLANK_LETTERS, "mallory", "mallory (Discord)"),
        (COMBINING, "mallory", "mallory (Discord)"),
        (BIDI, "mallory", "mallory (Discord)"),
        ("\u200b", "\u200b", "7 (Discord)"),
        ("\u200b", "", "7 (Discord)"),
        ("", None, "7 (Discord)"),
        (None, "mallory", "mallory (Discord)"),
        ("A\u200bl\u00adi\ufeffce", "alice", "Alice (Discord)"),
        ("\x00Al\x07ice\n\tB", "alice", "Alice B (Discord)"),
        (
            "Ze\u0301 Z\u0336a\u0336l\u0336g\u0336o\u0336",
            "z",
            "Ze\u0301 Z\u0336a\u0336l\u0336g\u0336o\u0336 (Discord)",
        ),
        ("عبد الله", "abd", "عبد الله (Discord)"),
    ]
    + [(e, "emoji", f"{e} (Discord)") for e in EMOJI],
)
def test_ghost_displayname_fallbacks(name: str | None, username: str | None, expected: str) -> None:
    assert ghost_displayname("{name} (Discord)", name, username, 7) == expected


def test_ghost_displayname_fits_synapse() -> None:
    long_template = "{name} " + "x" * 300
    assert len(ghost_displayname(long_template, "a" * 500, "alice", 7)) == MAX_DISPLAYNAME
    name = ghost_displayname("{name} (Discord)", "\U0001f600" * 500, "alice", 7)
    assert len(name) <= MAX_DISPLAYNAME and name.endswith(" (Discord)")


# -- huge messages ---------------------------------------------------------------------


def timed_convert(content: str, ctx: D2MContext | None = None, **fields: Any) -> MatrixText:
    msg = message(content, **fields)
    started = time.perf_counter()
    text = discord_to_matrix_text(msg, ctx)
    assert time.perf_counter() - started < 2, "too slow"
    return assert_sane(text, content)


@pytest.mark.parametrize("length", [2000, 4000, 100_000])
def test_long_plain_text_is_kept_whole_when_it_can_be(length: int) -> None:
    content = ("Lorem ipsum dolor sit amet, " * 5000)[:length]
    text = timed_convert(content)
    if length <= 4000:  # all Discord can send (Nitro)
        assert text.body == content
    else:
        assert text.body.endswith(TRUNCATED)
        assert content.startswith(text.body[: -len(TRUNCATED)])


@pytest.mark.parametrize("length", [2000, 4000, 100_000])
def test_long_markdown_is_relayed(length: int) -> None:
    unit = "**bold** *it* __u__ ~~s~~ ||sp|| `c` > q\n- item\n# h\n<t:0:F> & <b> "
    content = (unit * (length // len(unit) + 1))[:length]
    text = timed_convert(content)
    if length <= 4000:
        assert "bold" in text.body


def test_many_mentions_and_emoji() -> None:
    users = tuple(author(1000 + i, f"user{i}", global_name=f"User {i}") for i in range(200))
    content = " ".join(f"<@{u.id}>" for u in users)
    msg = message(content, mentions=users)
    text = timed_convert(content, mention_context(msg, ghost, {}), mentions=users)
    assert len(text.mentioned_user_ids) == 200
    assert text.formatted_body is not None and text.formatted_body.count("<a href") == 200

    ten_thousand = "<@1>" * 10_000  # far beyond Discord's limit: still no blow-up
    timed_convert(ten_thousand, mention_context(message("", mentions=MENTIONED), ghost, {}))
    emoji = "\U0001f600" * 10_000
    assert timed_convert(emoji).body
    custom = "<:blob:123456789012345678>" * 10_000
    ctx = D2MContext(custom_emoji_mxc={123456789012345678: "mxc://example.org/blob"})
    timed_convert(custom, ctx)
    family = EMOJI[0] * (4000 // 11)  # 11 UTF-16 units each: a full Nitro message
    assert timed_convert(family).body == family


def test_channel_links_that_expand_past_the_event_limit_fall_back_to_the_text() -> None:
    # 170 channel mentions (a 4,000 character message) of a channel whose name is 100
    # emoji: each 22 characters become ~800 bytes, too big for one Matrix event.
    channel = 4000000000000000099
    name = "\U0001f389" * 100
    content = " ".join([f"<#{channel}>"] * 170)
    assert len(content) < 4000
    msg = message(content, channel_mentions=((channel, name),))
    ctx = mention_context(msg, ghost, {channel: (name, "!party:example.org")})
    text = timed_convert(content, ctx, channel_mentions=((channel, name),))
    assert text.formatted_body is None
    assert text.body == content  # as written on Discord: nothing lost


def test_deep_and_unbalanced_markdown() -> None:
    deep = "".join(m for m in ["**", "__", "*", "~~", "||"] * 60) + "core"
    deep += "".join(reversed(deep[:-4]))
    text = timed_convert(deep)
    assert "core" in text.body
    unbalanced = "**a __b *c ~~d ||e `f ```g [h](i <@ <# <: >>> "
    assert timed_convert(unbalanced).body == unbalanced
    quotes = "> " * 2000
    timed_convert(quotes + "x")
    nested_list = "\n".join(" " * i + "- item" for i in range(400))
    assert timed_convert(nested_list).body.count("item") == 400
    fences = "```" * 1333
    timed_convert(fences)
    unclosed = "```py\n" + "\n" * 50_000 + "x"
    timed_convert(unclosed)
    parens = "https://e.org/a" + ")" * 50_000
    timed_convert(parens)


# -- size limits -----------------------------------------------------------------------


def test_fit_content_steps() -> None:
    small = MatrixText(body="hi", formatted_body="<b>hi</b>")
    assert fit_content(small) is small
    big_html = MatrixText(body="x" * 100, formatted_body="<b>x</b>" * 10_000)
    assert fit_content(big_html, limit=2000) == MatrixText(body="x" * 100)
    expanded = MatrixText(body="#long-channel-name " * 1000)
    assert fit_content(expanded, "<#1> " * 1000, limit=6000).body == "<#1> " * 1000
    huge = MatrixText(
        body="y" * 10_000,
        mentioned_user_ids=tuple(UserID(f"@_discord_{i}:example.org") for i in range(1000)),
    )
    cut = fit_content(huge, limit=3000)
    assert cut.body.endswith(TRUNCATED) and set(cut.body[: -len(TRUNCATED)]) == {"y"}
    assert content_size(cut) <= 3000 and len(cut.mentioned_user_ids) < 1000


def test_control_characters_count_as_json_escapes() -> None:
    content = "**" + "\x01" * 3996 + "**"
    text = timed_convert(content)
    # 6 bytes each in JSON, in body and formatted_body: over the edit budget with both.
    assert text.formatted_body is None and text.body == content


# -- attachments and embeds ------------------------------------------------------------


def test_oversized_attachment_becomes_a_link() -> None:
    raw = load("message_create_oversized_attachment.json")["attachments"][0]
    att = DiscordAttachment(
        id=int(raw["id"]),
        filename=raw["filename"],
        url=raw["url"],
        content_type=raw["content_type"],
        size=raw["size"],
    )
    text = attachment_link_text(att, "too large to copy")
    assert text.msgtype == "m.notice"
    assert text.body == f"📎 invoicegpj.exe (500.0 MiB, too large to copy): {raw['url']}"
    assert text.formatted_body is not None and html_errors(text.formatted_body) == []
    media = attachment_to_matrix(att, "mxc://example.org/f")
    assert media.filename == media.body == "invoicegpj.exe"


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("SPOILER_\u202egnp.exe", "gnp.exe"),
        ("\u200b", "file"),
        ("SPOILER_", "SPOILER_"),
        ("<img src=x>.png", "<img src=x>.png"),
        ("a" * 400 + ".png", "a" * 254 + "\u2026"),
    ],
)
def test_attachment_names(filename: str, shown: str) -> None:
    assert display_filename(filename) == shown
    att = DiscordAttachment(1, filename, "https://cdn.example/x?a=1&b=<2>", size=10)
    text = attachment_link_text(att, "could not be copied")
    assert text.formatted_body is not None and html_errors(text.formatted_body) == []
    assert "<img" not in text.formatted_body


def test_huge_and_empty_embeds() -> None:
    assert embeds_to_matrix([DiscordEmbed(), DiscordEmbed(fields=())], "") is None
    many = [
        DiscordEmbed(
            title="<b>" * 64,
            description="\x01" * 4096,
            fields=tuple(DiscordEmbedField("&" * 256, "\U0001f600" * 1024) for _ in range(25)),
            url="javascript:alert(1)",
            image_url="data:text/html,<script>",
        )
        for _ in range(10)
    ]
    notice = embeds_to_matrix(many, "")
    assert notice is not None
    assert content_size(notice) <= EVENT_CONTENT_MAX
    if notice.formatted_body is not None:
        assert html_errors(notice.formatted_body) == []
    assert "javascript:" not in (notice.formatted_body or "")
    odd = embeds_to_matrix(
        [DiscordEmbed(title="<b>t</b>", fields=(DiscordEmbedField("", ""),))], ""
    )
    assert odd is not None and odd.formatted_body is not None
    assert html_errors(odd.formatted_body) == [] and "&lt;b&gt;t&lt;/b&gt;" in odd.formatted_body


def test_lone_surrogates_become_replacement_characters() -> None:
    text = assert_sane(convert("**a\ud800b** \udfff"), "**a\ud800b** \udfff")
    assert text.body == "**a\ufffdb** \ufffd"
    assert text.formatted_body == "<strong>a\ufffdb</strong> \ufffd"
    notice = embeds_to_matrix([DiscordEmbed(title="t\ud800")], "")
    assert notice is not None and "\ud800" not in notice.body + (notice.formatted_body or "")


def test_markdown_converter_direct_on_unusual_unicode() -> None:
    for char in UNUSUAL:
        for content in (char, f"**{char}**", f"a{char}b", char * 100):
            out = discord_markdown_to_matrix(content, D2MContext())
            assert out.body == content.replace("\\", "") or "\\" in content
            if out.formatted_body is not None:
                assert html_errors(out.formatted_body) == []
                assert html.unescape(out.formatted_body).count(char) >= 1
