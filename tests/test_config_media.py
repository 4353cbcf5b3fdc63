"""Config keys for media: the Discord upload limit and the public media URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, parse_config
from tests.test_config import VALID, with_change


def test_media_defaults(tmp_path: Path) -> None:
    config = parse_config(VALID, tmp_path / "config.yaml")
    assert config.bridge.discord_upload_limit_mb == 10
    assert config.bridge.discord_upload_limit_bytes == 10 * 1024 * 1024
    assert config.bridge.public_media_url is None


def test_media_keys_parse(tmp_path: Path) -> None:
    data = with_change("bridge.discord_upload_limit_mb", 25)
    data["bridge"]["public_media_url"] = "https://matrix.example.org/"
    config = parse_config(data, tmp_path / "config.yaml")
    assert config.bridge.discord_upload_limit_bytes == 25 * 1024 * 1024
    assert config.bridge.public_media_url == "https://matrix.example.org"
    # An empty value (as in the example config) means "no public media URL".
    assert (
        parse_config(with_change("bridge.public_media_url", ""), None).bridge.public_media_url
        is None
    )


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("bridge.discord_upload_limit_mb", 0, "between"),
        ("bridge.discord_upload_limit_mb", "lots", "number"),
        ("bridge.public_media_url", "matrix.example.org", "http://"),
    ],
)
def test_media_keys_name_the_key(path: str, value: object, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_change(path, value))
    assert info.value.key == path
    assert words in info.value.problem
