"""Message fidelity through real Synapse + the Discord emulator + the bridge:
formatting, mentions, replies, edits and deletions, both ways."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import discord
import pytest
from mautrix.types import EventType, RoomID

from bridge.ids import ChannelID, DiscordUserID, EventID, MessageID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import recorded, room_of
from tests.matrix_spec import schema_errors

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
BOB = DiscordUserID(2000000000000000002)
ALICE_DISCORD = DiscordUserID(2000000000000000001)


def tag() -> str:
    return uuid.uuid4().hex[:8]


def is_message(e: dict[str, Any], marker: str) -> bool:
    return e["type"] == "m.room.message" and marker in e["content"].get("body", "")


async def emulator_message(
    stack: SandboxStack,
    channel: int,
    check: Callable[[dict[str, Any]], bool],
    timeout: float = 10,
) -> dict[str, Any]:
    """Poll the emulator's own state until a message in the channel passes ``check``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in stack.emulator.state.messages_in(channel):  # type: ignore[union-attr]
            if check(message):
                return message
        await asyncio.sleep(0.05)
    raise TimeoutError("no matching message in the emulator")


async def send_matrix(user: MatrixUser, room: str, content: dict[str, Any]) -> str:
    return str(await user.client.send_message_event(RoomID(room), EventType.ROOM_MESSAGE, content))


async def mapped_discord_id(stack: SandboxStack, event_id: str) -> int:
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    rows = await recorded(lambda: stores.messages.by_event(EventID(event_id)), timeout=10)
    assert rows, f"{event_id} was never relayed"
    return int(rows[0].discord_message_id)


# -- formatting ------------------------------------------------------------------------


async def test_discord_markdown_becomes_matrix_html(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    text = (
        f"**bold {marker}** *it* __under__ ~~gone~~ ||secret|| `x = 1`\n"
        "> quoted\n```python\nprint('hi')\n```\n[site](https://example.org)"
    )
    await discord_bob.send(PUBLIC, text)
    event, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, marker))
    content = event["content"]
    assert content["format"] == "org.matrix.custom.html"
    html = content["formatted_body"]
    for fragment in (
        f"<strong>bold {marker}</strong>",
        "<em>it</em>",
        "<u>under</u>",
        "<del>gone</del>",
        "<span data-mx-spoiler>secret</span>",
        "<code>x = 1</code>",
        "<blockquote>quoted</blockquote>",
        "<pre><code class=\"language-python\">print('hi')</code></pre>",
        '<a href="https://example.org">site</a>',
    ):
        assert fragment in html, fragment
    assert content["body"].startswith(f"**bold {marker}** *it*")
    assert schema_errors("m.room.message$m.text.yaml", event) == []


async def test_element_html_becomes_discord_markdown(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    html = (
        f"<strong>bold {marker}</strong> <em>it</em> <del>gone</del> "
        "<span data-mx-spoiler>secret</span> <code>a*b</code><br>"
        '<pre><code class="language-js">let x = 1;\n</code></pre>'
        "<ul><li>one</li><li>two</li></ul>"
    )
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f"**bold {marker}** ...",
            "format": "org.matrix.custom.html",
            "formatted_body": html,
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
    assert message.content == (
        f"**bold {marker}** *it* ~~gone~~ ||secret|| `a*b`\n```js\nlet x = 1;\n```\n- one\n- two"
    )


# -- mentions --------------------------------------------------------------------------


async def test_discord_mention_becomes_pill_with_m_mentions(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    await discord_bob.send(PUBLIC, f"hey <@{ALICE_DISCORD}> {marker}")
    event, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, marker))
    ghost = stack.config.namer.ghost_mxid(ALICE_DISCORD)  # type: ignore[union-attr]
    content = event["content"]
    assert content["m.mentions"] == {"user_ids": [ghost]}
    assert f'<a href="https://matrix.to/#/{ghost}">Alice (HQ)</a>' in content["formatted_body"]
    assert content["body"] == f"hey @Alice (HQ) {marker}"


async def test_matrix_pill_pings_the_discord_user_and_room_ping_needs_power(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    marker = tag()
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f"Bob (Discord): look {marker}",
            "format": "org.matrix.custom.html",
            "formatted_body": f'<a href="https://matrix.to/#/{ghost}">Bob (Discord)</a>: look {marker}',
            "m.mentions": {"user_ids": [ghost]},
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
    assert message.content == f"<@{BOB}>: look {marker}"
    assert [u.id for u in message.mentions] == [BOB]
    # Alice has power level 0: @room must not become a ping of everyone.
    marker = tag()
    await matrix_alice.send_text(room, f"@room attention {marker}")
    message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
    assert message.mention_everyone is False
    assert "@everyone" not in message.content
    marker = tag()
    await matrix_alice.send_text(room, f"@everyone attention {marker}")
    message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
    assert message.mention_everyone is False


# -- replies ---------------------------------------------------------------------------


async def test_discord_reply_becomes_matrix_reply(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    first_marker, reply_marker = tag(), tag()
    original = await discord_bob.send(PUBLIC, f"question {first_marker}")
    first, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, first_marker))
    await original.reply(f"answer {reply_marker}")
    reply, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, reply_marker))
    relates = reply["content"]["m.relates_to"]
    assert relates == {"m.in_reply_to": {"event_id": first["event_id"]}}


