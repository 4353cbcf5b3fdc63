"""Issue 16: misspelt keys, placeholders reported together, YAML errors with the file and
line, and doctor's advice for a config that was passed."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest
import yaml

from bridge.__main__ import main as cli_main
from bridge.config import ConfigError, ConfigErrors, load_config, parse_config
from bridge.doctor import run_doctor
from tests.test_config import ROOT, VALID


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_misspelt_key_warns_with_the_nearest_valid_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = copy.deepcopy(VALID)
    data["bridge"]["sender_brust"] = 5
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        config = parse_config(data)
    assert config.bridge.sender_burst == 10  # ignored: the default
    assert "key=bridge.sender_brust did_you_mean=bridge.sender_burst" in caplog.text


def test_a_misspelt_key_fails_under_strict() -> None:
    data = copy.deepcopy(VALID)
    data["bridge"]["sender_brust"] = 5
    data["appservice"]["bot_localpar"] = "x"
    with pytest.raises(ConfigError) as info:
        parse_config(data, strict=True)
    text = str(info.value)
    assert (
        "'bridge.sender_brust': unknown key, ignored; did you mean 'bridge.sender_burst'?" in text
    )
    assert "did you mean 'appservice.bot_localpart'?" in text


def test_the_example_config_has_no_unknown_key(caplog: pytest.LogCaptureFixture) -> None:
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text.replace("CHANGE_ME", "real").replace("change_me", "real"))
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        parse_config(data, ROOT / "config.example.yaml", strict=True)
    assert "unknown-key" not in caplog.text


def test_every_placeholder_is_reported_at_once(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["discord"]["token"] = "CHANGE_ME"
    data["database"]["url"] = "postgresql://u:change_me@h/db"
    with pytest.raises(ConfigErrors) as info:
        parse_config(data)
    keys = [e.key for e in info.value.errors]
    assert keys == ["database.url", "discord.token"]
    assert str(info.value).startswith("2 problems:\n")


def test_the_example_config_reports_all_its_placeholders() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_config(yaml.safe_load((ROOT / "config.example.yaml").read_text()))
    assert {"database.url", "discord.token"} <= {e.key for e in info.value.errors}


def test_a_yaml_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "homeserver:\n  url: http://x\nbridge:\n  channels: [a, b\n  sender_burst: 3\n"
        "discord:\n  token: x\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "<unicode string>" not in text
    assert f"{path}, line " in text and "not valid YAML" in text


async def test_doctor_does_not_ask_for_c_when_the_file_was_passed(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("bridge: [\n", encoding="utf-8")
    path.chmod(0o600)
    lines: list[str] = []
    await run_doctor(path, lines.append)
    line = next(x for x in lines if x.startswith("FAIL  config:"))
    assert line.startswith(f"FAIL  config: {path}, line 2"), line
    assert "pass your config file with -c" not in line
    assert f"fix: edit {path}" in line


async def test_doctor_warns_about_a_misspelt_key_and_fails_with_strict(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["bridge"]["sender_brust"] = 5
    path = _write(tmp_path, data)
    lines: list[str] = []
    checks = await run_doctor(path, lines.append)
    keys = next(c for c in checks if c.name == "config keys")
    assert keys.status == "WARN" and "did you mean 'bridge.sender_burst'?" in keys.detail
    checks = await run_doctor(path, lines.append, strict=True)
    assert next(c for c in checks if c.name == "config keys").status == "FAIL"


def test_cli_strict_refuses_a_misspelt_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy.deepcopy(VALID)
    data["bridge"]["sender_brust"] = 5
    path = _write(tmp_path, data)
    assert cli_main(["generate-registration", "-c", str(path), "--strict"]) == 2
    assert "did you mean 'bridge.sender_burst'?" in capsys.readouterr().err
