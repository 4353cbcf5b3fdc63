"""The stack the benchmarks run against: emulator + Synapse + the bridge as a subprocess.

``sandbox.stack.SandboxStack`` runs the bridge inside the test process; here the
bridge runs as its own process (``python -m bridge run -c <workdir>/config.yaml``,
exactly as deployed) so that its memory and CPU can be read from /proc and the
load generators and observers (which share the benchmark process with the
emulator) do not steal its event loop. The config is the sandbox's own
(``sandbox.stack.bridge_config_data``), with flood protection opened up.

Rate limits: the emulator's Discord-like buckets (``sandbox/discord/ratelimit.py``)
are switched by ``Emulator(rate_limits=True)``, which ``StackOptions`` does not
expose; the benchmark builds the emulator itself and installs a
:class:`BenchLimiter`, which enforces them for the bridge's bot and webhooks but
not for the load generators' user tokens: on Discord every human has buckets of
their own, while the emulator keys buckets by route and channel only, so a
single load user would otherwise be throttled as if it were the whole crowd.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import asyncpg
import yaml
from aiohttp import web

from bench.common import CpuMeter, Pids
from bench.seeds import user_token
from bridge.config import Config, parse_config
from bridge.registration import build_registration, load_tokens, write_registration
from sandbox.bridge_process import BridgeProcess
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.ratelimit import GENEROUS, RateLimiter, Verdict
from sandbox.discord.server import Emulator
from sandbox.postgres import (
    admin_dsn_or_default,
    create_database,
    drop_database,
    dsn_with_database,
    quote_ident,
)
from sandbox.stack import SERVER_NAME, StackOptions, bridge_config_data, free_port
from sandbox.synapse import Synapse, SynapseOptions, start_synapse

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MATRIX_USER = ("mara", "bench-password")
LOG_TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


@dataclass
class BenchLimiter(RateLimiter):
    """The emulator's limiter, with some users (the load generators) never limited."""

    exempt: set[str] = field(default_factory=set)

    def check(
        self, method: str, template: str, params: dict[str, str], user_key: str | None
    ) -> Verdict:
        if user_key is not None and user_key in self.exempt:
            return Verdict(
                {
                    "X-RateLimit-Limit": str(GENEROUS.requests),
                    "X-RateLimit-Remaining": str(GENEROUS.requests - 1),
                    "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                    "X-RateLimit-Reset-After": "1.000",
                    "X-RateLimit-Bucket": self.bucket_hash(method, template),
                }
            )
        return super().check(method, template, params, user_key)


