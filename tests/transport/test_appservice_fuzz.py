"""Property-based fuzzing of the appservice HTTP endpoints against the official spec.

Requests are written as raw HTTP/1.1 bytes to a real aiohttp server (so headers
can be duplicated, non-UTF-8 or oddly spaced), for every path of the Matrix
Application Service API (``../shared/specs/matrix/data/api/application-service``)
and the legacy unprefixed ones. Properties:

- a missing token is 401 ``M_UNAUTHORIZED``, a wrong one 403 ``M_FORBIDDEN``,
  and neither reaches a handler;
- never a 5xx, never an exception logged by aiohttp;
- every error body is ``{"errcode", "error"}`` JSON valid against the spec's
  error schema; every 200 validates against the operation's response schema;
- a transaction body that is not JSON is 400 ``M_NOT_JSON``, not an object with
  an ``events`` list 400 ``M_BAD_JSON``; non-object events are skipped;
- a transaction answered 200 was handed over exactly once, with the exact
  transaction ID and events; a replay is 200 and not handed over again; a
  refused one is not marked handled, so the homeserver's retry goes through.

Runs are derandomized (reproducible in CI) and bounded: a few seconds in all.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bridge.transport.appservice_http import AppserviceHandlers, build_appservice_app
from tests.matrix_spec import AS_API, EVENT_EXAMPLES, event_example, load_yaml, resolve_refs

HS_TOKEN = "hs-token-for-tests-0123456789"
TOKEN = HS_TOKEN.encode()
V1 = "/_matrix/app/v1"
PREFIXES = (V1, "")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- the spec ------------------------------------------------------------------

# operation -> (spec file, path in the spec, method)
OPERATIONS = {
    "transaction": ("transactions.yaml", "/transactions/{txnId}", "put"),
    "user": ("query_user.yaml", "/users/{userId}", "get"),
    "alias": ("query_room.yaml", "/rooms/{roomAlias}", "get"),
    "ping": ("ping.yaml", "/ping", "post"),
}
ERROR_SCHEMA = AS_API.parent / "client-server" / "definitions" / "errors" / "error.yaml"


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _validate(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = _validator(json.dumps(schema, sort_keys=True))
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(instance)]


def response_schema(operation: str, status: int) -> dict[str, Any]:
    """The spec's schema for this response; error.yaml for errors it does not list."""
    file, path, method = OPERATIONS[operation]
    responses = load_yaml(AS_API / file)["paths"][path][method]["responses"]
    if str(status) in responses:
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        return dict(resolve_refs(schema, AS_API))
    assert status >= 400, f"{operation}: {status} is not a response the spec defines"
    return dict(resolve_refs(load_yaml(ERROR_SCHEMA), ERROR_SCHEMA.parent))


def request_item_schema(key: str) -> dict[str, Any]:
    """The schema of one item of the transaction body's ``events``/``ephemeral``."""
    body = load_yaml(AS_API / "transactions.yaml")["paths"]["/transactions/{txnId}"]["put"]
    items = body["requestBody"]["content"]["application/json"]["schema"]["properties"][key]
    return dict(resolve_refs(items["items"], AS_API))


CLIENT_EVENT = request_item_schema("events")
EPHEMERAL_EVENT = request_item_schema("ephemeral")


