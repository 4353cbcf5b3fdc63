"""An account created through the homeserver's SSO, in headless Chromium at 360 px,
against the real test Synapse whose SSO is the sandbox CAS server (sandbox/cas.py):
"Log in with Discord" -> the page's SSO button -> Synapse -> the CAS login page ->
Synapse creates the account on this first SSO login -> back on the page with a
loginToken -> linked, joined to its rooms and spaces. Screenshots:
tests/artifacts/web/sso-new-account-360px/.

(A homeserver offering *only* SSO, where the page then offers SSO in place of the
password form, is tested against a fake homeserver: tests/web/test_sso_link.py; the
test Synapse keeps passwords for the other tests.)
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bridge.ids import DiscordUserID, RoomID, UserID
from sandbox.stack import SandboxStack
from tests.e2e.test_web_join import (
    GUILD,
    MEMBER_ROLE,
    MEMBERS,
    PHONE,
    PUBLIC,
    Shots,
    _room,
    browser,
)

pytestmark = pytest.mark.e2e
__all__ = ["browser"]


async def test_an_account_created_by_the_homeserver_sso_is_linked_and_in_the_rooms(
    stack: SandboxStack, browser: Any
) -> None:
    assert stack.emulator and stack.bridge and stack.cas and stack.web_url
    stack.emulator.add_user(
        "2000000000000000301",
        "olga",
        "olga-token",
        global_name="Olga",
        guilds={GUILD: [MEMBER_ROLE]},
        locale="fr",  # their Discord client is in French
    )
    shots = Shots("sso-new-account-360px")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    started = time.monotonic()
    await page.goto(stack.web_url + "/")
    await page.click("#login")
    await page.fill("input[name=username]", "olga")
    await page.fill("input[name=password]", "olga-token")
    await page.click("button[type=submit]")
    await page.click("button[value=authorize]")
    await page.wait_for_selector("#link-sso")  # Synapse advertises m.login.sso + token
    await shots.take(page, "home")
    await page.click("#link-sso")
    await page.wait_for_selector("#cas-login")  # the homeserver's SSO (the sandbox CAS)
    await page.fill("input[name=username]", "olga-sso")
    await page.fill("input[name=displayname]", "Olga (SSO)")
    await shots.take(page, "sso-login")
    await page.click("#cas-login")
    await page.wait_for_selector("#done")
    elapsed = time.monotonic() - started
    await shots.take(page, "done")
    assert "page de connexion du serveur" in await page.inner_text("ol")  # no password
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {width}px"
    print(f"sso login-to-rooms seconds={elapsed:.2f}")

    assert stack.cas.logins == ["olga-sso"]
    mxid = UserID("@olga-sso:localhost")  # created by Synapse on this first SSO login
    link = await stack.bridge.ctx.stores.links.by_discord(DiscordUserID(2000000000000000301))
    assert link is not None and link.mxid == mxid
    matrix = stack.bridge._moderation.mctx.matrix  # type: ignore[union-attr]
    for channel in (PUBLIC, MEMBERS):
        room = RoomID(await _room(stack, channel))
        assert await matrix.membership(room, mxid) == "join"  # joined, not only invited
    # Back on the page, linked: "invite me again" works (nothing to do: already in).
    await page.goto(stack.web_url + "/")
    await page.click("#rejoin")
    await page.wait_for_selector("#done")
    assert "#members" in await page.inner_text("#rooms")
    # Not an account the page created: no web_account row (that one stays for later).
    assert (
        await stack.bridge.ctx.stores.web_accounts.created_for(DiscordUserID(2000000000000000301))
        is None
    )
    await context.close()
