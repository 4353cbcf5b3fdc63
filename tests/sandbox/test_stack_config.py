"""The sandbox's generated bridge config, with a test's overrides laid over it."""

from __future__ import annotations

from sandbox.stack import merge_config


def test_overrides_merge_nested_keys_and_replace_leaves() -> None:
    data = {
        "bridge": {"auto_invite": ["@a:x"], "spaces": {"party_name": "Le Parti"}},
        "logging": {"level": "INFO"},
    }
    merge_config(
        data,
        {
            "bridge": {"spaces": {"enabled": False}, "auto_invite": []},
            "moderation": {"protections": {"join_wave": {"joins": 5}}},
        },
    )
    assert data == {
        "bridge": {"auto_invite": [], "spaces": {"party_name": "Le Parti", "enabled": False}},
        "logging": {"level": "INFO"},
        "moderation": {"protections": {"join_wave": {"joins": 5}}},
    }