def _spec_examples(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path in sorted(EVENT_EXAMPLES.glob("*.yaml")):
        try:
            ev = event_example(path.name)
        except Exception:  # an example the simple $ref inliner cannot read
            continue
        if isinstance(ev, dict) and not _validate(schema, ev):
            found.append(ev)
    return found


ROOM_EVENT_EXAMPLES = _spec_examples(CLIENT_EVENT)
EPHEMERAL_EXAMPLES = [
    e
    for e in _spec_examples(EPHEMERAL_EVENT)
    if e["type"] in ("m.typing", "m.receipt", "m.presence")
]


# -- the server under test -------------------------------------------------------


@dataclass
class Recorder:
    transactions: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    ephemeral_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    queries: list[tuple[str, str]] = field(default_factory=list)

    def reset(self) -> None:
        self.transactions.clear()
        self.done.clear()
        self.ephemeral_batches.clear()
        self.queries.clear()

    def handled(self) -> int:
        return len(self.transactions) + len(self.ephemeral_batches) + len(self.queries)

    async def seen(self, txn_id: str, digest: str | None = None) -> bool:
        return txn_id in self.done

    async def transaction(self, txn_id: str, events: list[dict[str, Any]]) -> bool:
        if txn_id in self.done:  # as the bridge's store: handled before, nothing stored
            return False
        self.transactions.append((txn_id, events))
        self.done.add(txn_id)
        return True

    async def ephemeral(self, events: list[dict[str, Any]]) -> None:
        self.ephemeral_batches.append(events)
        if len(events) % 2:  # a failing best-effort handler must not fail the transaction
            raise RuntimeError("ephemeral handler failed")

    async def query_user(self, user_id: str) -> bool:
        self.queries.append(("user", user_id))
        return user_id.startswith("@_discord_")

    async def query_alias(self, alias: str) -> bool:
        self.queries.append(("alias", alias))
        return False


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Server:
    """The appservice app on a loopback port, driven by its own event loop."""

    def __init__(self) -> None:
        self.rec = Recorder()
        app = build_appservice_app(
            AppserviceHandlers(
                HS_TOKEN,
                self.rec.seen,
                self.rec.transaction,
                self.rec.query_user,
                self.rec.query_alias,
                ephemeral=self.rec.ephemeral,
            )
        )
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.errors = _Errors()
        for name in ("aiohttp.server", "aiohttp.web"):
            logging.getLogger(name).addHandler(self.errors)

    def reset(self) -> None:
        self.rec.reset()
        self.errors.records.clear()

    def close(self) -> None:
        for name in ("aiohttp.server", "aiohttp.web"):
            logging.getLogger(name).removeHandler(self.errors)
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def send(
        self, method: str, target: str, headers: list[tuple[str, bytes]], body: bytes = b""
    ) -> Reply:
        return self.loop.run_until_complete(self._send(method, target, headers, body))

    async def _send(
        self, method: str, target: str, headers: list[tuple[str, bytes]], body: bytes
    ) -> Reply:
        head = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
        head += [name.encode() + b": " + value for name, value in headers]
        if not any(name.lower() == "transfer-encoding" for name, _ in headers):
            head.append(b"Content-Length: %d" % len(body))
        head.append(b"Connection: close")
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
            try:
                await writer.drain()
            except ConnectionError:  # answered (413) before it read everything
                pass
            raw = await asyncio.wait_for(reader.read(), 20)
        finally:
            writer.close()
        status_and_headers, _, payload = raw.partition(b"\r\n\r\n")
        lines = status_and_headers.decode("latin-1").split("\r\n")
        parsed = dict(line.split(": ", 1) for line in lines[1:])
        return Reply(int(lines[0].split()[1]), {k.lower(): v for k, v in parsed.items()}, payload)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def check_reply(reply: Reply, operation: str | None, server: Server) -> None:
    """Properties of every answer: no 5xx, no crash, JSON that the spec allows."""
    assert not server.errors.records, [r.getMessage() for r in server.errors.records]
    assert reply.status < 500, reply
    assert reply.headers.get("content-type", "").startswith("application/json"), reply
    body = reply.json()
    if reply.status >= 400:
        assert isinstance(body, dict) and set(body) == {"errcode", "error"}, body
        assert isinstance(body["errcode"], str) and body["errcode"].startswith("M_"), body
        assert isinstance(body["error"], str), body
    if operation is not None:
        assert not _validate(response_schema(operation, reply.status), body), (reply, body)


# -- strategies --------------------------------------------------------------------

# Header-safe text: any character but controls and lone surrogates.
header_text = st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=40)
odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "\u200b", "\u202eevil", "e\u0301", "🏳️‍🌈", "\ufeff", "a" * 300, "\x00"]),
)
header_bytes = st.one_of(
    header_text.map(lambda s: s.encode()),
    # raw bytes the parser lets through but that are not UTF-8
    st.binary(max_size=20).map(lambda b: bytes(c for c in b if c >= 0x80 or 0x21 <= c <= 0x7E)),
)


