"""Scheduled events and voice channels through real Synapse + the Discord emulator +
the bridge: an event's notice, edited in place (update, interest count, cancel); who
is in voice as room state and topic, never messages; a voice channel's text chat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from mautrix.types import PaginationDirection, RoomID

from bridge.convert.d2m.events import status_line, when_line
from bridge.convert.d2m.voice_state import VOICE_EVENT_TYPE, summary
from bridge.i18n import Translator, translator
from bridge.ids import ChannelID, DiscordUserID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.server import Emulator
from sandbox.stack import SandboxStack
from tests.e2e.waits import eventually, room_of, state_content

pytestmark = pytest.mark.e2e

GUILD = "3000000000000000001"
CAMPAIGN = ChannelID(4000000000000000001)
PERMANENCE = ChannelID(4000000000000000006)  # the demo seed's voice channel
BOB, CAROL = "2000000000000000002", "2000000000000000003"
START = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
END = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)
WAIT = 30.0  # the machine is shared: generous


def emulator(stack: SandboxStack) -> Emulator:
    assert stack.emulator is not None
    return stack.emulator


def room_tr(stack: SandboxStack) -> Translator:
    assert stack.bridge is not None
    return translator(stack.bridge.config.bridge.language)


def new_body(event: dict[str, Any]) -> str:
    content = event["content"]
    return str(content.get("m.new_content", content).get("body", ""))


def edits_of(target: str) -> Any:
    def check(event: dict[str, Any]) -> bool:
        relation = event["content"].get("m.relates_to") or {}
        return relation.get("rel_type") == "m.replace" and relation.get("event_id") == target

    return check


async def test_event_notice_is_posted_updated_counted_and_cancelled(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    emu, tr = emulator(stack), room_tr(stack)
    room = await room_of(stack, PERMANENCE)
    marker = uuid.uuid4().hex[:8]
    event_id = emu.create_scheduled_event(
        GUILD,
        f"Permanence {marker}",
        START.isoformat(),
        end=END.isoformat(),
        channel_id=str(PERMANENCE),
        description="Questions sur le bail",
    )
    notice, _ = await matrix_alice.wait_for_event(
        room, lambda e: marker in e["content"].get("body", ""), timeout=WAIT
    )
    body = notice["content"]["body"]
    assert notice["content"]["msgtype"] == "m.notice"
    assert when_line(tr, START, END) in body.splitlines()
    assert "permanence" in body and "Questions sur le bail" in body

    emu.update_scheduled_event(event_id, name=f"Permanence du jeudi {marker}")
    edit, _ = await matrix_alice.wait_for_event(room, edits_of(notice["event_id"]), timeout=WAIT)
    assert new_body(edit).splitlines()[0].endswith(f"Permanence du jeudi {marker}")

    emu.set_event_interest(event_id, BOB)
    emu.set_event_interest(event_id, CAROL)
    interested = tr.ngettext("{n} person interested", "{n} people interested", 2)
    edit, _ = await matrix_alice.wait_for_event(
        room, lambda e: edits_of(notice["event_id"])(e) and interested in new_body(e), timeout=WAIT
    )
    shown = new_body(edit)
    assert not any(name in shown for name in ("Bob", "bob", "Carol", "carol"))  # only a count

    emu.cancel_scheduled_event(event_id)
    cancelled = status_line(tr, 4, False)
    assert cancelled is not None
    edit, _ = await matrix_alice.wait_for_event(
        room, lambda e: edits_of(notice["event_id"])(e) and cancelled in new_body(e), timeout=WAIT
    )
    assert stack.bridge is not None
    stores = stack.bridge.ctx.stores

    async def stored() -> Any:  # recorded right after the edit is sent
        row = await stores.event_notices.get(int(event_id))
        return row if row is not None and cancelled in row.body else None

    row = await eventually(stored, "the cancelled notice was never recorded", WAIT)
    assert row.event_id == notice["event_id"]


async def test_external_event_goes_to_the_first_public_portal(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    emu = emulator(stack)
    room = await room_of(stack, CAMPAIGN)
    marker = uuid.uuid4().hex[:8]
    event_id = emu.create_scheduled_event(
        GUILD,
        f"Manif {marker}",
        START.isoformat(),
        end=END.isoformat(),
        location="Place de la République",
    )
    notice, _ = await matrix_alice.wait_for_event(
        room, lambda e: marker in e["content"].get("body", ""), timeout=WAIT
    )
    assert "Place de la République" in notice["content"]["body"]
    emu.delete_scheduled_event(event_id)
    cancelled = status_line(room_tr(stack), 1, True)
    assert cancelled is not None
    await matrix_alice.wait_for_event(
        room, lambda e: edits_of(notice["event_id"])(e) and cancelled in new_body(e), timeout=WAIT
    )


async def messages_from(alice: MatrixUser, room: RoomID, sender: str) -> list[dict[str, Any]]:
    page = await alice.client.get_messages(room, direction=PaginationDirection.BACKWARD, limit=50)
    return [
        e.serialize()
        for e in page.events
        if str(e.sender) == sender and str(e.type) == "m.room.message"
    ]


async def test_voice_presence_is_room_state_and_topic_not_messages(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    emu, tr = emulator(stack), room_tr(stack)
    assert stack.bridge is not None
    room = await room_of(stack, PERMANENCE)
    ghost = stack.bridge.config.namer.ghost_mxid(DiscordUserID(int(BOB)))

    async def voice() -> dict[str, Any]:
        return await state_content(stack, room, VOICE_EVENT_TYPE, BOB)

    async def topic() -> str:
        return str((await state_content(stack, room, "m.room.topic")).get("topic", ""))

    emu.set_voice_state(GUILD, BOB, str(PERMANENCE), self_mute=True)
    state = await eventually(
        lambda: _when(voice(), lambda c: c.get("in_voice") is True), "Bob never in voice", WAIT
    )
    assert state["self_mute"] is True and state["discord_user_id"] == BOB
    assert state["matrix_user_id"] == ghost
    in_voice = summary(tr, ["Bob"])
    await eventually(lambda: _when(topic(), lambda t: in_voice in t), "topic never said Bob", WAIT)
    assert "Discord" in await topic()

    emu.set_voice_state(GUILD, BOB, None)
    await eventually(
        lambda: _when(voice(), lambda c: c.get("in_voice") is False), "Bob never left", WAIT
    )
    nobody = summary(tr, [])
    await eventually(lambda: _when(topic(), lambda t: nobody in t), "topic kept Bob", WAIT)
    assert await messages_from(matrix_alice, room, ghost) == []  # state only


async def test_voice_channel_text_chat_is_bridged(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PERMANENCE)
    marker = uuid.uuid4().hex[:8]
    await discord_bob.send(PERMANENCE, f"dans le chat du vocal {marker}")
    await matrix_alice.wait_for_event(
        room, lambda e: marker in e["content"].get("body", ""), timeout=WAIT
    )
    await matrix_alice.send_text(room, f"réponse depuis Matrix {marker}")

    async def on_discord() -> bool:
        return any(
            f"réponse depuis Matrix {marker}" in m.get("content", "")
            for m in emulator(stack).state.messages_in(PERMANENCE)
        )

    await eventually(on_discord, "the Matrix reply never reached the voice channel's chat", WAIT)


async def _when(value: Any, check: Any) -> Any:
    found = await value
    return found if check(found) else None


async def test_restart_edits_the_notice_and_resyncs_voice(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    """Changed while the bridge was down: the event's notice is edited (not posted
    again) and who is in voice is read from GUILD_CREATE."""
    emu = emulator(stack)
    room = await room_of(stack, PERMANENCE)
    marker = uuid.uuid4().hex[:8]
    event_id = emu.create_scheduled_event(
        GUILD, f"AG {marker}", START.isoformat(), channel_id=str(PERMANENCE)
    )
    notice, _ = await matrix_alice.wait_for_event(
        room, lambda e: marker in e["content"].get("body", ""), timeout=WAIT
    )
    await stack.stop_bridge()
    emu.update_scheduled_event(event_id, name=f"AG extraordinaire {marker}")
    emu.set_voice_state(GUILD, CAROL, str(PERMANENCE), self_deaf=True)
    await stack.start_bridge()
    try:
        await matrix_alice.wait_for_event(
            room,
            lambda e: edits_of(notice["event_id"])(e) and "extraordinaire" in new_body(e),
            timeout=WAIT,
        )

        async def carol_in_voice() -> Any:
            content = await state_content(stack, room, VOICE_EVENT_TYPE, CAROL)
            return content if content.get("in_voice") else None

        state = await eventually(carol_in_voice, "Carol's voice state never synced", WAIT)
        assert state["self_deaf"] is True
        posted = [
            e
            for e in (
                await matrix_alice.client.get_messages(
                    room, direction=PaginationDirection.BACKWARD, limit=50
                )
            ).events
            if marker in str(e.content.serialize().get("body", ""))
            and "m.relates_to" not in e.content.serialize()
        ]
        assert len(posted) == 1  # one notice, edited; never a second one
    finally:
        emu.set_voice_state(GUILD, CAROL, None)
