"""What the protections see of real payloads (moderation.protections.signals): captured
Discord MESSAGE_CREATE shapes parsed by discord.py and our transport edge, captured
Matrix events parsed by the Matrix transport."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge.transport.discord import message_from
from bridge.transport.matrix import MatrixTransport
from moderation.protections.signals import created_ms, from_discord, from_matrix, pills
from tests.transport.test_discord_bad_input import Gateway

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(kind: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / kind / name).read_text())
    return data


def discord_signals(data: dict[str, Any]) -> Any:
    gateway = Gateway()
    return from_discord(message_from(gateway.feed("MESSAGE_CREATE", data)))


def test_discord_attachments_link_and_member_join_time() -> None:
    data = load("discord", "message_create_attachments.json")
    signals = discord_signals(data)
    assert signals.side == "discord" and signals.author == "discord:2000000000000000002"
    assert signals.ref.place == data["channel_id"] and signals.ref.id == data["id"]
    assert signals.media == 4 and signals.links == 1
    joined = datetime.fromisoformat(data["member"]["joined_at"])
    assert signals.joined_ms == int(joined.timestamp() * 1000)
    assert signals.account_created_ms == created_ms(2000000000000000002)
    assert signals.guild == data["guild_id"]


def test_discord_mentions_roles_and_everyone_are_counted() -> None:
    data = copy.deepcopy(load("discord", "message_create_mention.json"))
    people = [
        {"id": str(2000000000000000001 + i), "username": f"u{i}", "discriminator": "0",
         "avatar": None, "global_name": None}
        for i in range(1, 6)
    ]  # fmt: skip
    data["content"] = " ".join(f"<@{p['id']}>" for p in people) + " <@&3000000000000000011> @here"
    data["mentions"] = [*people, data["author"]]  # mentioning oneself does not count
    data["mention_roles"] = ["3000000000000000011"]
    data["member"] = {"roles": [], "joined_at": "2026-11-24T07:59:00.000000+00:00",
                      "deaf": False, "mute": False, "flags": 0}  # fmt: skip
    signals = discord_signals(data)
    assert signals.user_mentions == 5
    assert signals.mass_mentions == 2  # the role and @here (even without the right to ping)
    assert signals.links == 0 and signals.media == 0
    assert signals.name == "Alice"


def test_matrix_text_pills_and_room_mention() -> None:
    raw = copy.deepcopy(load("matrix", "m_room_message_text.json"))
    raw["content"] = {
        "msgtype": "m.text",
        "body": "bob carol see https://spam.example @room",
        "format": "org.matrix.custom.html",
        "formatted_body": (
            '<a href="https://matrix.to/#/@bob:localhost">bob</a> '
            '<a href="https://matrix.to/#/%40carol%3Alocalhost">carol</a> '
            '<a href="https://matrix.to/#/@alice:localhost">me</a> '
            'see <a href="https://spam.example">https://spam.example</a> @room'
        ),
        "m.mentions": {"user_ids": ["@bob:localhost", "@dave:localhost"], "room": True},
    }
    message = MatrixTransport.parse_message(raw)
    assert message is not None
    signals = from_matrix(message, joined_ms=1795507100000)
    assert signals.author == "@alice:localhost" and signals.ref.place == "!portal:localhost"
    assert signals.user_mentions == 3  # bob, carol, dave; never oneself
    assert signals.mass_mentions == 1
    assert signals.links == 2  # in the body, and the HTML link
    assert signals.joined_ms == 1795507100000 and signals.account_created_ms is None
    assert pills(raw["content"]["formatted_body"]) >= {"@bob:localhost", "@carol:localhost"}


def test_matrix_image_is_media_and_its_name_is_not_text() -> None:
    message = MatrixTransport.parse_message(load("matrix", "m_room_message_image.json"))
    assert message is not None
    signals = from_matrix(message)
    assert signals.media == 1 and signals.text == ""
