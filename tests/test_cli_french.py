"""The command line in French: `doctor`, config errors and `run` with the homeserver
down speak ``--lang``, else the config's ``bridge.language``, else the environment's
``LANG``; log event names stay as they are. English stays the default."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bridge.__main__ import main as cli_main
from bridge.config import ConfigError, load_config
from bridge.db.migrate import head_revision, upgrade_head
from bridge.i18n import cli, environment_language
from tests.test_doctor import CHANNEL, MISSING_CHANNEL, fake_base, write_config, write_tokens

__all__ = ["fake_base"]  # the fake homeserver + Discord of tests/test_doctor.py

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def english_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the machine's locale, each test sets the one it needs."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


def in_french(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["bridge"]["language"] = "fr"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_environment_language() -> None:
    assert environment_language({"LANG": "fr_FR.UTF-8"}) == "fr"
    assert environment_language({"LANG": "en_GB.UTF-8", "LANGUAGE": "de:fr"}) == "fr"
    assert environment_language({"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}) == "en"
    assert environment_language({"LANG": "C.UTF-8", "LANGUAGE": "fr"}) is None  # as gettext
    assert environment_language({"LANG": "de_DE.UTF-8"}) is None
    assert environment_language({}) is None


async def test_doctor_in_french_from_the_config(
    fake_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = write_config(tmp_path, fake_base)
    in_french(config_path)
    write_tokens(config_path)
    await asyncio.to_thread(upgrade_head, f"sqlite://{tmp_path / 'bridge.db'}")
    assert await asyncio.to_thread(cli_main, ["doctor", "-c", str(config_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("OK    droits du fichier de configuration : ")
    assert "n'est lisible que par son propriétaire (mode 600)" in lines[0]
    assert f"OK    configuration : {config_path} est valide" in lines
    assert f"OK    schéma de la base de données : à jour ({head_revision()})" in lines
    assert f"OK    salon Discord {CHANNEL} : #general existe" in lines
    assert (
        f"FAIL  salon Discord {MISSING_CHANNEL} : n'existe pas (404 Unknown Channel)"
        " -> à faire : corrigez discord.guilds[0].channels[1].discord_channel"
    ) in lines
    assert lines[-1] == "1 vérification a échoué."
    # --lang wins over the config.
    await asyncio.to_thread(cli_main, ["doctor", "-c", str(config_path), "--lang", "en"])
    assert capsys.readouterr().out.splitlines()[-1] == "1 check failed."


def test_doctor_in_french_from_lang_when_there_is_no_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.yaml"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert cli_main(["doctor", "-c", str(missing)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"FAIL  configuration : {missing} n'existe pas"
        " -> à faire : donnez votre fichier de configuration avec -c",
        "1 vérification a échoué.",
    ]
    monkeypatch.setenv("LANG", "C.UTF-8")
    cli_main(["doctor", "-c", str(missing)])
    assert "FAIL  config: " in capsys.readouterr().out


def test_an_unknown_key_with_its_suggestion_in_french(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = write_config(tmp_path, "http://127.0.0.1:9")
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data["bridge"]["language"] = "fr"
    data["bridge"]["delivery_eror_notices"] = False
    config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert cli_main(["migrate", "-c", str(config_path), "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Erreur de configuration dans {config_path} : ")
    assert (
        "clé de configuration « bridge.delivery_eror_notices » : clé inconnue, ignorée ;"
        " vouliez-vous dire « bridge.delivery_error_notices » ?"
    ) in err
    # The same in English with --lang en.
    cli_main(["migrate", "-c", str(config_path), "--strict", "--lang", "en"])
    assert "did you mean 'bridge.delivery_error_notices'?" in capsys.readouterr().err


def test_a_yaml_error_with_file_and_line_in_french(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text("homeserver:\n  url: http://x\n bad: [\n", encoding="utf-8")
    config_path.chmod(0o600)
    with pytest.raises(ConfigError) as english:
        load_config(config_path)
    assert f"{config_path}, line 3, column 2: not valid YAML" in str(english.value)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert cli_main(["migrate", "-c", str(config_path)]) == 2
    err = capsys.readouterr().err
    assert f"Erreur de configuration dans {config_path} : clé de configuration « (file) » : " in err
    assert f"{config_path}, ligne 3, colonne 2 : YAML non valide : " in err
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert cli().language == "en"  # the CLI's choice does not outlive the command


def test_run_with_the_homeserver_down_says_so_in_french(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, "http://127.0.0.1:9")
    in_french(config_path)
    write_tokens(config_path)
    env = {**os.environ, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    env.pop("LANGUAGE", None)
    env.pop("LC_ALL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", "-c", str(config_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        for line in process.stdout:  # the first attempt fails at once (nothing listens)
            if "startup.homeserver-unreachable" in line:
                break
        # The event name and fields stay for machines; the sentence is French, and its
        # delay is written by Babel ("dans 1 seconde").
        assert "startup.homeserver-unreachable url=http://127.0.0.1:9" in line
        assert (
            "msg=Le serveur Matrix à l'adresse http://127.0.0.1:9 ne répond pas ;"
            " nouvel essai dans 1 seconde." in line
        ), line
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
