"""Discord message text -> Matrix content, fed with captured MESSAGE_CREATE payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.convert.d2m.text import discord_to_matrix_text, ghost_displayname, mention_context
from bridge.ids import ChannelID, DiscordUserID, EventID, GuildID, MessageID, UserID
from bridge.model import DiscordAuthor, DiscordMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"


def message_from_payload(payload: dict) -> DiscordMessage:
    author = payload["author"]
    member = payload.get("member") or {}
    return DiscordMessage(
        id=MessageID(int(payload["id"])),
        channel_id=ChannelID(int(payload["channel_id"])),
        guild_id=GuildID(int(payload["guild_id"])) if payload.get("guild_id") else None,
        author=DiscordAuthor(
            id=DiscordUserID(int(author["id"])),
            username=author["username"],
            global_name=author.get("global_name"),
            nick=member.get("nick"),
        ),
        content=payload["content"],
        timestamp_ms=0,
    )


def load(name: str) -> DiscordMessage:
    return message_from_payload(json.loads((FIXTURES / name).read_text()))


def test_plain_text_fixture() -> None:
    msg = load("message_create_text.json")
    text = discord_to_matrix_text(msg)
    assert text is not None
    content = text.to_content()
    assert content["msgtype"] == "m.text"
    assert content["body"] == msg.content
    assert content["m.mentions"] == {}
    assert content["formatted_body"] == (
        "Canvassing starts at 10, meet at the office <strong>early</strong> please"
    )


def ghost(user_id: DiscordUserID) -> UserID:
    return UserID(f"@_discord_{user_id}:example.org")


def test_user_mention_becomes_pill_to_the_ghost() -> None:
    msg = load("message_create_mention.json")
    bob = DiscordAuthor(DiscordUserID(2000000000000000002), "bob", global_name="Bob")
    msg = DiscordMessage(**{**msg.__dict__, "mentions": (bob,)})
    text = discord_to_matrix_text(msg, mention_context(msg, ghost, {}))
    assert text is not None
    assert text.body == "hey @Bob, see <@999> too"
    assert text.formatted_body == (
        'hey <a href="https://matrix.to/#/@_discord_2000000000000000002:example.org">Bob</a>'
        ", see &lt;@999&gt; too"
    )
    content = text.to_content()
    assert content["m.mentions"] == {"user_ids": ["@_discord_2000000000000000002:example.org"]}


def test_markdown_becomes_html_with_plain_body() -> None:
    msg = load("message_create_text.json")
    msg = DiscordMessage(**{**msg.__dict__, "content": "**bold** ||secret||"})
    text = discord_to_matrix_text(msg)
    assert text is not None
    assert text.body == "**bold** ||secret||"
    assert text.formatted_body == "<strong>bold</strong> <span data-mx-spoiler>secret</span>"


def test_reply_and_room_mention() -> None:
    msg = load("message_create_text.json")
    everyone = DiscordMessage(**{**msg.__dict__, "content": "@everyone look"})
    text = discord_to_matrix_text(everyone, reply_to=EventID("$orig"))
    assert text is not None
    content = text.to_content()
    # Discord did not flag the message as mentioning everyone: no room ping on Matrix.
    assert content["m.mentions"] == {}
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$orig"}}
    assert "m.relates_to" not in text.to_content(with_relation=False)
    pinged = DiscordMessage(**{**everyone.__dict__, "mention_everyone": True})
    text = discord_to_matrix_text(pinged)
    assert text is not None and text.to_content()["m.mentions"] == {"room": True}


@pytest.mark.parametrize("content", ["", "   ", "\n"])
def test_empty_text_is_not_sent(content: str) -> None:
    msg = load("message_create_text.json")
    empty = DiscordMessage(**{**msg.__dict__, "content": content})
    assert discord_to_matrix_text(empty) is None


@pytest.mark.parametrize(
    ("template", "name", "expected"),
    [
        ("{name} (Discord)", "Alice (HQ)", "Alice (HQ) (Discord)"),
        ("{username}", "Alice", "alice"),
        ("{name} [{id}]", "  spaced\tname ", "spaced name [7]"),
        ("{name}", "", "alice"),
    ],
)
def test_ghost_displayname(template: str, name: str, expected: str) -> None:
    assert ghost_displayname(template, name, "alice", 7) == expected


def test_display_name_prefers_nick() -> None:
    author = DiscordAuthor(DiscordUserID(1), "alice", global_name="Alice", nick="Ali")
    assert author.display_name == "Ali"
    assert DiscordAuthor(DiscordUserID(1), "alice", global_name="Alice").display_name == "Alice"
    assert DiscordAuthor(DiscordUserID(1), "alice").display_name == "alice"


def test_hidden_channels_are_neither_named_nor_linked() -> None:
    msg = load("message_create_text.json")
    msg = DiscordMessage(
        **{
            **msg.__dict__,
            "content": "see <#11> and <#22> and <#33>",
            "channel_mentions": ((11, "members"), (22, "campaign"), (33, "secret")),
        }
    )
    rooms = {11: ("members", "!m:example.org"), 22: ("campaign", "!c:example.org")}
    public = discord_to_matrix_text(msg, mention_context(msg, ghost, rooms, {11, 33}))
    assert public is not None
    assert public.body == "see #private channel and #campaign and #private channel"
    assert "!m:example.org" not in (public.formatted_body or "")
    members = discord_to_matrix_text(msg, mention_context(msg, ghost, rooms))
    assert members is not None
    assert members.body == "see #members and #campaign and #secret"
    assert '<a href="https://matrix.to/#/!m:example.org">#members</a>' in (
        members.formatted_body or ""
    )


def test_ghost_displayname_disambiguated_with_the_username() -> None:
    template = "{name} (Discord)"
    assert ghost_displayname(template, "Alice", "alice_d", 7) == "Alice (Discord)"
    assert (
        ghost_displayname(template, "Alice", "alice_d", 7, disambiguate=True)
        == "Alice (@alice_d) (Discord)"
    )
    # No visible username: the ID.
    assert (
        ghost_displayname(template, "Alice", "\u200b", 7, disambiguate=True)
        == "Alice (7) (Discord)"
    )
