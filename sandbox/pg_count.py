"""A PostgreSQL proxy that counts the client's round trips (tests and benchmarks).

Each round trip of the frontend/backend protocol ends with a message that makes
the server answer and the client wait: ``Sync`` (``S``, the end of an extended-query
exchange: a prepared statement's Parse/Describe, a Bind/Execute, an
``executemany`` batch) or a simple ``Query`` (``Q``: BEGIN, COMMIT, asyncpg's
connection reset). Counting those from the client's side gives the number of
times the bridge waited for the database, whatever the driver does underneath.

The proxy answers the client's SSLRequest with "no" itself, so the stream stays
readable (loopback only); the statements (``Parse``/``Query`` texts) are kept so a
test can say which ones were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import Counter

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


class PgRoundTrips:
    """Round trips seen since the start (``count``), and the statements sent."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: Counter[str] = Counter()
        self._names: dict[bytes, str] = {}

    def mark(self) -> tuple[int, Counter[str]]:
        return self.count, Counter(self.statements)

    def since(self, mark: tuple[int, Counter[str]]) -> tuple[int, Counter[str]]:
        """Round trips and statements since ``mark``."""
        count, statements = mark
        return self.count - count, self.statements - statements

    def _message(self, kind: bytes, body: bytes) -> None:
        if kind in (b"S", b"Q"):
            self.count += 1
        if kind == b"Q":
            self.statements[_squash(body.rstrip(b"\0").decode("utf-8", "replace"))] += 1
        elif kind == b"P":  # Parse: statement name, query text
            name, _, rest = body.partition(b"\0")
            query = rest.partition(b"\0")[0].decode("utf-8", "replace")
            self._names[name] = _squash(query)
        elif kind == b"B":  # Bind: portal name, statement name
            _portal, _, rest = body.partition(b"\0")
            name = rest.partition(b"\0")[0]
            self.statements[self._names.get(name, "?")] += 1


def _squash(query: str) -> str:
    return " ".join(query.split())


class CountingPgProxy:
    """Forwards 127.0.0.1:``port`` to PostgreSQL, counting round trips in ``trips``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.trips = PgRoundTrips()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        up_writer: asyncio.StreamWriter | None = None
        try:
            # Start-up: untyped messages (length, code). SSL/GSS requests get "N" here.
            while True:
                head = await reader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                rest = await reader.readexactly(length - 8)
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            up_writer.write(head + rest)
            await asyncio.gather(
                self._client_to_server(reader, up_writer), _pipe(up_reader, writer)
            )
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()
            if task is not None:
                self._tasks.discard(task)

    async def _client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, OSError):
            while True:
                head = await reader.readexactly(5)
                kind, length = head[:1], struct.unpack("!i", head[1:])[0]
                body = await reader.readexactly(length - 4)
                self.trips._message(kind, body)
                writer.write(head + body)
                await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()
