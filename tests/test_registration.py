from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
import yaml

from bridge.__main__ import main
from bridge.config import ConfigError, parse_config
from bridge.registration import build_registration, load_tokens, write_registration
from tests.test_config import VALID


def test_registration_has_fresh_tokens_and_exclusive_namespaces(tmp_path: Path) -> None:
    config = parse_config(VALID, tmp_path / "config.yaml")
    first, second = build_registration(config), build_registration(config)
    assert first["as_token"] != second["as_token"] and first["hs_token"] != second["hs_token"]
    assert first["as_token"] != first["hs_token"] and len(first["as_token"]) >= 40
    assert first["sender_localpart"] == "passerelle"
    users = first["namespaces"]["users"]
    assert users[0]["exclusive"] is True
    assert re.fullmatch(users[0]["regex"], "@_discord_123:example.org")
    assert not re.fullmatch(users[0]["regex"], "@alice:example.org")
    aliases = first["namespaces"]["aliases"]
    assert aliases[0]["exclusive"] is True
    assert re.fullmatch(aliases[0]["regex"], "#_discord_456:example.org")


def test_written_registration_is_private_and_read_back(tmp_path: Path) -> None:
    config = parse_config(VALID, tmp_path / "config.yaml")
    reg = build_registration(config)
    write_registration(reg, config.appservice.registration)
    mode = stat.S_IMODE(config.appservice.registration.stat().st_mode)
    assert mode == 0o600
    tokens = load_tokens(config)
    assert tokens.as_token == reg["as_token"] and tokens.hs_token == reg["hs_token"]


def test_missing_registration_says_what_to_run(tmp_path: Path) -> None:
    config = parse_config(VALID, tmp_path / "config.yaml")
    with pytest.raises(ConfigError, match="generate-registration"):
        load_tokens(config)


def test_cli_generate_registration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(VALID))
    out = tmp_path / "out.yaml"
    assert main(["generate-registration", "-c", str(config_file), "-o", str(out)]) == 0
    data = yaml.safe_load(out.read_text())
    assert data["url"] == "http://127.0.0.1:29330"
    assert "as_token" in data
    assert "app_service_config_files" in capsys.readouterr().out


def test_cli_reports_config_errors_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({**VALID, "discord": {"token": "CHANGE_ME"}}))
    assert main(["run", "-c", str(config_file)]) == 2
    err = capsys.readouterr().err
    assert "discord.token" in err and "Traceback" not in err
