"""The appservice HTTP API the homeserver calls: parse + auth, then hand over.

Routes per the Matrix Application Service API (v1 and the legacy unprefixed
paths). Authentication: a missing token is 401 ``M_UNAUTHORIZED``, a wrong
one 403 ``M_FORBIDDEN``. A transaction already handled (its ID is stored in
the database) is answered 200 without handling it again.

The same listener serves two operations routes that take no token:
``GET /metrics`` (Prometheus text format) and ``GET /health`` (JSON, 200 when
every check passes, 503 otherwise). Neither reveals a secret: metrics are
counters by direction and queue name, health details are short plain-English
phrases (see bridge.health). Operators who do not want them public can still
block them at their reverse proxy.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bridge.db.txns import events_digest
from bridge.health import HealthReport
from bridge.media_links import MEDIA_PATH_PREFIX, verify
from bridge.metrics import Metrics
from bridge.txn_order import TxnOrder

log = logging.getLogger(__name__)

# Stores a transaction unless it was handled before (then returns False), in one go.
TransactionHandler = Callable[[str, list[dict[str, Any]]], Awaitable[bool | None]]
# (transaction ID, digest of its events; None: any events) -> handled before
SeenCheck = Callable[[str, str | None], Awaitable[bool]]
QueryHandler = Callable[[str], Awaitable[bool]]
EphemeralHandler = Callable[[list[dict[str, Any]]], Awaitable[None]]
HealthHandler = Callable[[], Awaitable[HealthReport]]


@dataclass
class MediaStream:
    """A homeserver media download being relayed: its type, size and bytes."""

    content_type: str
    length: int | None
    chunks: AsyncIterator[bytes]


MediaOpener = Callable[[str, str], AbstractAsyncContextManager[MediaStream | None]]
# Served inline; anything else is a download, so nobody's upload runs as a page here.
INLINE_TYPES = ("image/", "video/", "audio/")
# A homeserver transaction holds up to 100 events of up to 64 KiB each, plus
# ephemeral events: aiohttp's default 1 MiB cap would refuse real ones forever.
MAX_BODY_SIZE = 32 * 1024 * 1024
APPSERVICE_PATHS = ("/_matrix/app/", "/transactions/", "/users/", "/rooms/")


def _error(status: int, errcode: str, message: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": message}, status=status)


@dataclass
class AppserviceHandlers:
    hs_token: str
    seen: SeenCheck
    transaction: TransactionHandler
    query_user: QueryHandler
    query_alias: QueryHandler
    # Ephemeral events (typing ...) pushed with ``receive_ephemeral``: best effort.
    ephemeral: EphemeralHandler | None = None
    # Signed public media links (bridge.media_links): key and how to fetch the media.
    media_key: bytes | None = None
    open_media: MediaOpener | None = None
    # Operations (no token needed): /metrics is 404 without metrics, /health without health.
    metrics: Metrics | None = None
    health: HealthHandler | None = None
    # Refuses, once, a transaction that overtook an earlier one (see bridge.txn_order).
    order: TxnOrder | None = None


def _duplicate(txn_id: str, order: TxnOrder | None) -> web.Response:
    log.info("appservice.txn-duplicate txn=%r", txn_id)
    if order is not None:  # the homeserver resends from here
        order.handled(txn_id)
    return web.json_response({})


def _token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    # Auth schemes are case-insensitive (RFC 9110); an empty one falls back to the query.
    if scheme.casefold() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.query.get("access_token")


def build_appservice_app(handlers: AppserviceHandlers) -> web.Application:
    @web.middleware
    async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(APPSERVICE_PATHS):
            response: web.StreamResponse = await handler(request)
            return response
        token = _token_of(request)
        if token is None:
            return _error(401, "M_UNAUTHORIZED", "Missing access token")
        # surrogateescape: non-UTF-8 header bytes arrive as lone surrogates.
        if not hmac.compare_digest(
            token.encode("utf-8", "surrogateescape"), handlers.hs_token.encode()
        ):
            log.warning("appservice.auth-refused path=%s", request.path)
            return _error(403, "M_FORBIDDEN", "Invalid homeserver token")
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's 405/413...: answer in Matrix form
            if exc.status < 400:
                raise
            errcode = "M_TOO_LARGE" if exc.status == 413 else "M_UNRECOGNIZED"
            return _error(exc.status, errcode, exc.reason)
        return response

    async def put_transaction(request: web.Request) -> web.Response:
        txn_id = request.match_info["txn_id"]
        try:
            # UTF-8 whatever the Content-Type says; ValueError covers JSONDecodeError,
            # UnicodeDecodeError and integers too long to convert, RecursionError deep nesting.
            body = json.loads((await request.read()).decode("utf-8"))
            is_json = True
        except (ValueError, RecursionError):
            body, is_json = None, False  # (a body of "null" is JSON, and None too)
        if not isinstance(body, dict) or not isinstance(body.get("events", []), list):
            if await handlers.seen(txn_id, None):  # a replay: acknowledged, whatever it holds
                log.info("appservice.txn-duplicate txn=%r", txn_id)
                return web.json_response({})
            if not is_json:
                return _error(400, "M_NOT_JSON", "Transaction body is not JSON")
            return _error(400, "M_BAD_JSON", "Transaction must be an object with an events list")
        events = [e for e in body.get("events", []) if isinstance(e, dict)]
        if len(events) != len(body.get("events", [])):
            log.warning("appservice.txn-skipped-non-objects txn=%r", txn_id)
        # Seen: the same ID with the same events. A homeserver may reuse IDs (Synapse on
        # SQLite restarts its counter after a restart): new events under an old ID are new.
        # In sequence (the usual case), the handler checks that and stores the events in
        # one database round trip; out of sequence, a replay is acknowledged, not refused.
        order = handlers.order
        if order is not None and not order.in_sequence(txn_id):
            if await handlers.seen(txn_id, events_digest(events)):
                return _duplicate(txn_id, order)
            if not order.admit(txn_id):
                return _error(
                    503, "M_UNKNOWN", "An earlier transaction has not arrived; resend in order"
                )
        if await handlers.transaction(txn_id, events) is False:
            return _duplicate(txn_id, order)
        if order is not None:
            order.handled(txn_id)
        ephemeral = body.get("ephemeral", body.get("de.sorunome.msc2409.ephemeral"))
        if handlers.ephemeral is not None and isinstance(ephemeral, list):
            try:
                await handlers.ephemeral([e for e in ephemeral if isinstance(e, dict)])
            except Exception:  # typing and receipts are never worth failing a transaction
                log.exception("appservice.ephemeral-failed txn=%r", txn_id)
        return web.json_response({})

    async def get_user(request: web.Request) -> web.Response:
        if await handlers.query_user(request.match_info["user_id"]):
            return web.json_response({})
        return _error(404, "M_NOT_FOUND", "No such user")

    async def get_alias(request: web.Request) -> web.Response:
        if await handlers.query_alias(request.match_info["alias"]):
            return web.json_response({})
        return _error(404, "M_NOT_FOUND", "No such room alias")

    async def get_media(request: web.Request) -> web.StreamResponse:
        server, media_id = request.match_info["server"], request.match_info["media_id"]
        key, opener = handlers.media_key, handlers.open_media
        if (
            key is None
            or opener is None
            or not verify(key, server, media_id, request.match_info["sig"])
        ):
            return _error(404, "M_NOT_FOUND", "No such media")
        async with opener(server, media_id) as media:
            if media is None:
                return _error(404, "M_NOT_FOUND", "No such media")
            inline = media.content_type.startswith(INLINE_TYPES)
            response = web.StreamResponse(
                headers={
                    "Content-Type": media.content_type,
                    "Cache-Control": "public, max-age=86400, immutable",
                    "Content-Security-Policy": "sandbox; default-src 'none'",
                    "X-Content-Type-Options": "nosniff",
                    "Content-Disposition": "inline" if inline else "attachment",
                }
            )
            if media.length is not None:
                response.content_length = media.length
            await response.prepare(request)
            async for chunk in media.chunks:
                await response.write(chunk)
            await response.write_eof()
            return response

    async def get_metrics(request: web.Request) -> web.Response:
        """Prometheus text exposition; no token: counters and queue names only."""
        if handlers.metrics is None:
            return _error(404, "M_NOT_FOUND", "Metrics are not enabled")
        return web.Response(
            body=handlers.metrics.render(),
            headers={"Content-Type": handlers.metrics.content_type, "Cache-Control": "no-store"},
        )

    async def get_health(request: web.Request) -> web.Response:
        """200 ``{"status": "ok", "checks": ...}`` or 503 "unhealthy"; no token, no secrets."""
        if handlers.health is None:
            return _error(404, "M_NOT_FOUND", "Health checks are not enabled")
        try:
            report = await handlers.health()
        except Exception:
            log.exception("health.failed")
            body: dict[str, Any] = {"status": "unhealthy", "checks": {}}
            return web.json_response(body, status=503, headers={"Cache-Control": "no-store"})
        return web.json_response(
            report.as_json(),
            status=200 if report.ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({})

    async def unknown(request: web.Request) -> web.Response:
        return _error(404, "M_UNRECOGNIZED", "Unrecognized request")

    app = web.Application(middlewares=[auth], client_max_size=MAX_BODY_SIZE)
    # ``[^/]+``: aiohttp's default pattern refuses ``{`` and ``}``, which IDs may hold.
    for prefix in ("/_matrix/app/v1", ""):
        app.router.add_put(prefix + "/transactions/{txn_id:[^/]+}", put_transaction)
        app.router.add_get(prefix + "/users/{user_id:[^/]+}", get_user)
        app.router.add_get(prefix + "/rooms/{alias:[^/]+}", get_alias)
    app.router.add_post("/_matrix/app/v1/ping", ping)
    media_path = MEDIA_PATH_PREFIX + "/{server}/{media_id}/{sig}"
    app.router.add_get(media_path, get_media)
    app.router.add_get(media_path + "/{filename}", get_media)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/health", get_health)
    app.router.add_route("*", "/_matrix/app/{tail:.*}", unknown)
    return app
