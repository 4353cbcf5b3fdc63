"""What each observation means for `python -m bridge doctor`: pure, no I/O.

Every function here turns something observed (a file mode, an HTTP status and
body, two schema revisions) into a :class:`Check` that says ``OK``, ``WARN``,
``FAIL`` or ``SKIP``, what was found and, when something is wrong, how to fix
it. :mod:`bridge.doctor` does the I/O in order and prints the report.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bridge.config import Config, ConfigError
from bridge.i18n import N_, cli
from bridge.model import BRIDGEABLE_TYPES
from bridge.registration import build_registration

Status = Literal["OK", "WARN", "FAIL", "SKIP"]
# Text, announcement, forum, media, voice and stage channels (BRIDGEABLE_TYPES).
TEXT_CHANNEL_TYPES = BRIDGEABLE_TYPES
TOKEN_HINT = N_(
    "put the bot token from the Discord Developer Portal (your application -> Bot -> "
    "Reset Token) in discord.token"
)


def _(message: str, /, **values: Any) -> str:
    """A doctor sentence in the command line's language (:func:`bridge.i18n.cli`)."""
    return cli()._(message, **values)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


@dataclass(frozen=True)
class HttpResult:
    """What an HTTP call answered: status and JSON body (None if it was not JSON)."""

    status: int
    body: Any = None


def ok(name: str, detail: str) -> Check:
    return Check(name, "OK", detail)


def warn(name: str, detail: str, hint: str = "") -> Check:
    return Check(name, "WARN", detail, hint)


def fail(name: str, detail: str, hint: str = "") -> Check:
    return Check(name, "FAIL", detail, hint)


def skip(name: str, detail: str) -> Check:
    return Check(name, "SKIP", detail)


def error_text(exc: BaseException) -> str:
    """An exception as one short line: its kind, and the first line of its message."""
    if isinstance(exc, TimeoutError):
        return _("no answer in time")
    message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def errcode_of(body: Any) -> str:
    if isinstance(body, Mapping):
        return str(body.get("errcode") or body.get("code") or "")
    return ""


# -- config and registration ---------------------------------------------------------


def permissions_check(path: Path, mode: int) -> Check:
    name = _("config file permissions")
    shown = oct(mode & 0o777)[2:]
    if mode & stat.S_IWOTH:
        return fail(
            name,
            _("anyone on this machine can change {path} (mode {shown})", path=path, shown=shown),
            _chmod(path),
        )
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP):
        return warn(
            name,
            _(
                "others may read {path} and the bot token in it (mode {shown})",
                path=path,
                shown=shown,
            ),
            _chmod(path),
        )
    return ok(name, _("{path} is private to its owner (mode {shown})", path=path, shown=shown))


def _chmod(path: Path) -> str:
    return _("run {command}", command=f"`chmod 600 {path}`")


def config_check(path: Path, error: ConfigError | None) -> Check:
    if error is not None and error.key == "(file)":
        if not path.exists():
            return fail(_("config"), error.problem, _("pass your config file with -c"))
        # It was passed and read: the problem is in it (YAML, permissions).
        return fail(_("config"), error.problem, _("edit {path}", path=path))
    if error is not None:
        return fail(
            _("config"),
            str(error),
            _("edit {path}; config.example.yaml explains every key", path=path),
        )
    return ok(_("config"), _("{path} is valid", path=path))


def registration_file_check(
    config: Config, error: ConfigError | None, mode: int | None, config_path: Path
) -> Check:
    """``mode`` is the file's (None: it does not exist), ``error`` what load_tokens said."""
    name = _("registration file")
    path = config.appservice.registration
    generate = f"`python -m bridge generate-registration -c {config_path}`"
    if error is not None and mode is None:
        return fail(
            name,
            _("{path} (appservice.registration) does not exist", path=path),
            _(
                "run {generate} and add the file to the homeserver's app_service_config_files",
                generate=generate,
            ),
        )
    if error is not None:
        return fail(
            name,
            error.problem,
            _("run {generate}, then restart the homeserver so it loads it", generate=generate),
        )
    if mode is not None and mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWOTH | stat.S_IWGRP):
        return warn(
            name,
            _(
                "{path} holds the tokens but others may read it (mode {mode})",
                path=path,
                mode=oct(mode & 0o777)[2:],
            ),
            _chmod(path),
        )
    return ok(name, _("{path} holds as_token and hs_token", path=path))


def _regexes(namespaces: Any, kind: str) -> set[tuple[str, bool]]:
    entries = namespaces.get(kind) if isinstance(namespaces, Mapping) else None
    if not isinstance(entries, list):
        return set()
    return {
        (str(e.get("regex")), bool(e.get("exclusive")))
        for e in entries
        if isinstance(e, Mapping) and "regex" in e
    }


