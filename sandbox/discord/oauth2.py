"""Discord's OAuth2 authorization-code flow, as documented in "OAuth2"
(https://discord.com/developers/docs/topics/oauth2):

- ``GET /oauth2/authorize?response_type=code&client_id&scope&state&redirect_uri
  &code_challenge&code_challenge_method=S256``: the consent page. Who is "logged in
  to Discord" is the emulator's own cookie, set by a login form on the same page
  (username and the user's seed token as password) or by a test
  (:meth:`sandbox.discord.oauth2_state.OAuth2State.login`).
- ``POST /oauth2/authorize``: the page's buttons; "Authorize" redirects to
  ``redirect_uri?code=...&state=...``, "Cancel" to ``redirect_uri?error=access_denied
  &error_description=...&state=...``.
- ``POST /api/v10/oauth2/token/revoke``: the token stops working.
- ``POST /api/v10/oauth2/token`` (and ``/api/oauth2/token``): form-encoded
  ``grant_type=authorization_code``, ``code``, ``redirect_uri``, ``code_verifier``;
  the client authenticates with HTTP Basic or ``client_id``/``client_secret`` fields.
  Answers ``{access_token, token_type: "Bearer", expires_in, refresh_token, scope}``
  or ``400 {error, error_description}``.

Bearer tokens then work on ``GET /users/@me`` (``identify``) and
``GET /users/@me/guilds/{guild.id}/member`` (``guilds.members.read``) only; the
middleware in :mod:`sandbox.discord.http` checks that with :func:`bearer_allowed`.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
from urllib.parse import urlencode

from aiohttp import web

from sandbox.discord import errors, payloads
from sandbox.discord.context import API_PREFIX, ctx_of, current_user, json_reply, snowflake_param
from sandbox.discord.oauth2_state import SUPPORTED_SCOPES, TOKEN_TTL, OAuth2State

log = logging.getLogger(__name__)

COOKIE = "emu_discord_session"
TOKEN_PATHS = (API_PREFIX + "/oauth2/token", "/api/oauth2/token")
REVOKE_PATHS = (API_PREFIX + "/oauth2/token/revoke", "/api/oauth2/token/revoke")
# Form-encoded endpoints, outside the JSON REST middleware's route table.
FORM_PATHS = TOKEN_PATHS + REVOKE_PATHS
# Routes (spec templates) a Bearer token may call, and the scope each needs.
BEARER_ROUTES = {
    "/users/@me": "identify",
    "/users/@me/guilds/{guild_id}/member": "guilds.members.read",
}
_PARAMS = (
    "response_type",
    "client_id",
    "scope",
    "state",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "prompt",
)


def bearer_allowed(route_path: str, scopes: tuple[str, ...]) -> bool:
    needed = BEARER_ROUTES.get(route_path)
    return needed is not None and needed in scopes


def _oauth(request: web.Request) -> OAuth2State:
    return ctx_of(request).oauth2


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif;"
        f"max-width:30em;margin:auto;padding:1em'><h1>{html.escape(title)}</h1>{body}"
        "</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type=hidden name="{k}" value="{html.escape(v)}">' for k, v in params.items()
    )


def _check(state: OAuth2State, params: dict[str, str]) -> str | None:
    """Why the authorize request is invalid (shown on the page, as Discord does), or None."""
    if params.get("response_type") != "code":
        return "unsupported response_type"
    if params.get("client_id") != state.client_id:
        return "Unknown Application"
    if params.get("redirect_uri") not in state.redirect_uris:
        return "Invalid OAuth2 redirect_uri"
    scopes = params.get("scope", "").split()
    if not scopes or not set(scopes) <= SUPPORTED_SCOPES:
        return "Invalid scope"
    method = params.get("code_challenge_method")
    if params.get("code_challenge") and method not in (None, "", "S256", "plain"):
        return "Invalid code_challenge_method"
    return None


def _redirect(uri: str, query: dict[str, str]) -> web.HTTPFound:
    sep = "&" if "?" in uri else "?"
    return web.HTTPFound(uri + sep + urlencode(query))


async def authorize_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    state = ctx.oauth2
    params = {k: request.query[k] for k in _PARAMS if k in request.query}
    problem = _check(state, params)
    if problem is not None:
        return _page("Invalid request", f"<p>{html.escape(problem)}</p>", 400)
    user_id = state.sessions.get(request.cookies.get(COOKIE, ""))
    if user_id is None or user_id not in ctx.state.users:
        return _page(
            "Log in to Discord (emulator)",
            "<form method=post action=/oauth2/authorize>"
            f"{_hidden(params)}<input type=hidden name=action value=login>"
            "<p><label>Username <input name=username autocomplete=username></label></p>"
            "<p><label>Password (the user's token) <input name=password type=password>"
            "</label></p><p><button type=submit>Log In</button></p></form>",
        )
    user = ctx.state.users[user_id]
    app_name = ctx.state.application.get("name") or "An application"
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params["scope"].split())
    return _page(
        f"{app_name} wants to access your account",
        f"<p>Signed in as <strong>{html.escape(user.username)}</strong>.</p>"
        f"<p>This will allow the developer to:</p><ul>{scopes}</ul>"
        f"<form method=post action=/oauth2/authorize>{_hidden(params)}"
        "<button type=submit name=action value=cancel>Cancel</button> "
        "<button type=submit name=action value=authorize>Authorize</button></form>",
    )


async def authorize_submit(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    state = ctx.oauth2
    form = await request.post()
    params = {k: str(form[k]) for k in _PARAMS if k in form}
    problem = _check(state, params)
    if problem is not None:
        return _page("Invalid request", f"<p>{html.escape(problem)}</p>", 400)
    back = "/oauth2/authorize?" + urlencode(params)
    action = form.get("action")
    if action == "login":
        user = next(
            (u for u in ctx.state.users.values() if u.username == form.get("username")), None
        )
        if user is None or user.bot or user.token != form.get("password"):
            return _page("Login failed", f'<p><a href="{html.escape(back)}">Try again</a></p>', 401)
        resp = web.HTTPFound(back)
        resp.set_cookie(COOKIE, state.login(user.id), httponly=True, samesite="Lax")
        raise resp
    user_id = state.sessions.get(request.cookies.get(COOKIE, ""))
    if user_id is None:
        raise web.HTTPFound(back)
    reply = {"state": params["state"]} if "state" in params else {}
    if action != "authorize":
        raise _redirect(
            params["redirect_uri"],
            {
                "error": "access_denied",
                "error_description": "The resource owner or "
                "authorization server denied the request",
                **reply,
            },
        )
    code = state.grant(
        user_id,
        params["redirect_uri"],
        tuple(params["scope"].split()),
        params.get("code_challenge") or None,
        params.get("code_challenge_method") or None,
    )
    log.info("oauth2 consent user=%s scopes=%s", user_id, params["scope"])
    raise _redirect(params["redirect_uri"], {"code": code, **reply})


def _token_error(error: str, description: str, status: int = 400) -> web.Response:
    return json_reply({"error": error, "error_description": description}, status)


def _client(request: web.Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            raw = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = raw.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


async def token(request: web.Request) -> web.Response:
    state = _oauth(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    client_id, secret = _client(request, form)
    if client_id != state.client_id or secret != state.client_secret:
        return _token_error("invalid_client", "Invalid client", 401)
    if form.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type", "Unsupported grant type")
    got = state.exchange(
        form.get("code", ""), form.get("redirect_uri", ""), form.get("code_verifier")
    )
    if isinstance(got, str):
        return _token_error(got, 'Invalid "code" in request.')
    return json_reply(
        {
            "access_token": got.token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "refresh_token": got.token[::-1],
            "scope": " ".join(got.scopes),
        }
    )


async def revoke(request: web.Request) -> web.Response:
    """``POST /oauth2/token/revoke`` (``token``, optional ``token_type_hint``): the token
    stops working; 200 ``{}`` whether or not it existed (RFC 7009)."""
    state = _oauth(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    client_id, secret = _client(request, form)
    if client_id != state.client_id or secret != state.client_secret:
        return _token_error("invalid_client", "Invalid client", 401)
    state.tokens.pop(form.get("token", ""), None)
    return json_reply({})


async def my_guild_member(request: web.Request) -> web.Response:
    """``GET /users/@me/guilds/{guild_id}/member`` (PrivateGuildMemberResponse)."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = ctx.state.guilds.get(snowflake_param(request, "guild_id", errors.unknown_guild()))
    if guild is None or user.id not in guild.members:
        raise errors.unknown_guild()
    return json_reply(payloads.member(ctx.state, guild.members[user.id]))


def add_routes(app: web.Application) -> None:
    """The browser pages and the token endpoint (form-encoded, outside the JSON REST
    middleware's route table)."""
    app.router.add_get("/oauth2/authorize", authorize_page)
    app.router.add_post("/oauth2/authorize", authorize_submit)
    for path in TOKEN_PATHS:
        app.router.add_post(path, token)
    for path in REVOKE_PATHS:
        app.router.add_post(path, revoke)
