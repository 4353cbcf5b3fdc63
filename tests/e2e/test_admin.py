"""Admin commands from the moderators' room, and the one-shot history import."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from bridge.db import ImportRow
from bridge.i18n import set_cli_language
from bridge.ids import ChannelID, MessageID
from bridge.import_cli import progress_line, run_import
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.conftest import matrix_token
from tests.e2e.waits import recorded, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)


@pytest.fixture(scope="module")
async def admin_carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """Carol, a configured moderator, in the moderators' room."""
    assert stack.bridge is not None and stack.synapse is not None
    user_id, token = matrix_token(stack, "carol")
    user = MatrixUser(stack.synapse.url, user_id, token)
    mod_room = stack.bridge.ctx.moderation.mod_room
    assert mod_room is not None
    await user.join(mod_room)
    await user.prime()
    yield user
    await user.close()


async def ask(stack: SandboxStack, carol: MatrixUser, command: str, expect: str) -> str:
    assert stack.bridge is not None
    mod_room = stack.bridge.ctx.moderation.mod_room
    assert mod_room is not None
    await carol.send_text(mod_room, command)
    event, _ = await carol.wait_for_event(
        mod_room,
        lambda e: (
            e["sender"] == stack.bridge.config.namer.bot_mxid  # type: ignore[union-attr]
            and expect in e["content"].get("body", "")
        ),
        timeout=30,
    )
    return str(event["content"]["body"])


async def test_status_and_channels(stack: SandboxStack, admin_carol: MatrixUser) -> None:
    status = await ask(stack, admin_carol, "!bridge status", "Discord gateway")
    assert "Discord gateway: connected" in status
    assert "undeliverable: 0" in status
    channels = await ask(stack, admin_carol, "!bridge channels", str(PUBLIC))
    assert "(public)" in channels and "(members_only)" in channels


async def test_non_moderator_is_refused(
    stack: SandboxStack, admin_carol: MatrixUser, matrix_alice: MatrixUser
) -> None:
    assert stack.bridge is not None and stack.bridge.admin is not None
    mod_room = stack.bridge.ctx.moderation.mod_room
    assert mod_room is not None
    # Alice is no configured moderator (nor in the room): the handler is called directly.
    assert await stack.bridge.admin.on_message(mod_room, matrix_alice.user_id, "!bridge status")
    event, _ = await admin_carol.wait_for_event(
        mod_room,
        lambda e: "Only the bridge's configured moderators" in e["content"].get("body", ""),
    )
    assert "Discord gateway" not in event["content"]["body"]


