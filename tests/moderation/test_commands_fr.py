"""French aliases of the moderator commands, and answers in French (moderation.commands)."""

from __future__ import annotations

import pytest

from bridge.i18n import translator
from moderation.commands import (
    ALIASES,
    Ban,
    Candidate,
    CommandError,
    Help,
    Kick,
    ListBans,
    ListLists,
    NotFound,
    RuleBan,
    RuleUnban,
    Unban,
    help_text,
    parse_command,
    resolve_name,
)

FR = translator("fr")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!mod bannir @spam:evil.example pub", Ban("@spam:evil.example", "pub")),
        ("!mod Bannir @spam:evil.example", Ban("@spam:evil.example", "")),
        ("!mod débannir @spam:evil.example erreur", Unban("@spam:evil.example", "erreur")),
        ("!mod debannir @spam:evil.example", Unban("@spam:evil.example", "")),
        ("!mod expulser « Alice Martin » calme-toi", Kick("Alice Martin", "calme-toi")),
        ("!mod bannis", ListBans()),
        ("!mod listes", ListLists()),
        ("!mod aide", Help()),
        ("!mod règle bannir evil.example spam", RuleBan("evil.example", "spam")),
        ("!mod regle bannir *.evil.example --force", RuleBan("*.evil.example", "", True)),
        ("!mod règle débannir evil.example", RuleUnban("evil.example")),
        ("!mod rule bannir evil.example", RuleBan("evil.example", "")),
        # The English verbs still work with French answers.
        ("!mod ban @spam:evil.example", Ban("@spam:evil.example", "")),
    ],
)
def test_french_aliases(text: str, expected: object) -> None:
    assert parse_command(text, tr=FR) == expected
    assert parse_command(text) == expected  # the aliases do not depend on the language


def test_errors_in_french() -> None:
    error = parse_command("!mod bannir", tr=FR)
    assert error == CommandError(
        "Qui faut-il bannir ? Écrivez : !mod bannir <utilisateur> [raison]"
    )
    error = parse_command("!mod banir @x:y", tr=FR)
    assert isinstance(error, CommandError)
    assert error.message == (
        "Commande inconnue « banir ». Vouliez-vous dire « !mod bannir » ? Essayez : !mod aide"
    )
    error = parse_command("!mod expulser <@&123>", tr=FR)
    assert isinstance(error, CommandError) and "est un rôle ou un salon" in error.message
    # English by default.
    assert parse_command("!mod bannir") == CommandError(
        "Who should be banned? Write: !mod bannir <user> [reason]"
    )


def test_the_help_lists_every_alias_in_both_languages() -> None:
    for text in (help_text("!p"), help_text("!p", FR)):
        for alias in ALIASES:
            if alias != "regle":
                assert f"!p {alias}" in text, alias
        assert "!p regle bannir" in text and "!p regle debannir" in text
    french = help_text("!p", FR)
    assert french.startswith("Commandes de modération :")
    assert "!p bannir <utilisateur> [raison] : bannir quelqu'un" in french
    assert "(ou : !p ban)" in french


def test_name_lookup_answers_in_french() -> None:
    found = resolve_name("Mallory", [], FR)
    assert isinstance(found, NotFound) and found.message.startswith("Personne ne s'appelle")
    twins = [
        Candidate("discord", 1, ("Alex",)),
        Candidate("matrix", "@alex:example.org", ("Alex",)),
    ]
    answer = resolve_name("alex", twins, FR)
    assert answer.message.startswith(  # type: ignore[union-attr]
        "2 personnes s'appellent « alex », rien n'a donc été fait."
    )
    assert "- Alex (Discord, identifiant 1)" in answer.message  # type: ignore[union-attr]
