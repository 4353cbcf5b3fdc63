"""Moderator command parsing, target classification and name lookup (moderation.commands)."""

from __future__ import annotations

import pytest

from bridge.ids import DiscordUserID, UserID
from moderation.commands import (
    Ambiguous,
    Ban,
    Candidate,
    CommandError,
    DiscordId,
    Help,
    Kick,
    ListBans,
    ListLists,
    Mxid,
    Name,
    NotFound,
    Resolved,
    RuleBan,
    RuleUnban,
    Unban,
    check_rule,
    classify_target,
    help_text,
    parse_command,
    resolve_name,
    rule_kind,
)
from moderation.policy import bridge_namespace

SNOW = "2000000000000000001"

# --------------------------------------------------------------------------- parse_command

PARSED = [
    # verbs, reasons, spacing, case
    ("!mod ban @spam:evil.example", Ban("@spam:evil.example", "")),
    (
        "!mod ban @spam:evil.example posting scam links",
        Ban("@spam:evil.example", "posting scam links"),
    ),
    ("  !mod   ban   bob   spam  \n  again ", Ban("bob", "spam again")),
    ("!mod\tban\tbob\tspam", Ban("bob", "spam")),
    ("!MOD BAN bob Spam", Ban("bob", "Spam")),
    ("!Mod Unban bob appealed", Unban("bob", "appealed")),
    ("!mod unban bob", Unban("bob", "")),
    ("!mod kick bob cool down", Kick("bob", "cool down")),
    ("!mod KICK bob", Kick("bob", "")),
    ("!mod bans", ListBans()),
    ("!mod BANS  ", ListBans()),
    ("!mod lists", ListLists()),
    ("!mod help", Help()),
    ("!mod help ban", Help()),
    ("!mod ?", Help()),
    ("!mod", Help()),
    ("  !mod  ", Help()),
    # apostrophes are not quotes
    ("!mod ban bob he's been spamming, don't ask", Ban("bob", "he's been spamming, don't ask")),
    ("!mod ban bob's_alt spam", Ban("bob's_alt", "spam")),
    # quoted targets
    ('!mod ban "Alice Smith" impersonation', Ban("Alice Smith", "impersonation")),
    ('!mod ban "  Alice   Smith " x', Ban("Alice Smith", "x")),
    ('!mod kick "Alice Smith"', Kick("Alice Smith", "")),
    ("!mod ban \u201cAlice Smith\u201d phone quotes", Ban("Alice Smith", "phone quotes")),
    ("!mod ban \u00ab Alice Smith \u00bb insultes", Ban("Alice Smith", "insultes")),
    ("!mod ban \u201eAlice Smith\u201c spam", Ban("Alice Smith", "spam")),
    ('!mod ban bob "posting spam"', Ban("bob", "posting spam")),
    ('!mod ban bob said "hi" then spammed', Ban("bob", 'said "hi" then spammed')),
    ('!mod ban bob said "hi', Ban("bob", 'said "hi')),
    # Discord mentions, snowflakes, short numbers (kept raw; see classify_target)
    ("!mod ban <@123> spam", Ban("<@123>", "spam")),
    (f"!mod ban <@!{SNOW}> spam", Ban(f"<@!{SNOW}>", "spam")),
    (f"!mod ban <@{SNOW}>spam", Ban(f"<@{SNOW}>", "spam")),
    (f"!mod kick {SNOW}", Kick(SNOW, "")),
    ("!mod kick 12345 typo", Kick("12345", "typo")),
    # Discord users typing @name without picking the mention
    ("!mod ban @alice spam", Ban("@alice", "spam")),
    # rules
    ("!mod rule ban @spam:evil.example scam", RuleBan("@spam:evil.example", "scam", False)),
    ("!mod rule ban evil.example", RuleBan("evil.example", "", False)),
    ("!mod RULE BAN evil.example", RuleBan("evil.example", "", False)),
    ("!mod rule ban *.evil.example spam --force", RuleBan("*.evil.example", "spam", True)),
    ("!mod rule ban *.evil.example --force spam", RuleBan("*.evil.example", "spam", True)),
    ("!mod rule ban --force *.evil.example spam", RuleBan("*.evil.example", "spam", True)),
    ("!mod rule --force ban *.evil.example spam", RuleBan("*.evil.example", "spam", True)),
    ("!mod --force rule ban *.evil.example", RuleBan("*.evil.example", "", True)),
    (
        "!mod rule ban @*:evil.example spam wave --FORCE",
        RuleBan("@*:evil.example", "spam wave", True),
    ),
    ("!mod rule ban *.evil.example \u2014force", RuleBan("*.evil.example", "", True)),
    ("!mod rule ban *.evil.example spam--force", RuleBan("*.evil.example", "spam--force", False)),
    ('!mod rule ban "evil.example" spam', RuleBan("evil.example", "spam", False)),
    ("!mod rule unban evil.example", RuleUnban("evil.example")),
    ("!mod rule Unban @spam:evil.example", RuleUnban("@spam:evil.example")),
    # a Matrix reply fallback before the command
    (
        "> <@bob:example.org> buy cheap pills\n\n!mod ban @bob:example.org spam",
        Ban("@bob:example.org", "spam"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[t for t, _ in PARSED])
def test_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


NOT_COMMANDS = [
    "",
    "   ",
    "hello",
    "!modban bob",
    "!mod2 ban bob",
    "!moderation ban bob",
    "please !mod ban bob",
    "mod ban bob",
    "> !mod ban bob",
    "`!mod ban bob`",
]


@pytest.mark.parametrize("text", NOT_COMMANDS)
def test_not_a_command(text: str) -> None:
    assert parse_command(text) is None


ERRORS = [
    # (text, words the message must contain)
    ("!mod bam bob", ["Unknown command 'bam'", "Did you mean '!mod ban'?", "Try: !mod help"]),
    ("!mod frobnicate", ["Unknown command 'frobnicate'.", "Try: !mod help"]),
    ("!mod BLAH", ["Unknown command 'blah'"]),
    ("!mod ban", ["Who should be banned?", "!mod ban <user> [reason]"]),
    ("!mod ban   ", ["Who should be banned?"]),
    ("!mod unban", ["Who should be unbanned?"]),
    ("!mod kick", ["Who should be kicked?"]),
    ('!mod ban "Alice Smith spam', ["quote before 'Alice' is never closed", '"Alice Smith"']),
    ('!mod ban "', ["never closed"]),
    ("!mod ban \u201cAlice Smith", ["never closed"]),
    ("!mod ban \u00abAlice Smith\u201d spam", ["never closed"]),
    ('!mod ban "" spam', ["quotes are empty"]),
    ('!mod ban "Alice"Smith spam', ["space after the closing quote"]),
    ("!mod ban <@&123> spam", ["role or a channel"]),
    ("!mod ban <#456>", ["role or a channel"]),
    ("!mod ban @*:evil.example spam", ["only work in policy rules", "!mod rule ban"]),
    ("!mod ban bob --force", ["--force only goes with '!mod rule ban'"]),
    ("!mod kick --force bob", ["--force only goes with"]),
    ("!mod bans --force", ["--force only goes with"]),
    ("!mod help --force", ["--force only goes with"]),
    ("!mod rule unban evil.example --force", ["--force only goes with"]),
    ("!mod bans bob", ["'!mod bans' takes nothing after it"]),
    ("!mod lists all", ["'!mod lists' takes nothing"]),
    ("!mod rule", ["'rule' needs more", "!mod rule ban <entity>"]),
    ("!mod rule kick bob", ["Unknown rule command 'kick'"]),
    ("!mod rule ban", ["Which user or server?"]),
    ("!mod rule ban --force", ["Which user or server?"]),
    ("!mod rule unban", ["Which user or server?"]),
    ('!mod rule ban "evil example" spam', ["has spaces"]),
    ('!mod rule ban "unclosed spam', ["never closed"]),
    ("!mod rule unban evil.example because", ["takes only the rule's user or server"]),
]


@pytest.mark.parametrize(("text", "fragments"), ERRORS, ids=[t for t, _ in ERRORS])
def test_errors(text: str, fragments: list[str]) -> None:
    result = parse_command(text)
    assert isinstance(result, CommandError), result
    for fragment in fragments:
        assert fragment in result.message
    assert str(result) == result.message


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        ("!passerelle ban bob", "!passerelle", Ban("bob", "")),
        ("!PASSERELLE bans", "!passerelle", ListBans()),
        ("!mod ban bob", "!passerelle", None),
        ("?mod kick bob", "?mod", Kick("bob", "")),
        (".m rule ban evil.example", ".m", RuleBan("evil.example", "", False)),
    ],
)
def test_prefix_variants(text: str, prefix: str, expected: object) -> None:
    assert parse_command(text, prefix) == expected


