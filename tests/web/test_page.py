"""The members' page over HTTP without the rest of the bridge: the login redirect
(state, PKCE, cookie flags), security headers, the callback's CSRF check and the
per-IP rate limit. (The whole flow runs in tests/e2e/test_web_join.py.)"""

from __future__ import annotations

import re
import socket
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient, TestServer

from bridge.config_web import WebConfig
from bridge.web import security
from bridge.web.app import PENDING, SESSION, MembersPage


def _page(
    public_url: str = "https://join.example.org",
    per_minute: int = 30,
    api_base: str = "https://discord.com/api/v10",
    per_account: int = 10,
) -> MembersPage:
    cfg = WebConfig(
        listen_host="127.0.0.1",
        listen_port=0,
        public_url=public_url,
        session_secret="k" * 40,
        discord_client_id="123",
        discord_client_secret="shh-secret",
        ip_per_minute=per_minute,
        account_per_hour=per_account,
    )
    config = SimpleNamespace(
        discord=SimpleNamespace(api_base=api_base, guild_ids=(1,)),
        homeserver=SimpleNamespace(url=f"http://127.0.0.1:{_closed_port()}", server_name="x.org"),
        bridge=SimpleNamespace(language="fr"),
    )
    mctx = SimpleNamespace(bridge=SimpleNamespace(config=config))
    return MembersPage(cfg, mctx)  # type: ignore[arg-type]


def _closed_port() -> int:
    """A port nothing listens on (a server that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session(page: MembersPage) -> dict[str, str]:
    payload = {"d": "42", "u": "alice", "g": None, "a": None, "r": {"1": []}, "c": "csrf-1"}
    value = security.sign(page.cfg.session_secret, "session", payload, time.time(), 600)
    return {SESSION: value}


async def _client(page: MembersPage) -> TestClient:
    client = TestClient(TestServer(page.app()))
    await client.start_server()
    return client


async def test_login_redirects_to_discord_with_state_and_pkce() -> None:
    client = await _client(_page())
    try:
        resp = await client.get("/login", allow_redirects=False)
        assert resp.status == 302
        target = urlsplit(resp.headers["Location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == (
            "https://discord.com/oauth2/authorize"
        )
        query = parse_qs(target.query)
        assert query["scope"] == ["identify guilds.members.read"]
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
        assert query["redirect_uri"] == ["https://join.example.org/callback"]
        assert len(query["state"][0]) >= 32
        assert "shh-secret" not in resp.headers["Location"]
        cookie = resp.headers["Set-Cookie"]
        assert cookie.startswith(f"{PENDING}=")
        for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"):
            assert flag in cookie
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    finally:
        await client.close()


async def test_no_secure_flag_over_plain_http_and_landing_page() -> None:
    client = await _client(_page("http://127.0.0.1:8080"))
    try:
        resp = await client.get("/login", allow_redirects=False)
        assert "Secure" not in resp.headers["Set-Cookie"]
        resp = await client.get("/", headers={"Accept-Language": "en"})
        text = await resp.text()
        assert resp.status == 200 and "Log in with Discord" in text and "<script" not in text
        assert resp.headers["X-Frame-Options"] == "DENY"
        resp = await client.get("/", headers={"Accept-Language": "fr"})
        assert "Se connecter avec Discord" in await resp.text()
        resp = await client.get("/nowhere")
        assert resp.status == 404 and "Content-Security-Policy" in resp.headers
    finally:
        await client.close()


async def test_callback_without_the_login_cookie_is_refused() -> None:
    client = await _client(_page())
    try:
        resp = await client.get("/callback?code=abc&state=xyz")
        assert resp.status == 403
        assert 'id="error"' in await resp.text()
        # A forged session cannot post either (CSRF / signature).
        resp = await client.post("/unlink", data={"csrf": "x"})
        assert resp.status == 403
    finally:
        await client.close()


async def test_rate_limit_per_ip() -> None:
    client = await _client(_page(per_minute=3))
    try:
        statuses = [(await client.get("/login", allow_redirects=False)).status for _ in range(4)]
        assert statuses == [302, 302, 302, 429]
        resp = await client.get("/")  # reading the page is not limited
        assert resp.status == 200
    finally:
        await client.close()


async def test_discord_down_at_callback_is_a_plain_page() -> None:
    page = _page(api_base=f"http://127.0.0.1:{_closed_port()}/api/v10")
    client = await _client(page)
    try:
        pending = security.sign(
            page.cfg.session_secret, "pending", {"s": "st", "v": "ver"}, time.time(), 600
        )
        resp = await client.get("/callback?code=c&state=st", cookies={PENDING: pending})
        assert resp.status == 503
        text = await resp.text()
        assert "Discord ne répond pas" in text and "réessayez" in text
    finally:
        await client.close()


async def test_an_unexpected_failure_is_a_plain_page() -> None:
    page = _page()  # its fake context has no database: unlinking fails
    client = await _client(page)
    try:
        resp = await client.post("/unlink", data={"csrf": "csrf-1"}, cookies=_session(page))
        assert resp.status == 500
        assert 'id="error"' in await resp.text()
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    finally:
        await client.close()


async def test_the_language_links_win_over_the_browser() -> None:
    client = await _client(_page("http://127.0.0.1:8080"))
    try:
        resp = await client.get("/lang/en", allow_redirects=False)
        assert resp.status == 302 and "passerelle_lang=en" in resp.headers["Set-Cookie"]
        resp = await client.get("/", headers={"Accept-Language": "fr"})
        assert "Log in with Discord" in await resp.text()
        assert (await client.get("/lang/de", allow_redirects=False)).status == 404
    finally:
        await client.close()


async def test_the_error_page_follows_the_discord_locale_then_the_browser() -> None:
    """A logged-in visitor's Discord locale (kept in the session) wins over the
    browser's language; without either, bridge.language (fr here) decides."""
    page = _page("http://127.0.0.1:8080")
    client = await _client(page)

    def session(locale: str | None) -> dict[str, str]:
        payload = {"d": "42", "u": "al", "g": None, "a": None, "r": {}, "c": "c", "l": locale}
        return {
            SESSION: security.sign(page.cfg.session_secret, "session", payload, time.time(), 60)
        }

    try:
        english = {"Accept-Language": "en-US,en;q=0.9"}
        resp = await client.get("/nowhere", headers=english, cookies=session("fr"))
        text = await resp.text()
        assert resp.status == 404 and '<html lang="fr">' in text
        assert "Cette page n&#39;existe pas." in text
        resp = await client.get(
            "/nowhere", headers={"Accept-Language": "fr"}, cookies=session("en-GB")
        )
        assert "This page does not exist." in await resp.text()
        resp = await client.get("/nowhere", headers=english, cookies=session(None))
        assert "This page does not exist." in await resp.text()
        resp = await client.get("/nowhere")
        assert "Cette page n&#39;existe pas." in await resp.text()
    finally:
        await client.close()


async def test_the_stylesheet_is_cached_under_a_versioned_url() -> None:
    client = await _client(_page("http://127.0.0.1:8080"))
    try:
        resp = await client.get("/")
        assert resp.headers["Cache-Control"] == "no-store"  # pages are never kept
        found = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', await resp.text())
        assert found
        resp = await client.get(found.group(1))
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/css")
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    finally:
        await client.close()