async def test_history_import_copies_what_the_gateway_never_delivered(
    stack: SandboxStack,
    admin_carol: MatrixUser,
    matrix_alice: MatrixUser,
    discord_bob: DiscordUser,
) -> None:
    assert stack.bridge is not None and stack.emulator is not None
    room = await room_of(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    stack.emulator.pause_gateway()  # the bridge never hears of these three
    try:
        sent = [await discord_bob.send(PUBLIC, f"archive {marker} {i}") for i in range(3)]
        done = await ask(stack, admin_carol, f"!bridge import {PUBLIC}", f"Import of {PUBLIC} done")
        assert "messages." in done or "message." in done
        for i, message in enumerate(sent):
            event, _ = await matrix_alice.wait_for_event(
                room, lambda e, i=i: e["content"].get("body") == f"archive {marker} {i}"
            )
            # The original Discord timestamp, not the import's.
            assert event["origin_server_ts"] == int(message.created_at.timestamp() * 1000)
    finally:
        stack.emulator.resume_gateway()
    # The gateway now delivers them late: the message map keeps them from crossing twice.
    after = f"after import {marker}"
    await discord_bob.send(PUBLIC, after)
    await matrix_alice.wait_for_event(room, lambda e: e["content"].get("body") == after)
    for message in sent:
        rows = await recorded(
            lambda m=message: stack.bridge.ctx.stores.messages.by_discord(MessageID(m.id))  # type: ignore[union-attr]
        )
        assert len(rows) == 1
    state = await stack.bridge.ctx.stores.imports.get(PUBLIC)
    assert state is not None and state.done


async def test_import_history_command_line(
    stack: SandboxStack,
    matrix_alice: MatrixUser,
    discord_bob: DiscordUser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert stack.bridge is not None and stack.config is not None
    room = await room_of(stack, PUBLIC)
    # With the daemon running, the command says what to do instead.
    assert await run_import(stack.config, PUBLIC) == 1
    assert "already running" in capsys.readouterr().err
    await stack.stop_bridge()
    marker = uuid.uuid4().hex[:8]
    try:
        for i in range(2):
            await discord_bob.send(PUBLIC, f"cli archive {marker} {i}")
        assert await run_import(stack.config, PUBLIC) == 0
        assert "Done:" in capsys.readouterr().out
    finally:
        await stack.start_bridge()
    for i in range(2):
        await matrix_alice.wait_for_event(
            room, lambda e, i=i: e["content"].get("body") == f"cli archive {marker} {i}"
        )
    state = await stack.bridge.ctx.stores.imports.get(PUBLIC)  # type: ignore[union-attr]
    assert state is not None and state.done


def test_progress_line() -> None:
    row = ImportRow(PUBLIC, 1575030558084431873, 0, 120, False)
    line = progress_line(row, began=0.0, now=60.0)
    assert line == f"channel {PUBLIC}: 120 messages copied, up to Nov 25, 2026, 2/s"
    set_cli_language("fr")
    try:  # the command line's language (--lang, bridge.language, or LANG): dates by Babel
        line = progress_line(row, began=0.0, now=60.0)
    finally:
        set_cli_language(None)
    assert line == f"salon {PUBLIC} : 120 messages copiés, jusqu'au 25 nov. 2026, 2/s"


async def test_remove_and_add_a_channel_at_runtime(
    stack: SandboxStack,
    admin_carol: MatrixUser,
    matrix_alice: MatrixUser,
    discord_bob: DiscordUser,
) -> None:
    assert stack.bridge is not None
    room = await room_of(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    answer = await ask(stack, admin_carol, f"!bridge remove {PUBLIC}", "no longer bridged")
    assert answer.startswith(f"Channel {PUBLIC} is no longer bridged")
    await matrix_alice.wait_for_event(
        room, lambda e: "no longer bridged to Discord" in e["content"].get("body", "")
    )
    # Neither way now: a Discord message stays on Discord, a Matrix one on Matrix.
    quiet = await discord_bob.send(PUBLIC, f"unbridged d2m {marker}")
    await matrix_alice.send_text(room, f"unbridged m2d {marker}")
    for _ in range(100):  # handled (and dropped) before the channel is bridged again
        if not await stack.bridge.ctx.stores.outbox.count():
            break
        await asyncio.sleep(0.05)
    answer = await ask(stack, admin_carol, f"!bridge add {PUBLIC} public", "now bridged")
    assert f"in {room}" in answer  # the same room, reused
    after = f"bridged again {marker}"
    await discord_bob.send(PUBLIC, after)
    await matrix_alice.wait_for_event(room, lambda e: e["content"].get("body") == after)
    assert not await stack.bridge.ctx.stores.messages.by_discord(MessageID(quiet.id))
    texts = [
        m["content"]
        for m in stack.emulator.state.messages.values()  # type: ignore[union-attr]
        if str(m.get("channel_id")) == str(PUBLIC)
    ]
    assert f"unbridged m2d {marker}" not in " ".join(texts)
    # Kept across a reload of the unchanged file.
    assert "nothing changed" in await ask(stack, admin_carol, "!bridge reload", "Config reloaded")


async def test_reload_reports_a_broken_file_and_keeps_running(
    stack: SandboxStack, admin_carol: MatrixUser
) -> None:
    assert stack.config is not None and stack.config.path is not None
    path = stack.config.path
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + "\nbridge: [this is not a mapping\n", encoding="utf-8")
        answer = await ask(stack, admin_carol, "!bridge reload", "not applied")
        assert "not valid YAML" in answer
        path.write_text(
            original.replace("sender_burst: 1000", "sender_burst: 999"), encoding="utf-8"
        )
        answer = await ask(stack, admin_carol, "!bridge reload", "Config reloaded")
        assert "other settings applied" in answer
        assert stack.bridge is not None and stack.bridge.sender_limiter.burst == 999
    finally:
        path.write_text(original, encoding="utf-8")
        await ask(stack, admin_carol, "!bridge reload", "Config reloaded")
