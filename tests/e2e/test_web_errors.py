"""The members' page in headless Chromium, 360 px wide, against Synapse + the Discord
emulator + the bridge, for what tests/e2e/test_web_join.py does not walk:

- account creation through a **single-use registration token** (``web.registration:
  registration_token``): the page makes the token with the admin API, spends it on the
  client-server ``/register``, deletes it; the test Synapse requires a token to register;
- the **homeserver down** while creating (the form comes back filled), then up again;
- **Discord down** at the login's callback (the emulator answers 503), then a retry;
- **no member role**: the public rooms and a sentence saying why members-only rooms are
  not offered and how to get verified;
- an **expired login** under a filled form: what was typed comes back after logging in.

It serves a second members' page on the running bridge (same database, Synapse and
emulator), configured for registration tokens, whose homeserver connection goes
through a TCP proxy the test can cut, and whose clock the test can move forward.
Screenshots: tests/artifacts/web/<test>/ (path printed).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bridge.ids import DiscordUserID
from bridge.transport.web_clients import Homeserver
from bridge.web.app import MembersPage
from sandbox.stack import SandboxStack, free_port, web_registration
from sandbox.tcp_proxy import TcpProxy
from tests.e2e.test_web_join import (
    GUILD,
    MEMBER_ROLE,
    MEMBERS,
    PHONE,
    PUBLIC,
    Shots,
    _joined_rooms,
    _room,
    browser,
)

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the module-scoped Chromium fixture, shared


class Clock:
    """The page's clock: real time plus what the test adds (to expire a login)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class TokenPage:
    url: str
    page: MembersPage
    proxy: TcpProxy
    clock: Clock
    admin_token: str


