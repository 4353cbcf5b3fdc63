"""Crash safety: under a steady two-way stream, each fault loses and duplicates nothing.

Each test runs the stream (Discord user and Matrix user sending to the same
portal), injects one kind of fault, then waits for the stream to settle and
counts, from each side's own store, what arrived: every message exactly once,
in order. The figures are printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest

from bridge.ids import ChannelID
from sandbox.clients import MatrixUser
from tests.faults.conftest import REPORT, FaultStack
from tests.faults.stream import Stream

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PUBLIC = ChannelID(4000000000000000001)
SETTLE_SECONDS = 90


@pytest.fixture
async def stream(fault_stack: FaultStack) -> AsyncIterator[Stream]:
    stack = fault_stack.stack
    assert stack.synapse is not None and stack.emulator is not None and stack.config
    alias = stack.config.namer.portal_alias(PUBLIC)
    alice_id = "@alice:localhost"
    token = stack.matrix_tokens[alice_id]
    alice = MatrixUser(stack.synapse.url, alice_id, token)
    try:
        room_id = await alice.join(alias)
    finally:
        await alice.close()
    bob = next(u for u in stack.seed["users"] if u["username"] == "bob")
    s = Stream(
        uuid.uuid4().hex[:6],
        stack.emulator,
        PUBLIC,
        bob["token"],
        stack.synapse.url,
        str(room_id),
        token,
    )
    yield s
    await s.close()


async def run_with_fault(stream: Stream, fault_name: str, inject: object) -> None:
    """Stream for a while, run ``inject()`` (the fault), stream on, then settle and count."""
    stream.start()
    await asyncio.sleep(2)
    await inject()  # type: ignore[operator]
    await asyncio.sleep(2)
    await stream.stop()
    await stream.settle(SETTLE_SECONDS)
    for tally in (stream.d2m, stream.m2d):
        REPORT.append(tally.line(fault_name))
        print(tally.line(fault_name))
    for tally in (stream.d2m, stream.m2d):
        what = f"{fault_name} {tally.direction}: {tally.problems()}"
        assert tally.sent, f"{tally.direction}: nothing was sent"
        assert tally.lost == 0, what
        assert tally.duplicated == 0, what
        assert tally.out_of_order == 0, what


async def test_sigkill_at_random_points(fault_stack: FaultStack, stream: Stream) -> None:
    process = fault_stack.stack.bridge_process
    assert process is not None
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"sigkill seed={seed}")

    async def kill_three_times() -> None:
        for _ in range(3):
            await asyncio.sleep(rng.uniform(0.2, 2.5))
            await process.kill()
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            await process.start()

    await run_with_fault(stream, "bridge SIGKILL x3", kill_three_times)


async def test_synapse_stopped_and_restarted(fault_stack: FaultStack, stream: Stream) -> None:
    synapse = fault_stack.stack.synapse
    assert synapse is not None

    async def restart() -> None:
        await synapse.stop()
        await asyncio.sleep(3)
        await synapse.start()

    await run_with_fault(stream, "Synapse down 3 s", restart)


async def test_gateway_dropped(fault_stack: FaultStack, stream: Stream) -> None:
    emulator = fault_stack.stack.emulator
    assert emulator is not None

    async def drops() -> None:
        await emulator.drop_gateway_connections()  # resumable: RESUME replays
        await asyncio.sleep(1.5)
        emulator.hold_gateway_connections()  # an outage: reconnects wait
        await emulator.drop_gateway_connections(forget=True)  # and the session is lost
        await asyncio.sleep(3)
        emulator.release_gateway_connections()  # re-IDENTIFY, then backfill

    await run_with_fault(stream, "gateway drops + outage", drops)


async def test_discord_429_and_5xx(fault_stack: FaultStack, stream: Stream) -> None:
    emulator = fault_stack.stack.emulator
    assert emulator is not None

    async def errors() -> None:
        emulator.faults.fail_next(6, status=429, path_prefix="/webhooks", retry_after=0.4)
        await asyncio.sleep(1)
        # More 5xx than discord.py retries by itself: the bridge's outbox must retry.
        emulator.faults.fail_next(7, status=503, path_prefix="/webhooks")

    await run_with_fault(stream, "Discord 429 x6, 503 x7", errors)


async def test_postgres_restarted(fault_stack: FaultStack, stream: Stream) -> None:
    async def cut() -> None:
        fault_stack.proxy.cut()
        await asyncio.sleep(3)
        fault_stack.proxy.restore()

    await run_with_fault(stream, "PostgreSQL down 3 s", cut)
