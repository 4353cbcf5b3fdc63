"""The members' page over HTTP (aiohttp + Jinja2, no JavaScript): routes, cookies,
rate limits and error pages. Decisions live in the pure modules of this package, the
account flows in :mod:`bridge.actions.web_join`.

Routes: ``GET /`` (landing, or who you are and your rooms), ``GET /login`` (to
Discord, with state and PKCE), ``GET /callback`` (back from Discord),
``POST /create``, ``POST /link``, ``POST /rejoin``, ``POST /unlink``, ``POST /logout``,
``GET /static/style.css``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import segno
from aiohttp import web

from bridge.actions.web_join import Joined, link_and_join, offered_rooms, unlink, withheld_rooms
from bridge.config_web import WebConfig
from bridge.i18n import Translator, normalize, translator
from bridge.ids import DiscordUserID, GuildID, UserID
from bridge.ratelimit import SenderLimiter
from bridge.transport.web_clients import DiscordOAuth, Homeserver, Refused, Unavailable
from bridge.web import names, security
from bridge.web.strings import ERRORS, LANGS, pick_lang
from moderation.context import ModerationContext

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION = "passerelle_session"
PENDING = "passerelle_login"
SSO_PENDING = "passerelle_sso"
TYPED = "passerelle_typed"
LANG = "passerelle_lang"
LIMITED_GETS = ("/login", "/callback", "/link/sso", "/link/sso/callback")
SESSION_TTL = 30 * 60
PENDING_TTL = 10 * 60
MIN_PASSWORD = 10
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageError(Exception):
    """Show the error page: ``key`` of :data:`bridge.web.strings.ERRORS`, an HTTP status, and
    what the member had typed (``keep``, never a password) to give back after they log
    in again."""

    def __init__(self, key: str, status: int = 400, keep: Mapping[str, str] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.keep = dict(keep or {})


class MembersPage:
    def __init__(
        self, cfg: WebConfig, mctx: ModerationContext, clock: Callable[[], float] = time.time
    ) -> None:
        self.cfg = cfg
        self.mctx = mctx
        self.clock = clock
        bridge_cfg = mctx.bridge.config
        self.discord = DiscordOAuth(
            bridge_cfg.discord.api_base, cfg.discord_client_id, cfg.discord_client_secret
        )
        self.homeserver = Homeserver(
            bridge_cfg.homeserver.url,
            bridge_cfg.homeserver.server_name,
            cfg.registration_shared_secret,
            cfg.registration_admin_token,
        )
        self.ip_limit = SenderLimiter(cfg.ip_per_minute, 60)
        self.account_limit = SenderLimiter(cfg.account_per_hour, 3600)
        self._creating = asyncio.Lock()
        self._flows_cache: tuple[float, frozenset[str]] | None = None
        # The stylesheet's URL names its content: browsers keep it (immutable) and a new
        # version is a new URL.
        css = (HERE / "static" / "style.css").read_bytes()
        self.css_url = f"/static/style.css?v={hashlib.sha256(css).hexdigest()[:12]}"
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    # -- plumbing ------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024)
        app.router.add_get("/", self.home)
        app.router.add_get("/login", self.login)
        app.router.add_get("/callback", self.callback)
        app.router.add_post("/create", self.create)
        app.router.add_post("/link", self.link)
        app.router.add_get("/link/sso", self.link_sso)
        app.router.add_get("/link/sso/callback", self.link_sso_callback)
        app.router.add_post("/unlink", self.unlink)
        app.router.add_post("/rejoin", self.rejoin)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/static/style.css", self.style)
        app.router.add_get("/lang/{lang}", self.set_lang)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            limited = request.method == "POST" or request.path in LIMITED_GETS
            if limited and not self.ip_limit.allow(self._ip(request)):
                raise PageError("err_rate", 429)
            resp = await handler(request)
        except PageError as err:
            values = {"message_key": err.key, "kept": bool(err.keep)}
            resp = self._page(request, "error.html", values, err.status)
            if err.keep:  # nothing typed is lost: the form gets it back after a new login
                kept = security.sign(
                    self.cfg.session_secret, "typed", err.keep, self.clock(), PENDING_TTL
                )
                self._cookie(resp, TYPED, kept, PENDING_TTL)
        except web.HTTPNotFound:
            resp = self._page(request, "error.html", {"message_key": "err_not_found"}, 404)
        except Unavailable as exc:
            log.warning("web.unavailable path=%s error=%s", request.path, exc)
            key = "err_discord_down" if request.path == "/callback" else "err_homeserver_down"
            resp = self._page(request, "error.html", {"message_key": key}, 503)
        except web.HTTPException as exc:  # redirects
            exc.headers.update(security.SECURITY_HEADERS)
            raise
        except Exception:  # a bug or the database: a plain page, the details in the log
            log.exception("web.failed path=%s", request.path)
            resp = self._page(request, "error.html", {"message_key": "err_internal"}, 500)
        resp.headers.update(security.SECURITY_HEADERS)
        if request.path.startswith("/static/") and resp.status == 200:
            resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return resp

    def _ip(self, request: web.Request) -> str:
        return security.client_ip(
            request.remote, request.headers.get("X-Forwarded-For"), self.cfg.trust_forwarded_for
        )

    def _page(
        self, request: web.Request, template: str, values: Mapping[str, Any], status: int = 200
    ) -> web.Response:
        tr = self._tr(request)
        values = dict(values)
        if values.get("message_key"):  # the error page's message
            values["error_text"] = tr._(ERRORS[values["message_key"]])
        if values.get("error"):  # a refused form's message, above the form
            values["error_text"] = tr._(ERRORS[values["error"]], **values.get("error_args", {}))
        html = self.env.get_template(template).render(
            _=tr._, ngettext=tr.ngettext, lang=tr.language, css_url=self.css_url, **values
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _tr(self, request: web.Request) -> Translator:
        """The visitor's language: the page's switch (a cookie), else their Discord
        client's (kept in the session at login), else their browser's, else
        ``bridge.language``."""
        session = self._session(request)
        return translator(
            pick_lang(
                request.headers.get("Accept-Language"),
                request.cookies.get(LANG),
                self.mctx.bridge.config.bridge.language,
                session.get("l") if session else None,
            )
        )

    def _cookie(self, resp: web.StreamResponse, name: str, value: str, ttl: int) -> None:
        resp.set_cookie(
            name,
            value,
            max_age=ttl,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self.cfg.secure_cookies,
        )

    def _session(self, request: web.Request) -> dict[str, Any] | None:
        return security.unsign(
            self.cfg.session_secret, "session", request.cookies.get(SESSION), self.clock()
        )

    async def _form(self, request: web.Request) -> tuple[dict[str, Any], dict[str, str]]:
        """The session and the posted form, after the CSRF check (else the expired page)."""
        session = self._session(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        if session is None or not security.same(form.get("csrf"), session.get("c")):
            typed = form.get("username", "").strip()[:64]
            keep = {request.path.strip("/"): typed} if typed else None
            raise PageError("err_expired", 403, keep)
        return session, form

    def _typed_before(self, request: web.Request) -> dict[str, str]:
        """What a form held when its login expired (a signed cookie, 10 minutes)."""
        kept = security.unsign(
            self.cfg.session_secret, "typed", request.cookies.get(TYPED), self.clock()
        )
        return {k: str(v) for k, v in (kept or {}).items() if k in ("create", "link")}

    @staticmethod
    def _roles(session: Mapping[str, Any]) -> dict[GuildID, list[int] | None]:
        raw = session.get("r") or {}
        return {
            GuildID(int(g)): ([int(r) for r in v] if isinstance(v, list) else None)
            for g, v in raw.items()
        }

    # -- pages ---------------------------------------------------------------------

    async def style(self, request: web.Request) -> web.StreamResponse:
        resp = web.FileResponse(HERE / "static" / "style.css")
        resp.headers["Content-Type"] = "text/css"
        return resp

    async def set_lang(self, request: web.Request) -> web.StreamResponse:
        """The language links: remembered for a year, back to the page."""
        lang = request.match_info["lang"]
        if lang not in LANGS:
            raise web.HTTPNotFound()
        resp = web.HTTPFound("/")
        self._cookie(resp, LANG, lang, 365 * 86400)
        raise resp

    async def home(
        self,
        request: web.Request,
        error: str | None = None,
        typed: Mapping[str, str] | None = None,
        status: int = 400,
        **error_args: str,
    ) -> web.Response:
        """The landing page, or the member's page; after a refused form, with its
        ``error`` and what was ``typed`` (never a password) kept in the fields."""
        session = self._session(request)
        if session is None:
            return self._page(request, "landing.html", {})
        typed = typed if typed is not None else self._typed_before(request)
        discord_id = DiscordUserID(int(session["d"]))
        link = await self.mctx.stores.links.by_discord(discord_id)
        roles = self._roles(session)
        rooms = await offered_rooms(self.mctx, discord_id, roles)
        flows = await self._flows()
        namer = self.mctx.namer
        values = {
            "s": session,
            "link": link,
            "rooms": rooms,
            "withheld": await withheld_rooms(self.mctx, discord_id, roles),
            "error": error,
            "error_args": {"mxid": str(link.mxid) if link else "", **error_args},
            "registration": self.cfg.registration != "disabled",
            "password_login": "m.login.password" in flows,
            "sso_login": {"m.login.sso", "m.login.token"} <= flows,
            "sso_only": {"m.login.sso", "m.login.token"} <= flows
            and "m.login.password" not in flows,
            "server_name": self.mctx.bridge.config.homeserver.server_name,
            "suggested": (typed or {}).get("create")
            or names.suggest(
                session["u"], session.get("g"), namer.user_prefix, namer.bot_localpart
            ),
            "typed_link": (typed or {}).get("link", ""),
            "room_link": _room_link,
        }
        return self._page(request, "home.html", values, status if error else 200)

    async def login(self, request: web.Request) -> web.StreamResponse:
        state = security.new_state()
        verifier, challenge = security.pkce_pair()
        pending = security.sign(
            self.cfg.session_secret,
            "pending",
            {"s": state, "v": verifier},
            self.clock(),
            PENDING_TTL,
        )
        resp = web.HTTPFound(self.discord.authorize(self.cfg.redirect_uri, state, challenge))
        self._cookie(resp, PENDING, pending, PENDING_TTL)
        raise resp

    async def callback(self, request: web.Request) -> web.StreamResponse:
        pending = security.unsign(
            self.cfg.session_secret, "pending", request.cookies.get(PENDING), self.clock()
        )
        if pending is None or not security.same(request.query.get("state"), pending.get("s")):
            raise PageError("err_expired", 403)
        if "error" in request.query or "code" not in request.query:
            raise PageError("err_denied", 403)
        guilds = self.mctx.bridge.config.discord.guild_ids
        try:
            who = await self.discord.identify(
                request.query["code"], pending["v"], self.cfg.redirect_uri, guilds
            )
        except Refused as exc:
            log.info("web.login-refused reason=%s", exc.code)
            raise PageError("err_expired", 403) from None
        if all(roles is None for roles in who.roles.values()):
            log.info("web.not-in-guild discord=%s", who.id)
            raise PageError("err_not_in_guild", 403)
        payload = {
            "d": str(who.id),
            "u": who.username,
            "g": who.global_name,
            "a": who.avatar_url,
            "r": {str(g): r for g, r in who.roles.items()},
            "c": security.new_state(),
            "l": who.locale,
        }
        language = normalize(who.locale, "")
        if language:  # what the bridge later tells this Discord user comes in it too
            await self.mctx.stores.user_languages.observed("discord", str(who.id), language)
        log.info("web.login discord=%s", who.id)
        resp = web.HTTPFound("/")
        self._cookie(
            resp,
            SESSION,
            security.sign(self.cfg.session_secret, "session", payload, self.clock(), SESSION_TTL),
            SESSION_TTL,
        )
        resp.del_cookie(PENDING, path="/")
        raise resp

    async def _flows(self) -> frozenset[str]:
        """The homeserver's login flows, asked at most every 5 minutes (password
        login assumed while it does not answer: the form then says it is down)."""
        now = self.clock()
        if self._flows_cache is not None and now - self._flows_cache[0] < 300:
            return self._flows_cache[1]
        try:
            flows = await self.homeserver.login_flows()
        except Unavailable:
            return frozenset({"m.login.password"})
        self._flows_cache = (now, flows)
        return flows

    def _account_allowed(self, discord_id: str) -> None:
        if not self.account_limit.allow(discord_id):
            raise PageError("err_rate", 429)

    async def create(self, request: web.Request) -> web.StreamResponse:
        session, form = await self._form(request)
        discord_id = DiscordUserID(int(session["d"]))
        if self.cfg.registration == "disabled":
            raise PageError("err_registration_off", 403)
        if await self.mctx.stores.links.by_discord(discord_id) is not None:
            return await self.home(request, "err_already_linked")
        self._account_allowed(str(discord_id))
        localpart = form.get("username", "").strip().lower()
        typed = {"create": localpart}
        namer = self.mctx.namer
        refused = names.refusal(localpart, namer.user_prefix, namer.bot_localpart)
        if refused is not None:
            return await self.home(request, f"err_name_{refused}", typed)
        password = form.get("password", "")
        if len(password) < MIN_PASSWORD:
            return await self.home(request, "err_password", typed)
        # One account per Discord account, even when two tabs race: the check, the
        # registration and its record go one at a time (the joins do not).
        async with self._creating:
            earlier = await self.mctx.stores.web_accounts.created_for(discord_id)
            if earlier is not None:
                return await self.home(request, "err_already_created", mxid=earlier)
            display = session.get("g") or session["u"]
            try:
                mxid, token = await self._register(localpart, password, display)
            except Refused as exc:
                return await self._register_refused(request, discord_id, exc.code, typed)
            except Unavailable as exc:  # the form comes back as it was typed
                log.warning("web.register-unavailable error=%s", exc)
                return await self.home(request, "err_homeserver_down", typed, 503)
            log.info("web.registered mxid=%s discord=%s", mxid, discord_id)
            await self.mctx.stores.web_accounts.record(discord_id, mxid)
        try:
            joined = await link_and_join(
                self.mctx, mxid, discord_id, self._roles(session), self.homeserver, token
            )
        finally:
            await self.homeserver.logout(token)
        return await self._done(request, joined, session)

    async def _register(self, localpart: str, password: str, display: str) -> tuple[UserID, str]:
        if self.cfg.registration == "registration_token":
            now_ms = int(self.clock() * 1000)
            return await self.homeserver.register_with_token(localpart, password, display, now_ms)
        return await self.homeserver.register(localpart, password, display)

    async def _register_refused(
        self, request: web.Request, discord_id: DiscordUserID, code: str, typed: dict[str, str]
    ) -> web.Response:
        log.info("web.register-refused discord=%s errcode=%s", discord_id, code)
        if code == "M_USER_IN_USE":
            return await self.home(request, "err_name_taken", typed)
        if code == "M_INVALID_USERNAME":
            return await self.home(request, "err_name_bad_characters", typed)
        if code == "M_EXCLUSIVE":  # an appservice's namespace
            return await self.home(request, "err_name_reserved", typed)
        hint = (
            "check registration_admin_token (an admin's access token) and"
            " registration_requires_token/enable_registration in homeserver.yaml"
            if self.cfg.registration == "registration_token"
            else "check registration_shared_secret"
        )
        log.error("web.register-failed errcode=%s hint=%s", code, hint)
        raise PageError("err_internal", 500)

    async def link(self, request: web.Request) -> web.StreamResponse:
        session, form = await self._form(request)
        discord_id = DiscordUserID(int(session["d"]))
        self._account_allowed(str(discord_id))
        user = form.get("username", "").strip()
        typed = {"link": user}
        try:
            offered = await self.homeserver.password_login_offered()
        except Unavailable as exc:
            log.warning("web.link-unavailable error=%s", exc)
            return await self.home(request, "err_homeserver_down", typed, 503)
        if not offered:
            return await self.home(request, "err_no_password_login")
        server = self.mctx.bridge.config.homeserver.server_name
        if user.startswith("@") and not user.endswith(f":{server}"):
            return await self.home(request, "err_login", typed)
        if self.mctx.namer.is_bridge_owned(user if user.startswith("@") else f"@{user}:{server}"):
            return await self.home(request, "err_login", typed)
        try:
            mxid, token = await self.homeserver.password_login(user, form.get("password", ""))
        except Refused:
            return await self.home(request, "err_login", typed)
        except Unavailable as exc:
            log.warning("web.link-unavailable error=%s", exc)
            return await self.home(request, "err_homeserver_down", typed, 503)
        await self.homeserver.logout(token)  # the login proved it; the token is done
        joined = await link_and_join(
            self.mctx, mxid, discord_id, self._roles(session), self.homeserver
        )
        return await self._done(request, joined, session)

    async def link_sso(self, request: web.Request) -> web.StreamResponse:
        """Link by the homeserver's SSO: off to its login page, back with a loginToken.
        A nonce in our redirect URL, bound to this browser by a signed cookie, stops
        anyone from linking your Discord account to *their* Matrix account (login CSRF)."""
        session = self._session(request)
        if session is None:
            raise PageError("err_expired", 403)
        nonce = security.new_state()
        back = f"{self.cfg.public_url}/link/sso/callback?n={nonce}"
        hs = self.cfg.homeserver_public_url or self.homeserver.url
        resp = web.HTTPFound(
            f"{hs}/_matrix/client/v3/login/sso/redirect?redirectUrl={quote(back, safe='')}"
        )
        pending = {"n": nonce, "d": session["d"]}
        self._cookie(
            resp,
            SSO_PENDING,
            security.sign(self.cfg.session_secret, "sso", pending, self.clock(), PENDING_TTL),
            PENDING_TTL,
        )
        raise resp

    async def link_sso_callback(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        pending = security.unsign(
            self.cfg.session_secret, "sso", request.cookies.get(SSO_PENDING), self.clock()
        )
        if (
            session is None
            or pending is None
            or not security.same(request.query.get("n"), pending.get("n"))
            or pending.get("d") != session["d"]
            or "loginToken" not in request.query
        ):
            raise PageError("err_expired", 403)
        discord_id = DiscordUserID(int(session["d"]))
        self._account_allowed(str(discord_id))
        try:
            mxid, token = await self.homeserver.token_login(request.query["loginToken"])
        except Refused:
            raise PageError("err_expired", 403) from None
        try:
            if self.mctx.namer.is_bridge_owned(mxid):
                raise PageError("err_login", 403)
            roles = self._roles(session)
            # The SSO token joins the rooms (an account the homeserver just created on
            # this SSO login is then in them, like one created here), then it is done.
            joined = await link_and_join(self.mctx, mxid, discord_id, roles, self.homeserver, token)
        finally:
            await self.homeserver.logout(token)
        resp = await self._done(request, joined, session, sso=True)
        resp.del_cookie(SSO_PENDING, path="/")
        return resp

    async def rejoin(self, request: web.Request) -> web.StreamResponse:
        """Already linked: invite the account again wherever its roles allow and it is
        not (an invitation lost, joins cut short by an outage, a member role since)."""
        session, _ = await self._form(request)
        discord_id = DiscordUserID(int(session["d"]))
        self._account_allowed(str(discord_id))
        link = await self.mctx.stores.links.by_discord(discord_id)
        if link is None:
            return await self.home(request)
        joined = await link_and_join(
            self.mctx, UserID(link.mxid), discord_id, self._roles(session), self.homeserver
        )
        return await self._done(request, joined, session)

    async def unlink(self, request: web.Request) -> web.StreamResponse:
        session, _ = await self._form(request)
        await unlink(self.mctx, DiscordUserID(int(session["d"])))
        return self._page(request, "unlinked.html", {})

    async def logout(self, request: web.Request) -> web.StreamResponse:
        await self._form(request)
        resp = web.HTTPFound("/")
        resp.del_cookie(SESSION, path="/")
        raise resp

    async def _done(
        self, request: web.Request, joined: Joined, session: Mapping[str, Any], sso: bool = False
    ) -> web.Response:
        target = (
            joined.spaces[-1]
            if joined.spaces
            else (joined.rooms[0].room_id if joined.rooms else None)
        )
        qr_url = _room_link(target) if target else self.cfg.element_url
        qr = segno.make(qr_url, error="m").svg_inline(scale=4, title="QR")
        values = {
            "joined": joined,
            "element_url": (
                f"{self.cfg.element_url}/#/room/{target}" if target else self.cfg.element_url
            ),
            "room_link": _room_link,
            "qr": qr,
            "qr_url": qr_url,
            "sso": sso,
            "withheld": await withheld_rooms(
                self.mctx, DiscordUserID(int(session["d"])), self._roles(session)
            ),
        }
        resp = self._page(request, "done.html", values)
        resp.del_cookie(TYPED, path="/")
        return resp


def _room_link(room_id: str) -> str:
    return f"https://matrix.to/#/{quote(room_id, safe='!:')}"


async def start_web(cfg: WebConfig, mctx: ModerationContext) -> web.AppRunner:
    """Serve the members' page on ``web.listen_host:listen_port``; the runner to clean up."""
    runner = web.AppRunner(MembersPage(cfg, mctx).app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, cfg.listen_host, cfg.listen_port).start()
    log.info(
        "web.listening host=%s port=%s url=%s", cfg.listen_host, cfg.listen_port, cfg.public_url
    )
    return runner


__all__ = ["MembersPage", "PageError", "UserID", "start_web"]