@pytest.fixture(scope="module")
async def token_page(stack: SandboxStack) -> AsyncIterator[TokenPage]:
    assert stack.synapse and stack.emulator and stack.bridge and stack.config
    assert stack.config.web is not None
    keys = await web_registration(stack.synapse, "registration_token")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cfg = dataclasses.replace(
        stack.config.web,
        listen_port=port,
        public_url=url,
        registration="registration_token",
        registration_shared_secret="",
        registration_admin_token=keys["registration_admin_token"],
        ip_per_minute=1000,
    )
    stack.emulator.oauth2.redirect_uris.add(f"{url}/callback")
    proxy = TcpProxy("127.0.0.1", stack.synapse.port)
    await proxy.start()
    clock = Clock()
    mctx = stack.bridge._moderation.mctx  # type: ignore[union-attr]
    page = MembersPage(cfg, mctx, clock)
    page.homeserver = Homeserver(
        f"http://127.0.0.1:{proxy.port}",
        stack.synapse.server_name,
        admin_token=cfg.registration_admin_token,
    )
    runner = web.AppRunner(page.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield TokenPage(url, page, proxy, clock, cfg.registration_admin_token)
    await runner.cleanup()
    await proxy.stop()


async def _login(page: Any, base: str, username: str, shots: Shots, *, fresh: bool = True) -> None:
    """Landing page -> "Log in with Discord" -> (emulator login) -> consent -> back."""
    await page.goto(base + "/")
    await shots.take(page, "landing")
    await page.click("#login")
    if fresh:
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", f"{username}-token")
        await page.click("button[type=submit]")
    await page.wait_for_selector("button[value=authorize]")
    await page.click("button[value=authorize]")


async def _admin_get(stack: SandboxStack, path: str, token: str) -> Any:
    assert stack.synapse
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{stack.synapse.url}{path}", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


async def test_registration_token_account_survives_a_homeserver_outage(
    stack: SandboxStack, browser: Any, token_page: TokenPage
) -> None:
    assert stack.emulator and stack.bridge and stack.synapse
    stack.emulator.add_user(
        "2000000000000000201",
        "lea",
        "lea-token",
        global_name="Léa",
        guilds={GUILD: [MEMBER_ROLE]},
        locale="fr",  # their Discord client is in French
    )
    shots = Shots("registration-token-360px")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    started = time.monotonic()
    await _login(page, token_page.url, "lea", shots)
    await page.wait_for_selector("#create-form")
    await shots.take(page, "home")
    # A taken name: Synapse's /register says so before the token stage; the token the
    # page made for it is deleted all the same (checked below: none left).
    await page.fill("#c-user", "alice")
    await page.fill("#c-pass", "un mot de passe solide")
    await page.click("#create")
    await page.wait_for_selector("#error")
    assert "déjà pris" in await page.inner_text("#error")
    assert await page.input_value("#c-user") == "alice"
    await shots.take(page, "name-taken")
    # The homeserver goes down under a filled form: a plain message, the name kept.
    await page.fill("#c-user", "lea-mili")
    await page.fill("#c-pass", "un mot de passe solide")
    token_page.proxy.cut()
    try:
        await page.click("#create")
        await page.wait_for_selector("#error")
        assert "Le serveur Matrix ne répond pas" in await page.inner_text("#error")
        assert await page.input_value("#c-user") == "lea-mili"  # nothing typed is lost
        assert await page.input_value("#c-pass") == ""  # (but a password never comes back)
        await shots.take(page, "homeserver-down")
    finally:
        token_page.proxy.restore()
    await page.fill("#c-pass", "un mot de passe solide")
    await page.click("#create")
    await page.wait_for_selector("#done")
    elapsed = time.monotonic() - started
    await shots.take(page, "done")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"
    print(f"registration-token login-to-rooms seconds={elapsed:.2f} (with an outage on the way)")

    mxid = "@lea-mili:localhost"
    link = await stack.bridge.ctx.stores.links.by_discord(DiscordUserID(2000000000000000201))
    assert link is not None and link.mxid == mxid
    joined = await _joined_rooms(stack, "lea-mili", "un mot de passe solide")
    assert {await _room(stack, PUBLIC), await _room(stack, MEMBERS)} <= joined
    profile = await _admin_get(stack, f"/_matrix/client/v3/profile/{mxid}", token_page.admin_token)
    assert profile.get("displayname") == "Léa"
    # Single use, and gone: no registration token is left behind on the homeserver.
    tokens = await _admin_get(
        stack, "/_synapse/admin/v1/registration_tokens", token_page.admin_token
    )
    assert tokens["registration_tokens"] == []
    # And nobody registers on the test Synapse without one.
    async with aiohttp.ClientSession() as http:
        body = {"username": "intruder", "password": "x" * 12, "auth": {"type": "m.login.dummy"}}
        async with http.post(f"{stack.synapse.url}/_matrix/client/v3/register", json=body) as resp:
            refused = await resp.json()
            assert resp.status == 401 and "m.login.registration_token" in str(refused["flows"])
    await context.close()


async def test_discord_down_then_no_member_role_explained(
    stack: SandboxStack, browser: Any, token_page: TokenPage
) -> None:
    assert stack.emulator and stack.bridge
    stack.emulator.add_user(
        "2000000000000000202", "marc", "marc-token", global_name="Marc", guilds={GUILD: []}
    )
    shots = Shots("discord-down-no-member-role-360px")
    context = await browser.new_context(
        viewport=PHONE, locale="en-GB", extra_http_headers={"Accept-Language": "en"}
    )
    page = await context.new_page()
    # Discord answers 503 when the page asks who logged in: a plain page, nothing kept.
    stack.emulator.faults.fail_next(1, status=503, path_prefix="/users/@me", method="GET")
    await _login(page, token_page.url, "marc", shots)
    await page.wait_for_selector("#error")
    assert "Discord does not answer" in await page.inner_text("#error")
    await shots.take(page, "discord-down")
    assert stack.emulator.faults.pending == []
    # Again, Discord is back: the member's page, the public rooms and why not the others.
    await page.click("a.button")  # "Back"
    await _login(page, token_page.url, "marc", shots, fresh=False)
    await page.wait_for_selector("#no-member-role")
    rooms = await page.inner_text("#rooms")
    assert "#campaign" in rooms and "#members" not in rooms
    why = await page.inner_text("#no-member-role")
    assert "members-only room is not in this list" in why and "ask a moderator" in why
    await shots.take(page, "no-member-role")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"
    await context.close()


async def test_an_expired_login_loses_nothing_typed(
    stack: SandboxStack, browser: Any, token_page: TokenPage
) -> None:
    assert stack.emulator and stack.bridge
    stack.emulator.add_user(
        "2000000000000000203",
        "nina",
        "nina-token",
        global_name="Nina",
        guilds={GUILD: [MEMBER_ROLE]},
        locale="fr",  # their Discord client is in French
    )
    shots = Shots("expired-login-360px")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    await _login(page, token_page.url, "nina", shots)
    await page.wait_for_selector("#create-form")
    await page.fill("#c-user", "nina-choisi")
    await page.fill("#c-pass", "un mot de passe solide")
    token_page.clock.offset += 31 * 60  # the 30-minute session runs out under the form
    try:
        await page.click("#create")
        await page.wait_for_selector("#error")
        assert "expiré" in await page.inner_text("#error")
        assert "Rien n'a été changé" in await page.inner_text("#error")
        assert "vous attendra" in await page.inner_text("#kept")
        await shots.take(page, "expired")
        await page.click("a.button")  # "Retour"
        await _login(page, token_page.url, "nina", shots, fresh=False)
        await page.wait_for_selector("#create-form")
        assert await page.input_value("#c-user") == "nina-choisi"  # given back
        await shots.take(page, "typed-name-back")
    finally:
        token_page.clock.offset = 0.0
    assert (
        await stack.bridge.ctx.stores.web_accounts.created_for(DiscordUserID(2000000000000000203))
        is None
    )  # nothing was created on the way
    await context.close()
