"""The members' page's plain error pages lose nothing the member typed, over a real
SQLite database and the fake networks of the moderation tests: the homeserver down
while creating or linking (the form comes back filled, never the password), a login
that expired under a filled form (what was typed comes back after the new login), the
"no member role" explanation, and the per-account limit. (The same pages in a real
browser: tests/e2e/test_web_errors.py.)"""

from __future__ import annotations

import dataclasses
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.config import HomeserverConfig, MembersConfig
from bridge.config_web import WebConfig
from bridge.web import security
from bridge.web.app import SESSION, TYPED, MembersPage
from tests.moderation.fakes import CHANNEL_B, GUILD, Harness, moderation_context

MEMBER_ROLE = 7000000000000000001
LEA_UID = 5000000000000000077


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A bridge whose homeserver is down; CHANNEL_B is members-only (MEMBER_ROLE)."""
    async with moderation_context(tmp_path) as h:
        config = h.mctx.bridge.config
        down = HomeserverConfig(f"http://127.0.0.1:{_closed_port()}", "example.org")
        h.mctx.bridge.config = dataclasses.replace(
            config,
            homeserver=down,
            members=MembersConfig(role_ids=(MEMBER_ROLE,)),
            # The page's last resort (no switch, no Discord locale, no browser language).
            bridge=dataclasses.replace(config.bridge, language="fr"),
        )
        await h.stores.portals.set_access(CHANNEL_B, "members_only")
        yield h


def _page(h: Harness, per_account: int = 10) -> MembersPage:
    cfg = WebConfig(
        listen_host="127.0.0.1",
        listen_port=0,
        public_url="http://join.example.org",
        session_secret="k" * 40,
        discord_client_id="123",
        discord_client_secret="shh",
        registration="synapse_shared_secret",
        registration_shared_secret="shared",
        account_per_hour=per_account,
    )
    return MembersPage(cfg, h.mctx)


def _session(page: MembersPage, roles: list[int]) -> dict[str, str]:
    payload = {"d": str(LEA_UID), "u": "lea", "g": "Léa", "a": None, "r": {str(GUILD): roles}}
    payload["c"] = "csrf-1"
    value = security.sign(page.cfg.session_secret, "session", payload, time.time(), 600)
    return {SESSION: value}


def _value(html: str, field_id: str) -> str:
    tag = re.search(rf"<input[^>]*id=\"{field_id}\"[^>]*>", html)
    assert tag, f"no #{field_id}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


async def _client(page: MembersPage) -> TestClient:
    client = TestClient(TestServer(page.app()))
    await client.start_server()
    return client


async def test_homeserver_down_keeps_the_forms_then_the_account_limit(harness: Harness) -> None:
    page = _page(harness, per_account=2)
    client = await _client(page)
    try:
        cookies = _session(page, [MEMBER_ROLE])
        form = {"csrf": "csrf-1", "username": "lea-choisi", "password": "un mot de passe"}
        resp = await client.post("/create", data=form, cookies=cookies)
        html = await resp.text()
        assert resp.status == 503 and "Le serveur Matrix ne répond pas" in html
        assert _value(html, "c-user") == "lea-choisi"  # what was typed is kept
        assert _value(html, "c-pass") == ""  # a password never comes back
        assert "un mot de passe" not in html
        resp = await client.post(
            "/link", data={**form, "username": "@lea:example.org"}, cookies=cookies
        )
        html = await resp.text()
        assert resp.status == 503 and "Le serveur Matrix ne répond pas" in html
        assert _value(html, "l-user") == "@lea:example.org"
        resp = await client.post("/link", data=form, cookies=cookies)
        assert resp.status == 429  # per Discord account
        resp = await client.post("/link", data={**form, "csrf": "other"}, cookies=cookies)
        assert resp.status == 403  # a wrong CSRF token is refused before anything else
        assert await harness.stores.links.by_discord(LEA_UID) is None  # type: ignore[arg-type]
    finally:
        await client.close()


async def test_an_expired_login_gives_back_what_was_typed(harness: Harness) -> None:
    page = _page(harness)
    client = await _client(page)
    try:
        form = {"csrf": "csrf-1", "username": "lea-choisi", "password": "un mot de passe"}
        resp = await client.post("/create", data=form)  # no (or an expired) session
        html = await resp.text()
        assert resp.status == 403 and "expiré" in html
        assert 'id="kept"' in html  # it says the name will come back
        kept = resp.cookies[TYPED].value
        assert "un mot de passe" not in str(security.unsign("k" * 40, "typed", kept, time.time()))
        # Logged in again: the form holds what was typed, not the suggested name.
        cookies = {**_session(page, [MEMBER_ROLE]), TYPED: kept}
        html = await (await client.get("/", cookies=cookies)).text()
        assert _value(html, "c-user") == "lea-choisi"
        client.session.cookie_jar.clear()
        html = await (await client.get("/", cookies=_session(page, [MEMBER_ROLE]))).text()
        assert _value(html, "c-user") == "lea"  # without it: the suggestion
    finally:
        await client.close()


async def test_no_member_role_is_explained(harness: Harness) -> None:
    page = _page(harness)
    client = await _client(page)
    try:
        html = await (
            await client.get("/", cookies=_session(page, []), headers={"Accept-Language": "en"})
        ).text()
        assert 'id="no-member-role"' in html
        assert "One members-only room is not in this list" in html
        assert "ask a moderator" in html
        html = await (await client.get("/", cookies=_session(page, [MEMBER_ROLE]))).text()
        assert 'id="no-member-role"' not in html  # a member sees the room itself
    finally:
        await client.close()
