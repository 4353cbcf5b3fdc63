"""The emulator's OAuth2 authorization-code flow: consent page, PKCE, token, Bearer routes.

The ``emu`` fixture validates every REST response (``/users/@me``,
``/users/@me/guilds/{id}/member``) against Discord's OpenAPI spec.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import aiohttp

from sandbox.discord.oauth2 import COOKIE
from sandbox.discord.oauth2_state import OAuth2State, s256
from sandbox.discord.server import Emulator
from tests.sandbox.discord.world import ALICE, BOT, DAVE, GUILD, MEMBER_ROLE, TOKENS

REDIRECT = "http://127.0.0.1:9/callback"
VERIFIER = "v" * 50


def _browser() -> aiohttp.ClientSession:
    """A client keeping cookies of 127.0.0.1 (as browsers do)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def _params(state: str = "st4te") -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": BOT,
        "scope": "identify guilds.members.read",
        "state": state,
        "redirect_uri": REDIRECT,
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }


def test_pkce_s256_matches_rfc7636_example() -> None:
    # RFC 7636, appendix B.
    assert (
        s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_codes_are_single_use_and_checked() -> None:
    state = OAuth2State(client_id="1")
    code = state.grant("u", REDIRECT, ("identify",), s256(VERIFIER), "S256", now=0.0)
    assert state.exchange(code, REDIRECT, "wrong-verifier", now=1.0) == "invalid_grant"
    code = state.grant("u", REDIRECT, ("identify",), s256(VERIFIER), "S256", now=0.0)
    assert state.exchange(code, "http://elsewhere/", VERIFIER, now=1.0) == "invalid_grant"
    code = state.grant("u", REDIRECT, ("identify",), s256(VERIFIER), "S256", now=0.0)
    assert state.exchange(code, REDIRECT, VERIFIER, now=601.0) == "invalid_grant"  # expired
    code = state.grant("u", REDIRECT, ("identify",), s256(VERIFIER), "S256", now=0.0)
    token = state.exchange(code, REDIRECT, VERIFIER, now=1.0)
    assert not isinstance(token, str) and token.user_id == "u"
    assert state.exchange(code, REDIRECT, VERIFIER, now=1.0) == "invalid_grant"  # used


async def _consent(
    emu: Emulator, session: aiohttp.ClientSession, action: str
) -> dict[str, list[str]]:
    """Log in as alice on the consent page, press ``action``; the redirect's query."""
    emu.oauth2.redirect_uris.add(REDIRECT)
    authorize = f"{emu.url}/oauth2/authorize"
    async with session.get(authorize, params=_params()) as resp:
        assert resp.status == 200
        assert "Log in" in await resp.text()
    form = {**_params(), "action": "login", "username": "alice", "password": TOKENS[ALICE]}
    async with session.post(authorize, data=form) as resp:
        assert resp.status == 200  # followed back to the consent page
        page = await resp.text()
        assert "alice" in page and "guilds.members.read" in page
    form = {**_params(), "action": action}
    async with session.post(authorize, data=form, allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


async def test_full_flow_with_pkce_and_bearer_routes(emu: Emulator) -> None:
    async with _browser() as session:
        query = await _consent(emu, session, "authorize")
        assert query["state"] == ["st4te"]
        code = query["code"][0]
        basic = base64.b64encode(f"{BOT}:{emu.oauth2.client_secret}".encode()).decode()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
        async with session.post(
            f"{emu.api_base}/oauth2/token", data=form, headers={"Authorization": f"Basic {basic}"}
        ) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"] == "application/json"
            body = await resp.json()
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "identify guilds.members.read"
        assert isinstance(body["expires_in"], int) and body["refresh_token"]
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        async with session.get(f"{emu.api_base}/users/@me", headers=bearer) as resp:
            assert resp.status == 200
            me = await resp.json()
            assert me["id"] == ALICE and me["locale"] == "en-US"  # the seed's default
        member_url = f"{emu.api_base}/users/@me/guilds/{GUILD}/member"
        async with session.get(member_url, headers=bearer) as resp:
            assert resp.status == 200
            member = await resp.json()
        assert MEMBER_ROLE in member["roles"] and member["user"]["id"] == ALICE
        # Not the guild's member / not an OAuth2 route / a bot token on the OAuth2 route.
        async with session.get(f"{emu.api_base}/users/@me/guilds/1/member", headers=bearer) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10004
        async with session.get(f"{emu.api_base}/guilds/{GUILD}", headers=bearer) as resp:
            assert resp.status == 401
        bot = {"Authorization": f"Bot {TOKENS[BOT]}"}
        async with session.get(member_url, headers=bot) as resp:
            assert resp.status == 401
        # Revoked, the token stops working.
        creds = {"client_id": BOT, "client_secret": emu.oauth2.client_secret}
        revoke = {"token": body["access_token"], **creds}
        async with session.post(f"{emu.api_base}/oauth2/token/revoke", data=revoke) as resp:
            assert resp.status == 200 and await resp.json() == {}
        async with session.get(f"{emu.api_base}/users/@me", headers=bearer) as resp:
            assert resp.status == 401
        # The code was used: a second exchange fails, the Discord way.
        form["client_id"], form["client_secret"] = BOT, emu.oauth2.client_secret
        async with session.post(f"{emu.url}/api/oauth2/token", data=form) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == "invalid_grant"
    assert emu.contract_violations == []


async def test_cancel_redirects_with_access_denied(emu: Emulator) -> None:
    async with _browser() as session:
        query = await _consent(emu, session, "cancel")
    assert query["error"] == ["access_denied"] and query["state"] == ["st4te"]
    assert "code" not in query


async def test_bad_client_and_unregistered_redirect_are_refused(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{emu.url}/oauth2/authorize", params=_params()) as resp:
            assert resp.status == 400  # redirect URI not registered
            assert "redirect_uri" in await resp.text()
        form = {"grant_type": "authorization_code", "code": "x", "client_id": BOT}
        form["client_secret"] = "wrong"
        async with session.post(f"{emu.api_base}/oauth2/token", data=form) as resp:
            assert resp.status == 401 and (await resp.json())["error"] == "invalid_client"


async def test_login_cookie_for_a_user_outside_every_guild(emu: Emulator) -> None:
    emu.oauth2.redirect_uris.add(REDIRECT)
    async with aiohttp.ClientSession() as session:
        cookie = {"Cookie": f"{COOKIE}={emu.oauth2.login(DAVE)}"}
        url = f"{emu.url}/oauth2/authorize"
        async with session.get(url, params=_params(), headers=cookie) as resp:
            assert re.search(r"Signed in as <strong>dave", await resp.text())


async def test_users_me_tells_the_users_locale(emu: Emulator) -> None:
    """A user added with their client's language: GET /users/@me says it (the
    members' page reads it), valid against the spec's AvailableLocalesEnum."""
    emu.add_user("2000000000000000777", "camille", "camille-token", locale="fr")
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": "Bot camille-token"}
        async with session.get(f"{emu.api_base}/users/@me", headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.json())["locale"] == "fr"
    assert emu.contract_violations == []
