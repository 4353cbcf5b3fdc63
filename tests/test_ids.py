from __future__ import annotations

from bridge.ids import ChannelID, DiscordUserID, GhostNamer

NAMER = GhostNamer("example.org", "_discord_", "_discord_", "passerelle")


def test_ghost_round_trip() -> None:
    mxid = NAMER.ghost_mxid(DiscordUserID(2000000000000000001))
    assert mxid == "@_discord_2000000000000000001:example.org"
    assert NAMER.parse_ghost(mxid) == 2000000000000000001


def test_parse_rejects_other_users_and_servers() -> None:
    assert NAMER.parse_ghost("@alice:example.org") is None
    assert NAMER.parse_ghost("@_discord_123:evil.org") is None
    assert NAMER.parse_ghost("@_discord_12a:example.org") is None


def test_bridge_owned() -> None:
    assert NAMER.is_bridge_owned("@passerelle:example.org")
    assert NAMER.is_bridge_owned("@_discord_1:example.org")
    assert not NAMER.is_bridge_owned("@alice:example.org")


def test_alias_round_trip() -> None:
    alias = NAMER.portal_alias(ChannelID(4000000000000000001))
    assert alias == "#_discord_4000000000000000001:example.org"
    assert NAMER.parse_alias(alias) == 4000000000000000001
    assert NAMER.parse_alias("#general:example.org") is None
