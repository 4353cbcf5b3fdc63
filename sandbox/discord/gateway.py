"""The Discord gateway (websocket), as documented and as discord.py 2.x expects.

One :class:`GatewayHub` owns every session. A session outlives its socket so a
client can RESUME and get the dispatches it missed (replayed with their
sequence numbers). Each connection writes through its own queue, so dispatches
keep their order and REST handlers never wait on a socket.

Transport: ``?compress=zlib-stream`` gives one zlib stream per connection,
every message flushed with Z_SYNC_FLUSH (ending in 00 00 ff ff) in binary
frames; without ``compress`` messages are plain JSON text frames.
``encoding=json`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from sandbox.discord import payloads
from sandbox.discord.permissions import VIEW_CHANNEL
from sandbox.discord.state import State, User

log = logging.getLogger(__name__)

# opcodes
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME = 0, 1, 2, 3, 4, 6
RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 7, 8, 9, 10, 11

# intents (bit positions from Discord's documentation)
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MODERATION = 1 << 2
GUILD_WEBHOOKS = 1 << 5
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
DIRECT_MESSAGE_TYPING = 1 << 14
GUILD_MESSAGE_POLLS = 1 << 24
DIRECT_MESSAGE_POLLS = 1 << 25
# In a DM channel the guild intents of channel dispatches become their DM counterparts.
DM_INTENTS = {
    GUILD_MESSAGES: DIRECT_MESSAGES,
    GUILD_MESSAGE_REACTIONS: DIRECT_MESSAGE_REACTIONS,
    GUILD_MESSAGE_TYPING: DIRECT_MESSAGE_TYPING,
    GUILD_MESSAGE_POLLS: DIRECT_MESSAGE_POLLS,
}

CHUNK_SIZE = 1000
BUFFER_SIZE = 5000  # dispatches kept per session for RESUME
SESSION_TTL = 300.0  # seconds a detached session stays resumable


@dataclass
class Session:
    id: str
    user: User
    intents: int
    shard: list[int] | None = None
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    conn: Connection | None = None
    detached_at: float | None = None

    def dispatch(self, event: str, data: Any) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "s": self.seq, "t": event, "d": data}
        self.buffer.append(frame)
        if self.conn is not None:
            self.conn.send(frame)


class Connection:
    """One websocket: an ordered outbound queue drained by a writer task."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool, flowing: asyncio.Event) -> None:
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress else None
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._flowing = flowing
        self.session: Session | None = None
        self.identified = False
        self.writer = asyncio.create_task(self._write(), name="gateway-writer")

    def send(self, frame: dict[str, Any]) -> None:
        self._queue.put_nowait(frame)

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            if frame.get("op") == DISPATCH:
                await self._flowing.wait()
            text = json.dumps(frame, separators=(",", ":"))
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("gateway write failed: %s", exc)
                return

    async def close(self, code: int, message: str = "") -> None:
        await self.stop_writer(flush=True)
        if not self.ws.closed:
            await self.ws.close(code=code, message=message.encode())

    async def stop_writer(self, flush: bool) -> None:
        if flush and not self.writer.done():
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self.writer), 2)
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.writer


