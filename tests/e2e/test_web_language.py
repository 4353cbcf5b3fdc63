"""The members' page's language in headless Chromium, against Synapse + the Discord
emulator + the bridge: before login the browser's Accept-Language decides; once logged
in, the Discord client's language (``locale`` of the OAuth2 ``/users/@me`` answer,
which the bridge also stores for what it later tells that Discord user); the page's
own Français/English links (no script) win over both.

Screenshots: tests/artifacts/web/language-*/ (path printed).
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.stack import SandboxStack
from tests.e2e.test_web_join import GUILD, MEMBER_ROLE, PHONE, Shots, browser

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the module-scoped Chromium fixture, shared


async def _login(page: Any, stack: SandboxStack, username: str, shots: Shots) -> None:
    assert stack.web_url
    await page.goto(stack.web_url + "/")
    await shots.take(page, "landing")
    await page.click("#login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", f"{username}-token")
    await page.click("button[type=submit]")
    await page.wait_for_selector("button[value=authorize]")
    await page.click("button[value=authorize]")
    await page.wait_for_selector("#rooms")
    await shots.take(page, "home")


async def test_an_english_browser_then_a_french_discord_account(
    stack: SandboxStack, browser: Any
) -> None:
    assert stack.emulator and stack.bridge
    stack.emulator.add_user(
        "2000000000000000401",
        "amelie",
        "amelie-token",
        global_name="Amélie",
        guilds={GUILD: [MEMBER_ROLE]},
        locale="fr",
    )
    shots = Shots("language-en-browser-fr-discord")
    context = await browser.new_context(viewport=PHONE, locale="en-US")
    page = await context.new_page()
    assert stack.web_url
    await page.goto(stack.web_url + "/")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text("#login") == "Log in with Discord"
    await _login(page, stack, "amelie", shots)
    # Logged in: her Discord client's language (fr) wins over the browser's (en).
    assert await page.get_attribute("html", "lang") == "fr"
    assert "Bonjour Amélie" in await page.inner_text("h2")
    assert "Les salons que vos rôles vous ouvrent" in await page.content()
    stored = await stack.bridge.ctx.stores.user_languages.get("discord", "2000000000000000401")
    assert stored == "fr"
    # The switch (a plain link) wins over both, and stays chosen.
    await page.click("nav.lang a[lang=en]")
    await page.wait_for_selector("#rooms")
    await shots.take(page, "switched-to-english")
    assert await page.get_attribute("html", "lang") == "en"
    assert "Hello Amélie" in await page.inner_text("h2")
    await page.reload()
    assert "Hello Amélie" in await page.inner_text("h2")
    await context.close()


async def test_a_french_browser_then_an_english_discord_account(
    stack: SandboxStack, browser: Any
) -> None:
    assert stack.emulator and stack.bridge
    stack.emulator.add_user(
        "2000000000000000402",
        "oliver",
        "oliver-token",
        global_name="Oliver",
        guilds={GUILD: []},
        locale="en-GB",
    )
    shots = Shots("language-fr-browser-en-discord")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    assert stack.web_url
    await page.goto(stack.web_url + "/")
    assert await page.get_attribute("html", "lang") == "fr"
    assert await page.inner_text("#login") == "Se connecter avec Discord"
    await _login(page, stack, "oliver", shots)
    assert await page.get_attribute("html", "lang") == "en"
    assert "Hello Oliver" in await page.inner_text("h2")
    # No member role: the plural sentence, in English.
    assert "members-only room" in await page.inner_text("#no-member-role")
    await page.click("nav.lang a[lang=fr]")
    await page.wait_for_selector("#rooms")
    await shots.take(page, "switched-to-french")
    assert "Bonjour Oliver" in await page.inner_text("h2")
    assert "réservé" in await page.inner_text("#no-member-role")
    await context.close()
