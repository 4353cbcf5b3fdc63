"""Guild moderation in the emulator: bans (with message deletion), bulk bans, kicks,
the role hierarchy, the audit log (REST and GUILD_AUDIT_LOG_ENTRY_CREATE), over raw
HTTP validated against the OpenAPI spec and with real discord.py clients."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import discord
import pytest

from sandbox.discord import audit
from sandbox.discord import permissions as perms
from sandbox.discord.openapi import Contract
from sandbox.discord.server import Emulator
from sandbox.discord.snowflake import DISCORD_EPOCH_MS
from tests.sandbox.discord.conftest import Api, StartClient
from tests.sandbox.discord.test_rest_contract import call
from tests.sandbox.discord.world import (
    ALICE,
    BOB,
    BOT,
    BRIDGE_ROLE,
    CAMPAIGN,
    CAROL,
    DAVE,
    GUILD,
    MEMBER_ROLE,
    MOD_ROLE,
    TOKENS,
)

BANS = f"/guilds/{GUILD}/bans"
AUDIT = f"/guilds/{GUILD}/audit-logs"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def reason(text: str) -> dict[str, str]:
    """The header discord.py sends (it percent-encodes the reason, keeping ``/`` and spaces)."""
    return {"X-Audit-Log-Reason": quote(text, safe="/ ")}


async def post(api: Api, contract: Contract, channel: str, text: str, who: str = BOB) -> Any:
    return await call(
        api,
        contract,
        "POST",
        f"/channels/{channel}/messages",
        TOKENS[who],
        json={"content": text},
    )


async def raw(api: Api, method: str, path: str, who: str = BOT, **kwargs: Any) -> Any:
    """A call with extra headers (``Api.call`` has none); returns (status, body)."""
    headers = {"Authorization": f"Bot {TOKENS[who]}", **kwargs.pop("headers", {})}
    async with api.session.request(method, api.base + path, headers=headers, **kwargs) as resp:
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


def collect(client: discord.Client, *events: str) -> dict[str, asyncio.Queue[Any]]:
    """Queue the arguments of each named discord.py event (``on_...``)."""
    queues: dict[str, asyncio.Queue[Any]] = {}
    for name in events:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        queues[name] = queue

        def make(q: asyncio.Queue[Any], event: str) -> Any:
            async def handler(*args: Any) -> None:
                q.put_nowait(args[0] if len(args) == 1 else args)

            handler.__name__ = event
            return handler

        client.event(make(queue, name))
    return queues


async def next_of(queue: asyncio.Queue[Any], timeout: float = 5) -> Any:
    return await asyncio.wait_for(queue.get(), timeout)


def old_snowflake(seconds_ago: int) -> str:
    ms = int(time.time() * 1000) - seconds_ago * 1000 - DISCORD_EPOCH_MS
    return str(ms << 22)


# -- bans over REST ------------------------------------------------------------------


async def test_ban_validates_window_and_deletes_recent_messages(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    first = await post(api, contract, CAMPAIGN, "spam 1")
    second = await post(api, contract, CAMPAIGN, "spam 2")
    kept = await post(api, contract, CAMPAIGN, "from alice", who=ALICE)
    # A message of Bob's from two days ago, outside a one-hour window.
    old = {**first, "id": old_snowflake(2 * 24 * 3600), "content": "old"}
    emu.state.add_message(old)
    for body in (
        {"delete_message_seconds": 604801},
        {"delete_message_seconds": -1},
        {"delete_message_seconds": "soon"},
        {"delete_message_days": 8},
    ):
        err = await call(api, contract, "PUT", f"{BANS}/{BOB}", json=body, expect=400)
        assert err["code"] == 50035 and next(iter(err["errors"])) in body
    err = await call(
        api,
        contract,
        "PUT",
        f"{BANS}/{BOB}",
        params={"delete_message_seconds": "999999"},
        expect=400,
    )
    assert err["errors"]["delete_message_seconds"]["_errors"][0]["code"] == 50035
    assert BOB not in emu.state.guilds[GUILD].bans

    await call(
        api, contract, "PUT", f"{BANS}/{BOB}", json={"delete_message_seconds": 3600}, expect=204
    )
    left = [m["id"] for m in emu.state.messages_in(CAMPAIGN)]
    assert first["id"] not in left and second["id"] not in left
    assert kept["id"] in left and old["id"] in left
    assert emu.state.member(GUILD, BOB) is None


async def test_legacy_days_and_zero_window(api: Api, contract: Contract, emu: Emulator) -> None:
    mine = await post(api, contract, CAMPAIGN, "stays")
    await call(
        api, contract, "PUT", f"{BANS}/{BOB}", json={"delete_message_seconds": 0}, expect=204
    )
    assert emu.state.messages.get(mine["id"]) is not None
    await call(api, contract, "DELETE", f"{BANS}/{BOB}", expect=204)
    carol = await post(api, contract, CAMPAIGN, "carol's", who=CAROL)
    await call(
        api,
        contract,
        "PUT",
        f"{BANS}/{CAROL}",
        TOKENS[ALICE],
        json={"delete_message_days": 1},
        expect=204,
    )
    assert carol["id"] not in emu.state.messages


async def test_ban_refusals_follow_the_role_hierarchy(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    for target in (BOT, ALICE, CAROL):  # yourself, the owner, a higher role (Moderator)
        err = await call(api, contract, "PUT", f"{BANS}/{target}", expect=403)
        assert err == {"code": 50013, "message": "Missing Permissions"}
    # An equal highest role is refused too.
    emu.set_member_roles(GUILD, BOB, [MEMBER_ROLE, BRIDGE_ROLE])
    await call(api, contract, "PUT", f"{BANS}/{BOB}", expect=403)
    # Without BAN_MEMBERS (Carol's Moderator role lacks it): refused.
    await call(api, contract, "PUT", f"{BANS}/{BOB}", TOKENS[CAROL], expect=403)
    await call(api, contract, "GET", BANS, TOKENS[CAROL], expect=403)
    # The owner outranks everyone; a user outside the guild may be banned.
    await call(api, contract, "PUT", f"{BANS}/{CAROL}", TOKENS[ALICE], expect=204)
    await call(api, contract, "PUT", f"{BANS}/{DAVE}", expect=204)
    await call(api, contract, "PUT", f"{BANS}/4242", expect=404)
    assert emu.state.guilds[GUILD].bans.keys() == {CAROL, DAVE}
    assert emu.contract_violations == []


async def test_ban_listing_paging_and_lookup(api: Api, contract: Contract, emu: Emulator) -> None:
    status, _ = await raw(api, "PUT", f"{BANS}/{DAVE}", headers=reason("raid / spam ü"))
    assert status == 204
    await call(api, contract, "PUT", f"{BANS}/{BOB}", expect=204)
    listed = await call(api, contract, "GET", BANS)
    assert [b["user"]["id"] for b in listed] == [BOB, DAVE]  # ascending user ids
    assert [b["reason"] for b in listed] == [None, "raid / spam ü"]
    assert [b["user"]["id"] for b in await call(api, contract, "GET", f"{BANS}?limit=1")] == [BOB]
    after = await call(api, contract, "GET", f"{BANS}?after={BOB}")
    assert [b["user"]["id"] for b in after] == [DAVE]
    before = await call(api, contract, "GET", f"{BANS}?before={DAVE}&limit=1")
    assert [b["user"]["id"] for b in before] == [BOB]
    await call(api, contract, "GET", f"{BANS}?limit=0", expect=400)
    await call(api, contract, "GET", f"{BANS}?limit=1001", expect=400)
    got = await call(api, contract, "GET", f"{BANS}/{DAVE}")
    assert got["reason"] == "raid / spam ü" and got["user"]["id"] == DAVE
    assert (await call(api, contract, "GET", f"{BANS}/{CAROL}", expect=404))["code"] == 10026
    assert (await call(api, contract, "DELETE", f"{BANS}/{CAROL}", expect=404))["code"] == 10026
    await call(api, contract, "DELETE", f"{BANS}/{DAVE}", expect=204)
    assert [b["user"]["id"] for b in await call(api, contract, "GET", BANS)] == [BOB]


async def test_bulk_ban(api: Api, contract: Contract, emu: Emulator) -> None:
    spam = await post(api, contract, CAMPAIGN, "spam")
    result = await call(
        api,
        contract,
        "POST",
        f"/guilds/{GUILD}/bulk-ban",
        json={"user_ids": [BOB, DAVE, CAROL, ALICE], "delete_message_seconds": 60},
    )
    assert result == {"banned_users": [BOB, DAVE], "failed_users": [CAROL, ALICE]}
    assert spam["id"] not in emu.state.messages
    err = await call(
        api, contract, "POST", f"/guilds/{GUILD}/bulk-ban", json={"user_ids": [BOB]}, expect=403
    )
    assert err["code"] == 500000  # nobody could be banned (already banned)
    await call(
        api, contract, "POST", f"/guilds/{GUILD}/bulk-ban", json={"user_ids": []}, expect=400
    )
    entries = emu.audit_log(GUILD)
    assert [(e["action_type"], e["target_id"]) for e in entries] == [(22, BOB), (22, DAVE)]


# -- kicks --------------------------------------------------------------------------------


async def test_kick_needs_permission_and_rank_and_is_audited(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    await call(api, contract, "DELETE", f"/guilds/{GUILD}/members/{BOB}", TOKENS[CAROL], expect=403)
    await call(api, contract, "DELETE", f"/guilds/{GUILD}/members/{CAROL}", expect=403)
    await call(api, contract, "DELETE", f"/guilds/{GUILD}/members/{ALICE}", expect=403)
    await call(api, contract, "DELETE", f"/guilds/{GUILD}/members/{DAVE}", expect=404)
    status, _ = await raw(
        api, "DELETE", f"/guilds/{GUILD}/members/{BOB}", headers=reason("be nice")
    )
    assert status == 204 and emu.state.member(GUILD, BOB) is None
    [entry] = emu.audit_log(GUILD)
    assert entry["action_type"] == audit.MEMBER_KICK
    assert (entry["user_id"], entry["target_id"], entry["reason"]) == (BOT, BOB, "be nice")


# -- audit log over REST ------------------------------------------------------------------


async def test_audit_log_filters_and_pages(api: Api, contract: Contract, emu: Emulator) -> None:
    # nick (24), roles (25), a moderator deleting Bob's message (72), bulk delete (73), ban (22)
    await call(api, contract, "PATCH", f"/guilds/{GUILD}/members/{BOB}", json={"nick": "Bobby"})
    await call(
        api, contract, "PUT", f"/guilds/{GUILD}/members/{BOB}/roles/{MEMBER_ROLE}", expect=204
    )
    msg = await post(api, contract, CAMPAIGN, "rude")
    status, _ = await raw(
        api, "DELETE", f"/channels/{CAMPAIGN}/messages/{msg['id']}", headers=reason("rude")
    )
    assert status == 204
    own = await post(api, contract, CAMPAIGN, "mine", who=ALICE)
    await call(
        api,
        contract,
        "DELETE",
        f"/channels/{CAMPAIGN}/messages/{own['id']}",
        TOKENS[ALICE],
        expect=204,
    )  # deleting your own message is not audited
    ids = [(await post(api, contract, CAMPAIGN, f"m{i}"))["id"] for i in range(2)]
    await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/messages/bulk-delete",
        json={"messages": ids},
        expect=204,
    )
    await call(api, contract, "PUT", f"{BANS}/{DAVE}", expect=204)

    log = await call(api, contract, "GET", AUDIT)
    assert [e["action_type"] for e in log["audit_log_entries"]] == [22, 73, 72, 25, 24]
    assert {u["id"] for u in log["users"]} == {BOT, BOB, DAVE}
    for key in ("webhooks", "integrations", "threads", "application_commands"):
        assert log[key] == []
    ban, bulk, deleted, roles, nick = log["audit_log_entries"]
    assert nick["changes"] == [{"key": "nick", "old_value": None, "new_value": "Bobby"}]
    assert roles["changes"] == [
        {"key": "$add", "new_value": [{"id": MEMBER_ROLE, "name": "Member"}]}
    ]
    assert deleted["target_id"] == BOB and deleted["reason"] == "rude"
    assert deleted["options"] == {"channel_id": CAMPAIGN, "count": "1"}
    assert bulk["target_id"] == CAMPAIGN and bulk["options"] == {"count": "2"}
    assert "reason" not in ban and int(ban["id"]) > int(bulk["id"])

    only_bans = await call(api, contract, "GET", f"{AUDIT}?action_type=22")
    assert [e["id"] for e in only_bans["audit_log_entries"]] == [ban["id"]]
    by_alice = await call(api, contract, "GET", f"{AUDIT}?user_id={ALICE}")
    assert by_alice["audit_log_entries"] == [] and by_alice["users"] == []
    page = await call(api, contract, "GET", f"{AUDIT}?limit=2")
    assert [e["id"] for e in page["audit_log_entries"]] == [ban["id"], bulk["id"]]
    older = await call(api, contract, "GET", f"{AUDIT}?before={bulk['id']}&limit=2")
    assert [e["id"] for e in older["audit_log_entries"]] == [deleted["id"], roles["id"]]
    # after alone pages oldest first (what discord.py's oldest_first expects)
    newer = await call(api, contract, "GET", f"{AUDIT}?after={roles['id']}&limit=2")
    assert [e["id"] for e in newer["audit_log_entries"]] == [deleted["id"], bulk["id"]]
    target = await call(api, contract, "GET", f"{AUDIT}?target_id={BOB}")
    assert len(target["audit_log_entries"]) == 3
    for bad in ("limit=0", "limit=101", "before=x"):
        await call(api, contract, "GET", f"{AUDIT}?{bad}", expect=400)
    # VIEW_AUDIT_LOG is needed (Carol's Moderator role lacks it).
    err = await call(api, contract, "GET", AUDIT, TOKENS[CAROL], expect=403)
    assert err["code"] == 50013


# -- discord.py --------------------------------------------------------------------------


async def test_discordpy_ban_with_reason_and_message_deletion(
    api: Api, contract: Contract, emu: Emulator, start_client: StartClient
) -> None:
    bot = await start_client(TOKENS[BOT])
    client = bot.client
    events = collect(
        client,
        "on_member_ban",
        "on_member_remove",
        "on_member_unban",
        "on_raw_bulk_message_delete",
        "on_audit_log_entry_create",
    )
    # Bob posts twice in #campaign and once in a thread he may post in.
    await call(
        api,
        contract,
        "PUT",
        f"/channels/{CAMPAIGN}/permissions/{BOB}",
        json={"type": 1, "allow": str(perms.SEND_MESSAGES_IN_THREADS), "deny": "0"},
        expect=204,
    )
    thread = await call(
        api,
        contract,
        "POST",
        f"/channels/{CAMPAIGN}/threads",
        json={"name": "t", "type": 11},
        expect=201,
    )
    spam = [(await post(api, contract, CAMPAIGN, f"spam {i}"))["id"] for i in range(2)]
    in_thread = (await post(api, contract, thread["id"], "thread spam"))["id"]
    for _ in range(4):  # the four MESSAGE_CREATEs
        await bot.next_message()
    # The overwrite was audited as Discord does (CHANNEL_OVERWRITE_CREATE, 13).
    entry = await next_of(events["on_audit_log_entry_create"])
    assert entry.action is discord.AuditLogAction.overwrite_create

    guild = client.get_guild(int(GUILD))
    assert guild is not None
    await guild.ban(
        discord.Object(int(BOB)), reason="spam: links/ads ü", delete_message_seconds=600
    )

    entry = await next_of(events["on_audit_log_entry_create"])
    assert entry.action is discord.AuditLogAction.ban and entry.reason == "spam: links/ads ü"
    banned_guild, banned = await next_of(events["on_member_ban"])
    assert banned_guild.id == int(GUILD) and banned.id == int(BOB)
    assert (await next_of(events["on_member_remove"])).id == int(BOB)
    bulk = await next_of(events["on_raw_bulk_message_delete"])
    assert bulk.channel_id == int(CAMPAIGN) and bulk.message_ids == {int(i) for i in spam}
    single = await asyncio.wait_for(bot.deletes.get(), 5)
    assert (single.channel_id, single.message_id) == (int(thread["id"]), int(in_thread))

    [logged] = [e async for e in guild.audit_logs(action=discord.AuditLogAction.ban)]
    assert logged.reason == "spam: links/ads ü"
    assert logged.user is not None and logged.user.id == int(BOT)
    assert logged.target is not None and logged.target.id == int(BOB)
    ban_entry = await guild.fetch_ban(discord.Object(int(BOB)))
    assert ban_entry.reason == "spam: links/ads ü"
    assert [b.user.id async for b in guild.bans()] == [int(BOB)]

    await guild.unban(discord.Object(int(BOB)), reason="appeal")
    assert (await next_of(events["on_member_unban"]))[1].id == int(BOB)
    unban = await next_of(events["on_audit_log_entry_create"])
    assert unban.action is discord.AuditLogAction.unban and unban.reason == "appeal"
    oldest = [e.action async for e in guild.audit_logs(oldest_first=True)]
    assert oldest == [
        discord.AuditLogAction.overwrite_create,
        discord.AuditLogAction.ban,
        discord.AuditLogAction.unban,
    ]


async def test_discordpy_kick_hierarchy_and_audit_visibility(
    emu: Emulator, start_client: StartClient
) -> None:
    bot = await start_client(TOKENS[BOT])
    bob = await start_client(TOKENS[BOB])
    events = collect(bot.client, "on_member_remove", "on_audit_log_entry_create")
    guild = bot.client.get_guild(int(GUILD))
    assert guild is not None
    carol = guild.get_member(int(CAROL))
    assert carol is not None
    with pytest.raises(discord.Forbidden) as refused:
        await carol.kick(reason="no")  # Moderator is above the bot's Bridge role
    assert refused.value.code == 50013
    with pytest.raises(discord.Forbidden):
        await guild.ban(carol)
    # Bob has no KICK_MEMBERS.
    bob_guild = bob.client.get_guild(int(GUILD))
    assert bob_guild is not None
    with pytest.raises(discord.Forbidden):
        await bob_guild.kick(discord.Object(int(ALICE)))
    with pytest.raises(discord.Forbidden):
        [e async for e in bob_guild.audit_logs()]

    # The owner lifts the bot above Carol; now the bot may kick her, with a reason.
    emu.set_member_roles(GUILD, BOT, [BRIDGE_ROLE, MOD_ROLE])
    emu.set_member_roles(GUILD, CAROL, [MEMBER_ROLE])
    await carol.kick(reason="inactive")
    assert (await next_of(events["on_member_remove"])).id == int(CAROL)
    entry = await next_of(events["on_audit_log_entry_create"])
    assert entry.action is discord.AuditLogAction.kick and entry.reason == "inactive"
    assert entry.user is not None and entry.user.id == int(BOT)
    [kick] = [e async for e in guild.audit_logs(action=discord.AuditLogAction.kick)]
    assert kick.target is not None and kick.target.id == int(CAROL)

    # Only VIEW_AUDIT_LOG holders got GUILD_AUDIT_LOG_ENTRY_CREATE.
    def audit_events(user_id: str) -> int:
        return sum(
            1
            for s in emu.hub.sessions.values()
            if s.user.id == user_id
            for f in s.buffer
            if f["t"] == "GUILD_AUDIT_LOG_ENTRY_CREATE"
        )

    assert audit_events(BOT) == 1 and audit_events(BOB) == 0


async def test_discordpy_sees_role_changes_and_message_delete_entries(
    api: Api, contract: Contract, emu: Emulator, start_client: StartClient
) -> None:
    bot = await start_client(TOKENS[BOT])
    events = collect(bot.client, "on_member_update", "on_audit_log_entry_create")
    emu.set_member_roles(GUILD, BOB, [MEMBER_ROLE])
    _, after = await next_of(events["on_member_update"])
    assert [r.id for r in after.roles if not r.is_default()] == [int(MEMBER_ROLE)]
    assert emu.audit_log(GUILD) == []  # a test control, not a moderator action

    msg = await post(api, contract, CAMPAIGN, "delete me")
    await bot.next_message()
    channel = bot.client.get_channel(int(CAMPAIGN))
    assert isinstance(channel, discord.TextChannel)
    await channel.get_partial_message(int(msg["id"])).delete()
    entry = await next_of(events["on_audit_log_entry_create"])
    assert entry.action is discord.AuditLogAction.message_delete
    assert entry.extra.count == 1 and entry.extra.channel.id == int(CAMPAIGN)
    assert entry.target is not None and entry.target.id == int(BOB)


async def test_role_and_nick_changes_respect_the_hierarchy(
    api: Api, contract: Contract, emu: Emulator
) -> None:
    member = f"/guilds/{GUILD}/members"
    # The bot's Bridge role (position 2) is below Moderator (3).
    await call(api, contract, "PUT", f"{member}/{BOB}/roles/{MOD_ROLE}", expect=403)
    await call(api, contract, "PATCH", f"{member}/{BOB}", json={"roles": [MOD_ROLE]}, expect=403)
    await call(api, contract, "PATCH", f"{member}/{CAROL}", json={"nick": "C"}, expect=403)
    assert emu.state.member(GUILD, BOB).roles == []  # type: ignore[union-attr]
    # Roles below your own are fine; the owner may do anything.
    await call(api, contract, "PUT", f"{member}/{BOB}/roles/{MEMBER_ROLE}", expect=204)
    await call(api, contract, "PUT", f"{member}/{BOB}/roles/{MOD_ROLE}", TOKENS[ALICE], expect=204)
    got = await call(api, contract, "PATCH", f"{member}/{CAROL}", TOKENS[ALICE], json={"nick": "C"})
    assert got["nick"] == "C"
    entries = emu.audit_log(GUILD)
    assert [(e["action_type"], e["user_id"]) for e in entries] == [
        (25, BOT),
        (25, ALICE),
        (24, ALICE),
    ]


async def test_discord_user_helpers(emu: Emulator, start_client: StartClient) -> None:
    from sandbox.clients import DiscordUser

    owner = DiscordUser(emu.api_base, TOKENS[ALICE])
    # DiscordUser.start() always waits its full 30 s timeout (asyncio.wait without
    # FIRST_COMPLETED), so borrow a started client; the helpers only use .client.
    owner.client = (await start_client(TOKENS[ALICE])).client
    await owner.ban(int(GUILD), int(CAROL), reason="owner's call", delete_message_seconds=60)
    await owner.unban(int(GUILD), int(CAROL))
    await owner.kick(int(GUILD), int(BOB), reason="bye")
    actions = [(e["action_type"], e["target_id"], e.get("reason")) for e in emu.audit_log(GUILD)]
    assert actions == [(22, CAROL, "owner's call"), (23, CAROL, None), (20, BOB, "bye")]


async def test_an_unbanned_user_joins_again(emu: Emulator, start_client: StartClient) -> None:
    """Kicked or unbanned, a user is no member until they join again: join_guild
    re-adds them and tells the guild's sessions (GUILD_MEMBER_ADD)."""
    guild = emu.state.guilds[GUILD]
    del guild.members[BOB]
    owner = await start_client(TOKENS[ALICE])
    joined: asyncio.Queue[discord.Member] = asyncio.Queue()
    owner.client.event(_member_join_to(joined))
    with pytest.raises(KeyError):
        emu.join_guild(GUILD, "9999")
    emu.join_guild(GUILD, BOB)
    member = await asyncio.wait_for(joined.get(), 10)
    assert member.id == int(BOB) and BOB in guild.members
    with pytest.raises(KeyError):
        emu.join_guild(GUILD, BOB)


def _member_join_to(queue: asyncio.Queue[discord.Member]) -> Any:
    async def on_member_join(member: discord.Member) -> None:
        await queue.put(member)

    return on_member_join
