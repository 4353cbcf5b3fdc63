"""The Discord API emulator as a Python object: start it, point clients at it,
inspect its state, inject faults, stop it.

    async with Emulator(load_seed("seed.yaml")) as emu:
        use_api_base(emu.api_base)      # bridge.transport.discord_endpoints
        ...
        assert emu.state.messages_in(channel_id)[-1]["content"] == "hi"
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.discord import payloads, polls
from sandbox.discord.context import API_PREFIX, Ctx
from sandbox.discord.controls import KEEP, Controls
from sandbox.discord.faults import FaultSwitch
from sandbox.discord.gateway import GUILD_MEMBERS, GatewayHub
from sandbox.discord.http import build_app
from sandbox.discord.oauth2_state import OAuth2State
from sandbox.discord.ratelimit import RateLimiter
from sandbox.discord.rest_expressions import ExpressionControls
from sandbox.discord.scheduled_events import ScheduledEventControls
from sandbox.discord.seed import SeedError, load_seed, validate_seed
from sandbox.discord.snowflake import now_iso
from sandbox.discord.state import Member, State, User
from sandbox.discord.voice_states import VoiceStateControls

__all__ = ["KEEP", "Emulator", "SeedError", "load_seed"]

log = logging.getLogger(__name__)


class Emulator(Controls, ExpressionControls, ScheduledEventControls, VoiceStateControls):
    """Discord REST v10 + gateway + CDN on one local aiohttp server.

    Test controls for guilds, channels, roles and forum posts come from
    :class:`sandbox.discord.controls.Controls`, for emoji and stickers from
    :class:`sandbox.discord.rest_expressions.ExpressionControls`."""

    def __init__(
        self,
        seed: dict[str, Any] | Path | str,
        validate_responses: bool = False,
        *,
        rate_limits: bool = False,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        data = load_seed(seed) if isinstance(seed, Path | str) else validate_seed(seed)
        self.seed = data
        self.state = State(data)
        self.hub = GatewayHub(self.state, heartbeat_interval_ms)
        self.faults = FaultSwitch()
        contract = None
        if validate_responses:
            from sandbox.discord.openapi import Contract  # needs jsonschema (dev extra)

            contract = Contract.load()
        self.ctx = Ctx(
            state=self.state,
            hub=self.hub,
            faults=self.faults,
            limiter=RateLimiter(enforce=rate_limits),
            contract=contract,
        )
        self.ctx.oauth2.client_id = str((data.get("application") or {}).get("id", ""))
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        runner = web.AppRunner(build_app(self.ctx), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self._url = f"http://{shown}:{bound[1]}"
        self.ctx.base_url = self._url
        self.state.cdn_base = self.cdn_url
        self.hub.gateway_url = self.gateway_url
        log.info(
            "discord emulator listening rest=%s gateway=%s cdn=%s",
            self.api_base,
            self.gateway_url,
            self.cdn_url,
        )

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.hub.release_connections()
        self.hub.unpause()
        await self.hub.close_all()
        await self._runner.cleanup()
        self._runner = None
        log.info("discord emulator stopped")

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- addresses ---------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("emulator not started")
        return self._url

    @property
    def api_base(self) -> str:
        return f"{self.url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return "ws" + self.url[len("http") :] + "/"

    @property
    def cdn_url(self) -> str:
        return f"{self.url}/cdn"

    # -- test controls -------------------------------------------------------------

    @property
    def oauth2(self) -> OAuth2State:
        """The OAuth2 client (register redirect URIs here), logins, codes and tokens."""
        return self.ctx.oauth2

    @property
    def contract_violations(self) -> list[str]:
        """Every REST response that did not match the spec (with validate_responses)."""
        return self.ctx.violations

    async def drop_gateway_connections(self, code: int = 4000, *, forget: bool = False) -> int:
        """Close every gateway socket abnormally; clients RESUME and get what they missed.

        With ``forget``, the sessions are forgotten too: RESUME is refused (INVALID_SESSION)
        and clients must IDENTIFY again, missing what was dispatched in between."""
        if forget:
            self.hub.sessions.clear()
        return await self.hub.drop_connections(code)

    def pause_gateway(self) -> None:
        """Hold gateway dispatches (they queue up) until :meth:`resume_gateway`."""
        self.hub.pause()

    def resume_gateway(self) -> None:
        self.hub.unpause()

    def hold_gateway_connections(self) -> None:
        """Gateway outage: new connections (and RESUMEs) wait until released."""
        self.hub.hold_connections()

    def release_gateway_connections(self) -> None:
        self.hub.release_connections()

    def update_user(
        self,
        user_id: str,
        *,
        username: str | None = None,
        global_name: str | None = None,
        new_avatar: bool = False,
    ) -> None:
        """A user changed their profile in the Discord client (global names cannot be
        changed through the API): every guild they are in gets GUILD_MEMBER_UPDATE, as
        Discord does, and discord.py turns a changed user into ``on_user_update``."""
        user = self.state.users[user_id]
        if username is not None:
            user.username = username
        if global_name is not None:
            user.global_name = global_name
        if new_avatar:
            user.avatar = hashlib.md5(
                f"avatar:{user_id}:{secrets.token_hex(4)}".encode(), usedforsecurity=False
            ).hexdigest()
        for guild in self.state.guilds_of(user_id):
            member = guild.members[user_id]
            data = {**payloads.member(self.state, member), "guild_id": guild.id}
            self.hub.dispatch_guild("GUILD_MEMBER_UPDATE", data, guild.id, GUILD_MEMBERS)

    def add_user(
        self,
        user_id: str,
        username: str,
        token: str,
        *,
        global_name: str | None = None,
        guilds: dict[str, list[str]] | None = None,
        locale: str = "en-US",
    ) -> None:
        """A new Discord user (their token logs in on the OAuth2 consent page), member of
        ``guilds`` (guild id -> role ids) as if they had just joined: GUILD_MEMBER_ADD.
        ``locale`` is their client's language, as ``GET /users/@me`` tells it."""
        if user_id in self.state.users:
            raise KeyError(f"user {user_id} exists")
        user = User(user_id, username, global_name, False, token, None, locale=locale)
        self.state.add_user(user)
        for guild_id, roles in (guilds or {}).items():
            self.join_guild(str(guild_id), user_id, roles)

    def join_guild(self, guild_id: str, user_id: str, roles: list[str] | None = None) -> None:
        """A known user joins ``guild_id`` (again, after a kick or an unban: Discord
        does not re-add an unbanned member): GUILD_MEMBER_ADD."""
        guild = self.state.guilds[str(guild_id)]
        if str(user_id) not in self.state.users:
            raise KeyError(f"unknown user {user_id}")
        if str(user_id) in guild.members:
            raise KeyError(f"user {user_id} is a member of guild {guild_id} already")
        member = Member(str(user_id), [str(r) for r in roles or []], now_iso())
        guild.members[str(user_id)] = member
        data = {**payloads.member(self.state, member), "guild_id": guild.id}
        self.hub.dispatch_guild("GUILD_MEMBER_ADD", data, guild.id, GUILD_MEMBERS)

    def set_member_roles(self, guild_id: str, user_id: str, roles: list[str]) -> None:
        """Give a member exactly ``roles`` (role ids of the guild, @everyone excluded), as
        if changed in the Discord client: GUILD_MEMBER_UPDATE to the guild, no audit entry."""
        guild = self.state.guilds[str(guild_id)]
        member = guild.members[str(user_id)]
        wanted = [str(r) for r in roles]
        unknown = [r for r in wanted if r not in guild.roles or r == guild.id]
        if unknown:
            raise KeyError(f"not roles of guild {guild_id}: {unknown}")
        member.roles = list(dict.fromkeys(wanted))
        data = {**payloads.member(self.state, member), "guild_id": guild.id}
        self.hub.dispatch_guild("GUILD_MEMBER_UPDATE", data, guild.id, GUILD_MEMBERS)

    def vote(
        self, user_id: str, channel_id: str, message_id: str, answer_id: int, add: bool = True
    ) -> bool:
        """A vote added (or removed) in the Discord client, which bots cannot do through
        the API: the poll's results change and MESSAGE_POLL_VOTE_ADD / _REMOVE go to
        sessions with the GUILD_MESSAGE_POLLS intent. False when nothing changed; see
        :func:`sandbox.discord.polls.vote` for what it refuses."""
        return polls.vote(
            self.ctx, str(user_id), str(channel_id), str(message_id), int(answer_id), add
        )

    def audit_log(self, guild_id: str) -> list[dict[str, Any]]:
        """The guild's audit log entries, oldest first (as ``GET .../audit-logs`` shapes them)."""
        return list(self.state.audit_logs.get(str(guild_id), []))

    def session_count(self) -> int:
        """Gateway sessions currently connected."""
        return sum(1 for s in self.hub.sessions.values() if s.conn is not None)
