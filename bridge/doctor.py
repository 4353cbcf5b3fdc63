"""`python -m bridge doctor -c config.yaml`: check a deployment, one line per check.

Each line reads ``OK``, ``WARN``, ``FAIL`` or ``SKIP``, what was found and, when
something is wrong, how to fix it. The exit code is 1 if any check failed,
else 0 (warnings do not fail). Tokens are never printed: the checks do not put
them in their text, and every line is redacted once more on the way out.

The module has two halves: pure functions in :mod:`bridge.doctor_checks` that
turn what was observed (a file mode, an HTTP status and body, two schema
revisions) into a :class:`Check`, and :func:`diagnose` here, which does the I/O
in order and stops asking what a failed step makes meaningless.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from alembic.script import ScriptDirectory

from bridge.config import Config, ConfigError, ConfigErrors, UnknownKeyError, load_config
from bridge.db.migrate import alembic_config, current_revision, head_revision
from bridge.doctor_checks import (
    DISCORD_BASE_HINT,
    HS_URL_HINT,
    TEXT_CHANNEL_TYPES,
    TOKEN_HINT,
    Check,
    HttpResult,
    Status,
    _,
    channel_check,
    config_check,
    configured_channels,
    database_unreachable,
    db_password,
    discord_me_check,
    display_db_url,
    errcode_of,
    error_text,
    fail,
    guild_check,
    ok,
    permissions_check,
    ping_check,
    registration_file_check,
    registration_match_check,
    registration_mismatches,
    schema_check,
    skip,
    versions_check,
    warn,
    whoami_check,
)
from bridge.i18n import cli
from bridge.registration import Tokens, load_tokens

__all__ = [
    "DB_TIMEOUT",
    "DISCORD_BASE_HINT",
    "HS_URL_HINT",
    "HTTP_TIMEOUT",
    "NETWORK_ERRORS",
    "TEXT_CHANNEL_TYPES",
    "TOKEN_HINT",
    "Check",
    "HttpResult",
    "Status",
    "channel_check",
    "config_check",
    "configured_channels",
    "database_unreachable",
    "db_password",
    "diagnose",
    "discord_me_check",
    "display_db_url",
    "errcode_of",
    "error_text",
    "exit_code",
    "fail",
    "format_line",
    "guild_check",
    "http_json",
    "main",
    "ok",
    "permissions_check",
    "ping_check",
    "redact",
    "registration_file_check",
    "registration_match_check",
    "registration_mismatches",
    "run_doctor",
    "schema_check",
    "secrets_of",
    "skip",
    "versions_check",
    "warn",
    "whoami_check",
]

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 15.0
DB_TIMEOUT = 20.0


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    return text


def format_line(check: Check, secrets: Iterable[str] = ()) -> str:
    line = f"{check.status:<4}  " + _("{name}: {detail}", name=check.name, detail=check.detail)
    if check.hint and check.status in ("FAIL", "WARN"):
        line += " -> " + _("fix: {hint}", hint=check.hint)
    return redact(line, secrets)


def exit_code(checks: Iterable[Check]) -> int:
    return 1 if any(check.failed for check in checks) else 0


# -- I/O -----------------------------------------------------------------------------


async def http_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
) -> HttpResult:
    """One request; a 429 is waited out once (at most 5 s)."""
    for attempt in range(2):
        async with session.request(method, url, headers=headers, json=body) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            if resp.status == 429 and attempt == 0:
                retry = data.get("retry_after", 1) if isinstance(data, Mapping) else 1
                await asyncio.sleep(min(float(retry), 5.0))
                continue
            return HttpResult(resp.status, data)
    raise AssertionError("unreachable")


NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode
    except OSError:
        return None


def _load(path: Path) -> tuple[Config | None, ConfigError | None]:
    try:
        return load_config(path), None
    except ConfigError as exc:
        return None, exc


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, Mapping) else {}


async def _database_checks(config: Config, config_path: Path) -> AsyncIterator[Check]:
    url = config.database.url
    if config.database.is_sqlite:
        file = Path(re.sub(r"^sqlite3?:(//)?", "", url))
        if not await asyncio.to_thread(file.exists):
            detail = _("{file} does not exist yet", file=file)
            if config.database.auto_migrate:
                yield warn(
                    _("database reachable"),
                    _("{detail}; the bridge creates it at start", detail=detail),
                )
            else:
                yield fail(
                    _("database reachable"),
                    detail,
                    _("run `python -m bridge migrate -c {config_path}`", config_path=config_path),
                )
            yield skip(_("database schema"), _("no database yet"))
            return
    try:
        current = await asyncio.wait_for(current_revision(url), DB_TIMEOUT)
    except Exception as exc:
        yield database_unreachable(url, exc)
        yield skip(_("database schema"), _("the database is unreachable"))
        return
    yield ok(_("database reachable"), _("connected to {url}", url=display_db_url(url)))
    script = ScriptDirectory.from_config(alembic_config(url))
    known = {rev.revision for rev in script.walk_revisions()}
    yield schema_check(
        current, head_revision(), current in known, config.database.auto_migrate, config_path
    )


async def _homeserver_checks(
    session: aiohttp.ClientSession, config: Config, tokens: Tokens | None
) -> AsyncIterator[Check]:
    url = config.homeserver.url
    unreachable = _("cannot reach {url}", url=url)
    try:
        versions = await http_json(session, "GET", f"{url}/_matrix/client/versions")
    except NETWORK_ERRORS as exc:
        yield fail(
            _("homeserver reachable"),
            f"{unreachable} ({error_text(exc)})",
            _(HS_URL_HINT),
        )
        return
    check = versions_check(url, versions)
    yield check
    if check.failed:
        return
    if tokens is None:
        yield skip(_("registration accepted"), _("no tokens (see the registration file line)"))
        return
    auth = {"Authorization": f"Bearer {tokens.as_token}"}
    try:
        whoami = await http_json(session, "GET", f"{url}/_matrix/client/v3/account/whoami", auth)
    except NETWORK_ERRORS as exc:
        yield fail(
            _("registration accepted"),
            f"{unreachable} ({error_text(exc)})",
            _(HS_URL_HINT),
        )
        return
    check = whoami_check(whoami, config.namer.bot_mxid, config.appservice.registration)
    yield check
    if check.failed:
        return
    ping_url = f"{url}/_matrix/client/v1/appservice/{config.appservice.id}/ping"
    listen = f"{config.appservice.listen_host}:{config.appservice.listen_port}"
    try:
        ping = await http_json(session, "POST", ping_url, auth, {})
    except NETWORK_ERRORS as exc:
        yield warn(
            _("homeserver reaches the bridge"),
            _("the ping got no answer ({error})", error=error_text(exc)),
            _(
                "check that the homeserver can reach {public_url}",
                public_url=config.appservice.public_url,
            ),
        )
        return
    yield ping_check(ping, config.appservice.public_url, listen)


async def _discord_checks(session: aiohttp.ClientSession, config: Config) -> AsyncIterator[Check]:
    base = config.discord.api_base
    auth = {"Authorization": f"Bot {config.discord.token}"}
    unreachable = _("cannot reach {base}", base=base)
    try:
        me = await http_json(session, "GET", f"{base}/users/@me", auth)
    except NETWORK_ERRORS as exc:
        yield fail(
            _("discord token"),
            f"{unreachable} ({error_text(exc)})",
            _(DISCORD_BASE_HINT),
        )
        return
    check = discord_me_check(me)
    yield check
    if check.failed:
        yield skip(_("discord guild"), _("needs a valid token"))
        return
    bot_id = str(me.body.get("id")) if isinstance(me.body, Mapping) else None
    try:
        guilds = await http_json(session, "GET", f"{base}/users/@me/guilds", auth)
    except NETWORK_ERRORS as exc:
        yield fail(
            _("discord guild"),
            f"{unreachable} ({error_text(exc)})",
            _(DISCORD_BASE_HINT),
        )
        return
    for guild_id in config.discord.guild_ids:
        check = guild_check(guilds, guild_id, bot_id)
        yield check
        if check.failed:
            continue
        for key, channel_id in configured_channels(config, guild_id):
            name = _("discord channel {channel_id}", channel_id=channel_id)
            try:
                result = await http_json(session, "GET", f"{base}/channels/{channel_id}", auth)
            except NETWORK_ERRORS as exc:
                yield fail(
                    name,
                    f"{unreachable} ({error_text(exc)})",
                    _(DISCORD_BASE_HINT),
                )
                continue
            yield channel_check(key, channel_id, guild_id, result)


def unknown_keys_check(config_path: Path, strict: bool) -> Check | None:
    """Misspelt or unknown keys: a warning, or a failure with ``--strict``."""
    try:
        load_config(config_path, strict=True)
    except ConfigErrors as exc:
        unknown = [e for e in exc.errors if isinstance(e, UnknownKeyError)]
        if not unknown:
            return None
        detail = "; ".join(f"'{e.key}': {e.problem}" for e in unknown)
        hint = _(
            "fix the key names in {config_path}; config.example.yaml lists them all",
            config_path=config_path,
        )
        return (
            fail(_("config keys"), detail, hint) if strict else warn(_("config keys"), detail, hint)
        )
    except ConfigError:
        return None
    return None


async def diagnose(config_path: Path, strict: bool = False) -> AsyncIterator[Check]:
    """Every check, in order, as it completes."""
    mode = _mode(config_path)
    if mode is not None:
        perms = permissions_check(config_path, mode)
        yield perms
        if perms.failed:
            return  # the bridge refuses such a file: nothing below would run either
    config, error = _load(config_path)
    yield config_check(config_path, error)
    if config is None:
        return
    keys = unknown_keys_check(config_path, strict)
    if keys is not None:
        yield keys

    tokens: Tokens | None = None
    token_error: ConfigError | None = None
    try:
        tokens = load_tokens(config)
    except ConfigError as exc:
        token_error = exc
    registration = config.appservice.registration
    yield registration_file_check(config, token_error, _mode(registration), config_path)
    if tokens is not None:
        yield registration_match_check(config, _read_yaml(registration), config_path)

    async for check in _database_checks(config, config_path):
        yield check
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async for check in _homeserver_checks(session, config, tokens):
            yield check
        async for check in _discord_checks(session, config):
            yield check


def secrets_of(config_path: Path) -> list[str]:
    """Everything that must never be printed, as far as it can be read."""
    config, _ = _load(config_path)
    if config is None:
        return []
    found = [config.discord.token, db_password(config.database.url)]
    try:
        tokens = load_tokens(config)
        found += [tokens.as_token, tokens.hs_token]
    except ConfigError:
        pass
    return [s for s in found if s]


async def run_doctor(
    config_path: Path, emit: Callable[[str], None] = print, strict: bool = False
) -> list[Check]:
    """Run every check, emitting each line as soon as it is known."""
    secrets = secrets_of(config_path)
    checks: list[Check] = []
    async for check in diagnose(config_path, strict):
        checks.append(check)
        emit(format_line(check, secrets))
    failed = sum(check.failed for check in checks)
    emit(
        cli().ngettext("{n} check failed.", "{n} checks failed.", failed)
        if failed
        else _("All checks passed.")
    )
    return checks


def main(config_path: Path, strict: bool = False) -> int:
    checks = asyncio.run(
        run_doctor(config_path, lambda line: print(line, flush=True), strict=strict)
    )
    return exit_code(checks)
