"""A throwaway Synapse homeserver on 127.0.0.1, for tests, the sandbox and benchmarks.

Everything lives in one working directory: the generated ``homeserver.yaml``, a
signing key, a SQLite database, the media store and Synapse's log. Synapse runs
as a child process (``python -m synapse.app.homeserver``) with the interpreter
running us, so it must be installed in the same environment (the ``dev`` extra).

The configuration is tuned for tests: nothing reaches the network (no key
servers, no URL previews, no phone-home stats), presence is off and every rate
limit is raised far beyond what a test can hit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import signal
import socket
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import yaml

from sandbox.procs import die_with_parent

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
LOG_TAIL_LINES = 25

# Rate limits high enough that no test is ever throttled.
_UNLIMITED = {"per_second": 100_000, "burst_count": 1_000_000}
_RATE_LIMIT_KEYS = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_admin_redaction",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
)


class SynapseError(RuntimeError):
    """Synapse failed to start, died, or refused a request."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _random_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def _signing_key_line() -> str:
    """One Ed25519 signing key in Synapse's key file format.

    The file holds ``<algorithm> <version> <unpadded base64 seed>``; an Ed25519
    private key is just a 32-byte random seed, so no key library is needed.
    """
    alphabet = string.ascii_letters + string.digits
    version = "a_" + "".join(secrets.choice(alphabet) for _ in range(4))
    seed = base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return f"ed25519 {version} {seed}\n"


def rate_limits() -> dict[str, Any]:
    """Every rate-limit setting this Synapse version reads, raised out of reach."""
    config: dict[str, Any] = {}
    for key in _RATE_LIMIT_KEYS:
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = dict(_UNLIMITED)
    config["rc_federation"] = {
        "window_size": 1000,
        "sleep_limit": 100_000,
        "sleep_delay": 1,
        "reject_limit": 100_000,
        "concurrent": 1000,
    }
    config["federation_rr_transactions_per_room_per_second"] = 100_000
    config["remote_media_download_per_second"] = "1G"
    config["remote_media_download_burst_count"] = "10G"
    return config


