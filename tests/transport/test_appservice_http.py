"""The appservice HTTP API: token checks, transaction idempotency, bad bodies.

Responses are checked against the official Application Service API spec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.transport.appservice_http import AppserviceHandlers, build_appservice_app
from bridge.txn_order import TxnOrder
from tests.matrix_spec import transaction_example

HS_TOKEN = "hs-token-for-tests-0123456789"


class Recorder:
    def __init__(self) -> None:
        self.transactions: list[tuple[str, list[dict[str, Any]]]] = []
        self.done: set[str] = set()

    async def seen(self, txn_id: str, digest: str | None = None) -> bool:
        return txn_id in self.done

    async def transaction(self, txn_id: str, events: list[dict[str, Any]]) -> bool:
        if txn_id in self.done:  # as the bridge's store: handled before, nothing stored
            return False
        self.transactions.append((txn_id, events))
        self.done.add(txn_id)
        return True

    async def query_user(self, user_id: str) -> bool:
        return user_id.startswith("@_discord_")

    async def query_alias(self, alias: str) -> bool:
        return False


@pytest.fixture
async def client() -> AsyncIterator[tuple[TestClient, Recorder]]:
    rec = Recorder()
    app = build_appservice_app(
        AppserviceHandlers(HS_TOKEN, rec.seen, rec.transaction, rec.query_user, rec.query_alias)
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, rec


def auth(token: str = HS_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_wrong_token_is_403_forbidden(client: tuple[TestClient, Recorder]) -> None:
    http, rec = client
    for path in ("/_matrix/app/v1/transactions/1", "/transactions/1"):
        resp = await http.put(path, json={"events": []}, headers=auth("wrong"))
        assert resp.status == 403
        assert (await resp.json())["errcode"] == "M_FORBIDDEN"
    resp = await http.put("/_matrix/app/v1/transactions/1?access_token=wrong", json={"events": []})
    assert resp.status == 403
    assert rec.transactions == []


async def test_missing_token_is_401(client: tuple[TestClient, Recorder]) -> None:
    http, rec = client
    resp = await http.put("/_matrix/app/v1/transactions/1", json={"events": []})
    assert resp.status == 401
    assert (await resp.json())["errcode"] == "M_UNAUTHORIZED"
    for path in ("/_matrix/app/v1/users/@_discord_1:x", "/_matrix/app/v1/rooms/%23a:x"):
        assert (await http.get(path)).status == 401
    assert rec.transactions == []


async def test_spec_example_transaction_is_handled_once(
    client: tuple[TestClient, Recorder],
) -> None:
    http, rec = client
    body = transaction_example()
    assert [e["type"] for e in body["events"]] == ["m.room.member", "m.room.message"]
    assert body["events"][1]["event_id"].startswith("$")
    for _ in range(2):
        resp = await http.put("/_matrix/app/v1/transactions/35", json=body, headers=auth())
        assert resp.status == 200
        assert await resp.json() == {}
    assert len(rec.transactions) == 1
    assert rec.transactions[0][0] == "35"
    assert rec.transactions[0][1] == body["events"]


async def test_a_transaction_that_overtook_an_earlier_one_is_refused_once() -> None:
    """Synapse's recoverer race leaves a transaction unsent; refusing the next one makes
    the homeserver resend what it stored, oldest first (bridge.txn_order)."""
    rec = Recorder()
    handlers = AppserviceHandlers(
        HS_TOKEN, rec.seen, rec.transaction, rec.query_user, rec.query_alias
    )
    handlers.order = TxnOrder.after("5")
    async with TestClient(TestServer(build_appservice_app(handlers))) as http:
        path = "/_matrix/app/v1/transactions/{}"
        resp = await http.put(path.format(7), json={"events": []}, headers=auth())
        assert resp.status == 503
        assert (await resp.json())["errcode"] == "M_UNKNOWN"
        assert rec.transactions == []
        for n in (6, 7):
            resp = await http.put(path.format(n), json={"events": []}, headers=auth())
            assert resp.status == 200
        assert [t for t, _ in rec.transactions] == ["6", "7"]
        # A replay moves the position back: the homeserver resends from there.
        assert (await http.put(path.format(6), json={"events": []}, headers=auth())).status == 200
        assert handlers.order.last == 6
        assert [t for t, _ in rec.transactions] == ["6", "7"]


async def test_token_in_query_is_accepted(client: tuple[TestClient, Recorder]) -> None:
    http, rec = client
    resp = await http.put(
        f"/_matrix/app/v1/transactions/q1?access_token={HS_TOKEN}", json={"events": []}
    )
    assert resp.status == 200
    assert rec.transactions == [("q1", [])]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
async def test_auth_scheme_is_case_insensitive(
    client: tuple[TestClient, Recorder], scheme: str
) -> None:
    http, rec = client
    resp = await http.put(
        "/_matrix/app/v1/transactions/c1",
        json={"events": []},
        headers={"Authorization": f"{scheme} {HS_TOKEN}"},
    )
    assert resp.status == 200
    assert rec.transactions == [("c1", [])]


async def test_malformed_bodies_are_400_and_not_recorded(
    client: tuple[TestClient, Recorder],
) -> None:
    http, rec = client
    resp = await http.put("/_matrix/app/v1/transactions/b1", data=b"{not json", headers=auth())
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_NOT_JSON"
    resp = await http.put("/_matrix/app/v1/transactions/b2", json=[1, 2], headers=auth())
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_BAD_JSON"
    # "null" is JSON (not an object): M_BAD_JSON too, not M_NOT_JSON (found by the fuzzer).
    resp = await http.put("/_matrix/app/v1/transactions/b4", data=b"null", headers=auth())
    assert resp.status == 400 and (await resp.json())["errcode"] == "M_BAD_JSON"
    resp = await http.put(
        "/_matrix/app/v1/transactions/b3", json={"events": "nope"}, headers=auth()
    )
    assert resp.status == 400
    assert rec.transactions == []
    # The homeserver retries with the same ID once fixed: nothing was marked handled.
    resp = await http.put("/_matrix/app/v1/transactions/b1", json={"events": []}, headers=auth())
    assert resp.status == 200


async def test_user_and_alias_queries(client: tuple[TestClient, Recorder]) -> None:
    http, _ = client
    resp = await http.get("/_matrix/app/v1/users/@_discord_5:localhost", headers=auth())
    assert resp.status == 200 and await resp.json() == {}
    resp = await http.get("/_matrix/app/v1/users/@alice:localhost", headers=auth())
    assert resp.status == 404
    assert (await resp.json())["errcode"] == "M_NOT_FOUND"
    resp = await http.get("/_matrix/app/v1/rooms/%23_discord_1:localhost", headers=auth())
    assert resp.status == 404


async def test_ping(client: tuple[TestClient, Recorder]) -> None:
    http, _ = client
    resp = await http.post("/_matrix/app/v1/ping", json={"transaction_id": "p"}, headers=auth())
    assert resp.status == 200 and await resp.json() == {}
