"""The members' page in a real browser (headless Chromium through Playwright) against
Synapse + the Discord emulator + the bridge: "Log in with Discord" -> consent on the
emulator -> create an account -> "you are in the rooms", checked on Synapse; a member
without the member role gets the public rooms only; refusals (consent denied, not in
the guild) are plain pages. Screenshots go to tests/artifacts/web/ (path printed).

Chromium is Debian's (/usr/bin/chromium; `make install` installs it). Without it the
tests skip, except under CI=true where they must run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.ids import ChannelID, DiscordUserID, GuildID
from sandbox.stack import SandboxStack

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("PASSERELLE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
GUILD = "3000000000000000001"
MEMBER_ROLE = "3000000000000000011"
PUBLIC = ChannelID(4000000000000000001)
MEMBERS = ChannelID(4000000000000000002)
PHONE = {"width": 360, "height": 740}


def _need_chromium() -> None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {CHROMIUM} is missing (make install installs Debian's chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or make install)")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    _need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        await chromium.close()


class Shots:
    def __init__(self, name: str) -> None:
        self.dir = ARTIFACTS / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.n = 0
        print(f"screenshots: {self.dir}")

    async def take(self, page: Any, what: str) -> None:
        self.n += 1
        await page.screenshot(path=str(self.dir / f"{self.n:02d}-{what}.png"), full_page=True)


async def _login_with_discord(page: Any, stack: SandboxStack, username: str, shots: Shots) -> None:
    """Landing page -> "Log in with Discord" -> emulator login + consent -> back."""
    assert stack.web_url
    await page.goto(stack.web_url + "/")
    await shots.take(page, "landing")
    await page.click("#login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", f"{username}-token")
    await shots.take(page, "discord-login")
    await page.click("button[type=submit]")
    await page.wait_for_selector("button[value=authorize]")
    await shots.take(page, "discord-consent")


async def _as_account(stack: SandboxStack, user: str, password: str, path: str) -> Any:
    """GET ``path`` (client-server API) as the account, logged in by password for that
    one request (the login's status is asserted: the account exists, the password works)."""
    assert stack.synapse
    base = f"{stack.synapse.url}/_matrix/client/v3"
    async with aiohttp.ClientSession() as http:
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
        }
        async with http.post(f"{base}/login", json=body) as resp:
            assert resp.status == 200, await resp.text()
            auth = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
        async with http.get(f"{base}{path}", headers=auth) as resp:
            answer = await resp.json()
        await http.post(f"{base}/logout", headers=auth)
    return answer


async def _joined_rooms(stack: SandboxStack, user: str, password: str) -> set[str]:
    """Log in to Synapse as the new account (it exists, the password works)."""
    return set((await _as_account(stack, user, password, "/joined_rooms"))["joined_rooms"])


async def _invited_rooms(stack: SandboxStack, user: str, password: str) -> set[str]:
    """Rooms the account is invited to (a linked existing account is invited, not joined)."""
    synced = await _as_account(stack, user, password, "/sync?timeout=0")
    return set(synced.get("rooms", {}).get("invite", {}))


async def _room(stack: SandboxStack, channel: ChannelID) -> str:
    assert stack.bridge
    portal = await stack.bridge.ctx.stores.portals.by_channel(channel)
    assert portal is not None
    return str(portal.room_id)


