"""The bridge's signed public media endpoint (webhook avatars, links to big files)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bridge.media_links import link_key, media_link
from bridge.transport.appservice_http import AppserviceHandlers, MediaStream, build_appservice_app

KEY = link_key("as-token")
FILES = {
    ("example.org", "pic"): ("image/png", b"\x89PNG fake"),
    ("example.org", "page"): ("text/html", b"<script>alert(1)</script>"),
}


@asynccontextmanager
async def opener(server: str, media_id: str) -> AsyncIterator[MediaStream | None]:
    found = FILES.get((server, media_id))
    if found is None:
        yield None
        return

    async def chunks() -> AsyncIterator[bytes]:
        yield found[1]

    yield MediaStream(found[0], len(found[1]), chunks())


async def nothing(*_: Any) -> Any:
    return False


async def serve() -> TestClient:
    handlers = AppserviceHandlers(
        "hs", nothing, nothing, nothing, nothing, media_key=KEY, open_media=opener
    )
    client = TestClient(TestServer(build_appservice_app(handlers)))
    await client.start_server()
    return client


def path_of(mxc: str, name: str = "f") -> str:
    link = media_link("http://x", KEY, mxc, name)
    assert link is not None
    return link.removeprefix("http://x")


async def test_signed_link_serves_the_file_without_a_token() -> None:
    client = await serve()
    try:
        resp = await client.get(path_of("mxc://example.org/pic", "avatar"))
        assert resp.status == 200
        assert resp.content_type == "image/png"
        assert resp.headers["Content-Disposition"] == "inline"
        assert await resp.read() == b"\x89PNG fake"
        # Not an image: a download, sandboxed, never rendered as a page of ours.
        resp = await client.get(path_of("mxc://example.org/page"))
        assert resp.headers["Content-Disposition"] == "attachment"
        assert "sandbox" in resp.headers["Content-Security-Policy"]
    finally:
        await client.close()


async def test_unsigned_or_unknown_media_is_404() -> None:
    client = await serve()
    try:
        good = path_of("mxc://example.org/pic")
        server_media, _sig, name = good.rsplit("/", 2)
        for path in (
            f"{server_media}/{'0' * 32}/{name}",
            path_of("mxc://example.org/pic").replace("/pic/", "/page/"),
            path_of("mxc://example.org/missing"),
        ):
            resp = await client.get(path)
            assert resp.status == 404, path
            assert (await resp.json())["errcode"] == "M_NOT_FOUND"
    finally:
        await client.close()
