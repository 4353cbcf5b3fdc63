"""The whole sandbox stack in one process: emulator + Synapse + bridge.

Used by `python -m sandbox up`, by the end-to-end test fixtures and by the
benchmarks, so all three run exactly the same wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bridge.app import Bridge
from bridge.config import Config, parse_config
from bridge.registration import Tokens, build_registration, load_tokens, write_registration
from bridge.transport.discord_endpoints import Endpoints, current_endpoints, restore_endpoints
from sandbox.bridge_process import BridgeProcess
from sandbox.cas import CasServer
from sandbox.discord.persist import load_state, save_state
from sandbox.discord.server import Emulator, load_seed
from sandbox.synapse import Synapse, SynapseOptions, start_synapse

log = logging.getLogger(__name__)

DEMO_SEED = Path(__file__).parent / "discord" / "demo_seed.yaml"
# A text channel with this name is the moderators' channel, not a bridged one.
MOD_CHANNEL_NAME = "moderators"
SERVER_NAME = "localhost"
SAVE_EVERY = 2.0  # seconds between saves of the emulator's state (a SIGKILL loses less)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StackOptions:
    workdir: Path
    database_url: str | None = None  # None: SQLite file in workdir
    seed: Path | dict[str, Any] = DEMO_SEED
    synapse_port: int = 0
    discord_port: int = 0
    appservice_port: int = 0
    auto_invite: list[str] = field(default_factory=list)
    validate_responses: bool = True
    log_level: str = "INFO"
    # Matrix users registered before the bridge starts: (localpart, password). They are
    # invited to every portal room the bridge creates.
    matrix_users: list[tuple[str, str]] = field(default_factory=list)
    # Matrix moderators (config moderation.moderators), invited to the moderators' room.
    moderators: list[str] = field(default_factory=list)
    # Matrix users who are verified members without a Discord link (members.allowlist).
    members_allowlist: list[str] = field(default_factory=list)
    # Flood protection burst (bridge.sender_burst); None keeps the bridge's default.
    sender_burst: int | None = None
    # Run the bridge as a child process (`python -m bridge run`), e.g. to SIGKILL it.
    bridge_subprocess: bool = False
    # The members' page (bridge.web): its port (0: a free one); None: no page.
    web_port: int | None = 0
    # How the members' page creates accounts: "synapse_shared_secret" or
    # "registration_token" (single-use tokens made with an admin account's token).
    web_registration: str = "synapse_shared_secret"
    # A sandbox CAS server (sandbox/cas.py) as the homeserver's SSO, besides passwords.
    sso: bool = False
    # Where the emulator's state is saved (every few seconds and at stop) and loaded
    # from at start, so a restart keeps the Discord side; None: memory only.
    emulator_state: Path | None = None
    # Config keys laid over the generated config (nested dicts merged key by key), e.g.
    # {"moderation": {"protections": {...}}} for a test that needs other thresholds.
    config_overrides: dict[str, Any] = field(default_factory=dict)


# Text, forum, media and voice channels (listed for the first guild).
BRIDGED_TYPES = (0, 15, 16, 2, 13)


def _guild_config(guild: dict[str, Any], first: bool) -> dict[str, Any]:
    """One entry of ``discord.guilds`` for a seed guild. The first guild lists its text,
    forum and media channels one by one (public unless @everyone cannot view them); the
    others are bridged whole (``all_channels: public``: members-only where Discord hides
    them).
    A text channel named ``moderators`` is the guild's moderators' channel."""
    entry: dict[str, Any] = {"id": str(guild["id"])}
    channels = []
    for chan in guild.get("channels", []):
        if int(chan.get("type", 0)) not in BRIDGED_TYPES:
            continue
        if chan["name"] == MOD_CHANNEL_NAME:  # commands and the log, never bridged
            entry["mod_channel"] = str(chan["id"])
            continue
        hidden = any(
            str(ow.get("id")) == str(guild["id"]) and int(ow.get("deny", "0")) & 1024
            for ow in chan.get("permission_overwrites", [])
        )
        channels.append(
            {
                "discord_channel": str(chan["id"]),
                "matrix_room": "create",
                "access": "members_only" if hidden else "public",
            }
        )
    if first:
        entry["channels"] = channels
    else:
        entry["all_channels"] = "public"
    # Verified members: the guild's "Member" role (and the test users, see SandboxStack).
    entry["member_roles"] = [str(r["id"]) for r in guild.get("roles", []) if r["name"] == "Member"]
    return entry


def bridge_config_data(
    opts: StackOptions,
    seed: dict[str, Any],
    synapse_url: str,
    api_base: str,
    as_port: int,
) -> dict[str, Any]:
    """The bridge config the sandbox runs with: every guild of the seed (see
    :func:`_guild_config`)."""
    bot = next(u for u in seed["users"] if u.get("bot"))
    guilds = [_guild_config(g, index == 0) for index, g in enumerate(seed["guilds"])]
    db_url = opts.database_url or f"sqlite:///{opts.workdir / 'passerelle.db'}"
    return {
        "homeserver": {"url": synapse_url, "server_name": SERVER_NAME},
        "appservice": {
            "id": "passerelle",
            "listen_host": "127.0.0.1",
            "listen_port": as_port,
            "public_url": f"http://127.0.0.1:{as_port}",
            "registration": str(opts.workdir / "registration.yaml"),
            "bot_localpart": "passerelle",
            "bot_displayname": "Passerelle",
        },
        "database": {"url": db_url},
        "discord": {"token": bot["token"], "api_base": api_base, "guilds": guilds},
        "bridge": {
            "auto_invite": list(opts.auto_invite),
            # The bridge serves signed media links (webhook avatars, big files) itself.
            "public_media_url": f"http://127.0.0.1:{as_port}",
            "spaces": {"party_name": "Le Parti"},
            **({"sender_burst": opts.sender_burst} if opts.sender_burst else {}),
        },
        "members": {"allowlist": list(opts.members_allowlist)},
        "moderation": {
            "moderators": list(opts.moderators),
        },
        # A bridge process logs to its own file, and BridgeProcess waits for its INFO
        # "bridge.started" line: never quieter than INFO there.
        "logging": {"level": "INFO" if opts.bridge_subprocess else opts.log_level},
    }


def merge_config(data: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Lay ``overrides`` over ``data`` in place: nested dicts merged key by key, any other
    value replacing the one there."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            merge_config(data[key], value)
        else:
            data[key] = value


def web_config_data(seed: dict[str, Any], port: int, client_secret: str) -> dict[str, Any]:
    """The ``web:`` section: the members' page on 127.0.0.1:port, logging in with the
    emulator's OAuth2 (the seed application is the client). Account creation is
    switched on once Synapse's registration secret is known (:meth:`SandboxStack.start`)."""
    app_id = (seed.get("application") or {}).get("id") or next(
        u["id"] for u in seed["users"] if u.get("bot")
    )
    return {
        "listen_host": "127.0.0.1",
        "listen_port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "session_secret": secrets.token_hex(32),
        "discord_client_id": str(app_id),
        "discord_client_secret": client_secret,
        "registration": "disabled",
    }


