"""Config loading: valid files load; each kind of mistake names its key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]

VALID: dict[str, Any] = {
    "homeserver": {"url": "http://127.0.0.1:8008/", "server_name": "example.org"},
    "appservice": {"listen_port": 29330, "registration": "reg.yaml"},
    "database": {"url": "postgresql://passerelle:s3cret@127.0.0.1/passerelle"},
    "discord": {"token": "MTA.real-looking.token", "guild_id": "3000000000000000001"},
    "bridge": {
        "channels": [
            {"discord_channel": "4000000000000000001", "matrix_room": "create", "access": "public"},
            {"discord_channel": 4000000000000000002, "matrix_room": "!abc:example.org"},
        ]
    },
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    config = parse_config(VALID, tmp_path / "config.yaml")
    assert config.homeserver.url == "http://127.0.0.1:8008"
    assert config.appservice.registration == tmp_path / "reg.yaml"
    assert config.appservice.public_url == "http://127.0.0.1:29330"
    assert config.discord.api_base == "https://discord.com/api/v10"
    assert config.discord.guild_ids == (3000000000000000001,)
    first, second = config.bridge.channels
    assert first.matrix_room is None and first.access == "public"
    assert second.matrix_room == "!abc:example.org" and second.access == "members_only"
    assert config.bridge.language == "en"  # left out: English (the tests' language)
    assert config.bridge.timezone == "UTC"
    assert config.namer.ghost_mxid(42) == "@_discord_42:example.org"  # type: ignore[arg-type]
    assert "MTA.real" not in repr(config.discord)  # the token never shows in a repr


@pytest.mark.parametrize(
    ("path", "value", "key", "words"),
    [
        ("discord.token", "CHANGE_ME", "discord.token", "placeholder"),
        ("discord.token", KeyError, "discord.token", "required"),
        ("discord.guild_id", "abc", "discord.guild_id", "digits only"),
        ("homeserver.url", "localhost:8008", "homeserver.url", "http://"),
        ("homeserver", KeyError, "homeserver", "missing section"),
        ("appservice.listen_port", 70000, "appservice.listen_port", "between"),
        ("appservice.listen_port", "http", "appservice.listen_port", "number"),
        ("appservice.bot_localpart", "Bad Name", "appservice.bot_localpart", "lowercase"),
        ("appservice.bot_localpart", "_discord_bot", "appservice.bot_localpart", "user_prefix"),
        ("database.url", "mysql://x", "database.url", "postgresql://"),
        ("database.url", "postgresql://u:CHANGE_ME@h/db", "database.url", "placeholder"),
        ("database.txn_retention_days", 0, "database.txn_retention_days", "between 1"),
        (
            "bridge.channels.1.matrix_room",
            "#alias:example.org",
            "bridge.channels[1].matrix_room",
            "room ID",
        ),
        ("bridge.channels.0.access", "secret", "bridge.channels[0].access", "members_only"),
        (
            "bridge.channels.1.discord_channel",
            "4000000000000000001",
            "bridge.channels[1].discord_channel",
            "twice",
        ),
        ("bridge.ghost_displayname", "Discord user", "bridge.ghost_displayname", "{name}"),
        ("bridge.language", "de", "bridge.language", "fr or en"),
        ("bridge.timezone", "Paris", "bridge.timezone", "Europe/Paris"),
    ],
)
def test_bad_values_name_the_key(path: str, value: Any, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_change(path, value))
    assert info.value.key == key
    assert words in str(info.value)
    assert f"'{key}'" in str(info.value)


def test_txn_retention_days_defaults_to_a_week() -> None:
    assert parse_config(VALID).database.txn_retention_days == 7
    assert (
        parse_config(with_change("database.txn_retention_days", 30)).database.txn_retention_days
        == 30
    )


def test_example_config_is_complete_but_refuses_placeholders(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.key == "database.url"
    data["database"]["url"] = "sqlite:///tmp/x.db"
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.key == "discord.token"
    data["discord"]["token"] = "real-token-value"
    data["discord"]["guilds"][0]["id"] = "1"
    data["database"]["url"] = "sqlite:///tmp/x.db"
    config = parse_config(data, tmp_path / "c.yaml")
    assert config.bridge.channels[0].access == "members_only"
    assert config.bridge.channels[0].guild_id == 1
    assert config.bridge.language == "fr"  # French first for this deployment
    assert config.bridge.timezone == "Europe/Paris"
    assert (
        config.discord.guilds[0].categories == () and config.discord.guilds[0].all_channels is None
    )


def test_load_config_plain_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("homeserver: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_relative_sqlite_path_is_relative_to_config(tmp_path: Path) -> None:
    data = with_change("database.url", "sqlite:passerelle.db")
    config = parse_config(data, tmp_path / "config.yaml")
    assert config.database.url == f"sqlite://{tmp_path}/passerelle.db"
    assert config.database.is_sqlite


def test_config_file_permissions(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import yaml

    from bridge.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(VALID))
    path.chmod(0o600)
    load_config(path)
    assert "chmod 600" not in caplog.text
    path.chmod(0o644)
    load_config(path)
    assert "chmod 600" in caplog.text  # readable by others: a warning
    path.chmod(0o666)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(path)  # writable by anyone: refused
