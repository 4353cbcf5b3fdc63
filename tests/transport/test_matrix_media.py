"""MatrixMediaClient against a tiny fake homeserver: download paths, caps, streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixStandardRequestError

from bridge.ports import MediaTooLarge
from bridge.transport.matrix_media import MatrixMediaClient, download_paths

TOKEN = "as-token-for-tests"


class FakeBot:
    def __init__(self, status: int | None = None) -> None:
        self.status = status
        self.uploads: list[tuple[bytes, str, str]] = []

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        if self.status is not None:
            raise MatrixStandardRequestError(self.status, "too big")
        self.uploads.append((data, mime_type, filename))
        return "mxc://hs/uploaded"


class Homeserver:
    """Serves /v1 (authenticated) and /v3 downloads with a per-path status."""

    def __init__(self, v1: int, v3: int, body: bytes = b"data") -> None:
        self.v1, self.v3, self.body = v1, v3, body
        self.hits: list[tuple[str, str | None]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append((request.path, request.headers.get("Authorization")))
        status = self.v1 if request.path.startswith("/_matrix/client/v1/") else self.v3
        if request.path.startswith("/other/"):
            status = 200
        if status != 200:
            return web.json_response({"errcode": "M_NOT_FOUND"}, status=status)
        return web.Response(body=self.body, content_type="image/png")


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(hs: Homeserver, bot: FakeBot | None = None) -> MatrixMediaClient:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", hs.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        url = str(server.make_url("")).rstrip("/")
        return MatrixMediaClient(session, url, TOKEN, cast(IntentAPI, bot or FakeBot()))

    yield start
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


def test_download_paths_try_authenticated_media_first() -> None:
    assert download_paths("hs", "abc") == (
        "/_matrix/client/v1/media/download/hs/abc",
        "/_matrix/media/v3/download/hs/abc",
    )


async def test_download_falls_back_to_v3_on_404(serve: Any) -> None:
    hs = Homeserver(v1=404, v3=200)
    media = await serve(hs)
    assert await media.download_media("mxc://hs/abc", 100) == b"data"
    assert [p for p, _ in hs.hits] == list(download_paths("hs", "abc"))
    assert all(auth == f"Bearer {TOKEN}" for _, auth in hs.hits)


async def test_download_stops_on_a_server_error(serve: Any) -> None:
    hs = Homeserver(v1=500, v3=200)
    media = await serve(hs)
    assert await media.download_media("mxc://hs/abc", 100) is None
    assert len(hs.hits) == 1


@pytest.mark.parametrize("uri", ["https://hs/abc", "mxc://hs", "mxc:///abc", "mxc://hs/a/b"])
async def test_download_refuses_bad_uris(serve: Any, uri: str) -> None:
    hs = Homeserver(v1=200, v3=200)
    media = await serve(hs)
    assert await media.download_media(uri, 100) is None
    assert hs.hits == []


async def test_download_past_the_cap_raises(serve: Any) -> None:
    media = await serve(Homeserver(v1=200, v3=200, body=b"x" * 101))
    with pytest.raises(MediaTooLarge):
        await media.download_media("mxc://hs/abc", 100)


async def test_open_media_streams_or_yields_none(serve: Any) -> None:
    media = await serve(Homeserver(v1=405, v3=200))
    async with media.open_media("hs", "abc") as stream:
        assert stream is not None
        assert stream.content_type == "image/png"
        assert b"".join([chunk async for chunk in stream.chunks]) == b"data"
    media = await serve(Homeserver(v1=404, v3=404))
    async with media.open_media("hs", "abc") as stream:
        assert stream is None


async def test_fetch_url(serve: Any) -> None:
    media = await serve(Homeserver(v1=404, v3=404))
    assert await media.fetch_url("ftp://elsewhere/x", 100) is None
    fetched = await media.fetch_url(media.homeserver_url + "/other/x", 100)
    assert fetched is not None and fetched[0] == b"data"
    assert fetched[1] is not None and fetched[1].startswith("image/png")
    assert await media.fetch_url(media.homeserver_url + "/_matrix/media/v3/x", 100) is None


async def test_upload_maps_413_to_media_too_large(serve: Any) -> None:
    bot = FakeBot()
    media = await serve(Homeserver(v1=200, v3=200), bot)
    assert await media.upload_media(b"img", "image/png", "a.png") == "mxc://hs/uploaded"
    assert bot.uploads == [(b"img", "image/png", "a.png")]
    media = await serve(Homeserver(v1=200, v3=200), FakeBot(status=413))
    with pytest.raises(MediaTooLarge):
        await media.upload_media(b"img", "image/png", "a.png")


async def test_upload_avatar(serve: Any) -> None:
    bot = FakeBot()
    media = await serve(Homeserver(v1=200, v3=404, body=b"png"), bot)
    assert await media.upload_avatar(media.homeserver_url + "/other/a") == "mxc://hs/uploaded"
    assert bot.uploads == [(b"png", "image/png", "avatar")]
    assert await media.upload_avatar(media.homeserver_url + "/_matrix/media/v3/x") is None