def test_prefix_in_messages() -> None:
    error = parse_command("!p bam", "!p")
    assert isinstance(error, CommandError)
    assert error.message == "Unknown command 'bam'. Did you mean '!p ban'? Try: !p help"


@pytest.mark.parametrize("prefix", ["", "!mod ban", " "])
def test_bad_prefix(prefix: str) -> None:
    with pytest.raises(ValueError):
        parse_command("!mod ban bob", prefix)


# --------------------------------------------------------------------------- pills

ALICE_PILL = '<a href="https://matrix.to/#/@alice:example.org">Alice Smith</a>'
BOB_PILL = '<a href="https://matrix.to/#/@bob:example.org">Bob</a>'

PILLS = [
    # Element: plain body has the display name, the formatted body the link
    ("!mod ban Alice Smith spam", f"!mod ban {ALICE_PILL} spam", Ban("@alice:example.org", "spam")),
    ("!mod kick Alice Smith", f"!mod kick {ALICE_PILL}", Kick("@alice:example.org", "")),
    ("!mod unban Alice Smith", f"!mod unban {ALICE_PILL}", Unban("@alice:example.org", "")),
    # display name containing a quote that would break the plain parse
    (
        '!mod ban "Al spam',
        '!mod ban <a href="https://matrix.to/#/@al:example.org">"Al</a> spam',
        Ban("@al:example.org", "spam"),
    ),
    # percent-encoded, with via, matrix: URI
    (
        "!mod ban Alice Smith x",
        '!mod ban <a href="https://matrix.to/#/%40alice%3Aexample.org?via=example.org">Alice Smith</a> x',
        Ban("@alice:example.org", "x"),
    ),
    (
        "!mod ban Alice x",
        '!mod ban <a href="matrix:u/alice:example.org">Alice</a> x',
        Ban("@alice:example.org", "x"),
    ),
    # the pill is the first link; a second pill in the reason becomes its MXID
    (
        "!mod ban Alice Smith harassed Bob",
        f"!mod ban {ALICE_PILL} harassed {BOB_PILL}",
        Ban("@alice:example.org", "harassed @bob:example.org"),
    ),
    # a pill in the reason never becomes the target
    (
        "!mod ban @carol:example.org harassed Bob",
        f"!mod ban @carol:example.org harassed {BOB_PILL}",
        Ban("@carol:example.org", "harassed Bob"),
    ),
    # formatting in the formatted body, --force and rules
    (
        "!mod rule ban Alice Smith **spam**",
        f"!mod rule ban {ALICE_PILL} <strong>spam</strong>",
        RuleBan("@alice:example.org", "spam", False),
    ),
    (
        "!mod rule unban Alice Smith",
        f"!mod rule unban {ALICE_PILL}",
        RuleUnban("@alice:example.org"),
    ),
    (
        "!mod ban Alice Smith --force",
        f"!mod ban {ALICE_PILL} --force",
        CommandError("--force only goes with '!mod rule ban'."),
    ),
    # entities and line breaks
    (
        "!mod ban Alice Smith\nspam & scam",
        f"<p>!mod ban {ALICE_PILL}<br/>spam &amp; scam</p>",
        Ban("@alice:example.org", "spam & scam"),
    ),
    # a room link is not a pill
    (
        "!mod ban bob see #room",
        '!mod ban bob see <a href="https://matrix.to/#/#room:example.org">#room</a>',
        Ban("bob", "see #room"),
    ),
    # no link at all: the plain body decides (markdown could have eaten a * of a glob)
    (
        "!mod rule ban @*:evil.example --force",
        "!mod rule ban @<em>:evil.example --force",
        RuleBan("@*:evil.example", "", True),
    ),
    # reply fallback: the replied-to sender's pill is not the target
    (
        "> <@bob:example.org> hi\n\n!mod ban carol spam",
        f"<mx-reply><blockquote>In reply to {BOB_PILL}<br>hi</blockquote></mx-reply>!mod ban carol spam",
        Ban("carol", "spam"),
    ),
    (
        "> <@bob:example.org> hi\n\n!mod ban Alice Smith spam",
        f"<mx-reply><blockquote>{BOB_PILL} hi</blockquote></mx-reply>!mod ban {ALICE_PILL} spam",
        Ban("@alice:example.org", "spam"),
    ),
    # the plain body decides whether this is a command at all
    ("hello Alice Smith", f"hello {ALICE_PILL}", None),
]


