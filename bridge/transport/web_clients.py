"""Thin HTTP clients of the members' page: Discord's OAuth2 endpoints and the
homeserver's login and registration. No decisions here; tokens are returned to the
caller, never logged, and the Matrix ones are logged out by the flow that used them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from bridge.ids import GuildID, UserID

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)


class Unavailable(Exception):
    """The other side did not answer, or answered with a server error."""


class Refused(Exception):
    """The other side refused (a bad code, wrong password, a taken name); ``code`` says
    which, in the other side's words."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class DiscordIdentity:
    id: int
    username: str
    global_name: str | None
    avatar_url: str | None
    # Roles per configured guild; None where they are not a member.
    roles: dict[GuildID, list[int] | None]
    # Their Discord client's language (``locale`` of ``GET /users/@me``), e.g. ``fr``.
    locale: str | None = None


def authorize_url(api_base: str) -> str:
    """Discord's consent page for an API base (``https://discord.com/api/v10`` ->
    ``https://discord.com/oauth2/authorize``; the emulator's likewise)."""
    root = api_base.rstrip("/")
    for suffix in ("/api/v10", "/api/v9", "/api"):
        if root.endswith(suffix):
            root = root[: -len(suffix)]
            break
    return f"{root}/oauth2/authorize"


class DiscordOAuth:
    def __init__(self, api_base: str, client_id: str, client_secret: str) -> None:
        self.api_base = api_base.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret

    def authorize(self, redirect_uri: str, state: str, challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "scope": "identify guilds.members.read",
            "state": state,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "consent",
        }
        return f"{authorize_url(self.api_base)}?{urlencode(query)}"

    async def _read(
        self, session: aiohttp.ClientSession, access: str, guilds: tuple[GuildID, ...]
    ) -> tuple[dict[str, Any], dict[GuildID, list[int] | None]]:
        """Who the token's user is, and their roles in each of ``guilds``."""
        headers = {"Authorization": f"Bearer {access}"}
        async with session.get(f"{self.api_base}/users/@me", headers=headers) as resp:
            user = await _json(resp)
            if resp.status != 200 or not str(user.get("id", "")).isdigit():
                raise Unavailable(f"users/@me HTTP {resp.status}")
        roles: dict[GuildID, list[int] | None] = {}
        for guild_id in guilds:
            url = f"{self.api_base}/users/@me/guilds/{guild_id}/member"
            async with session.get(url, headers=headers) as resp:
                member = await _json(resp)
                if resp.status >= 500 or resp.status == 429:
                    raise Unavailable(f"member HTTP {resp.status}")
                raw = member.get("roles") if resp.status == 200 else None
                roles[guild_id] = (
                    [int(r) for r in raw if str(r).isdigit()] if isinstance(raw, list) else None
                )
        return user, roles

    async def _revoke(
        self, session: aiohttp.ClientSession, auth: dict[str, str], access: str
    ) -> None:
        form = {"token": access, "token_type_hint": "access_token"}
        try:
            async with session.post(
                f"{self.api_base}/oauth2/token/revoke", data=form, headers=auth
            ) as resp:
                if resp.status != 200:
                    log.warning("web.revoke-failed status=%s", resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("web.revoke-failed error=%s", type(exc).__name__)

    async def identify(
        self, code: str, verifier: str, redirect_uri: str, guilds: tuple[GuildID, ...]
    ) -> DiscordIdentity:
        """Exchange the code (PKCE) and read who they are and their roles in ``guilds``;
        the access token lives only inside this call."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode()
        auth = {"Authorization": f"Basic {basic}"}
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.post(
                    f"{self.api_base}/oauth2/token", data=form, headers=auth
                ) as resp:
                    body = await _json(resp)
                    if resp.status >= 500:
                        raise Unavailable(f"token HTTP {resp.status}")
                    if resp.status != 200 or not isinstance(body.get("access_token"), str):
                        raise Refused(str(body.get("error", resp.status)))
                    access = str(body["access_token"])
                try:
                    user, roles = await self._read(session, access, guilds)
                finally:  # used once: Discord forgets it (best effort)
                    await self._revoke(session, auth, access)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(type(exc).__name__) from None
        uid = str(user["id"])
        avatar = user.get("avatar")
        global_name = user.get("global_name")
        locale = user.get("locale")
        return DiscordIdentity(
            id=int(uid),
            username=str(user.get("username", "")),
            global_name=global_name if isinstance(global_name, str) else None,
            avatar_url=(
                f"https://cdn.discordapp.com/avatars/{uid}/{avatar}.png?size=64"
                if isinstance(avatar, str) and avatar.isalnum()
                else None
            ),
            roles=roles,
            locale=locale if isinstance(locale, str) else None,
        )


async def _json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return body if isinstance(body, dict) else {}


# The registration stages this page completes by itself (anything else: refused).
TOKEN_STAGES = ("m.login.registration_token", "m.login.dummy")
TOKEN_LIFETIME_MS = 10 * 60 * 1000


class Homeserver:
    """The homeserver's client API (login flows, password login, join, logout) and the
    two ways to create accounts: Synapse's shared-secret registration endpoint, or a
    single-use registration token (admin API) spent on the client-server /register."""

    def __init__(
        self, url: str, server_name: str, shared_secret: str = "", admin_token: str = ""
    ) -> None:
        self.url = url.rstrip("/")
        self.server_name = server_name
        self._shared = shared_secret
        self._admin = admin_token

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.request(
                    method, f"{self.url}{path}", json=body, headers=headers
                ) as resp:
                    data = await _json(resp)
                    if resp.status >= 500:
                        raise Unavailable(f"{path} HTTP {resp.status}")
                    return resp.status, data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(type(exc).__name__) from None

    async def login_flows(self) -> frozenset[str]:
        """The login types the homeserver advertises (``m.login.password``,
        ``m.login.sso``, ``m.login.token`` ...)."""
        status, body = await self._call("GET", "/_matrix/client/v3/login")
        flows = body.get("flows") if status == 200 else None
        if not isinstance(flows, list):
            return frozenset()
        return frozenset(
            str(f["type"]) for f in flows if isinstance(f, dict) and isinstance(f.get("type"), str)
        )

    async def password_login_offered(self) -> bool:
        return "m.login.password" in await self.login_flows()

    async def token_login(self, login_token: str) -> tuple[UserID, str]:
        """The SSO way back: trade the ``loginToken`` the homeserver put in our redirect
        for (user ID, access token); Refused when it is unknown or expired."""
        status, body = await self._call(
            "POST",
            "/_matrix/client/v3/login",
            {
                "type": "m.login.token",
                "token": login_token,
                "initial_device_display_name": "Passerelle (linking)",
            },
        )
        if status != 200 or not isinstance(body.get("access_token"), str):
            raise Refused(str(body.get("errcode", status)))
        return UserID(str(body["user_id"])), str(body["access_token"])

    async def password_login(self, user: str, password: str) -> tuple[UserID, str]:
        """(user ID, access token); Refused("M_FORBIDDEN") on a wrong password."""
        status, body = await self._call(
            "POST",
            "/_matrix/client/v3/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user},
                "password": password,
                "initial_device_display_name": "Passerelle (linking)",
            },
        )
        if status != 200 or not isinstance(body.get("access_token"), str):
            raise Refused(str(body.get("errcode", status)))
        return UserID(str(body["user_id"])), str(body["access_token"])

    async def register(self, localpart: str, password: str, displayname: str) -> tuple[UserID, str]:
        """A new, non-admin user through ``/_synapse/admin/v1/register`` (shared secret);
        Refused("M_USER_IN_USE") when the name is taken. Never changes an existing user."""
        status, body = await self._call("GET", "/_synapse/admin/v1/register")
        nonce = body.get("nonce")
        if status != 200 or not isinstance(nonce, str):
            raise Unavailable(f"register nonce HTTP {status}")
        mac = hmac.new(self._shared.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join(p.encode() for p in (nonce, localpart, password, "notadmin")))
        status, body = await self._call(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "displayname": displayname,
                "admin": False,
                "mac": mac.hexdigest(),
            },
        )
        if status != 200 or not isinstance(body.get("access_token"), str):
            raise Refused(str(body.get("errcode", status)))
        return UserID(str(body["user_id"])), str(body["access_token"])

    async def register_with_token(
        self, localpart: str, password: str, displayname: str, now_ms: int
    ) -> tuple[UserID, str]:
        """A new user through a single-use registration token: the admin API makes one
        (``uses_allowed`` 1, 10 minutes), the client-server ``/register`` spends it in
        its ``m.login.registration_token`` stage; the token is deleted afterwards
        whatever happened. Refused("M_USER_IN_USE") when the name is taken."""
        status, body = await self._call(
            "POST",
            "/_synapse/admin/v1/registration_tokens/new",
            {"uses_allowed": 1, "expiry_time": now_ms + TOKEN_LIFETIME_MS},
            self._admin,
        )
        reg_token = body.get("token")
        if status != 200 or not isinstance(reg_token, str):
            raise Refused(f"registration token HTTP {status} {body.get('errcode', '')}")
        try:
            user_id, access = await self._register_uia(localpart, password, reg_token)
        finally:
            await self._delete_registration_token(reg_token)
        await self._call(
            "PUT",
            f"/_matrix/client/v3/profile/{quote(user_id, safe='')}/displayname",
            {"displayname": displayname},
            access,
        )
        return user_id, access

    async def _register_uia(
        self, localpart: str, password: str, reg_token: str
    ) -> tuple[UserID, str]:
        """The client-server ``/register`` with user-interactive auth: the stages of the
        first flow made only of stages we can do (the token, then the dummy one)."""
        request: dict[str, Any] = {
            "username": localpart,
            "password": password,
            "initial_device_display_name": "Passerelle (joining)",
            "inhibit_login": False,
        }
        status, body = await self._call("POST", "/_matrix/client/v3/register", request)
        if status != 401:
            raise Refused(str(body.get("errcode", status)))
        flows = [f.get("stages", []) for f in body.get("flows", []) if isinstance(f, dict)]
        stages = next((f for f in flows if f and set(f) <= set(TOKEN_STAGES)), None)
        if stages is None:
            raise Refused("M_UNSUPPORTED_FLOWS")
        session = body.get("session")
        for stage in stages:
            auth: dict[str, Any] = {"type": stage, "session": session}
            if stage == "m.login.registration_token":
                auth["token"] = reg_token
            status, body = await self._call(
                "POST", "/_matrix/client/v3/register", {**request, "auth": auth}
            )
            if status == 200:
                break
            if status != 401 or stage not in body.get("completed", []):
                raise Refused(str(body.get("errcode", status)))
        if status != 200 or not isinstance(body.get("access_token"), str):
            raise Refused(str(body.get("errcode", status)))
        return UserID(str(body["user_id"])), str(body["access_token"])

    async def _delete_registration_token(self, reg_token: str) -> None:
        try:
            await self._call(
                "DELETE",
                f"/_synapse/admin/v1/registration_tokens/{quote(reg_token, safe='')}",
                None,
                self._admin,
            )
        except Unavailable:
            log.warning("web.registration-token-delete-failed")

    async def join(self, room_id: str, token: str) -> bool:
        status, _ = await self._call(
            "POST", f"/_matrix/client/v3/join/{quote(room_id, safe='')}", {}, token
        )
        return status == 200

    async def logout(self, token: str) -> None:
        try:
            await self._call("POST", "/_matrix/client/v3/logout", {}, token)
        except Unavailable:
            log.warning("web.logout-failed")
