"""A tiny CAS server (Central Authentication Service, protocol 2): the sandbox's single
sign-on, so the test Synapse advertises ``m.login.sso`` and creates accounts on a
first SSO login, without any extra library (Synapse's OIDC needs authlib; CAS needs
nothing).

- ``GET /login?service=...``: a login form (a username and a display name; no
  password: this is a sandbox);
- ``POST /login``: back to ``service`` with a single-use ``ticket``;
- ``GET /proxyValidate?ticket&service`` (and ``/serviceValidate``): the CAS 2 XML
  answer, ``authenticationSuccess`` with the user and a ``displayName`` attribute, or
  ``authenticationFailure``.
"""

from __future__ import annotations

import html
import logging
import secrets
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from aiohttp import web

log = logging.getLogger(__name__)

CAS_NS = "http://www.yale.edu/tp/cas"


@dataclass
class CasServer:
    # ticket -> (service, user, display name); each ticket works once
    tickets: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login_submit)
        app.router.add_get("/proxyValidate", self.validate)
        app.router.add_get("/serviceValidate", self.validate)
        return app

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}"
        log.info("cas.started url=%s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def login_page(self, request: web.Request) -> web.Response:
        service = request.query.get("service", "")
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            "<title>Single sign-on (sandbox CAS)</title></head>"
            "<body style='font-family:sans-serif;max-width:30em;margin:auto;padding:1em'>"
            "<h1>Single sign-on (sandbox)</h1><form method=post action=/login>"
            f'<input type=hidden name=service value="{html.escape(service)}">'
            "<label>Username <input name=username required></label><br>"
            "<label>Display name <input name=displayname></label><br>"
            "<button type=submit id=cas-login>Log in</button></form></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def login_submit(self, request: web.Request) -> web.Response:
        form = await request.post()
        service, user = str(form.get("service", "")), str(form.get("username", "")).strip()
        if not service or not user:
            raise web.HTTPBadRequest(text="service and username are required")
        ticket = "ST-" + secrets.token_urlsafe(16)
        self.tickets[ticket] = (service, user, str(form.get("displayname", "")) or user)
        self.logins.append(user)
        sep = "&" if "?" in service else "?"
        raise web.HTTPFound(f"{service}{sep}ticket={ticket}")

    async def validate(self, request: web.Request) -> web.Response:
        found = self.tickets.pop(request.query.get("ticket", ""), None)
        if found is None or found[0] != request.query.get("service"):
            inner = (
                '<cas:authenticationFailure code="INVALID_TICKET">no</cas:authenticationFailure>'
            )
        else:
            _, user, display = found
            inner = (
                f"<cas:authenticationSuccess><cas:user>{escape(user)}</cas:user>"
                f"<cas:attributes><cas:displayName>{escape(display)}</cas:displayName>"
                "</cas:attributes></cas:authenticationSuccess>"
            )
        xml = f"<cas:serviceResponse xmlns:cas='{CAS_NS}'>{inner}</cas:serviceResponse>"
        return web.Response(text=xml, content_type="text/xml")