async def test_new_member_creates_an_account_and_is_in_the_rooms(
    stack: SandboxStack, browser: Any
) -> None:
    assert stack.emulator and stack.bridge and stack.synapse
    stack.emulator.add_user(
        "2000000000000000101",
        "noemie",
        "noemie-token",
        global_name="Noémie",
        guilds={GUILD: [MEMBER_ROLE]},
        locale="fr",  # their Discord client is in French
    )
    shots = Shots("new-account-360px")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    started = time.monotonic()
    await _login_with_discord(page, stack, "noemie", shots)
    await page.click("button[value=authorize]")
    await page.wait_for_selector("#create-form")
    await shots.take(page, "home")
    assert "Bonjour Noémie" in await page.inner_text("h2")
    rooms_text = await page.inner_text("#rooms")
    assert "#campaign" in rooms_text and "#members" in rooms_text
    assert await page.input_value("#c-user") == "noemie"  # suggested from the Discord name
    # A name in the ghost namespace is refused, and what was typed is kept.
    await page.fill("#c-user", "_discord_2000000000000000001")
    await page.fill("#c-pass", "un mot de passe solide")
    await page.click("#create")
    await page.wait_for_selector("#error")
    assert "réservé" in await page.inner_text("#error")
    assert await page.input_value("#c-user") == "_discord_2000000000000000001"  # kept
    assert await page.input_value("#c-pass") == ""  # a password never comes back
    await shots.take(page, "name-refused")
    await page.fill("#c-user", "noemie")
    await page.fill("#c-pass", "un mot de passe solide")
    await page.click("#create")
    await page.wait_for_selector("#done")
    elapsed = time.monotonic() - started
    await shots.take(page, "done")
    done_html = await page.content()
    assert "<svg" in done_html  # the QR code, inline
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"
    async with aiohttp.ClientSession() as http:  # (the page's CSP forbids fetch())
        async with http.get(f"{stack.web_url}/static/style.css") as resp:
            css = len(await resp.read())
    weight = len(done_html.encode()) + css
    print(
        f"login-to-rooms seconds={elapsed:.2f} (landing, Discord login + consent, one form,"
        f" a name refused on the way); done page weight bytes={weight}"
        f" (HTML {len(done_html.encode())} + CSS {css}, no script, no image request)"
    )

    mxid = "@noemie:localhost"
    # The Discord token was used for one request and revoked.
    assert all(t.user_id != "2000000000000000101" for t in stack.emulator.oauth2.tokens.values())
    link = await stack.bridge.ctx.stores.links.by_discord(DiscordUserID(2000000000000000101))
    assert link is not None and link.mxid == mxid  # the same account_link as !link
    joined = await _joined_rooms(stack, "noemie", "un mot de passe solide")
    assert await _room(stack, PUBLIC) in joined
    assert await _room(stack, MEMBERS) in joined  # holds the Member role
    spaces = stack.bridge.ctx.stores.spaces
    guild_space = await spaces.get("guild", GuildID(int(GUILD)))
    party_space = await spaces.get("party", 0)
    assert guild_space is not None and party_space is not None  # the sandbox has spaces
    assert {guild_space.room_id, party_space.room_id} <= joined
    # Back on the page: linked; unlinking works and takes the members-only room away.
    await page.goto(stack.web_url + "/")  # type: ignore[operator]
    assert mxid in await page.inner_text("#linked")
    await page.click("#unlink")
    await page.wait_for_selector("#unlinked")
    await shots.take(page, "unlinked")
    assert (
        await stack.bridge.ctx.stores.links.by_discord(DiscordUserID(2000000000000000101)) is None
    )
    joined = await _joined_rooms(stack, "noemie", "un mot de passe solide")
    assert await _room(stack, MEMBERS) not in joined
    assert await _room(stack, PUBLIC) in joined
    # One account per Discord account: a second creation is refused, with the way back.
    await page.goto(stack.web_url + "/")  # type: ignore[operator]
    await page.fill("#c-user", "noemie2")
    await page.fill("#c-pass", "encore un mot de passe")
    await page.click("#create")
    await page.wait_for_selector("#error")
    assert "@noemie:localhost" in await page.inner_text("#error")
    await shots.take(page, "second-account-refused")
    # Linking the existing account (the homeserver's password login) brings it back in.
    await page.fill("#l-user", "noemie")
    await page.fill("#l-pass", "un mot de passe solide")
    await page.click("#link")
    await page.wait_for_selector("#done")
    await shots.take(page, "relinked")
    link = await stack.bridge.ctx.stores.links.by_discord(DiscordUserID(2000000000000000101))
    assert link is not None and link.mxid == mxid
    assert await _room(stack, MEMBERS) in await _invited_rooms(
        stack, "noemie", "un mot de passe solide"
    )
    await context.close()


async def test_member_without_member_role_gets_public_rooms_only(
    stack: SandboxStack, browser: Any
) -> None:
    assert stack.emulator and stack.bridge
    stack.emulator.add_user(
        "2000000000000000102", "paul", "paul-token", global_name="Paul", guilds={GUILD: []}
    )
    shots = Shots("public-only-en")
    context = await browser.new_context(
        locale="en-GB", extra_http_headers={"Accept-Language": "en"}
    )
    page = await context.new_page()
    await _login_with_discord(page, stack, "paul", shots)
    await page.click("button[value=authorize]")
    await page.wait_for_selector("#create-form")
    assert "#members" not in await page.inner_text("#rooms")
    await page.fill("#c-pass", "another solid password")
    await page.click("#create")
    await page.wait_for_selector("#done")
    await shots.take(page, "done")
    assert "You are in the rooms" in await page.inner_text("#done")
    joined = await _joined_rooms(stack, "paul", "another solid password")
    assert await _room(stack, PUBLIC) in joined
    assert await _room(stack, MEMBERS) not in joined
    await context.close()


async def test_refusals_are_plain_pages(stack: SandboxStack, browser: Any) -> None:
    assert stack.emulator and stack.bridge
    stack.emulator.add_user("2000000000000000103", "zoe", "zoe-token")  # in no guild
    shots = Shots("refusals")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    await _login_with_discord(page, stack, "zoe", shots)
    await page.click("button[value=cancel]")  # consent denied
    await page.wait_for_selector("#error")
    assert "refusé" in await page.inner_text("#error")
    await shots.take(page, "denied")
    await page.goto(stack.web_url + "/login")  # type: ignore[operator]
    await page.click("button[value=authorize]")  # still logged in on "Discord"
    await page.wait_for_selector("#error")
    assert "aucun des serveurs" in await page.inner_text("#error")
    await shots.take(page, "not-in-guild")
    # A callback without the login's state (CSRF) is refused, and says so plainly.
    resp = await page.goto(stack.web_url + "/callback?code=x&state=forged")  # type: ignore[operator]
    assert resp is not None and resp.status == 403
    assert "expiré" in await page.inner_text("#error")
    headers = resp.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert (
        await stack.bridge.ctx.stores.links.by_discord(DiscordUserID(2000000000000000103)) is None
    )
    await context.close()
