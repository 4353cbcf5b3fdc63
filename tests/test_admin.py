"""The admin command parser (pure)."""

from __future__ import annotations

import pytest

from bridge.admin import AdminCommand, parse_admin
from bridge.ids import ChannelID


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!bridge status", AdminCommand("status")),
        ("!BRIDGE   Channels", AdminCommand("channels")),
        ("!bridge", AdminCommand("help")),
        (
            "!bridge import 4000000000000000001",
            AdminCommand("import", ChannelID(4000000000000000001)),
        ),
        ("!bridge backfill <#42>", AdminCommand("backfill", ChannelID(42))),
        ("!bridge resync 7 extra", AdminCommand("resync", ChannelID(7))),
        ("hello", None),
        ("!bridges status", None),
        ("", None),
    ],
)
def test_parse(body: str, expected: AdminCommand | None) -> None:
    assert parse_admin(body) == expected


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("!bridge import", "Usage: !bridge import <channel id>"),
        ("!bridge import general", "Usage: !bridge import"),
        ("!bridge frobnicate", "Unknown command 'frobnicate'"),
    ],
)
def test_errors_are_plain(body: str, says: str) -> None:
    result = parse_admin(body)
    assert isinstance(result, str) and says in result


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!bridge add 42", AdminCommand("add", ChannelID(42), "members_only")),
        ("!bridge add 42 public", AdminCommand("add", ChannelID(42), "public")),
        ("!bridge add 42 members_only", AdminCommand("add", ChannelID(42), "members_only")),
        ("!bridge remove 42", AdminCommand("remove", ChannelID(42))),
        ("!bridge reload", AdminCommand("reload")),
        ("!bridge add 42 everyone", "Usage: !bridge add <channel id> [public|members-only]"),
        (
            "!bridge add category 41 public",
            AdminCommand("add", ChannelID(41), "public", kind="category"),
        ),
        ("!bridge add Guild 7", AdminCommand("add", ChannelID(7), "members_only", kind="guild")),
        ("!bridge remove category 41", AdminCommand("remove", ChannelID(41), kind="category")),
        (
            "!bridge add category",
            "Usage: !bridge add category <category id> (e.g. !bridge add category 123456789)",
        ),
        (
            "!bridge add guild 7 all",
            "Usage: !bridge add guild <guild id> [public|members-only]",
        ),
        # Only add and remove take rules: "category" is not a channel ID for the others.
        (
            "!bridge resync category 41",
            "Usage: !bridge resync <channel id> (e.g. !bridge resync 123456789)",
        ),
    ],
)
def test_channel_verbs(body: str, expected: AdminCommand | str) -> None:
    assert parse_admin(body) == expected


def test_french_aliases_and_answers() -> None:
    from bridge.admin import help_text
    from bridge.i18n import translator

    fr = translator("fr")
    assert parse_admin("!bridge état") == AdminCommand("status")
    assert parse_admin("!bridge salons") == AdminCommand("channels")
    assert parse_admin("!bridge ajouter 123 public") == AdminCommand(
        "add", ChannelID(123), "public", "channel"
    )
    assert parse_admin("!bridge ajouter catégorie 42 membres") == AdminCommand(
        "add", ChannelID(42), "members_only", "category"
    )
    assert parse_admin("!bridge retirer serveur 7") == AdminCommand(
        "remove", ChannelID(7), None, "guild"
    )
    assert parse_admin("!bridge aide") == AdminCommand("help")
    assert parse_admin("!bridge bof", fr) == "Commande inconnue « bof ». Essayez : !bridge help"
    assert parse_admin("!bridge ajouter x", fr) == (
        "Utilisation : !bridge add <identifiant du salon> (par exemple !bridge add 123456789)"
    )
    french = help_text(fr)
    for alias in ("etat", "salons", "ajouter", "retirer", "recharger", "importer"):
        assert f"!bridge {alias}" in french
