"""Matrix side, media: homeserver uploads and downloads, http(s) fetches, avatars.

:class:`bridge.transport.matrix.MatrixTransport` makes one of these in ``start()``
(over its HTTP session and bot intent) and delegates its media methods to it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError

from bridge.ports import MediaTooLarge
from bridge.transport.appservice_http import MediaStream

log = logging.getLogger(__name__)

AVATAR_MAX_BYTES = 8 * 1024 * 1024
DOWNLOAD_CHUNK = 64 * 1024
# A status that says "try the next download path" (the homeserver lacks that endpoint).
_NEXT_PATH_STATUSES = (400, 404, 405)


def download_paths(server: str, media_id: str) -> tuple[str, str]:
    """Where a homeserver serves ``mxc://server/media_id``, in the order to try."""
    return (
        f"/_matrix/client/v1/media/download/{server}/{media_id}",  # authenticated media
        f"/_matrix/media/v3/download/{server}/{media_id}",  # servers without MSC3916
    )


class MatrixMediaClient:
    """Media over one HTTP session, with the appservice token and the bot's intent."""

    def __init__(
        self, session: aiohttp.ClientSession, homeserver_url: str, as_token: str, bot: IntentAPI
    ) -> None:
        self._session = session
        self.homeserver_url = homeserver_url
        self._as_token = as_token
        self._bot = bot

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._as_token}"}

    async def read_capped(
        self, url: str, max_bytes: int, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, str | None]:
        """(status, body, content type) of a GET; raises MediaTooLarge past ``max_bytes``."""
        async with self._session.get(url, headers=headers) as resp:
            if resp.status != 200:
                return resp.status, b"", None
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise MediaTooLarge(max_bytes)
            data = bytearray()
            async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise MediaTooLarge(max_bytes)
            return resp.status, bytes(data), resp.headers.get("Content-Type")

    async def upload_avatar(self, url: str) -> str | None:
        try:
            async with self._session.get(url) as resp:
                if resp.status != 200:
                    log.warning("matrix.avatar-download-failed status=%s", resp.status)
                    return None
                data = await resp.content.read(AVATAR_MAX_BYTES + 1)
                mime = resp.content_type or "image/png"
        except aiohttp.ClientError as exc:
            log.warning("matrix.avatar-download-failed error=%s", type(exc).__name__)
            return None
        if len(data) > AVATAR_MAX_BYTES:
            log.warning("matrix.avatar-too-large bytes>%s", AVATAR_MAX_BYTES)
            return None
        return str(await self._bot.upload_media(data, mime_type=mime, filename="avatar"))

    async def download_media(self, mxc: str, max_bytes: int) -> bytes | None:
        server, _, media_id = mxc.removeprefix("mxc://").partition("/")
        if not mxc.startswith("mxc://") or not server or not media_id or "/" in media_id:
            log.warning("matrix.media-bad-uri uri=%s", mxc)
            return None
        auth = self._auth()
        try:
            for path in download_paths(server, media_id):
                status, data, _ = await self.read_capped(
                    self.homeserver_url + path, max_bytes, auth
                )
                if status == 200:
                    return data
                log.info("matrix.media-download-status uri=%s path=%s status=%s", mxc, path, status)
                if status not in _NEXT_PATH_STATUSES:
                    break
        except aiohttp.ClientError as exc:
            log.warning("matrix.media-download-failed uri=%s error=%s", mxc, type(exc).__name__)
        return None

    @asynccontextmanager
    async def open_media(self, server: str, media_id: str) -> AsyncIterator[MediaStream | None]:
        """Stream a homeserver file (for the bridge's signed public links)."""
        auth = self._auth()
        for path in download_paths(server, media_id):
            try:
                resp = await self._session.get(self.homeserver_url + path, headers=auth)
            except aiohttp.ClientError as exc:
                log.warning("matrix.media-open-failed error=%s", type(exc).__name__)
                break
            async with resp:
                if resp.status == 200:
                    yield MediaStream(
                        content_type=resp.content_type or "application/octet-stream",
                        length=resp.content_length,
                        chunks=resp.content.iter_chunked(DOWNLOAD_CHUNK),
                    )
                    return
                if resp.status not in _NEXT_PATH_STATUSES:
                    break
        yield None

    async def upload_media(self, data: bytes, mimetype: str, filename: str) -> str:
        try:
            return str(await self._bot.upload_media(data, mime_type=mimetype, filename=filename))
        except MatrixRequestError as exc:
            if exc.http_status == 413:  # over the homeserver's max_upload_size
                raise MediaTooLarge(len(data)) from exc
            raise

    async def fetch_url(self, url: str, max_bytes: int) -> tuple[bytes, str | None] | None:
        if not url.startswith(("https://", "http://")):
            return None
        try:
            status, data, content_type = await self.read_capped(url, max_bytes)
        except aiohttp.ClientError as exc:
            log.warning("matrix.fetch-failed error=%s", type(exc).__name__)
            return None
        if status != 200:
            log.warning("matrix.fetch-failed status=%s", status)
            return None
        return data, content_type