async def test_matrix_reply_quotes_the_original_on_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    ghost = stack.config.namer.ghost_mxid(BOB)  # type: ignore[union-attr]
    first_marker, reply_marker = tag(), tag()
    original = await discord_bob.send(PUBLIC, f"from discord {first_marker}")
    first, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, first_marker))
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f"> <{ghost}> from discord {first_marker}\n\nreply {reply_marker}",
            "m.relates_to": {"m.in_reply_to": {"event_id": first["event_id"]}},
            "m.mentions": {"user_ids": [ghost]},
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: reply_marker in m.content)
    quote, text = message.content.split("\n")
    jump = f"https://discord.com/channels/{original.guild.id}/{PUBLIC}/{original.id}"  # type: ignore[union-attr]
    assert quote == f"> \u21aa <@{BOB}>: from discord {first_marker} [\u2197](<{jump}>)"
    assert text == f"reply {reply_marker}"
    assert [u.id for u in message.mentions] == [BOB]  # pinged, as Element asked
    # A reply to a Matrix message quotes its sender's name in bold.
    own_marker, second_marker = tag(), tag()
    own = await matrix_alice.send_text(room, f"mine {own_marker}")
    await discord_bob.wait_for_message(lambda m: own_marker in m.content)
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f"again {second_marker}",
            "m.relates_to": {"m.in_reply_to": {"event_id": own}},
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: second_marker in m.content)
    assert message.content.startswith(f"> \u21aa **Alice Liddell**: mine {own_marker} [")
    assert message.mentions == []


# -- edits -----------------------------------------------------------------------------


async def test_discord_edit_becomes_m_replace(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    message = await discord_bob.send(PUBLIC, f"tpyo {marker}")
    original, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, marker))
    await message.edit(content=f"**typo** fixed {marker}")
    edit, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
            and marker in e["content"].get("body", "")
        ),
    )
    assert edit["sender"] == original["sender"]
    assert edit["content"]["m.relates_to"]["event_id"] == original["event_id"]
    new = edit["content"]["m.new_content"]
    assert new["body"] == f"**typo** fixed {marker}"
    assert new["formatted_body"] == f"<strong>typo</strong> fixed {marker}"


async def test_matrix_edit_of_an_older_message_edits_the_webhook_message(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    old_marker, later_marker = tag(), tag()
    old = await matrix_alice.send_text(room, f"first {old_marker}")
    await matrix_alice.send_text(room, f"second {later_marker}")
    discord_id = await mapped_discord_id(stack, old)
    await discord_bob.wait_for_message(lambda m: later_marker in m.content)
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f" * first, edited {old_marker}",
            "m.new_content": {"msgtype": "m.text", "body": f"first, edited {old_marker}"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": old},
        },
    )
    edited = await emulator_message(
        stack, PUBLIC, lambda m: int(m["id"]) == discord_id and "edited" in m["content"]
    )
    assert edited["content"] == f"first, edited {old_marker}"
    assert edited["edited_timestamp"] is not None


# -- deletions -------------------------------------------------------------------------


def redacts(event: dict[str, Any]) -> str | None:
    if event["type"] != "m.room.redaction":
        return None
    return event.get("redacts") or event["content"].get("redacts")


async def test_discord_delete_and_bulk_delete_redact_on_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    message = await discord_bob.send(PUBLIC, f"oops {marker}")
    event, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, marker))
    await message.delete()
    await matrix_alice.wait_for_event(room, lambda e: redacts(e) == event["event_id"])
    assert await stack.bridge.ctx.stores.messages.by_discord(MessageID(message.id)) == []  # type: ignore[union-attr]
    # Bulk delete by the guild owner (MANAGE_MESSAGES).
    owner_token = next(u["token"] for u in stack.seed["users"] if u["username"] == "alice")
    owner = DiscordUser(stack.emulator.api_base, owner_token)  # type: ignore[union-attr]
    await owner.start()
    try:
        markers = [tag(), tag()]
        sent = [await discord_bob.send(PUBLIC, f"bulk {m}") for m in markers]
        events = [
            (await matrix_alice.wait_for_event(room, lambda e, m=m: is_message(e, m)))[0]
            for m in markers
        ]
        channel = owner.client.get_channel(PUBLIC)
        assert isinstance(channel, discord.TextChannel)
        await channel.delete_messages([discord.Object(id=m.id) for m in sent])
        for e in events:
            await matrix_alice.wait_for_event(room, lambda r, e=e: redacts(r) == e["event_id"])
    finally:
        await owner.close()


