"""A Matrix sender is told, in plain words, when Discord refuses their message for good."""

from __future__ import annotations

import pytest

from bridge.ids import EventID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.test_relay_text import PUBLIC, portal_room, unique

pytestmark = pytest.mark.e2e


async def test_a_refused_message_gets_a_plain_notice_and_the_room_goes_on(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.emulator is not None
    room = await portal_room(stack, PUBLIC)
    # Discord refuses the bridge's webhook posts: a permission taken away, say.
    stack.emulator.faults.fail_next(
        10, status=403, code=50013, message="Missing Permissions", path_prefix="/webhooks"
    )
    text = unique("refused")
    event_id = await matrix_alice.send_text(room, text)
    notice, _ = await matrix_alice.wait_for_event(
        room,
        lambda e: (
            e["type"] == "m.room.message"
            and e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            == event_id
        ),
        timeout=30,
    )
    stack.emulator.faults.clear()
    content = notice["content"]
    assert notice["sender"] == stack.config.namer.bot_mxid  # type: ignore[union-attr]
    assert content["msgtype"] == "m.notice"
    assert content["m.mentions"] == {"user_ids": [matrix_alice.user_id]}
    assert content["body"] == (
        f"{matrix_alice.user_id}: your message was not delivered to Discord. The bridge is"
        " not allowed to post in this Discord channel. A moderator or the bridge's"
        " administrator can look into it."
    )
    # Kept for the administrator: the dead row says why; nothing reached Discord.
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    assert await stores.outbox.count(dead=True) >= 1
    assert await stores.messages.by_event(EventID(event_id)) == []
    # The room's queue is not stuck behind it.
    after = unique("delivered")
    await matrix_alice.send_text(room, after)
    message, _ = await discord_bob.wait_for_message(lambda m: m.content == after)
    assert message.channel.id == PUBLIC
    state = stack.emulator.state
    contents = [state.messages[m].get("content") for m in state.channel_messages[str(PUBLIC)]]
    assert text not in contents and after in contents
