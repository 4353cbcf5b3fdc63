"""The contract checker itself: path matching and schema validation against the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.discord import openapi
from sandbox.discord.openapi import Contract


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def good_message() -> dict[str, Any]:
    return {
        "id": "1",
        "type": 0,
        "content": "hi",
        "channel_id": "2",
        "author": {
            "id": "3",
            "username": "alice",
            "avatar": None,
            "discriminator": "0",
            "public_flags": 0,
            "flags": 0,
            "global_name": None,
            "primary_guild": None,
        },
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": "2025-01-01T00:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
    }


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/users/@me", "/users/@me"),
        ("/users/123", "/users/{user_id}"),
        ("/channels/1/messages", "/channels/{channel_id}/messages"),
        ("/channels/1/messages/bulk-delete", "/channels/{channel_id}/messages/bulk-delete"),
        ("/channels/1/messages/2", "/channels/{channel_id}/messages/{message_id}"),
        (
            "/webhooks/1/tok/messages/@original",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        ),
        (
            "/webhooks/1/tok/messages/5",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        ),
        ("/webhooks/1/tok?wait=true", "/webhooks/{webhook_id}/{webhook_token}"),
        ("/no/such/thing", None),
    ],
)
def test_match_path(contract: Contract, path: str, template: str | None) -> None:
    assert contract.match_path(path) == template


def test_valid_message_passes(contract: Contract) -> None:
    assert contract.errors("GET", "/channels/1/messages/2", 200, good_message()) == []
    assert contract.errors("GET", "/channels/{channel_id}/messages", 200, [good_message()]) == []


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda m: m.pop("content"), "'content' is a required property"),
        (lambda m: m.update(id=12), "at id"),
        (lambda m: m.update(timestamp="yesterday"), "at timestamp"),
        (lambda m: m.update(timestamp="2025-01-01T00:00:00"), "at timestamp"),  # no offset
        (lambda m: m["author"].pop("primary_guild"), "at author"),
        (lambda m: m.update(type=13), "at type"),
    ],
)
def test_broken_message_is_reported(contract: Contract, mutate: Any, fragment: str) -> None:
    msg = good_message()
    mutate(msg)
    problems = contract.errors("POST", "/channels/1/messages", 200, msg)
    assert problems and any(fragment in p for p in problems), problems


def test_errors_and_statuses(contract: Contract) -> None:
    not_found = {"code": 10003, "message": "Unknown Channel"}
    assert contract.errors("GET", "/channels/1", 404, not_found) == []
    assert contract.errors("GET", "/channels/1", 404, {"message": "x"}) != []
    limited = {"code": 0, "message": "slow down", "retry_after": 1.5, "global": False}
    assert contract.errors("POST", "/channels/1/messages", 429, limited) == []
    assert contract.errors("DELETE", "/channels/1/messages/2", 204, None) == []
    assert contract.errors("GET", "/users/@me", 200, None) != []  # a body is documented
    assert "status not documented" in contract.errors("GET", "/users/@me", 302, None)[0]
    assert "path not in the spec" in contract.errors("GET", "/nope", 200, {})[0]
    form = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {"content": {"_errors": [{"code": 50035, "message": "x"}]}},
    }
    assert contract.errors("POST", "/channels/1/messages", 400, form) == []
    # Discord's real responses carry string codes there; the spec says integer.
    form["errors"]["content"]["_errors"][0]["code"] = "BASE_TYPE_MAX_LENGTH"
    assert contract.errors("POST", "/channels/1/messages", 400, form) != []


def test_spec_location_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(openapi.ENV_VAR, str(tmp_path))
    assert openapi.spec_path() == tmp_path / "discord" / "openapi.json"
    monkeypatch.delenv(openapi.ENV_VAR)
    assert openapi.spec_path().parts[-4:] == ("shared", "specs", "discord", "openapi.json")
    assert openapi.spec_path().exists()