async def test_matrix_redaction_deletes_the_discord_message(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    event_id = await matrix_alice.send_text(room, f"regret {marker}")
    discord_id = await mapped_discord_id(stack, event_id)
    await emulator_message(stack, PUBLIC, lambda m: int(m["id"]) == discord_id)
    await matrix_alice.client.redact(room, EventID(event_id), reason="typo")
    deadline = time.monotonic() + 10
    while any(
        int(m["id"]) == discord_id
        for m in stack.emulator.state.messages_in(PUBLIC)  # type: ignore[union-attr]
    ):
        assert time.monotonic() < deadline, "the webhook message was not deleted"
        await asyncio.sleep(0.05)
    assert await stack.bridge.ctx.stores.messages.by_event(EventID(event_id)) == []  # type: ignore[union-attr]


async def test_moderator_redaction_deletes_a_discord_users_message(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    bot = stack.bridge.matrix.bot  # type: ignore[union-attr]
    levels = await bot.get_power_levels(room)
    levels.users[matrix_alice.user_id] = 50  # a room moderator
    await bot.set_power_levels(room, levels)
    try:
        marker = tag()
        message = await discord_bob.send(PUBLIC, f"spam {marker}")
        event, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, marker))
        await matrix_alice.client.redact(room, event["event_id"], reason="spam")
        deadline = time.monotonic() + 10
        while any(
            int(m["id"]) == message.id
            for m in stack.emulator.state.messages_in(PUBLIC)  # type: ignore[union-attr]
        ):
            assert time.monotonic() < deadline, "Bob's message was not deleted on Discord"
            await asyncio.sleep(0.05)
    finally:
        levels.users.pop(matrix_alice.user_id, None)
        await bot.set_power_levels(room, levels)


# -- long messages, role and channel mentions ------------------------------------------


async def test_long_matrix_message_is_split_and_its_edit_resplit(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    marker = tag()
    code = "\n".join(f"line_{i} = {i}  # {marker}" for i in range(150))
    body = f"Here is the script {marker}:\n```python\n{code}\n```"
    html = f'Here is the script {marker}:<pre><code class="language-python">{code}\n</code></pre>'
    event_id = await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": body,
            "format": "org.matrix.custom.html",
            "formatted_body": html,
        },
    )
    deadline = time.monotonic() + 10
    while len(rows := await stack.bridge.ctx.stores.messages.by_event(EventID(event_id))) < 2:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the long message was not split"
        await asyncio.sleep(0.05)
    parts = [
        await emulator_message(stack, PUBLIC, lambda m, r=r: int(m["id"]) == r.discord_message_id)
        for r in rows
    ]
    contents = [p["content"] for p in parts]
    assert all(len(c) <= 2000 for c in contents)
    for content in contents:
        assert content.count("```") % 2 == 0, "every part must open and close its code block"
    joined = "\n".join(c.split("```python\n", 1)[-1].removesuffix("```") for c in contents)
    for i in range(150):
        assert f"line_{i} = {i}  # {marker}" in joined
    # Editing it down to one line edits the first part and deletes the others.
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f" * short now {marker}",
            "m.new_content": {"msgtype": "m.text", "body": f"short now {marker}"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        },
    )
    first = rows[0].discord_message_id
    await emulator_message(
        stack, PUBLIC, lambda m: int(m["id"]) == first and m["content"] == f"short now {marker}"
    )
    deadline = time.monotonic() + 10
    remaining = {int(m["id"]) for m in stack.emulator.state.messages_in(PUBLIC)}  # type: ignore[union-attr]
    while any(r.discord_message_id in remaining for r in rows[1:]):
        assert time.monotonic() < deadline, "surplus parts were not deleted"
        await asyncio.sleep(0.05)
        remaining = {int(m["id"]) for m in stack.emulator.state.messages_in(PUBLIC)}  # type: ignore[union-attr]


async def test_role_and_channel_mentions_read_well_on_matrix(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    members_room = await room_of(stack, ChannelID(4000000000000000002))
    guild = stack.seed["guilds"][0]
    role = next(r for r in guild["roles"] if r["name"] == "Member")
    marker = tag()
    await discord_bob.send(
        PUBLIC, f"ping <@&{role['id']}> see <#4000000000000000002> and <#{PUBLIC}> {marker}"
    )
    event, _ = await matrix_alice.wait_for_event(room, lambda e: is_message(e, marker))
    content = event["content"]
    # The members-only channel is neither named nor linked in the public room.
    assert content["body"] == f"ping @Member see #private channel and #campaign {marker}"
    assert members_room not in content.get("formatted_body", "")
    assert f'<a href="https://matrix.to/#/{room}">#campaign</a>' in content["formatted_body"]
    # A room link from Element becomes a Discord channel mention.
    marker = tag()
    await send_matrix(
        matrix_alice,
        room,
        {
            "msgtype": "m.text",
            "body": f"go to #campaign {marker}",
            "format": "org.matrix.custom.html",
            "formatted_body": f'go to <a href="https://matrix.to/#/{room}">#campaign</a> {marker}',
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: marker in m.content)
    assert message.content == f"go to <#{PUBLIC}> {marker}"