class PostgresSynapse(Synapse):
    """The sandbox's Synapse, on a PostgreSQL database instead of SQLite (as deployed).

    Needs psycopg2 importable by this interpreter (``pip install psycopg2-binary``,
    or a directory holding it on PYTHONPATH): it is not one of the project's deps."""

    def __init__(self, opts: SynapseOptions, dsn: str) -> None:
        super().__init__(opts)
        self.dsn = dsn

    def _write_config(self, port: int) -> None:
        super()._write_config(port)
        config = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        url = urlsplit(self.dsn)
        args: dict[str, Any] = {
            "user": url.username or "postgres",
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 5432,
            "database": url.path.lstrip("/"),
            "cp_min": 5,
            "cp_max": 10,
        }
        if url.password:
            args["password"] = url.password
        config["database"] = {"name": "psycopg2", "args": args}
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def psycopg2_missing() -> str | None:
    """Why Synapse could not use PostgreSQL here, or None."""
    probe = subprocess.run(
        [sys.executable, "-c", "import psycopg2"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return None
    return (
        "Synapse on PostgreSQL needs psycopg2, which is not installed: "
        "`.venv/bin/pip install psycopg2-binary` (or put a directory holding it on "
        "PYTHONPATH), or use --synapse-db sqlite"
    )


async def create_synapse_database() -> str:
    """A fresh database Synapse accepts (UTF8, C collation)."""
    admin = admin_dsn_or_default()
    name = f"passerelle_bench_synapse_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(
            f"CREATE DATABASE {quote_ident(name)} ENCODING 'UTF8' LC_COLLATE 'C' "
            "LC_CTYPE 'C' TEMPLATE template0"
        )
    finally:
        await conn.close()
    return dsn_with_database(admin, name)


def log_phases(text: str, spawned_epoch: float, markers: list[str]) -> dict[str, float]:
    """Seconds from the spawn to the first (and, for ``portal.created``, last) log line
    holding each marker."""
    found: dict[str, float] = {}
    for raw in text.splitlines():
        m = LOG_TIME_RE.match(raw)
        if not m:
            continue
        for marker in markers:
            if marker in raw:
                at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                key = marker
                if marker in found and marker == "portal.created":
                    key = "portal.created(last)"
                found[key] = at - spawned_epoch
    return found


class BenchStack:
    """Emulator (in this process) + Synapse + bridge (subprocesses) on a fresh database."""

    def __init__(
        self,
        workdir: Path,
        seed: dict[str, Any],
        *,
        database: str = "postgres",
        synapse_db: str = "sqlite",
        bridge_log_level: str = "INFO",
        profile: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.seed = seed
        self.database = database
        self.synapse_db = synapse_db
        self.synapse_dsn = ""
        self.bridge_log_level = bridge_log_level
        self.profile = profile
        self.database_url = ""
        self.emulator: Emulator | None = None
        self.synapse: Synapse | None = None
        self.limiter = BenchLimiter(enforce=False)
        self.config: Config | None = None
        self.config_data: dict[str, Any] = {}
        self.as_token = ""
        self.matrix_user_id = ""
        self.matrix_token = ""
        self.run: BridgeProcess | None = None  # set while the bridge runs
        self._process: BridgeProcess | None = None

    # -- lifecycle -----------------------------------------------------------

    async def start(self, *, start_bridge: bool = True) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.database == "postgres":
            self.database_url = await create_database(prefix="passerelle_bench")
        else:
            self.database_url = f"sqlite:///{self.workdir / 'passerelle.db'}"
        self.emulator = Emulator(self.seed, validate_responses=False)
        self.limiter.exempt = {u["id"] for u in self.seed["users"] if not u.get("bot")}
        self.emulator.ctx.limiter = self.limiter
        await self.emulator.start()
        as_port = free_port()
        synapse_port = free_port()
        opts = StackOptions(
            workdir=self.workdir,
            database_url=self.database_url,
            seed=self.seed,
            log_level=self.bridge_log_level,
        )
        data = bridge_config_data(
            opts, self.seed, f"http://127.0.0.1:{synapse_port}", self.emulator.api_base, as_port
        )
        # Flood protection is per Matrix sender; the benchmark's one sender must not hit it.
        data["bridge"]["sender_burst"] = 10_000
        data["bridge"]["sender_per_seconds"] = 1
        # Nor any other protection (the seed's members all joined at start: newcomers).
        data["moderation"]["protections"] = {
            name: {"enabled": False} for name in ("mentions", "newcomers", "repeats")
        }
        self.config_data = data
        self.config = parse_config(data, self.workdir / "config.yaml")
        registration = self.config.appservice.registration
        write_registration(build_registration(self.config), registration)
        self.as_token = load_tokens(self.config).as_token
        synapse_opts = SynapseOptions(
            server_name=SERVER_NAME,
            port=synapse_port,
            registration_files=[registration],
            workdir=self.workdir / "synapse",
        )
        if self.synapse_db == "postgres":
            missing = psycopg2_missing()
            if missing:
                raise RuntimeError(missing)
            self.synapse_dsn = await create_synapse_database()
            self.synapse = PostgresSynapse(synapse_opts, self.synapse_dsn)
            await self.synapse.start()
        else:
            self.synapse = await start_synapse(synapse_opts)
        self.matrix_user_id, self.matrix_token = await self.synapse.register_user(*MATRIX_USER)
        if start_bridge:
            await self.start_bridge()

    def write_config(self, homeserver_url: str | None = None) -> Path:
        data = json.loads(json.dumps(self.config_data))
        if homeserver_url is not None:
            data["homeserver"]["url"] = homeserver_url
        path = self.workdir / "config.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        path.chmod(0o600)
        return path

    async def start_bridge(
        self, homeserver_url: str | None = None, timeout: float = 900
    ) -> BridgeProcess:
        """Spawn ``python -m bridge run`` and wait for its ``bridge.started`` line."""
        if self.run is not None:
            raise RuntimeError("bridge already running")
        config_path = self.write_config(homeserver_url)
        if self._process is None:
            self._process = BridgeProcess(config_path, self.workdir / "bridge.log")
        python_args: tuple[str, ...] = ()
        if self.profile is not None:
            prof = self.profile.with_suffix(f".{self._process.starts + 1}.prof")
            python_args = ("-m", "cProfile", "-o", str(prof))
        await self._process.start(timeout, python_args)
        self.run = self._process
        return self._process

    async def stop_bridge(self, timeout: float = 30) -> None:
        run, self.run = self.run, None
        if run is not None:
            await run.terminate(timeout)

    async def stop(self) -> None:
        await self.stop_bridge(timeout=10)
        if self.synapse is not None:
            await self.synapse.stop()
            self.synapse = None
        if self.emulator is not None:
            await self.emulator.stop()
            self.emulator = None
        if self.database == "postgres" and self.database_url:
            await drop_database(self.database_url)
            self.database_url = ""
        if self.synapse_dsn:
            await drop_database(self.synapse_dsn)
            self.synapse_dsn = ""

    async def __aenter__(self) -> BenchStack:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- facts -----------------------------------------------------------------

    @property
    def emu(self) -> Emulator:
        assert self.emulator is not None
        return self.emulator

    @property
    def hs_url(self) -> str:
        assert self.synapse is not None
        return self.synapse.url

    @property
    def pids(self) -> dict[str, Pids]:
        pids: dict[str, Pids] = {"bench": "self"}
        if self.run is not None and self.run.pid is not None:
            pids["bridge"] = self.run.pid
        if self.synapse is not None and self.synapse.pid is not None:
            pids["synapse"] = self.synapse.pid
        return pids

    async def meter(self) -> CpuMeter:
        """A CPU meter over the bridge, Synapse, this process and, on PostgreSQL, the
        server processes serving the bridge's database (its connection pool)."""
        pids = self.pids
        if self.database == "postgres":
            try:
                rows = await self._query(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                )
                if rows and os.path.exists(f"/proc/{rows[0][0]}"):  # noqa: ASYNC240
                    pids["bridge db"] = [int(r[0]) for r in rows]
            except Exception as exc:  # a server elsewhere: its processes are not ours to read
                log.info("no PostgreSQL backend pids: %s", exc)
        return CpuMeter(pids)

    def set_rate_limits(self, enforce: bool) -> None:
        self.limiter.enforce = enforce
        self.limiter._windows.clear()
        self.limiter._global.clear()

    def user(self, index: int) -> dict[str, Any]:
        token = user_token(index)
        return next(u for u in self.seed["users"] if u["token"] == token)

    def ghost(self, index: int) -> str:
        assert self.config is not None
        return str(self.config.namer.ghost_mxid(int(self.user(index)["id"])))  # type: ignore[arg-type]

    async def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.database == "postgres":
            conn = await asyncpg.connect(self.database_url)
            try:
                return [tuple(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()
        path = self.database_url.removeprefix("sqlite:///")
        sqlite_sql = re.sub(r"\$\d+", "?", sql)
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return list(conn.execute(sqlite_sql, args).fetchall())

    async def portals(self) -> dict[int, str]:
        """Discord channel ID -> Matrix room ID of every portal."""
        rows = await self._query("SELECT discord_channel_id, room_id FROM portal")
        return {int(c): str(r) for c, r in rows}

    async def webhook(self, channel: int) -> tuple[int, str] | None:
        rows = await self._query(
            "SELECT webhook_id, webhook_token FROM webhook WHERE discord_channel_id=$1", channel
        )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None


def new_workdir(root: Path | None, name: str) -> Path:
    base = root or Path(os.environ.get("TMPDIR", "/tmp"))
    path = base / f"passerelle-bench-{name}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True)
    return path


def remove_workdir(path: Path, keep: bool) -> None:
    if not keep:
        shutil.rmtree(path, ignore_errors=True)


# -- clients: raw senders and observers ---------------------------------------


def unique_text(tag: str, i: int) -> str:
    """Plain words only, so that no converter escapes or reformats them."""
    return f"bench {tag} {i}"


class Inbox:
    """Arrival times of messages by their text, with waiters."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}

    def record(self, key: str, at: float) -> None:
        if key in self.arrived:
            return
        self.arrived[key] = at
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(at)

    async def wait(self, key: str, timeout: float = 30) -> float:
        if key in self.arrived:
            return self.arrived[key]
        loop = asyncio.get_running_loop()
        waiter = self._waiters.setdefault(key, loop.create_future())
        return await asyncio.wait_for(asyncio.shield(waiter), timeout)

    async def wait_all(self, keys: list[str], timeout: float) -> int:
        """Wait until every key arrived or ``timeout`` passed; returns how many arrived."""
        deadline = time.perf_counter() + timeout
        for key in keys:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await self.wait(key, remaining)
        return sum(1 for k in keys if k in self.arrived)


SYNC_FILTER = json.dumps(
    {
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {
            "state": {"types": [], "lazy_load_members": True},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
            "timeline": {"types": ["m.room.message"], "limit": 1000},
        },
    },
    separators=(",", ":"),
)


class MatrixObserver:
    """A Matrix client's /sync loop: records when each message body is first seen."""

    def __init__(self, hs_url: str, token: str) -> None:
        self.hs_url = hs_url
        self.token = token
        self.inbox = Inbox()
        self.senders: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.syncs = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=120),
        )
        data = await self._sync(None, 0)
        self._task = asyncio.create_task(self._loop(data["next_batch"]), name="matrix-observer")

    async def _sync(self, since: str | None, timeout_ms: int) -> dict[str, Any]:
        assert self._session is not None
        params = {"timeout": str(timeout_ms), "filter": SYNC_FILTER}
        if since:
            params["since"] = since
        async with self._session.get(
            f"{self.hs_url}/_matrix/client/v3/sync", params=params
        ) as resp:
            resp.raise_for_status()
            data: dict[str, Any] = await resp.json()
            return data

    async def _loop(self, since: str) -> None:
        while True:
            try:
                data = await self._sync(since, 30_000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep observing; a benchmark reports what arrived
                log.warning("matrix observer sync failed: %s", exc)
                await asyncio.sleep(0.2)
                continue
            arrived = time.perf_counter()
            self.syncs += 1
            since = data["next_batch"]
            for room in data.get("rooms", {}).get("join", {}).values():
                for event in room.get("timeline", {}).get("events", []):
                    body = event.get("content", {}).get("body")
                    if isinstance(body, str):
                        self.senders.setdefault(body, event.get("sender", ""))
                        self.inbox.record(body, arrived)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()


class DiscordObserver:
    """An unmodified discord.py client (``sandbox.clients.DiscordUser``) whose
    MESSAGE_CREATEs are recorded by content."""

    def __init__(self, api_base: str, token: str) -> None:
        self.user = DiscordUser(api_base, token)
        self.inbox = Inbox()
        self.webhook_ids: dict[str, int | None] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.user.start()
        self._task = asyncio.create_task(self._drain(), name="discord-observer")

    async def _drain(self) -> None:
        while True:
            arrived, message = await self.user.messages.get()
            self.webhook_ids.setdefault(message.content, message.webhook_id)
            self.inbox.record(message.content, arrived)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.user.close()


class RawClients:
    """Light HTTP senders for load: no client library on the hot path."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=200),
        )

    async def close(self) -> None:
        await self.session.close()

    async def discord_post(self, user_index: int, channel: int, content: str) -> None:
        url = f"{self.stack.emu.api_base}/channels/{channel}/messages"
        headers = {"Authorization": user_token(user_index)}
        async with self.session.post(url, json={"content": content}, headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"discord post {resp.status}: {await resp.text()}")
            await resp.read()

    async def matrix_send(
        self,
        room: str,
        body: str,
        *,
        as_user: str | None = None,
        token: str | None = None,
        as_bridge: bool = False,
    ) -> None:
        """As the benchmark's Matrix user, or as ``as_user`` through the appservice token.

        ``as_bridge``: the request the bridge makes for a plain Discord message, the same
        content (``m.mentions``) and query (``ts``), so that only the bridge's own work
        differs. Synapse checks ``m.mentions`` with ``jsonschema.validate``, which checks
        the schema itself every time: about 1.2 ms per event here, Synapse's time."""
        txn = uuid.uuid4().hex
        url = (
            f"{self.stack.hs_url}/_matrix/client/v3/rooms/{quote(room, safe='')}"
            f"/send/m.room.message/{txn}"
        )
        params = {"user_id": as_user} if as_user else {}
        content: dict[str, object] = {"msgtype": "m.text", "body": body}
        if as_bridge:
            params["ts"] = str(int(time.time() * 1000))
            content["m.mentions"] = {}
        bearer = self.stack.as_token if as_user else (token or self.stack.matrix_token)
        async with self.session.put(
            url,
            json=content,
            params=params,
            headers={"Authorization": f"Bearer {bearer}"},
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"matrix send {resp.status}: {await resp.text()}")
            await resp.read()

    async def matrix_join(self, room: str) -> None:
        url = f"{self.stack.hs_url}/_matrix/client/v3/join/{quote(room, safe='')}"
        headers = {"Authorization": f"Bearer {self.stack.matrix_token}"}
        async with self.session.post(url, json={}, headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"join {room}: {resp.status} {await resp.text()}")
            await resp.read()

    async def webhook_execute(self, hook: tuple[int, str], content: str) -> None:
        url = f"{self.stack.emu.api_base}/webhooks/{hook[0]}/{hook[1]}"
        # As the bridge sends a plain Matrix message: nobody may be pinged.
        body = {"content": content, "username": "bare path", "allowed_mentions": {"parse": []}}
        async with self.session.post(url, params={"wait": "true"}, json=body) as resp:
            if resp.status != 200:
                raise RuntimeError(f"webhook execute {resp.status}: {await resp.text()}")
            await resp.read()


async def bounded(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> list[float]:
    """Run the jobs with at most ``concurrency`` in flight; returns each job's end time."""
    sem = asyncio.Semaphore(concurrency)
    ends: list[float] = [0.0] * len(jobs)

    async def one(i: int, job: Callable[[], Awaitable[None]]) -> None:
        async with sem:
            await job()
            ends[i] = time.perf_counter()

    await asyncio.gather(*(one(i, job) for i, job in enumerate(jobs)))
    return ends


# -- a slow homeserver path for one room, for the d2m head-of-line check --------


class SlowProxy:
    """A reverse proxy in front of Synapse that delays requests whose path holds one
    of ``delays``' keys (e.g. a room ID) by that many seconds."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.delays: dict[str, float] = {}
        self.delayed = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=300), auto_decompress=False
        )
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        raw_path = request.raw_path
        for key, delay in list(self.delays.items()):
            if key in raw_path or quote(key, safe="") in raw_path:
                self.delayed += 1
                await asyncio.sleep(delay)
                break
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        async with self._session.request(
            request.method, self.target + raw_path, data=body or None, headers=headers
        ) as upstream:
            payload = await upstream.read()
            out = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            }
            return web.Response(status=upstream.status, body=payload, headers=out)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()


class BenchClients:
    """What a benchmark talks through: the Matrix user (a mautrix client) and a Discord
    user (discord.py) for sending, their observers, raw HTTP senders for load."""

    def __init__(self, stack: BenchStack, channels: list[int]) -> None:
        self.stack = stack
        self.channels = channels
        self.rooms: dict[int, str] = {}
        self.raw = RawClients(stack)
        self.matrix = MatrixUser(stack.hs_url, stack.matrix_user_id, stack.matrix_token)
        self.mobs = MatrixObserver(stack.hs_url, stack.matrix_token)
        self.dobs = DiscordObserver(stack.emu.api_base, user_token(0))

    @property
    def discord(self) -> DiscordUser:
        return self.dobs.user

    async def start(self, warm_up: bool = True) -> None:
        portals = await self.stack.portals()
        missing = [c for c in self.channels if c not in portals]
        if missing:
            raise RuntimeError(f"no portal for {len(missing)} channels, e.g. {missing[0]}")
        self.rooms = {c: portals[c] for c in self.channels}
        for room in self.rooms.values():
            await self.raw.matrix_join(room)
        await self.mobs.start()
        await self.dobs.start()
        if warm_up:
            await self.warm_up()

    async def warm_up(self) -> None:
        """One message each way per channel: the ghost joins, the webhook is made."""
        tag = uuid.uuid4().hex[:6]
        keys_m, keys_d = [], []
        for i, channel in enumerate(self.channels):
            d2m, m2d = unique_text(f"warm{tag}d", i), unique_text(f"warm{tag}m", i)
            await self.raw.discord_post(0, channel, d2m)
            await self.raw.matrix_send(self.rooms[channel], m2d)
            keys_m.append(d2m)
            keys_d.append(m2d)
        got_m = await self.mobs.inbox.wait_all(keys_m, 60 + len(keys_m))
        got_d = await self.dobs.inbox.wait_all(keys_d, 60 + len(keys_d))
        if got_m < len(keys_m) or got_d < len(keys_d):
            raise RuntimeError(
                f"warm-up: only {got_m}/{len(keys_m)} d2m and {got_d}/{len(keys_d)} m2d arrived"
            )

    async def close(self) -> None:
        await self.dobs.close()
        await self.mobs.close()
        await self.matrix.close()
        await self.raw.close()