def _log_config(log_file: Path, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "handlers": {
            "file": {
                # Unbuffered, so the tail is complete when start-up fails.
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(log_file),
                "encoding": "utf8",
            }
        },
        # Never DEBUG here: Synapse would log access tokens.
        "loggers": {
            "synapse.storage.SQL": {"level": "INFO"},
            # Appservice pushes, recoverers and pings: what the fault tests need to see.
            "synapse.appservice": {"level": "INFO"},
            "synapse.handlers.appservice": {"level": "INFO"},
        },
        "root": {"level": level.upper(), "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


@dataclass(kw_only=True)
class SynapseOptions:
    server_name: str = "localhost"
    port: int = 0  # 0: pick a free port
    registration_files: list[Path] = field(default_factory=list)
    workdir: Path
    log_level: str = "WARNING"
    # A CAS server (sandbox/cas.py): Synapse then offers SSO too, and creates an account
    # on a first SSO login. Browsers coming back to a URL starting with one of
    # ``sso_client_whitelist`` skip Synapse's "continue to ..." confirmation.
    cas_server_url: str | None = None
    sso_client_whitelist: list[str] = field(default_factory=list)


def homeserver_config(
    opts: SynapseOptions, port: int, workdir: Path, shared_secret: str
) -> dict[str, Any]:
    """The homeserver.yaml contents for a test homeserver listening on 127.0.0.1:port."""
    base_url = f"http://127.0.0.1:{port}/"
    return {
        "server_name": opts.server_name,
        "public_baseurl": base_url,
        "pid_file": str(workdir / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {
            "name": "sqlite3",
            "args": {"database": str(workdir / "homeserver.db")},
        },
        "log_config": str(workdir / "log.config.yaml"),
        "media_store_path": str(workdir / "media_store"),
        "signing_key_path": str(workdir / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": _random_secret(),
        "form_secret": _random_secret(),
        # Registration only with a single-use token an admin made (the members' page's
        # registration_token mode); nobody can register without one.
        "enable_registration": True,
        "registration_requires_token": True,
        "report_stats": False,
        "enable_metrics": False,
        "suppress_key_server_warning": True,
        "trusted_key_servers": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "enable_authenticated_media": True,
        "max_upload_size": "100M",
        # A test homeserver: cheap password hashes (registrations and logins of the
        # tests' many accounts, such as the raid test's, cost ~2 ms instead of ~250 ms).
        "bcrypt_rounds": 4,
        "app_service_config_files": [str(Path(p).resolve()) for p in opts.registration_files],
        **rate_limits(),
        **_sso(opts),
    }


def _sso(opts: SynapseOptions) -> dict[str, Any]:
    if opts.cas_server_url is None:
        return {}
    return {
        "cas_config": {
            "enabled": True,
            "server_url": opts.cas_server_url,
            "displayname_attribute": "displayName",
        },
        "sso": {"client_whitelist": list(opts.sso_client_whitelist)},
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tail(path: Path, start: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a file, ignoring what was written before offset ``start``."""
    try:
        with path.open("rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Synapse:
    """One Synapse child process. Use ``start_synapse`` or ``async with``."""

    def __init__(self, opts: SynapseOptions) -> None:
        self.opts = opts
        self.workdir = Path(opts.workdir).resolve()
        self.server_name = opts.server_name
        self.port = opts.port
        self.url = ""
        self.registration_shared_secret = ""
        self.startup_seconds: float | None = None
        self._process: asyncio.subprocess.Process | None = None
        # Where this run's output starts in the log files (they grow across restarts).
        self._log_offsets: dict[Path, int] = {}

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def config_path(self) -> Path:
        return self.workdir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "homeserver.log"

    @property
    def output_path(self) -> Path:
        """Synapse's stdout and stderr (tracebacks before logging is set up land here)."""
        return self.workdir / "synapse.out"

    def _check_registrations(self) -> None:
        for registration in self.opts.registration_files:
            if not Path(registration).is_file():
                raise SynapseError(f"appservice registration file not found: {registration}")

    def _write_config(self, port: int) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        key_path = self.workdir / "signing.key"
        if not key_path.exists():  # keep the key across restarts on the same workdir
            key_path.write_text(_signing_key_line(), encoding="ascii")
            key_path.chmod(0o600)
        (self.workdir / "media_store").mkdir(exist_ok=True)
        (self.workdir / "log.config.yaml").write_text(
            yaml.safe_dump(_log_config(self.log_path, self.opts.log_level), sort_keys=False),
            encoding="utf-8",
        )
        self.registration_shared_secret = _random_secret()
        config = homeserver_config(self.opts, port, self.workdir, self.registration_shared_secret)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.config_path.chmod(0o600)

    def _failure(self, what: str) -> SynapseError:
        parts = [f"Synapse {what} (workdir {self.workdir})"]
        for path in (self.output_path, self.log_path):
            tail = _tail(path, self._log_offsets.get(path, 0))
            if tail:
                parts.append(f"--- tail of {path.name} ---\n{tail}")
        return SynapseError("\n".join(parts))

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        if self.running:
            raise SynapseError("Synapse is already running")
        self._check_registrations()
        attempts = 1 if self.opts.port else 3  # a picked port can be taken in between
        for attempt in range(1, attempts + 1):
            port = self.opts.port or free_port()
            try:
                await self._start_on(port, timeout)
                return
            except SynapseError:
                in_use = any(
                    "Address already in use" in _tail(path, offset)
                    for path, offset in self._log_offsets.items()
                )
                if attempt == attempts or not in_use:
                    raise
                log.info("synapse_port_taken port=%d attempt=%d", port, attempt)

    async def _start_on(self, port: int, timeout: float) -> None:
        self._write_config(port)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log_offsets = {path: _size(path) for path in (self.output_path, self.log_path)}
        began = time.monotonic()
        with self.output_path.open("ab") as out:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "synapse.app.homeserver",
                "--config-path",
                str(self.config_path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                cwd=str(self.workdir),
                # SIGTERM when the sandbox dies, even by SIGKILL: no orphan on the port.
                preexec_fn=die_with_parent(),
            )
        try:
            await self._wait_ready(began + timeout)
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        log.info(
            "synapse_started url=%s pid=%s seconds=%.2f",
            self.url,
            self.pid,
            self.startup_seconds,
        )

    async def _wait_ready(self, deadline: float) -> None:
        assert self._process is not None
        versions = f"{self.url}/_matrix/client/versions"
        client_timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            while True:
                if self._process.returncode is not None:
                    raise self._failure(f"exited with code {self._process.returncode}")
                try:
                    async with session.get(versions) as resp:
                        if resp.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise self._failure(f"did not answer {versions} in time")
                await asyncio.sleep(0.05)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL if Synapse has not exited after ``timeout`` seconds."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                log.warning("synapse_kill pid=%d reason=no_exit_after_sigterm", process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self._process = None
        log.info("synapse_stopped pid=%d code=%s", process.pid, process.returncode)

    async def register_user(
        self,
        localpart: str,
        password: str,
        admin: bool = False,
        displayname: str | None = None,
    ) -> tuple[str, str]:
        """Register through the shared-secret admin API; returns (user_id, access_token)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.get(endpoint) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise SynapseError(f"register nonce: HTTP {resp.status} {body}")
                nonce = str(body["nonce"])
            mac = hmac.new(self.registration_shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
            for i, part in enumerate(
                (nonce, localpart, password, "admin" if admin else "notadmin")
            ):
                if i:
                    mac.update(b"\x00")
                mac.update(part.encode("utf-8"))
            request: dict[str, Any] = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            }
            if displayname is not None:
                request["displayname"] = displayname
            async with session.post(endpoint, json=request) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise SynapseError(f"register {localpart}: HTTP {resp.status} {body}")
        log.info("synapse_user_registered user_id=%s admin=%s", body["user_id"], admin)
        return str(body["user_id"]), str(body["access_token"])

    async def login(self, localpart: str, password: str) -> tuple[str, str]:
        """Log in with a password; returns (user_id, access_token)."""
        endpoint = f"{self.url}/_matrix/client/v3/login"
        request = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": password,
        }
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(endpoint, json=request) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise SynapseError(f"login {localpart}: HTTP {resp.status} {body}")
        return str(body["user_id"]), str(body["access_token"])

    async def register_or_login(self, localpart: str, password: str) -> tuple[str, str]:
        """Register a user, or log in when it exists already (a restart on the same
        directory); returns (user_id, access_token)."""
        try:
            return await self.register_user(localpart, password)
        except SynapseError as exc:
            if "M_USER_IN_USE" not in str(exc):
                raise
        log.info("synapse_user_exists localpart=%s action=login", localpart)
        return await self.login(localpart, password)

    async def __aenter__(self) -> Synapse:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def start_synapse(opts: SynapseOptions) -> Synapse:
    """Start a Synapse and return it once its client API answers."""
    synapse = Synapse(opts)
    await synapse.start()
    return synapse
