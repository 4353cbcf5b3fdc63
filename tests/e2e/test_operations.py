"""/health and /metrics served by the running bridge, through the real stack."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from bridge.ids import ChannelID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)


def base(stack: SandboxStack) -> str:
    assert stack.config is not None
    return f"http://127.0.0.1:{stack.config.appservice.listen_port}"


def sample(text: str, name: str, labels: str) -> float:
    """The value of one Prometheus sample, e.g. ('..._total', 'direction="d2m"')."""
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_health_reports_each_dependency(stack: SandboxStack) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{base(stack)}/health") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "discord": True,
        "homeserver": True,
        "database": True,
    }


async def test_metrics_count_relayed_messages_each_way(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    assert stack.bridge is not None
    room = await room_of(stack, PUBLIC)
    async with aiohttp.ClientSession() as http:

        async def scrape() -> str:
            async with http.get(f"{base(stack)}/metrics") as resp:
                assert resp.status == 200
                return await resp.text()

        before = await scrape()
        marker = uuid.uuid4().hex[:8]
        await discord_bob.send(PUBLIC, f"metrics d2m {marker}")
        await matrix_alice.wait_for_event(
            room, lambda e: e["content"].get("body") == f"metrics d2m {marker}"
        )
        await matrix_alice.send_text(room, f"metrics m2d {marker}")
        await discord_bob.wait_for_message(lambda m: m.content == f"metrics m2d {marker}")
        relayed = "passerelle_messages_relayed_total"

        def counted(text: str) -> bool:  # counted once the relay returned, just after
            return all(
                sample(text, relayed, f'direction="{d}"')
                >= sample(before, relayed, f'direction="{d}"') + 1
                for d in ("d2m", "m2d")
            )

        after = await scrape()
        for _ in range(50):
            if counted(after):
                break
            await asyncio.sleep(0.05)
            after = await scrape()
    assert counted(after)
    assert "passerelle_relay_latency_seconds_bucket" in after
    assert 'passerelle_queue_depth{queue="m2d_outbox"}' in after