def _not_the_token(raw: bytes) -> bool:
    token = raw.decode("utf-8", "surrogateescape").strip()
    return token != HS_TOKEN and token != ""


wrong_token = st.one_of(
    header_bytes,
    st.sampled_from([TOKEN[:-1], TOKEN + b"0", TOKEN.upper(), b"\xff" + TOKEN, TOKEN + b"\xc3"]),
).filter(_not_the_token)
# Authorization values that carry no Bearer token at all.
not_bearer = st.one_of(
    st.sampled_from(
        [b"", b"Bearer", b"Basic " + TOKEN, b"Token " + TOKEN, b"bearer" + TOKEN, b"\xffBearer x"]
    ),
    header_bytes.filter(lambda b: not b.strip(b" \t").startswith(b"Bearer ")),
)
space = st.sampled_from([b"", b" ", b"  ", b"\t"])


@dataclass
class Auth:
    expect: str  # "missing" | "wrong" | "right"
    headers: list[bytes]  # raw Authorization values, in order
    query: str | None  # percent-encoded access_token, if any

    def query_string(self) -> str:
        return "" if self.query is None else f"?access_token={self.query}"


@st.composite
def auth_cases(draw: st.DrawFn, only: str | None = None) -> Auth:
    expect = only or draw(st.sampled_from(["missing", "wrong", "right"]))
    right_header = draw(space) + b"Bearer " + draw(space) + TOKEN + draw(space)
    wrong_header = b"Bearer " + draw(wrong_token)
    wrong_query = draw(
        st.one_of(
            header_text.filter(lambda s: s != HS_TOKEN).map(lambda s: quote(s, safe="")),
            st.sampled_from(["%FF", "%zz", "%00", HS_TOKEN + "%20x", ""]),
        )
    )
    others = draw(st.lists(not_bearer, max_size=1))  # no Bearer: the query decides
    kind = draw(st.integers(0, 2))
    if expect == "missing":
        return Auth(expect, others, None)
    if expect == "right":
        return [
            Auth(expect, [right_header], draw(st.none() | st.just(wrong_query))),
            Auth(expect, others, quote(HS_TOKEN)),
            Auth(expect, [right_header, wrong_header], None),  # the first one counts
        ][kind]
    return [
        Auth(expect, [wrong_header], draw(st.none() | st.just(quote(HS_TOKEN)))),
        Auth(expect, others, wrong_query),
        Auth(expect, [wrong_header, right_header], None),
    ][kind]


def auth_headers(auth: Auth) -> list[tuple[str, bytes]]:
    return [("Authorization", value) for value in auth.headers]


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    odd_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
path_text = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30).filter(
    lambda s: s not in (".", "..")  # dot segments are normalised away by any URL parser
)


@st.composite
def room_events(draw: st.DrawFn) -> dict[str, Any]:
    """A spec-valid ClientEvent: a spec example with fuzzed IDs and text."""
    event = json.loads(json.dumps(draw(st.sampled_from(ROOM_EVENT_EXAMPLES))))
    event["event_id"] = "$" + draw(odd_text)
    event["room_id"] = "!" + draw(odd_text)
    event["sender"] = "@" + draw(odd_text)
    event["origin_server_ts"] = draw(st.integers(0, 2**63 - 1))
    for key, value in list(event["content"].items()):
        if isinstance(value, str) and draw(st.booleans()):
            event["content"][key] = draw(odd_text)
    if draw(st.booleans()):
        event["content"]["x.fuzz"] = draw(json_values)
    assert not _validate(CLIENT_EVENT, event), event
    return event


@st.composite
def mutated(draw: st.DrawFn, events: st.SearchStrategy[dict[str, Any]]) -> Any:
    """An event with a field dropped, retyped or added, or not an object at all."""
    event = draw(events)
    how = draw(st.sampled_from(["none", "drop", "retype", "add", "replace"]))
    if how == "drop":
        event.pop(draw(st.sampled_from(sorted(event))))
    elif how == "retype":
        event[draw(st.sampled_from(sorted(event)))] = draw(json_values)
    elif how == "add":
        event[draw(odd_text)] = draw(json_values)
    elif how == "replace":
        return draw(json_values)
    return event