@pytest.mark.parametrize(("text", "formatted", "expected"), PILLS, ids=[t for t, _, _ in PILLS])
def test_pills(text: str, formatted: str, expected: object) -> None:
    assert parse_command(text, formatted_body=formatted) == expected


def test_formatted_body_without_pills_is_ignored() -> None:
    assert parse_command(
        "!mod ban bob spam", formatted_body="<p>!mod ban bob <b>spam</b></p>"
    ) == Ban("bob", "spam")


# --------------------------------------------------------------------------- classify_target

CLASSIFIED = [
    ("<@123>", DiscordId(DiscordUserID(123))),
    ("<@!123>", DiscordId(DiscordUserID(123))),
    (f"<@{SNOW}>", DiscordId(DiscordUserID(int(SNOW)))),
    (SNOW, DiscordId(DiscordUserID(int(SNOW)))),
    ("10000000000000000", DiscordId(DiscordUserID(10**16))),  # 17 digits
    ("18446744073709551615", DiscordId(DiscordUserID(2**64 - 1))),  # 20 digits, max
    ("18446744073709551616", Name("18446744073709551616")),  # above 2**64 - 1
    ("1000000000000000", Name("1000000000000000")),  # 16 digits: a name
    ("12345", Name("12345")),
    ("012345678901234567", Name("012345678901234567")),  # leading zero
    ("<@0>", Name("<@0>")),
    ("<@abc>", Name("<@abc>")),
    ("@alice:example.org", Mxid(UserID("@alice:example.org"))),
    ("  @alice:example.org ", Mxid(UserID("@alice:example.org"))),
    ("@_discord_123:example.org", Mxid(UserID("@_discord_123:example.org"))),
    ("@alice:example.org:8448", Mxid(UserID("@alice:example.org:8448"))),
    ("@alice:[::1]:8448", Mxid(UserID("@alice:[::1]:8448"))),
    ("@alice:1.2.3.4", Mxid(UserID("@alice:1.2.3.4"))),
    ("@Old=User:example.org", Mxid(UserID("@Old=User:example.org"))),  # historical
    ("@alice", Name("@alice")),
    ("@:example.org", Name("@:example.org")),
    ("@alice:", Name("@alice:")),
    ("@al ice:example.org", Name("@al ice:example.org")),
    ("@*:example.org", Name("@*:example.org")),
    ("@alice:exa_mple.org", Name("@alice:exa_mple.org")),
    ("@alice:example.org:port", Name("@alice:example.org:port")),
    ("@" + "a" * 250 + ":example.org", Name("@" + "a" * 250 + ":example.org")),  # over 255
    ("alice", Name("alice")),
    ("Alice  Smith", Name("Alice Smith")),
    ("alice#0", Name("alice#0")),
]