def registration_mismatches(data: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """What in the registration the homeserver loaded disagrees with the config."""
    problems: list[str] = []
    if data.get("id") != expected["id"]:
        problems.append(
            _(
                "id is {found}, appservice.id is {wanted}",
                found=repr(data.get("id")),
                wanted=repr(expected["id"]),
            )
        )
    if str(data.get("url", "")).rstrip("/") != str(expected["url"]).rstrip("/"):
        problems.append(
            _(
                "url is {found}, appservice.public_url is {wanted}",
                found=repr(data.get("url")),
                wanted=repr(expected["url"]),
            )
        )
    for kind in ("users", "aliases"):
        want = _regexes(expected["namespaces"], kind)
        have = _regexes(data.get("namespaces"), kind)
        missing = sorted(regex for regex, _ in want - have)
        if missing:
            problems.append(
                _(
                    "{kind} namespace lacks the exclusive regex {regexes}",
                    kind=kind,
                    regexes=", ".join(missing),
                )
            )
    return problems


def registration_match_check(config: Config, data: Mapping[str, Any], config_path: Path) -> Check:
    name = _("registration matches config")
    problems = registration_mismatches(data, build_registration(config))
    if problems:
        return fail(
            name,
            "; ".join(problems),
            _(
                "run `python -m bridge generate-registration -c {config_path}` and restart the"
                " homeserver so it loads the new file",
                config_path=config_path,
            ),
        )
    return ok(
        name, _("url {public_url} and namespaces agree", public_url=config.appservice.public_url)
    )


# -- database ------------------------------------------------------------------------


def display_db_url(url: str) -> str:
    """The database URL without its password."""
    if url.startswith("sqlite"):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{parts.path}"


def db_password(url: str) -> str:
    if url.startswith("sqlite"):
        return ""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def database_unreachable(url: str, exc: BaseException) -> Check:
    return fail(
        _("database reachable"),
        _("cannot connect to {url} ({error})", url=display_db_url(url), error=error_text(exc)),
        _(
            "check database.url (host, port, user, password, database name) and that the database"
            " server is running"
        ),
    )


def schema_check(
    current: str | None,
    head: str | None,
    known: bool,
    auto_migrate: bool,
    config_path: Path,
) -> Check:
    name = _("database schema")
    migrate = f"run `python -m bridge migrate -c {config_path}`"
    if current == head:
        return ok(name, _("at head ({head})", head=head))
    if current is None:
        detail = _("the database has no schema yet (this version needs {head})", head=head)
    elif known:
        detail = _("at {current}, this version needs {head}", current=current, head=head)
    else:
        return fail(
            name,
            _(
                "at {current}, a revision this version does not know (made by a newer Passerelle?)",
                current=current,
            ),
            _("run the Passerelle version that wrote this database, or restore a backup"),
        )
    if auto_migrate:
        return warn(
            name,
            _("{detail}; the bridge upgrades it at start (database.auto_migrate)", detail=detail),
            migrate,
        )
    return fail(name, detail, migrate)


# -- homeserver ----------------------------------------------------------------------


HS_URL_HINT = N_("check homeserver.url: the address where the bridge reaches the client API")


def versions_check(url: str, result: HttpResult) -> Check:
    name = _("homeserver reachable")
    versions = result.body.get("versions") if isinstance(result.body, Mapping) else None
    if result.status == 200 and isinstance(versions, list) and versions:
        return ok(name, _("{url} speaks Matrix (up to {version})", url=url, version=versions[-1]))
    return fail(
        name,
        _(
            "GET {url}/_matrix/client/versions answered HTTP {status}",
            url=url,
            status=result.status,
        ),
        _(HS_URL_HINT),
    )


def whoami_check(result: HttpResult, bot_mxid: str, registration: Path) -> Check:
    name = _("registration accepted")
    errcode = errcode_of(result.body)
    if result.status == 200 and isinstance(result.body, Mapping):
        user_id = result.body.get("user_id")
        if user_id == bot_mxid:
            return ok(
                name,
                _("the homeserver knows the as_token (bridge bot {bot_mxid})", bot_mxid=bot_mxid),
            )
        return fail(
            name,
            _(
                "the as_token belongs to {user_id}, not to the bridge bot {bot_mxid}",
                user_id=user_id,
                bot_mxid=bot_mxid,
            ),
            _("the homeserver loaded another registration with this token; regenerate it"),
        )
    if result.status == 401 and errcode == "M_UNKNOWN_TOKEN":
        return fail(
            name,
            _("the homeserver does not know the registration's as_token (401 M_UNKNOWN_TOKEN)"),
            _(
                "the homeserver has not loaded the registration: add {registration} to"
                " app_service_config_files and restart it",
                registration=registration,
            ),
        )
    return fail(
        name,
        f"GET /_matrix/client/v3/account/whoami answered HTTP {result.status} {errcode}".rstrip(),
        _("check the homeserver's log for the appservice registration"),
    )


def ping_check(result: HttpResult, public_url: str, listen: str) -> Check:
    """``POST /_matrix/client/v1/appservice/{id}/ping``: can the homeserver reach us?"""
    name = _("homeserver reaches the bridge")
    errcode = errcode_of(result.body)
    if result.status == 200:
        ms = result.body.get("duration_ms") if isinstance(result.body, Mapping) else None
        return ok(
            name,
            _(
                "{public_url} answered the homeserver's ping ({ms} ms)",
                public_url=public_url,
                ms=ms,
            ),
        )
    if result.status == 404 or errcode == "M_UNRECOGNIZED":
        return skip(name, _("this homeserver does not support the appservice ping"))
    if errcode in ("M_CONNECTION_FAILED", "M_CONNECTION_TIMEOUT"):
        return warn(
            name,
            _(
                "the homeserver cannot reach {public_url} ({errcode}); expected while the bridge"
                " is not running",
                public_url=public_url,
                errcode=errcode,
            ),
            _(
                "start the bridge (it listens on {listen}); if it runs, make"
                " appservice.public_url an address the homeserver can reach",
                listen=listen,
            ),
        )
    if errcode == "M_BAD_STATUS":
        status = result.body.get("status") if isinstance(result.body, Mapping) else None
        return fail(
            name,
            _(
                "something at {public_url} answered the homeserver's ping with HTTP {status}",
                public_url=public_url,
                status=status,
            ),
            _(
                "if it is this bridge, its hs_token differs from the homeserver's registration:"
                " restart the homeserver after regenerating the registration"
            ),
        )
    return fail(
        name,
        f"ping answered HTTP {result.status} {errcode}".rstrip(),
        _("check that appservice.id matches the registration the homeserver loaded"),
    )


# -- Discord -------------------------------------------------------------------------


DISCORD_BASE_HINT = N_("check discord.api_base (normally https://discord.com/api/v10)")


def discord_me_check(result: HttpResult) -> Check:
    name = _("discord token")
    if result.status == 200 and isinstance(result.body, Mapping):
        who = result.body.get("username")
        return ok(name, _("accepted: logged in as {who} ({id})", who=who, id=result.body.get("id")))
    if result.status == 401:
        return fail(name, _("token rejected (HTTP 401)"), _(TOKEN_HINT))
    return fail(
        name, _("GET /users/@me answered HTTP {status}", status=result.status), _(DISCORD_BASE_HINT)
    )


def guild_check(result: HttpResult, guild_id: int, bot_id: str | None) -> Check:
    name = _("discord guild")
    if result.status != 200 or not isinstance(result.body, list):
        return fail(
            name,
            _("GET /users/@me/guilds answered HTTP {status}", status=result.status),
            _(DISCORD_BASE_HINT),
        )
    for guild in result.body:
        if isinstance(guild, Mapping) and str(guild.get("id")) == str(guild_id):
            return ok(
                name,
                _("the bot is in {name} ({guild_id})", name=guild.get("name"), guild_id=guild_id),
            )
    invite = (
        f"https://discord.com/oauth2/authorize?client_id={bot_id}&scope=bot"
        if bot_id
        else "your application's OAuth2 URL with scope=bot"
    )
    return fail(
        name,
        _("the bot is not in guild {guild_id} (discord.guilds)", guild_id=guild_id),
        _("invite it with {invite}, or fix the guild's id in discord.guilds", invite=invite),
    )


def channel_check(key: str, channel_id: int, guild_id: int, result: HttpResult) -> Check:
    name = _("discord channel {channel_id}", channel_id=channel_id)
    body = result.body if isinstance(result.body, Mapping) else {}
    if result.status == 200:
        if str(body.get("guild_id")) != str(guild_id):
            return fail(
                name,
                _(
                    "belongs to guild {guild_id}, not {guild_id2}",
                    guild_id=body.get("guild_id"),
                    guild_id2=guild_id,
                ),
                _("fix {key}: use a channel of the configured guild", key=key),
            )
        if body.get("type") not in TEXT_CHANNEL_TYPES:
            return fail(
                name,
                _(
                    "cannot be bridged (type {type}): text, announcement, forum, media, voice"
                    " and stage channels can",
                    type=body.get("type"),
                ),
                _("fix {key}", key=key),
            )
        return ok(name, _("#{name} exists", name=body.get("name")))
    if result.status == 404:
        return fail(name, _("does not exist (404 Unknown Channel)"), _("fix {key}", key=key))
    if result.status == 403:
        return fail(
            name,
            _("the bot may not see it (403 Missing Access)"),
            _("give the bot's role View Channel on it in Discord"),
        )
    return fail(
        name,
        _(
            "GET /channels/{channel_id} answered HTTP {status}",
            channel_id=channel_id,
            status=result.status,
        ),
        _("check {key}", key=key),
    )


def configured_channels(config: Config, guild_id: int) -> list[tuple[str, int]]:
    """(config key, channel ID) of every channel of ``guild_id`` the bridge uses."""
    channels: list[tuple[str, int]] = []
    for index, guild in enumerate(config.discord.guilds):
        if guild.id != guild_id:
            continue
        key = f"discord.guilds[{index}]"
        channels += [
            (f"{key}.channels[{i}].discord_channel", int(chan.discord_channel))
            for i, chan in enumerate(guild.channels)
        ]
        if guild.mod_channel is not None:
            channels.append((f"{key}.mod_channel", int(guild.mod_channel)))
    return channels