ephemeral_events = st.sampled_from(EPHEMERAL_EXAMPLES).map(lambda e: json.loads(json.dumps(e)))


@st.composite
def transaction_objects(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"events": draw(st.lists(mutated(room_events()), max_size=5))}
    key = draw(st.sampled_from(["ephemeral", "de.sorunome.msc2409.ephemeral", None]))
    if key is not None:
        body[key] = draw(st.lists(mutated(ephemeral_events), max_size=3) | json_values)
    if draw(st.booleans()):
        body["events"] = draw(json_values)  # not a list, sometimes
    if draw(st.integers(0, 9)) == 0:
        body.pop("events")  # optional in practice: an empty transaction
    size = draw(st.sampled_from([0, 0, 0, 0, 70_000, 1_200_000]))
    if size:  # more than aiohttp's default 1 MiB body limit
        body["x.padding"] = "x" * size
    return body


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


not_json = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=50).map(str.encode),
    st.sampled_from(
        [
            b"",
            b"{not json",
            b'{"events": []',
            b'{"events": [] } trailing',
            b"\xef\xbb\xbf{}",  # BOM
            b'{"events": ["\xff\xfe"]}',  # not UTF-8
            b'{"events": [], "n": ' + b"1" * 5000 + b"}",  # too many digits for int()
            _deep(100_000),  # deeper than the recursion limit
            b"\x00" * 100,
        ]
    ),
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(not_json)
    value: Any = draw(transaction_objects()) if choice < 3 else draw(json_values)
    raw = json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # truncated
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    return raw


content_types = st.sampled_from(
    [
        None,
        b"application/json",
        b"application/json; charset=utf-8",
        b"application/json; charset=latin-1",  # ignored: Matrix bodies are UTF-8
        b"application/json; charset=no-such-codec",
        b"text/plain",
        b"multipart/form-data; boundary=x",
    ]
)