@pytest.mark.parametrize(("raw", "expected"), CLASSIFIED, ids=[r[:40] for r, _ in CLASSIFIED])
def test_classify_target(raw: str, expected: object) -> None:
    assert classify_target(raw) == expected


def test_parsed_targets_classify() -> None:
    command = parse_command(f"!mod ban <@!{SNOW}> spam")
    assert isinstance(command, Ban)
    assert classify_target(command.target) == DiscordId(DiscordUserID(int(SNOW)))
    command = parse_command('!mod ban "Alice Smith"')
    assert isinstance(command, Ban)
    assert classify_target(command.target) == Name("Alice Smith")


# --------------------------------------------------------------------------- resolve_name

ALICE_D = Candidate("discord", 2000000000000000001, ("Alice (HQ)", "Alice", "alice"))
ALICE_M = Candidate("matrix", "@alice:example.org", ("Alice",))
BOB_D = Candidate("discord", 2000000000000000002, ("Bob", "bob#0"))
CAROL_M = Candidate("matrix", "@carol:example.org", ("Carol  Jones", "carol"))
DIGITS_D = Candidate("discord", 2000000000000000003, ("12345",))
AT_M = Candidate("matrix", "@at:example.org", ("@dave",))
DAVE_D = Candidate("discord", 2000000000000000004, ("dave",))
PEOPLE = (ALICE_D, ALICE_M, BOB_D, CAROL_M, DIGITS_D, AT_M, DAVE_D)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Alice (HQ)", ALICE_D),
        ("alice (hq)", ALICE_D),
        ("ALICE  (HQ)", ALICE_D),
        ("bob", BOB_D),
        ("BOB", BOB_D),
        ("bob#0", BOB_D),
        ("@bob", BOB_D),  # typed on Discord
        ("carol jones", CAROL_M),
        ("Carol Jones", CAROL_M),
        ("12345", DIGITS_D),
        ("@dave", AT_M),  # someone is literally called @dave: no fallback
        ("dave", DAVE_D),
    ],
)
def test_resolve_one(name: str, expected: Candidate) -> None:
    assert resolve_name(name, PEOPLE) == Resolved(expected)


