"""`python -m bridge doctor`: the pure checks, the I/O against fakes, and the real sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from bridge import doctor
from bridge.__main__ import main as cli_main
from bridge.config import load_config
from bridge.db.migrate import upgrade_head
from bridge.doctor import Check, HttpResult, format_line, run_doctor
from bridge.registration import Tokens, build_registration, write_registration
from sandbox.postgres import create_database, drop_database
from sandbox.stack import SandboxStack

DISCORD_TOKEN = "MTIzNDU2.discord-bot-token-for-doctor-tests"
AS_TOKEN = "as-token-for-doctor-tests-0123456789"
HS_TOKEN = "hs-token-for-doctor-tests-0123456789"
GUILD = "111111111111111111"
CHANNEL = "222222222222222222"
MISSING_CHANNEL = "333333333333333333"
SECRETS = (DISCORD_TOKEN, AS_TOKEN, HS_TOKEN)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


# -- pure checks -------------------------------------------------------------------------


def test_format_line_shows_the_fix_only_when_something_is_wrong() -> None:
    assert format_line(Check("database schema", "OK", "at head (abc)", "unused")) == (
        "OK    database schema: at head (abc)"
    )
    line = format_line(Check("discord token", "FAIL", "token rejected (HTTP 401)", "new token"))
    assert line == "FAIL  discord token: token rejected (HTTP 401) -> fix: new token"
    leaked = format_line(Check("x", "FAIL", f"saw {DISCORD_TOKEN}"), SECRETS)
    assert DISCORD_TOKEN not in leaked and "[redacted]" in leaked


def test_exit_code_counts_failures_only() -> None:
    assert doctor.exit_code([doctor.ok("a", ""), doctor.warn("b", ""), doctor.skip("c", "")]) == 0
    assert doctor.exit_code([doctor.ok("a", ""), doctor.fail("b", "")]) == 1


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (0o100600, "OK"),
        (0o100400, "OK"),
        (0o100640, "WARN"),
        (0o100644, "WARN"),
        (0o100666, "FAIL"),
    ],
)
def test_permissions(mode: int, status: str) -> None:
    check = doctor.permissions_check(Path("/etc/passerelle/config.yaml"), mode)
    assert check.status == status
    if status != "OK":
        assert "chmod 600 /etc/passerelle/config.yaml" in check.hint


def test_schema_check() -> None:
    cfg = Path("/etc/p.yaml")
    assert doctor.schema_check("b", "b", True, False, cfg).status == "OK"
    behind = doctor.schema_check("a", "b", True, False, cfg)
    assert behind.status == "FAIL"
    assert behind.detail == "at a, this version needs b"
    assert behind.hint == "run `python -m bridge migrate -c /etc/p.yaml`"
    assert doctor.schema_check(None, "b", False, False, cfg).status == "FAIL"
    auto = doctor.schema_check("a", "b", True, True, cfg)
    assert auto.status == "WARN" and "auto_migrate" in auto.detail
    newer = doctor.schema_check("zzz", "b", False, False, cfg)
    assert newer.status == "FAIL" and "does not know" in newer.detail


def test_whoami_check() -> None:
    reg = Path("/etc/passerelle/registration.yaml")
    good = doctor.whoami_check(HttpResult(200, {"user_id": "@bot:x"}), "@bot:x", reg)
    assert good.status == "OK"
    unknown = doctor.whoami_check(
        HttpResult(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown token"}), "@bot:x", reg
    )
    assert unknown.status == "FAIL"
    assert unknown.hint == (
        "the homeserver has not loaded the registration: add "
        "/etc/passerelle/registration.yaml to app_service_config_files and restart it"
    )
    other = doctor.whoami_check(HttpResult(200, {"user_id": "@someone:x"}), "@bot:x", reg)
    assert other.status == "FAIL" and "@someone:x" in other.detail


def test_ping_check() -> None:
    def check(status: int, body: Any) -> Check:
        return doctor.ping_check(HttpResult(status, body), "http://as:29330", "0.0.0.0:29330")

    assert check(200, {"duration_ms": 12}).status == "OK"
    assert check(502, {"errcode": "M_CONNECTION_FAILED"}).status == "WARN"
    assert check(404, {"errcode": "M_UNRECOGNIZED"}).status == "SKIP"
    bad = check(502, {"errcode": "M_BAD_STATUS", "status": 403, "body": "..."})
    assert bad.status == "FAIL" and "HTTP 403" in bad.detail


def test_discord_checks() -> None:
    assert doctor.discord_me_check(HttpResult(200, {"id": "1", "username": "b"})).status == "OK"
    rejected = doctor.discord_me_check(HttpResult(401, {"code": 0, "message": "401: Unauthorized"}))
    assert rejected.status == "FAIL" and rejected.detail == "token rejected (HTTP 401)"
    assert "discord.token" in rejected.hint
    guilds = HttpResult(200, [{"id": GUILD, "name": "Home"}])
    assert doctor.guild_check(guilds, int(GUILD), "42").status == "OK"
    absent = doctor.guild_check(HttpResult(200, []), int(GUILD), "42")
    assert absent.status == "FAIL" and "client_id=42" in absent.hint
    key = "bridge.channels[0].discord_channel"
    text = {"id": CHANNEL, "guild_id": GUILD, "type": 0, "name": "general"}
    assert doctor.channel_check(key, int(CHANNEL), int(GUILD), HttpResult(200, text)).status == "OK"
    voice = {**text, "type": 2}  # voice channels are bridged (their chat, who is in voice)
    assert doctor.channel_check(key, 1, int(GUILD), HttpResult(200, voice)).status == "OK"
    category = {**text, "type": 4}
    assert doctor.channel_check(key, 1, int(GUILD), HttpResult(200, category)).status == "FAIL"
    elsewhere = {**text, "guild_id": "9"}
    assert doctor.channel_check(key, 1, int(GUILD), HttpResult(200, elsewhere)).status == "FAIL"
    missing = doctor.channel_check(key, 5, int(GUILD), HttpResult(404, {"code": 10003}))
    assert missing.status == "FAIL" and missing.hint == f"fix {key}"
    hidden = doctor.channel_check(key, 5, int(GUILD), HttpResult(403, {"code": 50001}))
    assert hidden.status == "FAIL" and "View Channel" in hidden.hint


def test_registration_mismatches() -> None:
    expected = {
        "id": "passerelle",
        "url": "http://bridge:29330",
        "namespaces": {
            "users": [{"exclusive": True, "regex": "@_discord_.*:x"}],
            "aliases": [{"exclusive": True, "regex": "#_discord_.*:x"}],
        },
    }
    assert doctor.registration_mismatches(expected, expected) == []
    other = {
        **expected,
        "url": "http://localhost:1234",
        "namespaces": {"users": [{"exclusive": False, "regex": "@_discord_.*:x"}]},
    }
    problems = doctor.registration_mismatches(other, expected)
    assert problems[0] == (
        "url is 'http://localhost:1234', appservice.public_url is 'http://bridge:29330'"
    )
    assert any("users namespace" in p for p in problems)
    assert any("aliases namespace" in p for p in problems)


def test_display_db_url_hides_the_password() -> None:
    url = "postgresql://bridge:s3cret-pass@db.example:5433/passerelle"
    assert doctor.display_db_url(url) == "postgresql://bridge@db.example:5433/passerelle"
    assert doctor.db_password(url) == "s3cret-pass"


# -- the I/O, against a fake homeserver and a fake Discord ------------------------------------


def fake_services(*, whoami_known: bool = True) -> web.Application:
    async def versions(request: web.Request) -> web.Response:
        return web.json_response({"versions": ["v1.1", "v1.11"]})

    async def whoami(request: web.Request) -> web.Response:
        if whoami_known and request.headers.get("Authorization") == f"Bearer {AS_TOKEN}":
            return web.json_response({"user_id": "@passerelle:example.org"})
        return web.json_response({"errcode": "M_UNKNOWN_TOKEN", "error": "nope"}, status=401)

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"errcode": "M_CONNECTION_FAILED", "error": "down"}, status=502)

    def discord_auth(request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {DISCORD_TOKEN}":
            raise web.HTTPUnauthorized(
                text='{"code": 0, "message": "401: Unauthorized"}',
                content_type="application/json",
            )

    async def me(request: web.Request) -> web.Response:
        discord_auth(request)
        return web.json_response({"id": "42", "username": "passerelle-bot", "bot": True})

    async def guilds(request: web.Request) -> web.Response:
        discord_auth(request)
        return web.json_response([{"id": GUILD, "name": "Home"}])

    async def channel(request: web.Request) -> web.Response:
        discord_auth(request)
        if request.match_info["id"] != CHANNEL:
            return web.json_response({"code": 10003, "message": "Unknown Channel"}, status=404)
        return web.json_response({"id": CHANNEL, "guild_id": GUILD, "type": 0, "name": "general"})

    app = web.Application()
    app.router.add_get("/_matrix/client/versions", versions)
    app.router.add_get("/_matrix/client/v3/account/whoami", whoami)
    app.router.add_post("/_matrix/client/v1/appservice/passerelle/ping", ping)
    app.router.add_get("/api/v10/users/@me", me)
    app.router.add_get("/api/v10/users/@me/guilds", guilds)
    app.router.add_get("/api/v10/channels/{id}", channel)
    return app


def write_config(
    directory: Path, base: str, *, token: str = DISCORD_TOKEN, **database: Any
) -> Path:
    data = {
        "homeserver": {"url": base, "server_name": "example.org"},
        "appservice": {"public_url": "http://127.0.0.1:29330"},
        "database": {"url": f"sqlite://{directory / 'bridge.db'}", **database},
        "discord": {"token": token, "api_base": f"{base}/api/v10", "guild_id": GUILD},
        "bridge": {
            "channels": [
                {"discord_channel": CHANNEL, "matrix_room": "create"},
                {"discord_channel": MISSING_CHANNEL, "matrix_room": "create"},
            ]
        },
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    path.chmod(0o600)
    return path


def write_tokens(config_path: Path) -> None:
    config = load_config(config_path)
    registration = build_registration(config, Tokens(AS_TOKEN, HS_TOKEN))
    write_registration(registration, config.appservice.registration)


@pytest.fixture
async def fake_base() -> AsyncIterator[str]:
    async with TestServer(fake_services()) as server:
        yield str(server.make_url("")).rstrip("/")


async def collect(config_path: Path) -> tuple[list[Check], list[str]]:
    lines: list[str] = []
    checks = await run_doctor(config_path, lines.append)
    return checks, lines


async def test_everything_checked_against_fakes(fake_base: str, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, fake_base)
    write_tokens(config_path)
    await asyncio.to_thread(upgrade_head, f"sqlite://{tmp_path / 'bridge.db'}")
    checks, lines = await collect(config_path)
    found = by_name(checks)
    assert [c.name for c in checks] == [
        "config file permissions",
        "config",
        "registration file",
        "registration matches config",
        "database reachable",
        "database schema",
        "homeserver reachable",
        "registration accepted",
        "homeserver reaches the bridge",
        "discord token",
        "discord guild",
        f"discord channel {CHANNEL}",
        f"discord channel {MISSING_CHANNEL}",
    ]
    assert all(
        found[name].status == "OK"
        for name in (
            "config file permissions",
            "config",
            "registration file",
            "registration matches config",
            "database reachable",
            "database schema",
            "homeserver reachable",
            "registration accepted",
            "discord token",
            "discord guild",
            f"discord channel {CHANNEL}",
        )
    ), lines
    assert found["homeserver reaches the bridge"].status == "WARN"  # the bridge is not running
    assert found[f"discord channel {MISSING_CHANNEL}"].status == "FAIL"
    assert doctor.exit_code(checks) == 1
    assert lines[-1] == "1 check failed."
    output = "\n".join(lines)
    assert not any(secret in output for secret in SECRETS)


async def test_wrong_discord_token_and_unloaded_registration(tmp_path: Path) -> None:
    async with TestServer(fake_services(whoami_known=False)) as server:
        base = str(server.make_url("")).rstrip("/")
        config_path = write_config(tmp_path, base, token="MTIzNDU2.wrong-token-for-doctor-tests")
        write_tokens(config_path)
        checks, lines = await collect(config_path)
    found = by_name(checks)
    assert found["discord token"].status == "FAIL"
    assert "FAIL  discord token: token rejected (HTTP 401) -> fix: " in "\n".join(lines)
    assert found["discord guild"].status == "SKIP"
    assert found["registration accepted"].status == "FAIL"
    assert "app_service_config_files" in found["registration accepted"].hint
    assert "homeserver reaches the bridge" not in found
    # The SQLite file does not exist yet; auto_migrate (the default) will create it.
    assert found["database reachable"].status == "WARN"
    assert "wrong-token" not in "\n".join(lines)


async def test_unreachable_services_missing_registration_and_empty_schema(tmp_path: Path) -> None:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens
    config_path = write_config(tmp_path, closed, auto_migrate=False)
    (tmp_path / "bridge.db").touch()  # exists, but no schema in it
    checks, _ = await collect(config_path)
    found = by_name(checks)
    assert found["registration file"].status == "FAIL"
    assert found["registration file"].detail.endswith("(appservice.registration) does not exist")
    assert "generate-registration -c" in found["registration file"].hint
    assert "registration matches config" not in found
    assert found["database schema"].status == "FAIL"
    assert found["database schema"].hint == f"run `python -m bridge migrate -c {config_path}`"
    assert found["homeserver reachable"].status == "FAIL"
    assert found["homeserver reachable"].detail.startswith(f"cannot reach {closed} (")
    assert found["discord token"].status == "FAIL"
    assert "registration accepted" not in found


async def test_config_problems_stop_early(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    checks, lines = await collect(missing)
    assert [c.status for c in checks] == ["FAIL"]
    assert (
        lines[0] == f"FAIL  config: {missing} does not exist -> fix: pass your config file with -c"
    )

    config_path = write_config(tmp_path, "http://127.0.0.1:9")
    config_path.chmod(0o666)
    checks, _ = await collect(config_path)
    assert [(c.name, c.status) for c in checks] == [("config file permissions", "FAIL")]

    config_path.chmod(0o600)
    config_path.write_text(
        config_path.read_text().replace(f"guild_id: '{GUILD}'", "guild_id: general")
    )
    checks, lines = await collect(config_path)
    assert [c.status for c in checks] == ["OK", "FAIL"]
    assert "config key 'discord.guild_id'" in lines[1]


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["doctor", "-c", str(tmp_path / "missing.yaml")]) == 1
    out = capsys.readouterr().out
    assert "FAIL  config:" in out


# -- end to end: the real sandbox (Synapse + Discord emulator + bridge on PostgreSQL) -------


@pytest.fixture
def stack_config(stack: SandboxStack) -> Path:
    return stack.opts.workdir / "config.yaml"


def modified_copy(source: Path, target: Path, change: Any) -> Path:
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(data)
    target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    target.chmod(0o600)
    return target


@pytest.mark.e2e
async def test_doctor_passes_on_the_running_stack(stack_config: Path) -> None:
    checks, lines = await collect(stack_config)
    assert doctor.exit_code(checks) == 0, "\n".join(lines)
    assert all(c.status == "OK" for c in checks), "\n".join(lines)
    found = by_name(checks)
    assert found["homeserver reaches the bridge"].status == "OK"  # the bridge answered the ping
    assert sum(name.startswith("discord channel ") for name in found) >= 2
    output = "\n".join(lines)
    config = load_config(stack_config)
    assert config.discord.token not in output
    assert lines[-1] == "All checks passed."


@pytest.mark.e2e
async def test_doctor_fails_clearly_on_a_wrong_discord_token(
    stack_config: Path, tmp_path: Path
) -> None:
    wrong = "MTIzNDU2Nzg5.wrong.token-for-the-doctor-e2e-test"

    def set_token(data: dict[str, Any]) -> None:
        data["discord"]["token"] = wrong

    config_path = modified_copy(stack_config, tmp_path / "config.yaml", set_token)
    checks, lines = await collect(config_path)
    assert doctor.exit_code(checks) == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1, "\n".join(lines)
    assert failed[0].startswith("FAIL  discord token: token rejected (HTTP 401) -> fix: ")
    assert wrong not in "\n".join(lines)


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    dsn = await create_database(prefix="passerelle_doctor")
    try:
        yield dsn
    finally:
        await drop_database(dsn)


@pytest.mark.e2e
async def test_doctor_fails_when_the_schema_is_behind(
    stack_config: Path, tmp_path: Path, empty_database: str
) -> None:
    def use_empty_database(data: dict[str, Any]) -> None:
        data["database"] = {"url": empty_database, "auto_migrate": False}

    config_path = modified_copy(stack_config, tmp_path / "config.yaml", use_empty_database)
    checks, lines = await collect(config_path)
    found = by_name(checks)
    assert found["database reachable"].status == "OK"
    assert found["database schema"].status == "FAIL"
    expected_fix = f"-> fix: run `python -m bridge migrate -c {config_path}`"
    assert any(line.startswith("FAIL  database schema:") and expected_fix in line for line in lines)
    assert doctor.exit_code(checks) == 1