def expected_transaction(raw: bytes) -> tuple[int, str | None, Any]:
    """What the spec asks of this body: (status, errcode, decoded body)."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return 400, "M_NOT_JSON", None
    if not isinstance(body, dict) or not isinstance(body.get("events", []), list):
        return 400, "M_BAD_JSON", None
    return 200, None, body


def txn_target(prefix: str, txn_id: str, auth: Auth) -> str:
    return f"{prefix}/transactions/{quote(txn_id, safe='')}{auth.query_string()}"


# -- properties --------------------------------------------------------------------

ENDPOINTS = (
    [("transaction", "PUT", prefix + "/transactions/{}") for prefix in PREFIXES]
    + [("user", "GET", prefix + "/users/{}") for prefix in PREFIXES]
    + [("alias", "GET", prefix + "/rooms/{}") for prefix in PREFIXES]
    + [("ping", "POST", V1 + "/ping")]
)


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    param=path_text,
    auth=auth_cases(),
    body=bodies(),
    chunked=st.booleans(),
)
@example(  # non-UTF-8 bytes in the header used to crash the token check (500)
    endpoint=ENDPOINTS[0],
    param="1",
    auth=Auth("wrong", [b"Bearer \xff\xfe"], None),
    body=b"{}",
    chunked=False,
)
def test_tokens_are_checked_before_anything(
    server: Server,
    endpoint: tuple[str, str, str],
    param: str,
    auth: Auth,
    body: bytes,
    chunked: bool,
) -> None:
    server.reset()
    operation, method, template = endpoint
    target = template.format(quote(param, safe="")) + auth.query_string()
    headers = auth_headers(auth)
    if chunked:
        headers.append(("Transfer-Encoding", b"chunked"))
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    reply = server.send(method, target, headers, body)
    check_reply(reply, operation, server)
    if auth.expect == "missing":
        assert (reply.status, reply.json()["errcode"]) == (401, "M_UNAUTHORIZED")
    elif auth.expect == "wrong":
        assert (reply.status, reply.json()["errcode"]) == (403, "M_FORBIDDEN")
    else:
        assert reply.status not in (401, 403), reply
    if auth.expect != "right":
        assert server.rec.handled() == 0


@FUZZ
@given(
    prefix=st.sampled_from(PREFIXES),
    txn_id=path_text,
    auth=auth_cases(only="right"),
    body=bodies(),
    content_type=content_types,
    replay=bodies(),
)
@example(  # a 5000-digit integer made json.loads raise ValueError (500)
    prefix=V1,
    txn_id="1",
    auth=Auth("right", [b"Bearer " + TOKEN], None),
    body=b'{"events": [], "n": ' + b"1" * 5000 + b"}",
    content_type=None,
    replay=b"",
)
@example(  # deep nesting made json.loads raise RecursionError (500)
    prefix=V1,
    txn_id="2",
    auth=Auth("right", [b"Bearer " + TOKEN], None),
    body=_deep(100_000),
    content_type=None,
    replay=b"",
)
@example(  # an unknown charset made request.text() raise LookupError (500)
    prefix=V1,
    txn_id="3",
    auth=Auth("right", [b"Bearer " + TOKEN], None),
    body=b'{"events": []}',
    content_type=b"application/json; charset=no-such-codec",
    replay=b"",
)
@example(  # a latin-1 charset garbled the UTF-8 text of events
    prefix="",
    txn_id="4",
    auth=Auth("right", [b"Bearer " + TOKEN], None),
    body=json.dumps({"events": [{"content": {"body": "héllo 🏳️"}}]}, ensure_ascii=False).encode(),
    content_type=b"application/json; charset=latin-1",
    replay=b"",
)
@example(  # over aiohttp's default 1 MiB limit: 413 forever, the transaction queue stuck
    prefix=V1,
    txn_id="5",
    auth=Auth("right", [b"Bearer " + TOKEN], None),
    body=json.dumps({"events": [{"content": {"body": "x" * 60_000}}] * 100}).encode(),
    content_type=b"application/json",
    replay=b"",
)
@example(  # aiohttp's default route pattern refused "{" and "}": 404, retried forever
    prefix=V1,
    txn_id="{6}",
    auth=Auth("right", [b"Bearer " + TOKEN], None),
    body=b'{"events": []}',
    content_type=None,
    replay=b"",
)
def test_transactions_are_handed_over_exactly_once(
    server: Server,
    prefix: str,
    txn_id: str,
    auth: Auth,
    body: bytes,
    content_type: bytes | None,
    replay: bytes,
) -> None:
    server.reset()
    target = txn_target(prefix, txn_id, auth)
    headers = auth_headers(auth)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    reply = server.send("PUT", target, headers, body)
    check_reply(reply, "transaction", server)
    status, errcode, decoded = expected_transaction(body)
    assert reply.status == status, (reply, body[:200])
    if status != 200:
        assert reply.json()["errcode"] == errcode
        assert server.rec.transactions == [] and server.rec.done == set()
        assert server.rec.ephemeral_batches == []
        # Not marked handled: the homeserver's retry, once fixed, goes through.
        reply = server.send("PUT", target, headers, b'{"events": []}')
        check_reply(reply, "transaction", server)
        assert reply.status == 200
        assert server.rec.transactions == [(txn_id, [])]
        return
    events = [e for e in decoded.get("events", []) if isinstance(e, dict)]
    assert server.rec.transactions == [(txn_id, events)]
    ephemeral = decoded.get("ephemeral", decoded.get("de.sorunome.msc2409.ephemeral"))
    if isinstance(ephemeral, list):
        assert server.rec.ephemeral_batches == [[e for e in ephemeral if isinstance(e, dict)]]
    else:
        assert server.rec.ephemeral_batches == []
    # A replay of the same ID, whatever its body, is acknowledged and not handled again.
    reply = server.send("PUT", target, headers, replay)
    check_reply(reply, "transaction", server)
    assert reply.status == 200
    assert len(server.rec.transactions) == 1 and len(server.rec.ephemeral_batches) <= 1


@FUZZ
@given(
    kind=st.sampled_from(["user", "alias"]),
    prefix=st.sampled_from(PREFIXES),
    param=st.one_of(
        path_text,
        path_text.map(lambda s: "@_discord_" + s),
        path_text.map(lambda s: "#_discord_" + s),
    ),
    auth=auth_cases(only="right"),
)
@example(kind="user", prefix=V1, param="@_discord_{1}:x", auth=Auth("right", [], quote(HS_TOKEN)))
def test_user_and_alias_queries(
    server: Server, kind: str, prefix: str, param: str, auth: Auth
) -> None:
    server.reset()
    segment = "users" if kind == "user" else "rooms"
    target = f"{prefix}/{segment}/{quote(param, safe='')}{auth.query_string()}"
    reply = server.send("GET", target, auth_headers(auth))
    check_reply(reply, kind, server)
    # The handler sees exactly the ID the homeserver asked about.
    assert server.rec.queries == [(kind, param)]
    exists = kind == "user" and param.startswith("@_discord_")
    assert reply.status == (200 if exists else 404)
    if not exists:
        assert reply.json()["errcode"] == "M_NOT_FOUND"


@FUZZ
@given(body=bodies(), auth=auth_cases(only="right"))
def test_ping_answers_any_body(server: Server, body: bytes, auth: Auth) -> None:
    server.reset()
    reply = server.send("POST", V1 + "/ping" + auth.query_string(), auth_headers(auth), body)
    check_reply(reply, "ping", server)
    assert reply.status == 200 and reply.json() == {}
    assert server.rec.handled() == 0


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]),
    path=st.one_of(
        st.sampled_from(
            [
                V1 + "/transactions/1",
                "/transactions/1",
                V1 + "/users/@a:b",
                "/users/@a:b",
                V1 + "/rooms/%23a:b",
                "/rooms/%23a:b",
                V1 + "/ping",
                V1 + "/transactions/",
                V1 + "/users/",
                V1,
                "/_matrix/app/v2/transactions/1",
                "/_matrix/app/unstable/thirdparty/protocol/discord",
                V1 + "/thirdparty/user",
            ]
        ),
        path_text.map(lambda s: f"/_matrix/app/{quote(s, safe='/')}"),
    ),
    auth=auth_cases(),
)
def test_other_requests_get_matrix_errors(
    server: Server, method: str, path: str, auth: Auth
) -> None:
    server.reset()
    reply = server.send(method, path + auth.query_string(), auth_headers(auth))
    check_reply(reply, None, server)
    if auth.expect == "missing":
        assert reply.status == 401
    elif auth.expect == "wrong":
        assert reply.status == 403
    elif (reply.status, method) == (400, "PUT") and "/transactions/" in path:
        assert reply.json()["errcode"] == "M_NOT_JSON"  # a real endpoint: the body is empty
    elif reply.status >= 400:
        # unknown endpoint 404, wrong method 405: both M_UNRECOGNIZED per the spec
        assert reply.status in (404, 405) and reply.json()["errcode"] == "M_UNRECOGNIZED"
    if reply.status != 200:
        assert server.rec.handled() == 0


def test_oversized_body_is_413_and_not_handled(server: Server) -> None:
    server.reset()
    body = b'{"events": [], "pad": "' + b"x" * (40 * 1024 * 1024) + b'"}'
    reply = server.send(
        "PUT", V1 + "/transactions/big", [("Authorization", b"Bearer " + TOKEN)], body
    )
    check_reply(reply, "transaction", server)
    assert (reply.status, reply.json()["errcode"]) == (413, "M_TOO_LARGE")
    assert server.rec.transactions == []


def test_generators_cover_the_spec() -> None:
    """The seeds really are the spec's examples, valid against its schemas."""
    types = {e["type"] for e in ROOM_EVENT_EXAMPLES}
    assert {"m.room.message", "m.room.member", "m.reaction", "m.room.redaction"} <= types
    assert {e["type"] for e in EPHEMERAL_EXAMPLES} == {"m.typing", "m.receipt", "m.presence"}
    for operation in OPERATIONS:
        assert response_schema(operation, 200) == {"type": "object"}
    assert response_schema("user", 404)["required"] == ["errcode"]
