"""``python -m bench.web_join [--runs N] [--registration MODE]``: the members' page's
weight and the time from "Log in with Discord" to "you are in the rooms", measured in
the sandbox (the ``make sandbox`` stack: demo seed, SQLite, Synapse, emulator, bridge)
with headless Chromium (Debian's /usr/bin/chromium) at 360 px, driven by Playwright.

Each run is a new Discord member (in every seed guild; the member role of the first
one), who presses "Log in with Discord", logs in on the emulator and consents (typed
by the robot: no human time), keeps the suggested name, types a password and presses
"Create my account". Printed: the time per step and in all (median and max over the
runs), the bytes of every response the browser fetched from the page for the landing,
member and final pages, and the number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import machine_line
from sandbox.stack import SandboxStack, StackOptions

CHROMIUM = os.environ.get("PASSERELLE_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}


@dataclass
class Run:
    login_s: float = 0.0  # "Log in with Discord" -> the member's page
    create_s: float = 0.0  # "Create my account" -> "you are in the rooms"
    total_s: float = 0.0
    bytes_by_page: dict[str, int] = field(default_factory=dict)
    requests_by_page: dict[str, int] = field(default_factory=dict)
    rooms: int = 0


class Weigher:
    """The bytes of the page's own responses (HTML, CSS) since the last ``take``."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.responses: list[Any] = []

    def on_response(self, response: Any) -> None:
        if response.url.startswith(self.origin) and response.status < 300:
            self.responses.append(response)

    async def take(self) -> tuple[int, int]:
        """(bytes, requests) that crossed the network: a stylesheet the browser kept
        (served from its cache, 0 bytes transferred) counts for nothing."""
        taken, self.responses = self.responses, []
        sizes = [(await r.request.sizes())["responseBodySize"] for r in taken]
        fetched = [size for size in sizes if size > 0]
        return sum(fetched), len(fetched)


def _member(stack: SandboxStack, n: int) -> tuple[str, str]:
    """A new Discord user in every seed guild (member role in the first one)."""
    assert stack.emulator
    guilds: dict[str, list[str]] = {}
    for index, guild in enumerate(stack.seed["guilds"]):
        roles = [str(r["id"]) for r in guild.get("roles", []) if r.get("name") == "Member"]
        guilds[str(guild["id"])] = roles if index == 0 else []
    username = f"bench{n}"
    stack.emulator.add_user(
        str(2000000000000000900 + n), username, f"{username}-token", guilds=guilds
    )
    return username, f"{username}-token"


async def _one(browser: Any, stack: SandboxStack, n: int) -> Run:
    assert stack.web_url
    username, token = _member(stack, n)
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    weigher = Weigher(stack.web_url)
    page.on("response", weigher.on_response)
    run = Run()
    await page.goto(stack.web_url + "/")
    run.bytes_by_page["landing"], run.requests_by_page["landing"] = await weigher.take()
    started = time.monotonic()
    await page.click("#login")  # "Se connecter avec Discord"
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", token)
    await page.click("button[type=submit]")
    await page.click("button[value=authorize]")
    await page.wait_for_selector("#create-form")
    run.login_s = time.monotonic() - started
    run.bytes_by_page["member"], run.requests_by_page["member"] = await weigher.take()
    await page.fill("#c-pass", "un mot de passe solide")
    clicked = time.monotonic()
    await page.click("#create")
    await page.wait_for_selector("#done")
    now = time.monotonic()
    run.create_s, run.total_s = now - clicked, now - started
    run.bytes_by_page["done"], run.requests_by_page["done"] = await weigher.take()
    run.rooms = await page.locator("#rooms li").count()
    await context.close()
    return run


def _report(runs: list[Run], registration: str) -> None:
    def stat(values: list[float]) -> str:
        return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s"

    print(machine_line())
    print(f"members' page, {len(runs)} new members, registration={registration}, 360 px")
    print(f"  Log in with Discord -> member's page : {stat([r.login_s for r in runs])}")
    print(f"  Create my account -> in the rooms    : {stat([r.create_s for r in runs])}")
    print(f"  Log in with Discord -> in the rooms  : {stat([r.total_s for r in runs])}")
    print(f"  rooms listed on the final page       : {runs[-1].rooms}")
    last = runs[-1]
    for name in ("landing", "member", "done"):
        print(
            f"  weight {name:<8}: {last.bytes_by_page[name]:>6} bytes in"
            f" {last.requests_by_page[name]} request(s) over the network (no script)"
        )


async def main(runs: int, registration: str, keep: Path | None) -> None:
    from playwright.async_api import async_playwright

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        workdir = keep or Path(tmp)
        opts = StackOptions(workdir=workdir, web_registration=registration, log_level="WARNING")
        async with SandboxStack(opts) as stack, async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            results = [await _one(browser, stack, n) for n in range(runs)]
            await browser.close()
    _report(results, registration)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--registration",
        choices=("synapse_shared_secret", "registration_token"),
        default="synapse_shared_secret",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs there")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.registration, args.workdir))
