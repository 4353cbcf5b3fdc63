"""Guild-structure events: one queue, bursts coalesce per guild, unbridged guilds ignored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bridge.actions.context import BridgeContext
from bridge.config import parse_config
from bridge.ids import ChannelID, DiscordUserID, GuildID
from bridge.structure import STRUCTURE_QUEUE, StructureEvents
from tests.test_config import VALID

GUILD = GuildID(3000000000000000001)


def make(
    tmp_path: Path,
) -> tuple[StructureEvents, list[Callable[[], Awaitable[object]]], list[Any]]:
    config = parse_config(VALID, tmp_path / "config.yaml")
    ctx = BridgeContext(config, None, None, None)  # type: ignore[arg-type]
    jobs: list[Callable[[], Awaitable[object]]] = []
    seen: list[Any] = []

    async def hook(*args: Any) -> None:
        seen.append(args)

    async def reapply() -> None:
        seen.append("rules")

    async def started() -> None:
        return None

    ctx.structure_changed.append(hook)
    ctx.guild_roles_changed.append(hook)
    ctx.member_roles_changed.append(hook)
    ctx.channel_deleted.append(hook)

    def submit(key: ChannelID, job: Callable[[], Awaitable[object]]) -> None:
        assert key == STRUCTURE_QUEUE
        jobs.append(job)

    return StructureEvents(lambda: ctx, submit, reapply, started), jobs, seen


async def test_a_burst_of_channel_updates_is_one_run(tmp_path: Path) -> None:
    events, jobs, seen = make(tmp_path)
    for _ in range(5):
        await events.on_structure(GUILD)
    assert len(jobs) == 1
    await jobs.pop()()
    assert seen == ["rules", (GUILD,)]  # rules re-applied first, then the hooks
    await events.on_structure(GUILD)  # after the run started, a change queues again
    assert len(jobs) == 1


async def test_other_events_reach_their_hooks_and_unbridged_guilds_nothing(
    tmp_path: Path,
) -> None:
    events, jobs, seen = make(tmp_path)
    await events.on_structure(GuildID(42))
    await events.on_guild_roles(GuildID(42))
    assert jobs == []
    await events.on_guild_roles(GUILD)
    await events.on_member_roles(GUILD, DiscordUserID(7))
    await events.on_channel_deleted(ChannelID(9), GUILD)
    for job in jobs:
        await job()
    assert seen == [(GUILD,), (GUILD, 7), (9,)]