@pytest.mark.parametrize(
    "name", ["", "   ", "eve", "ali", "bob#1234", "Alice HQ", "@", "carol jones smith"]
)
def test_resolve_none(name: str) -> None:
    result = resolve_name(name, PEOPLE)
    assert isinstance(result, NotFound)
    assert "Nobody called" in result.message
    assert "@name:server" in result.message


def test_resolve_none_without_candidates() -> None:
    assert isinstance(resolve_name("alice", ()), NotFound)


def test_resolve_ambiguous_lists_ids() -> None:
    result = resolve_name("ALICE", PEOPLE)
    assert isinstance(result, Ambiguous)
    assert result.candidates == (ALICE_D, ALICE_M)
    assert "2 people are called 'ALICE', so nothing was done" in result.message
    assert "- Alice (HQ) (Discord, ID 2000000000000000001)" in result.message
    assert "- Alice (Matrix, @alice:example.org)" in result.message


def test_resolve_ambiguous_caps_the_listing() -> None:
    crowd = [Candidate("discord", 3000000000000000000 + n, (f"Sam{n}", "sam")) for n in range(8)]
    result = resolve_name("Sam", crowd)
    assert isinstance(result, Ambiguous)
    assert len(result.candidates) == 8
    listed = [line for line in result.message.splitlines() if line.startswith("- ")]
    assert listed[:5] == [f"- Sam{n} (Discord, ID {3000000000000000000 + n})" for n in range(5)]
    assert listed[5] == "- and 3 more"
    assert len(listed) == 6


def test_resolve_same_person_twice_is_not_ambiguous() -> None:
    assert resolve_name("bob", (BOB_D, BOB_D)) == Resolved(BOB_D)


def test_resolve_same_id_on_both_sides_is_ambiguous() -> None:
    twin = Candidate("matrix", "@bob:example.org", ("bob",))
    assert isinstance(resolve_name("bob", (BOB_D, twin)), Ambiguous)


def test_candidate_without_names_is_described_by_id() -> None:
    assert (
        Candidate("matrix", "@x:example.org", ()).describe()
        == "@x:example.org (Matrix, @x:example.org)"
    )


# --------------------------------------------------------------------------- rules and help


@pytest.mark.parametrize(
    ("entity", "kind"),
    [
        ("@spam:evil.example", "user"),
        ("@*:evil.example", "user"),
        ("evil.example", "server"),
        ("*.evil.example", "server"),
    ],
)
def test_rule_kind(entity: str, kind: str) -> None:
    assert rule_kind(entity) == kind


BRIDGE_IDS = ("@passerelle:example.org", bridge_namespace("_discord_", "example.org"))
MODERATORS = ("@mod:example.org", "@ally:friend.example")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("!mod rule ban @spam:evil.example", None),
        ("!mod rule ban evil.example", None),
        ("!mod rule ban @_discord_123:example.org", None),  # one Discord user: allowed
        ("!mod rule ban *.evil.example", "wildcard"),
        ("!mod rule ban *.evil.example --force", None),
        ("!mod rule ban @*:evil.example", "wildcard"),
        ("!mod rule ban example.org --force", "own_server"),
        ("!mod rule ban friend.example", "moderator"),
        ("!mod rule ban @mod:example.org", "moderator"),
        ("!mod rule ban @passerelle:example.org", "bridge"),
        ("!mod rule ban @_discord_*:example.org --force", "bridge"),
        ("!mod rule ban * --force", "absurd"),
        ("!mod rule ban #room:evil.example", "malformed"),
    ],
)
def test_check_rule_uses_policy(text: str, code: str | None) -> None:
    command = parse_command(text)
    assert isinstance(command, RuleBan)
    refusal = check_rule(
        command, own_server="example.org", bridge_ids=BRIDGE_IDS, moderators=MODERATORS
    )
    assert (refusal.code if refusal is not None else None) == code


def test_help_text() -> None:
    text = help_text("!p")
    for command in (
        "!p ban",
        "!p unban",
        "!p kick",
        "!p bans",
        "!p lists",
        "!p rule ban",
        "!p rule unban",
        "!p help",
        "--force",
    ):
        assert command in text
    assert "!mod" not in text
    assert "!mod ban" in help_text()
    assert all(len(line) < 200 for line in text.splitlines())
