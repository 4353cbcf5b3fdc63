"""Linking an existing account through the homeserver's SSO, against a fake homeserver
that advertises ``m.login.sso`` + ``m.login.token`` (the test Synapse has no SSO), and
a real members' page over the fake networks of the moderation tests."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.config import HomeserverConfig
from bridge.config_web import WebConfig
from bridge.ids import DiscordUserID, UserID
from bridge.web import security
from bridge.web.app import SESSION, SSO_PENDING, MembersPage
from tests.moderation.fakes import GUILD, ROOM_A, Harness, moderation_context

LOGGED_OUT = web.AppKey("logged_out", list)
JOINS = web.AppKey("joins", list)
BOB = UserID("@bob:example.org")
BOB_UID = DiscordUserID(5000000000000000042)


def _homeserver() -> web.Application:
    """Advertises SSO; ``loginToken`` "good" is bob's, anything else is refused."""
    logged_out: list[str] = []
    joins: list[tuple[str, str]] = []

    async def flows(request: web.Request) -> web.Response:
        return web.json_response({"flows": [{"type": "m.login.sso"}, {"type": "m.login.token"}]})

    async def login(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("type") == "m.login.token" and body.get("token") == "good":
            return web.json_response({"user_id": BOB, "access_token": "bob-tok"})
        return web.json_response({"errcode": "M_FORBIDDEN"}, status=403)

    async def logout(request: web.Request) -> web.Response:
        logged_out.append(request.headers["Authorization"])
        return web.json_response({})

    async def join(request: web.Request) -> web.Response:
        joins.append((request.match_info["room"], request.headers["Authorization"]))
        return web.json_response({"room_id": request.match_info["room"]})

    app = web.Application()
    app.router.add_get("/_matrix/client/v3/login", flows)
    app.router.add_post("/_matrix/client/v3/login", login)
    app.router.add_post("/_matrix/client/v3/logout", logout)
    app.router.add_post("/_matrix/client/v3/join/{room}", join)
    app[LOGGED_OUT] = logged_out
    app[JOINS] = joins
    return app


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[tuple[Harness, TestServer]]:
    hs = TestServer(_homeserver())
    await hs.start_server()
    async with moderation_context(tmp_path) as h:
        config = h.mctx.bridge.config
        homeserver = HomeserverConfig(str(hs.make_url("")).rstrip("/"), "example.org")
        h.mctx.bridge.config = dataclasses.replace(config, homeserver=homeserver)
        yield h, hs
    await hs.close()


def _page(h: Harness) -> MembersPage:
    cfg = WebConfig(
        listen_host="127.0.0.1",
        listen_port=0,
        public_url="http://join.example.org",
        session_secret="k" * 40,
        discord_client_id="123",
        discord_client_secret="shh",
    )
    return MembersPage(cfg, h.mctx)


def _session(page: MembersPage, discord_id: int = BOB_UID) -> str:
    payload = {
        "d": str(discord_id),
        "u": "bob",
        "g": None,
        "a": None,
        "r": {str(GUILD): []},
        "c": "csrf",
    }
    return security.sign(page.cfg.session_secret, "session", payload, time.time(), 600)


async def test_sso_link_round_trip(harness: tuple[Harness, TestServer]) -> None:
    h, hs = harness
    page = _page(h)
    client = TestClient(TestServer(page.app()))
    await client.start_server()
    try:
        cookies = {SESSION: _session(page)}
        home = await (await client.get("/", cookies=cookies)).text()
        assert 'id="link-sso"' in home and 'id="link-form"' not in home  # no password login
        resp = await client.get("/link/sso", cookies=cookies, allow_redirects=False)
        assert resp.status == 302
        target = urlsplit(resp.headers["Location"])
        assert target.path == "/_matrix/client/v3/login/sso/redirect"
        back = urlsplit(parse_qs(target.query)["redirectUrl"][0])
        assert back.netloc == "join.example.org" and back.path == "/link/sso/callback"
        nonce = parse_qs(back.query)["n"][0]
        pending = resp.cookies[SSO_PENDING].value
        both = {**cookies, SSO_PENDING: pending}
        # Someone else's token pushed into this browser without our nonce: refused.
        forged = await client.get("/link/sso/callback?n=other&loginToken=good", cookies=both)
        assert forged.status == 403
        assert await h.stores.links.by_discord(BOB_UID) is None
        # Another Discord session cannot use this browser's SSO cookie either.
        other = {SESSION: _session(page, 5000000000000000043), SSO_PENDING: pending}
        resp = await client.get(f"/link/sso/callback?n={nonce}&loginToken=good", cookies=other)
        assert resp.status == 403
        # A bad token from the homeserver: refused, nothing linked.
        resp = await client.get(f"/link/sso/callback?n={nonce}&loginToken=bad", cookies=both)
        assert resp.status == 403
        # The real way back.
        resp = await client.get(f"/link/sso/callback?n={nonce}&loginToken=good", cookies=both)
        assert resp.status == 200, await resp.text()
        assert 'id="done"' in await resp.text()
        link = await h.stores.links.by_discord(BOB_UID)
        assert link is not None and link.mxid == BOB
        assert (ROOM_A, BOB) in h.matrix.invite_calls
        assert (ROOM_A, "Bearer bob-tok") in hs.app[JOINS]  # joined with the SSO token ...
        assert hs.app[LOGGED_OUT] == ["Bearer bob-tok"]  # ... which did not linger
    finally:
        await client.close()


async def test_a_homeserver_with_sso_only_creates_accounts_through_its_sso(
    harness: tuple[Harness, TestServer],
) -> None:
    """No password login advertised: the create form (a password) would fail, so the
    page sends new members to the homeserver's own SSO page (which creates the account
    there) and back through the same nonce-bound way as linking."""
    h, _ = harness
    page = _page(h)
    page.cfg = dataclasses.replace(
        page.cfg, registration="synapse_shared_secret", registration_shared_secret="s"
    )
    client = TestClient(TestServer(page.app()))
    await client.start_server()
    try:
        home = await (await client.get("/", cookies={SESSION: _session(page)})).text()
        assert 'id="sso-only"' in home and 'href="/link/sso"' in home
        assert 'id="create-form"' not in home and 'id="link-form"' not in home
    finally:
        await client.close()


async def test_a_linked_member_can_ask_for_the_invitations_again(
    harness: tuple[Harness, TestServer],
) -> None:
    """Joins cut short by an outage, an invitation declined: "invite me again"."""
    h, _ = harness
    page = _page(h)
    await h.stores.links.link(BOB, BOB_UID)
    client = TestClient(TestServer(page.app()))
    await client.start_server()
    try:
        cookies = {SESSION: _session(page)}
        home = await (await client.get("/", cookies=cookies)).text()
        assert 'id="rejoin"' in home and 'id="unlink"' in home
        resp = await client.post("/rejoin", data={"csrf": "csrf"}, cookies=cookies)
        assert resp.status == 200 and 'id="done"' in await resp.text()
        assert (ROOM_A, BOB) in h.matrix.invite_calls
        resp = await client.post("/rejoin", data={"csrf": "forged"}, cookies=cookies)
        assert resp.status == 403
    finally:
        await client.close()
