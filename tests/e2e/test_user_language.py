"""Each person's own language through Synapse + the Discord emulator + the bridge,
while ``bridge.language`` stays English: a Matrix user says ``!bridge langue fr`` to
the bridge's bot, then her answers, her delivery-failure and flood notices come in French; a
Discord user does the same in a direct message to the Discord bot. (The flood
notice is addressed to its sender too.)"""

from __future__ import annotations

import discord
import pytest

from bridge.ratelimit import SenderLimiter
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.test_members_only import _is, membership_of
from tests.e2e.test_relay_text import PUBLIC, portal_room, unique
from tests.e2e.waits import eventually

pytestmark = pytest.mark.e2e

BOT = 1000000000000000001


async def test_a_matrix_user_chooses_french(stack: SandboxStack, matrix_alice: MatrixUser) -> None:
    assert stack.bridge and stack.config and stack.emulator
    assert stack.bridge.config.bridge.language == "en"
    bot_mxid = stack.config.namer.bot_mxid
    dm = await matrix_alice.client.create_room(invitees=[bot_mxid], is_direct=True)
    await eventually(lambda: _is(membership_of(matrix_alice, dm, bot_mxid), "join"), "no bot")

    async def answer(text: str, expected: str) -> str:
        await matrix_alice.send_text(dm, text)
        event, _ = await matrix_alice.wait_for_event(
            dm,
            lambda e: e["sender"] == bot_mxid and expected in e["content"].get("body", ""),
            timeout=30,
        )
        return str(event["content"]["body"])

    try:
        said = await answer("!bridge langue fr", "Désormais")
        assert said == "Désormais, la passerelle vous écrit en français."
        said = await answer("!lier", "Votre code est")
        assert said.startswith("Votre code est ") and "minutes" in said
        # A message Discord refuses: the notice replying to her is in French.
        room = await portal_room(stack, PUBLIC)
        stack.emulator.faults.fail_next(
            10, status=403, code=50013, message="Missing Permissions", path_prefix="/webhooks"
        )
        event_id = await matrix_alice.send_text(room, unique("refusé"))
        try:
            notice, _ = await matrix_alice.wait_for_event(
                room,
                lambda e: (
                    e["type"] == "m.room.message"
                    and e["content"]
                    .get("m.relates_to", {})
                    .get("m.in_reply_to", {})
                    .get("event_id")
                    == event_id
                ),
                timeout=30,
            )
        finally:
            stack.emulator.faults.clear()
        assert notice["content"]["body"].startswith(
            f"{matrix_alice.user_id} : votre message n'a pas été transmis à Discord."
        )
        # Past the flood limit, the notice telling her is in French too.
        bridge, burst = stack.bridge, 5
        relaxed = bridge.sender_limiter
        bridge.sender_limiter = SenderLimiter(burst, 10)
        flood = unique("déluge")
        try:
            for i in range(burst + 2):
                await matrix_alice.send_text(room, f"{flood} #{i}")
            notice, _ = await matrix_alice.wait_for_event(
                room,
                lambda e: (
                    e["sender"] == bot_mxid
                    and "n'est pas relayé sur Discord" in e["content"].get("body", "")
                ),
                timeout=30,
            )
        finally:
            bridge.sender_limiter = relaxed
        assert notice["content"]["body"].startswith(
            f"{matrix_alice.user_id} : vous envoyez plus vite que 5 messages par 10 secondes"
        )
        said = await answer("!bridge language default", "default language again")
        assert said == "The bridge writes to you in its default language again (English)."
    finally:
        await stack.bridge.ctx.stores.user_languages.forget("matrix", matrix_alice.user_id)


async def test_a_discord_user_chooses_french(stack: SandboxStack, discord_bob: DiscordUser) -> None:
    assert stack.bridge
    bot_user = await discord_bob.client.fetch_user(BOT)
    bob_id = str(discord_bob.client.user.id)  # type: ignore[union-attr]
    try:
        await bot_user.send("!langue fr")
        reply, _ = await discord_bob.wait_for_message(
            lambda m: isinstance(m.channel, discord.DMChannel) and "Désormais" in m.content
        )
        assert reply.content == "Désormais, la passerelle vous écrit en français."
        assert await stack.bridge.ctx.stores.user_languages.get("discord", bob_id) == "fr"
        await bot_user.send("!lier")
        reply, _ = await discord_bob.wait_for_message(
            lambda m: isinstance(m.channel, discord.DMChannel) and "Votre code est" in m.content
        )
        assert "Dans Element, envoyez `!lier " in reply.content
    finally:
        await stack.bridge.ctx.stores.user_languages.forget("discord", bob_id)
