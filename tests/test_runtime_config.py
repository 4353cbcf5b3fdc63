"""What runtime config changes do (pure): effective channels, and reload comparisons."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.config import ChannelConfig, Config, parse_config
from bridge.db.channels import ChannelOverride
from bridge.ids import ChannelID, RoomID
from bridge.runtime_config import compare, effective_channels, keep_restart_sections

A, B, C = ChannelID(1), ChannelID(2), ChannelID(3)
FILE = (ChannelConfig(A, None, "public"), ChannelConfig(B, RoomID("!b:x"), "members_only"))


def test_overrides_add_and_remove_on_top_of_the_file() -> None:
    overrides = [ChannelOverride(C, True, None), ChannelOverride(A, False, None)]
    channels = effective_channels(FILE, overrides)
    assert [c.discord_channel for c in channels] == [B, C]
    assert channels[1].access == "members_only"  # fail closed unless said otherwise


def test_an_override_never_replaces_the_files_settings() -> None:
    channels = effective_channels(FILE, [ChannelOverride(B, True, "public")])
    assert channels == FILE


def config(tmp_path: Path, **bridge: object) -> Config:
    data = {
        "homeserver": {"url": "http://127.0.0.1:8008", "server_name": "example.org"},
        "appservice": {"registration": str(tmp_path / "reg.yaml")},
        "database": {"url": "sqlite:///x.db"},
        "discord": {"token": "t", "guild_id": "10"},
        "bridge": {
            "channels": [{"discord_channel": "1", "matrix_room": "create", "access": "public"}],
            **bridge,
        },
    }
    return parse_config(data, tmp_path / "config.yaml")


def test_compare_reports_channels_live_settings_and_restart_ones(tmp_path: Path) -> None:
    old = config(tmp_path)
    new = config(
        tmp_path,
        sender_burst=3,
        channels=[{"discord_channel": "2", "matrix_room": "create", "access": "public"}],
    )
    new = replace(new, homeserver=replace(new.homeserver, url="http://other:8008"))
    change = compare(old, new)
    assert change.added == (ChannelID(2),) and change.removed == (ChannelID(1),)
    assert change.other_changes
    assert change.needs_restart == ("homeserver",)
    assert "needs a restart to apply: homeserver" in change.summary()
    kept = keep_restart_sections(old, new)
    assert kept.homeserver == old.homeserver and kept.bridge.sender_burst == 3


def test_nothing_changed(tmp_path: Path) -> None:
    assert compare(config(tmp_path), config(tmp_path)).summary() == "nothing changed"