class GatewayHub:
    """All gateway sessions; the REST side calls the ``dispatch_*`` methods."""

    def __init__(self, state: State, heartbeat_interval_ms: int = 41250) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_url = "ws://127.0.0.1/"  # set by the server once bound
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.accepting = asyncio.Event()
        self.accepting.set()
        self.replayed = 0  # dispatches replayed by RESUME so far

    # -- fault controls --------------------------------------------------------

    def pause(self) -> None:
        """Hold every dispatch (heartbeats still flow) until :meth:`unpause`."""
        self.flowing.clear()

    def unpause(self) -> None:
        self.flowing.set()

    def hold_connections(self) -> None:
        """Outage: new sockets wait before the handshake until :meth:`release_connections`."""
        self.accepting.clear()

    def release_connections(self) -> None:
        self.accepting.set()

    async def drop_connections(self, code: int = 4000) -> int:
        """Close every socket with a resumable code; sessions stay for RESUME."""
        conns = list(self.connections)
        for conn in conns:
            self._detach(conn)  # from here on dispatches are only buffered
        for conn in conns:
            await conn.stop_writer(flush=False)
            if not conn.ws.closed:
                await conn.ws.close(code=code, message=b"dropped by test")
        log.info("gateway dropped connections=%s code=%s", len(conns), code)
        return len(conns)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.close(WSCloseCode.GOING_AWAY, "emulator stopping")
        self.connections.clear()

    # -- dispatch --------------------------------------------------------------

    def _live_sessions(self) -> list[Session]:
        now = time.monotonic()
        for sid, s in list(self.sessions.items()):
            if s.conn is None and s.detached_at is not None and now - s.detached_at > SESSION_TTL:
                del self.sessions[sid]
        return list(self.sessions.values())

    def dispatch_channel(self, event: str, data: Any, channel_id: str, intent: int) -> int:
        """Send to every session whose user can view the channel; returns how many.

        In a DM channel that is its two participants, with the DIRECT_MESSAGES
        (reactions, typing) intent instead of the guild one."""
        channel = self.state.channels.get(channel_id)
        if channel is not None and channel.is_dm:
            intent = DM_INTENTS.get(intent, intent)
        sent = 0
        for s in self._live_sessions():
            if s.intents & intent and self.state.can(channel_id, s.user.id, VIEW_CHANNEL):
                s.dispatch(event, data)
                sent += 1
        return sent

    def dispatch_guild(self, event: str, data: Any, guild_id: str, intent: int) -> int:
        """Send to every session whose user is a member of the guild."""
        sent = 0
        for s in self._live_sessions():
            if s.intents & intent and self.state.member(guild_id, s.user.id) is not None:
                s.dispatch(event, data)
                sent += 1
        return sent

    def dispatch_guild_permitted(
        self, event: str, data: Any, guild_id: str, intent: int, permission: int
    ) -> int:
        """Send to guild members holding a guild permission (e.g. VIEW_AUDIT_LOG)."""
        sent = 0
        for s in self._live_sessions():
            if not s.intents & intent or self.state.member(guild_id, s.user.id) is None:
                continue
            granted = self.state.guild_permissions(guild_id, s.user.id)
            if granted & permission == permission:
                s.dispatch(event, data)
                sent += 1
        return sent

    def dispatch_user(self, event: str, data: Any, user_id: str) -> None:
        for s in self._live_sessions():
            if s.user.id == user_id:
                s.dispatch(event, data)

    # -- connection handling -----------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("encoding", "json") != "json":
            raise web.HTTPBadRequest(text="only encoding=json is supported")
        compress = q.get("compress")
        if compress not in (None, "zlib-stream"):
            raise web.HTTPBadRequest(text="only compress=zlib-stream is supported")
        await self.accepting.wait()
        ws = web.WebSocketResponse(autoping=True, max_msg_size=4096 * 1024)
        await ws.prepare(request)
        conn = Connection(ws, compress == "zlib-stream", self.flowing)
        self.connections.add(conn)
        if q.get("v", "10") not in ("9", "10"):
            await conn.close(4012, "Invalid API version")
            return ws
        conn.send(
            {
                "op": HELLO,
                "s": None,
                "t": None,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
            }
        )
        try:
            await self._read_loop(conn)
        finally:
            self.connections.discard(conn)
            self._detach(conn)
            await conn.stop_writer(flush=False)
        return ws

    def _detach(self, conn: Connection) -> None:
        session = conn.session
        if session is not None and session.conn is conn:
            session.conn = None
            session.detached_at = time.monotonic()
        conn.session = None

    async def _read_loop(self, conn: Connection) -> None:
        interval = self.heartbeat_interval_ms / 1000
        timeout = interval * 1.5 + min(5.0, interval)  # zombie connection: close 4009
        ws = conn.ws
        while not ws.closed:
            try:
                msg = await ws.receive(timeout=timeout)
            except TimeoutError:
                await conn.close(4009, "Session timed out")
                return
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                if ws.close_code in (1000, 1001) and conn.session is not None:
                    # A client closing normally ends its session (no RESUME).
                    self.sessions.pop(conn.session.id, None)
                return
            if msg.type is WSMsgType.ERROR:
                return
            raw = (
                msg.data
                if msg.type is WSMsgType.TEXT
                else bytes(msg.data).decode("utf-8", "replace")
            )
            try:
                payload = json.loads(raw)
                op = payload["op"]
            except (ValueError, KeyError, TypeError):
                await conn.close(4002, "Decode error")
                return
            if not await self._on_op(conn, op, payload.get("d")):
                return

    async def _on_op(self, conn: Connection, op: Any, data: Any) -> bool:
        """Handle one client payload; False when the connection was closed."""
        if op == HEARTBEAT:
            conn.send({"op": HEARTBEAT_ACK, "s": None, "t": None, "d": None})
            return True
        if op == IDENTIFY:
            return await self._identify(conn, data)
        if op == RESUME:
            return await self._resume(conn, data)
        if not conn.identified:
            await conn.close(4003, "Not authenticated")
            return False
        if op == REQUEST_MEMBERS:
            self._request_members(conn, data or {})
            return True
        if op in (PRESENCE, VOICE_STATE):
            return True
        await conn.close(4001, "Unknown opcode")
        return False

    async def _identify(self, conn: Connection, data: Any) -> bool:
        if conn.identified:
            await conn.close(4005, "Already authenticated")
            return False
        if not isinstance(data, dict):
            await conn.close(4002, "Decode error")
            return False
        user = self.state.user_by_token(_strip_bot(str(data.get("token", ""))))
        if user is None:
            await conn.close(4004, "Authentication failed")
            return False
        shard = data.get("shard")
        if shard is not None and (
            not isinstance(shard, list) or len(shard) != 2 or not 0 <= shard[0] < shard[1]
        ):
            await conn.close(4010, "Invalid shard")
            return False
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await conn.close(4013, "Invalid intent(s)")
            return False
        session = Session(id=secrets.token_hex(16), user=user, intents=intents, shard=shard)
        self._live_sessions()
        self.sessions[session.id] = session
        session.conn = conn
        conn.session = session
        conn.identified = True
        session.dispatch("READY", self._ready(session))
        for guild in self.state.guilds_of(user.id):
            session.dispatch("GUILD_CREATE", payloads.guild_create(self.state, guild, user.id))
        log.info("gateway identify user=%s session=%s", user.username, session.id)
        return True

    def _ready(self, session: Session) -> dict[str, Any]:
        user = session.user
        data: dict[str, Any] = {
            "v": 10,
            "user": payloads.user_pii(user),
            "guilds": [{"id": g.id, "unavailable": True} for g in self.state.guilds_of(user.id)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        if user.bot:
            app = self.state.application_for(user)
            data["application"] = {"id": app["id"], "flags": int(app.get("flags", 0))}
        if session.shard is not None:
            data["shard"] = session.shard
        return data

    async def _resume(self, conn: Connection, data: Any) -> bool:
        if conn.identified:
            await conn.close(4005, "Already authenticated")
            return False
        data = data if isinstance(data, dict) else {}
        session = self.sessions.get(str(data.get("session_id")))
        user = self.state.user_by_token(_strip_bot(str(data.get("token", ""))))
        seq = data.get("seq")
        if user is None:
            await conn.close(4004, "Authentication failed")
            return False
        oldest = session.buffer[0]["s"] if session and session.buffer else 1
        if (
            session is None
            or session.user.id != user.id
            or not isinstance(seq, int)
            or seq > session.seq
            or seq < oldest - 1
        ):
            log.info("gateway resume refused session=%s", data.get("session_id"))
            conn.send({"op": INVALID_SESSION, "s": None, "t": None, "d": False})
            return True
        if session.conn is not None and session.conn is not conn:
            old = session.conn
            self._detach(old)
            await old.close(4000, "Session resumed elsewhere")
        session.conn = conn
        session.detached_at = None
        conn.session = session
        conn.identified = True
        missed = [f for f in session.buffer if f["s"] > seq]
        for frame in missed:
            conn.send(frame)
        self.replayed += len(missed)
        session.dispatch("RESUMED", {})
        log.info("gateway resumed session=%s replayed=%s", session.id, len(missed))
        return True

    def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.state.guilds.get(str(data.get("guild_id")))
        if guild is None or session.user.id not in guild.members:
            return
        nonce = data.get("nonce")
        members = list(guild.members.values())
        not_found: list[str] = []
        user_ids = data.get("user_ids")
        if user_ids is not None:
            wanted = [str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])]
            not_found = [u for u in wanted if u not in guild.members]
            members = [guild.members[u] for u in wanted if u in guild.members]
        else:
            query = str(data.get("query", "")).lower()
            if query:
                members = [m for m in members if _matches(self.state, m.user_id, m.nick, query)]
            limit = int(data.get("limit") or 0)
            if limit > 0:
                members = members[:limit]
        chunks = [members[i : i + CHUNK_SIZE] for i in range(0, len(members), CHUNK_SIZE)] or [[]]
        for index, chunk in enumerate(chunks):
            body: dict[str, Any] = {
                "guild_id": guild.id,
                "members": [payloads.member(self.state, m) for m in chunk],
                "chunk_index": index,
                "chunk_count": len(chunks),
            }
            if index == 0 and not_found:
                body["not_found"] = not_found
            if data.get("presences"):
                body["presences"] = []
            if nonce is not None:
                body["nonce"] = nonce
            session.dispatch("GUILD_MEMBERS_CHUNK", body)


def _matches(state: State, user_id: str, nick: str | None, query: str) -> bool:
    user = state.users[user_id]
    names = [user.username, user.global_name or "", nick or ""]
    return any(n.lower().startswith(query) for n in names if n)


def _strip_bot(token: str) -> str:
    return token[4:] if token.startswith("Bot ") else token
