"""The members' page's pure parts: PKCE and state, signed sessions, names, rooms,
languages, the web config."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bridge.config import ConfigError, parse_config
from bridge.db import PortalRow
from bridge.ids import ChannelID, GuildID, RoomID
from bridge.transport.web_clients import authorize_url
from bridge.web import names, security
from bridge.web.rooms import rooms_for
from bridge.web.strings import ERRORS, browser_language, pick_lang
from sandbox.discord.oauth2_state import s256

SECRET = "s" * 40


def test_pkce_pair_is_s256_and_fresh() -> None:
    verifier, challenge = security.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == s256(verifier) == security.pkce_challenge(verifier)
    assert security.pkce_pair()[0] != verifier
    assert security.new_state() != security.new_state()


def test_signed_cookie_round_trip_expiry_forgery_and_purpose() -> None:
    value = security.sign(SECRET, "session", {"d": "42"}, now=1000, ttl=60)
    assert security.unsign(SECRET, "session", value, now=1059) == {"d": "42", "exp": 1060}
    assert security.unsign(SECRET, "session", value, now=1060) is None  # expired
    assert security.unsign(SECRET, "pending", value, now=1000) is None  # other purpose
    assert security.unsign("t" * 40, "session", value, now=1000) is None  # other key
    body, mac = value.split(".")
    forged = security.sign(SECRET, "session", {"d": "43"}, now=1000, ttl=60).split(".")[0]
    assert security.unsign(SECRET, "session", f"{forged}.{mac}", now=1000) is None
    for junk in (None, "", "abc", "a.b.c", "!!.??", f"{body}."):
        assert security.unsign(SECRET, "session", junk, now=1000) is None


def test_same_is_strict() -> None:
    assert security.same("a", "a")
    assert not security.same("a", "b")
    assert not security.same(None, None)


def test_client_ip_trusts_forwarded_only_when_told() -> None:
    assert security.client_ip("10.0.0.1", "1.2.3.4, 5.6.7.8", False) == "10.0.0.1"
    assert security.client_ip("10.0.0.1", "1.2.3.4, 5.6.7.8", True) == "5.6.7.8"
    assert security.client_ip(None, None, True) == "unknown"


def test_csp_is_strict() -> None:
    csp = security.CSP
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("alice", None),
        ("jean.dupont", None),
        ("ab", "too_short"),
        ("a" * 33, "too_long"),
        ("Alice", "bad_characters"),
        ("élise", "bad_characters"),
        ("a b", "bad_characters"),
        ("_discord_123", "reserved"),
        ("_other", "reserved"),
        ("passerelle", "reserved"),
        ("admin", "reserved"),
    ],
)
def test_name_refusal(name: str, why: str | None) -> None:
    assert names.refusal(name, "_discord_", "passerelle") == why


@pytest.mark.parametrize(
    ("username", "global_name", "expected"),
    [
        ("alice", "Alice", "alice"),
        ("jd_1990", "Jean-Édouard Dupont", "jean-edouard.dupont"),
        ("bob", None, "bob"),
        ("x_y", "🙂", "x_y"),
        ("_discord_5", "Admin", "discord_5"),
        ("__", "🙂", "membre"),
        ("jo", "Jo", "jo.m"),
    ],
)
def test_name_suggestion(username: str, global_name: str | None, expected: str) -> None:
    got = names.suggest(username, global_name, "_discord_", "passerelle")
    assert got == expected
    assert names.refusal(got, "_discord_", "passerelle") is None


G1, G2 = GuildID(1), GuildID(2)
MEMBER = 11


def _portal(channel: int, guild: GuildID, access: str, name: str) -> PortalRow:
    return PortalRow(ChannelID(channel), guild, RoomID(f"!{name}:hs"), name, "", access)


PORTALS = [
    _portal(1, G1, "public", "campaign"),
    _portal(2, G1, "members_only", "members"),
    _portal(3, G2, "public", "nord"),
    _portal(4, G1, "weird", "unknown-access"),
]


def _names(roles: dict[GuildID, list[int] | None]) -> list[str]:
    return [r.name for r in rooms_for(PORTALS, roles, {G1: [MEMBER], G2: []}, 7)]


def test_rooms_member_gets_members_only_rooms_of_their_guild() -> None:
    assert _names({G1: [MEMBER], G2: None}) == ["campaign", "members"]


def test_rooms_without_member_role_public_only_and_fail_closed() -> None:
    assert _names({G1: [], G2: []}) == ["campaign", "nord"]
    assert _names({G1: None, G2: None}) == []
    assert _names({}) == []  # Discord said nothing: nothing


def test_pick_lang() -> None:
    assert pick_lang(None) == "fr"
    assert pick_lang("en-GB,en;q=0.9") == "en"
    assert pick_lang("de, en;q=0.5, fr;q=0.8") == "fr"
    assert pick_lang("de") == "fr"
    assert pick_lang("fr", "en") == "en"
    assert pick_lang("en", "xx") == "en"
    assert pick_lang(None, default="en") == "en" and pick_lang("de", default="en") == "en"
    # Babel's negotiation: a region matches its language; q=0 refuses; odd spacing ok.
    assert browser_language("fr-CA") == "fr" and browser_language("en_GB") == "en"
    assert browser_language("fr;q=0, en-US ; q=0.3") == "en"
    assert browser_language("*") is None and browser_language("") is None
    # Once logged in, the Discord client's language (OAuth2 /users/@me locale) comes
    # before the browser's; the page's own switch comes first.
    assert pick_lang("en-US", discord_locale="fr") == "fr"
    assert pick_lang("fr", discord_locale="en-GB") == "en"
    assert pick_lang("fr", "en", discord_locale="fr") == "en"
    assert pick_lang("en", discord_locale="de") == "en"  # Discord's German: not ours


def test_every_error_key_has_a_french_text() -> None:
    from bridge.i18n import translator

    for key, message in ERRORS.items():
        assert translator("fr")._(message) != message, key


def test_authorize_url() -> None:
    assert authorize_url("https://discord.com/api/v10") == "https://discord.com/oauth2/authorize"
    assert authorize_url("http://127.0.0.1:5/api/v10/") == "http://127.0.0.1:5/oauth2/authorize"


def _config(web: dict[str, Any]) -> dict[str, Any]:
    return {
        "homeserver": {"url": "http://127.0.0.1:8008", "server_name": "example.org"},
        "appservice": {},
        "database": {"url": "sqlite:///tmp/x.db"},
        "discord": {"token": "real-token-123", "guild_id": "1", "channels": []},
        "bridge": {"channels": []},
        "web": web,
    }


WEB = {
    "public_url": "https://join.example.org",
    "session_secret": "k" * 40,
    "discord_client_id": "123",
    "discord_client_secret": "real-secret",
    "registration": "synapse_shared_secret",
    "registration_shared_secret": "real-shared",
}


def test_web_config_parses_and_refuses_placeholders() -> None:
    config = parse_config(_config(copy.deepcopy(WEB)))
    assert config.web is not None and config.web.secure_cookies
    assert config.web.redirect_uri == "https://join.example.org/callback"
    assert "real-secret" not in repr(config.web)
    assert parse_config(_config({**WEB, "enabled": False})).web is None
    for key, value, problem in [
        ("discord_client_secret", "change_me", "placeholder"),
        ("session_secret", "short", "32"),
        ("discord_client_id", "abc", "digits"),
        ("registration", "open", "expected one of"),
        ("registration_shared_secret", "<secret>", "placeholder"),
    ]:
        with pytest.raises(ConfigError, match=problem):
            parse_config(_config({**WEB, key: value}))


def test_web_config_registration_tokens_need_an_admin_token() -> None:
    web = {**WEB, "registration": "registration_token", "registration_admin_token": "syt_real"}
    config = parse_config(_config(web))
    assert config.web is not None and config.web.registration == "registration_token"
    assert config.web.registration_admin_token == "syt_real"
    assert config.web.registration_shared_secret == ""  # not used in this mode
    assert "syt_real" not in repr(config.web)
    with pytest.raises(ConfigError, match="registration_admin_token"):
        parse_config(_config({**web, "registration_admin_token": "change_me"}))
    del web["registration_admin_token"]
    with pytest.raises(ConfigError, match="registration_admin_token"):
        parse_config(_config(web))


def test_example_web_section_is_off_and_refuses_its_placeholders() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "config.example.yaml").read_text())
    assert data["web"]["enabled"] is False
    web = {**data["web"], "enabled": True}
    with pytest.raises(ConfigError, match="placeholder"):
        parse_config(_config(web))
    web.update(session_secret="k" * 40, discord_client_secret="real")
    assert parse_config(_config(web)).web is not None


def test_the_web_section_changes_at_a_restart_only() -> None:
    from dataclasses import replace

    from bridge.runtime_config import compare, keep_restart_sections

    old = parse_config(_config(copy.deepcopy(WEB)))
    new = parse_config(_config({**WEB, "ip_per_minute": 5}))
    change = compare(old, new)
    assert change.needs_restart == ("web (the members' page)",) and not change.other_changes
    assert keep_restart_sections(old, new).web == old.web
    assert compare(old, replace(old, web=None)).needs_restart == ("web (the members' page)",)
