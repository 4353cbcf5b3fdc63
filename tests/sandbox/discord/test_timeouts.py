"""Timeouts in the emulator (``PATCH /guilds/{id}/members/{user}`` with
``communication_disabled_until``): Moderate Members and the role hierarchy, a
timed-out member cannot post (403 50013) until it ends or is lifted, the change is
audited and dispatched (GUILD_MEMBER_UPDATE); responses validated against the spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord

from sandbox.discord import audit
from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_moderation import collect, contract, next_of, post
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import ALICE, BOB, BOT, CAMPAIGN, CAROL, GUILD, TOKENS

__all__ = ["contract"]
MEMBER = f"/guilds/{GUILD}/members/{BOB}"


def moment(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def test_timed_out_member_cannot_post_until_lifted(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    body = await call(
        api, contract, "PATCH", MEMBER, json={"communication_disabled_until": moment(10)}
    )
    assert body["communication_disabled_until"] is not None
    until = datetime.fromisoformat(body["communication_disabled_until"])
    assert timedelta(minutes=9) < until - datetime.now(UTC) <= timedelta(minutes=10)
    err = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages",
        TOKENS[BOB],
        expect=403,
        json={"content": "still here?"},
    )
    assert err["code"] == 50013
    # Reading is still allowed.
    await call(api, contract, "GET", f"/channels/{CAMPAIGN}/messages", TOKENS[BOB])
    fetched = await call(api, contract, "GET", MEMBER)
    assert fetched["communication_disabled_until"] == body["communication_disabled_until"]
    # Lifted (null): Bob posts again.
    lifted = await call(api, contract, "PATCH", MEMBER, json={"communication_disabled_until": None})
    assert lifted["communication_disabled_until"] is None
    assert (await post(api, contract, CAMPAIGN, "back"))["content"] == "back"
    changes = [
        e["changes"][0]
        for e in emu.audit_log(GUILD)
        if e["action_type"] == audit.MEMBER_UPDATE and e["target_id"] == BOB
    ]
    assert [c["key"] for c in changes] == ["communication_disabled_until"] * 2
    assert changes[1]["new_value"] is None


async def test_a_timeout_in_the_past_has_ended(api: Api, contract: Contract, emu: Emulator) -> None:
    emu.state.guilds[GUILD].members[BOB].communication_disabled_until = moment(-1)
    assert (await post(api, contract, CAMPAIGN, "free again"))["content"] == "free again"


async def test_timeouts_need_moderate_members_rank_and_a_near_date(
    api: Api, contract: Contract
) -> None:
    soon = {"communication_disabled_until": moment(5)}
    # Carol moderates but lacks Moderate Members; nobody times out the owner.
    await call(api, contract, "PATCH", MEMBER, TOKENS[CAROL], expect=403, json=soon)
    owner = f"/guilds/{GUILD}/members/{ALICE}"
    err = await call(api, contract, "PATCH", owner, expect=403, json=soon)
    assert err["code"] == 50013
    for value in (moment(60 * 24 * 29), "tomorrow", "2030-01-01T00:00:00"):
        err = await call(
            api,
            contract,
            "PATCH",
            MEMBER,
            expect=400,
            json={"communication_disabled_until": value},
        )
        assert err["code"] == 50035 and "communication_disabled_until" in err["errors"]


async def test_discordpy_times_out_and_sees_the_member_update(
    start_client: StartClient, emu: Emulator
) -> None:
    bot = await start_client(TOKENS[BOT])
    events = collect(bot.client, "on_member_update")
    guild = bot.client.get_guild(int(GUILD))
    assert guild is not None
    member = guild.get_member(int(BOB)) or await guild.fetch_member(int(BOB))
    await member.timeout(timedelta(minutes=3), reason="flooding")
    _before, after = await next_of(events["on_member_update"])
    assert isinstance(after, discord.Member) and after.is_timed_out()
    assert emu.state.guilds[GUILD].members[BOB].timed_out()
    [entry] = [e for e in emu.audit_log(GUILD) if e["action_type"] == audit.MEMBER_UPDATE]
    assert entry["reason"] == "flooding"
    await member.timeout(None)
    _before, after = await next_of(events["on_member_update"])
    assert not after.is_timed_out()