WEB_ADMIN = "passerelle-web-admin"


async def web_registration(synapse: Synapse, mode: str) -> dict[str, str]:
    """The ``web:`` keys of a registration ``mode``: the shared secret, or an admin
    account's token for making single-use registration tokens."""
    if mode == "synapse_shared_secret":
        return {
            "registration": mode,
            "registration_shared_secret": synapse.registration_shared_secret,
        }
    if mode == "registration_token":
        localpart = f"{WEB_ADMIN}-{secrets.token_hex(3)}"
        _, token = await synapse.register_user(localpart, secrets.token_hex(16), admin=True)
        return {"registration": mode, "registration_admin_token": token}
    raise ValueError(f"unknown web registration mode: {mode}")


class SandboxStack:
    """Start with :meth:`start`, stop with :meth:`stop` (or ``async with``)."""

    def __init__(self, opts: StackOptions) -> None:
        self.opts = opts
        self.seed: dict[str, Any] = (
            opts.seed if isinstance(opts.seed, dict) else load_seed(Path(opts.seed))
        )
        self.emulator: Emulator | None = None
        self._endpoints: Endpoints | None = None  # discord.py's, as they were before start
        self.cas: CasServer | None = None
        self.synapse: Synapse | None = None
        self.bridge: Bridge | None = None
        self.bridge_process: BridgeProcess | None = None
        self.config: Config | None = None
        self.tokens: Tokens | None = None
        # user_id -> access token of the registered Matrix test users
        self.matrix_tokens: dict[str, str] = {}
        self.emulator_state_loaded = False
        self._saver: asyncio.Task[None] | None = None

    async def _save_periodically(self, every: float = SAVE_EVERY) -> None:
        assert self.opts.emulator_state is not None
        while True:
            await asyncio.sleep(every)
            if self.emulator is not None:
                save_state(self.emulator.state, self.opts.emulator_state)

    def save_emulator_state(self) -> None:
        if self.opts.emulator_state is not None and self.emulator is not None:
            save_state(self.emulator.state, self.opts.emulator_state)

    async def start(self) -> None:
        self._endpoints = current_endpoints()
        workdir = self.opts.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.emulator = Emulator(self.seed, validate_responses=self.opts.validate_responses)
        if self.opts.emulator_state is not None:
            self.emulator_state_loaded = load_state(self.emulator.state, self.opts.emulator_state)
            self._saver = asyncio.create_task(self._save_periodically(), name="emulator-saver")
        await self.emulator.start(port=self.opts.discord_port)
        as_port = self.opts.appservice_port or free_port()
        synapse_port = self.opts.synapse_port or free_port()
        invites = [f"@{local}:{SERVER_NAME}" for local, _ in self.opts.matrix_users]
        data = bridge_config_data(
            self.opts,
            self.seed,
            f"http://127.0.0.1:{synapse_port}",
            self.emulator.api_base,
            as_port,
        )
        data["bridge"]["auto_invite"] = [*data["bridge"]["auto_invite"], *invites]
        merge_config(data, self.opts.config_overrides)
        if self.opts.web_port is not None:
            web_port = self.opts.web_port or free_port()
            oauth2 = self.emulator.oauth2
            data["web"] = web_config_data(self.seed, web_port, oauth2.client_secret)
            oauth2.client_id = data["web"]["discord_client_id"]
            oauth2.redirect_uris.add(f"http://127.0.0.1:{web_port}/callback")
        config_path = workdir / "config.yaml"
        config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        config_path.chmod(0o600)  # it holds the bot token
        self.config = parse_config(data, config_path)
        registration = self.config.appservice.registration
        # Kept across restarts on one directory (same tokens), with this run's ports.
        previous = load_tokens(self.config) if registration.exists() else None
        write_registration(build_registration(self.config, previous), registration)
        self.tokens = load_tokens(self.config)
        if self.opts.sso:
            self.cas = CasServer()
            await self.cas.start()
        self.synapse = await start_synapse(
            SynapseOptions(
                server_name=SERVER_NAME,
                port=synapse_port,
                registration_files=[registration],
                workdir=workdir / "synapse",
                cas_server_url=self.cas.url if self.cas is not None else None,
                # The sandbox's members' pages (all on 127.0.0.1) come back from SSO
                # without Synapse's "continue to ..." confirmation.
                sso_client_whitelist=["http://127.0.0.1:"],
            )
        )
        for localpart, password in self.opts.matrix_users:  # idempotent: log in on a restart
            user_id, token = await self.synapse.register_or_login(localpart, password)
            self.matrix_tokens[user_id] = token
        if "web" in data:  # new accounts: Synapse's shared secret, or registration tokens
            data["web"].update(await web_registration(self.synapse, self.opts.web_registration))
            config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            self.config = parse_config(data, config_path)
        if self.opts.bridge_subprocess:
            self.bridge_process = BridgeProcess(config_path, workdir / "bridge.log")
            await self.bridge_process.start()
        else:
            await self.start_bridge()

    @property
    def web_url(self) -> str | None:
        """The members' page, when the sandbox serves it."""
        web = self.config.web if self.config is not None else None
        return web.public_url if web is not None else None

    async def start_bridge(self) -> Bridge:
        assert self.config is not None and self.tokens is not None
        self.bridge = Bridge(self.config, self.tokens)
        await self.bridge.start()
        return self.bridge

    async def stop_bridge(self) -> None:
        if self.bridge is not None:
            await self.bridge.stop()
            self.bridge = None

    async def stop(self) -> None:
        await self.stop_bridge()
        # discord.py's endpoints are process-wide: another stack of this process (the
        # tests' shared one) gets its emulator back.
        if self._endpoints is not None:
            restore_endpoints(self._endpoints)
            self._endpoints = None
        if self.bridge_process is not None:
            await self.bridge_process.terminate()
            self.bridge_process = None
        if self.synapse is not None:
            await self.synapse.stop()
            self.synapse = None
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        if self.emulator is not None:
            self.save_emulator_state()
            await self.emulator.stop()
            self.emulator = None
        if self.cas is not None:
            await self.cas.stop()
            self.cas = None

    async def __aenter__(self) -> SandboxStack:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
