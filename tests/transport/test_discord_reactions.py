"""A message's reactions summary and the reactor lists, at the Discord transport edge.

Messages go through a real discord.py ``ConnectionState`` holding the demo guild
(as in test_discord_bad_input); the reactors endpoint is answered by a stand-in for
discord.py's HTTP client, so paging is checked call by call. The last test runs a
real transport against the emulator.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import aiohttp
import discord
import pytest

from bridge.ids import ChannelID, MessageID
from bridge.model import DiscordReaction, DiscordReactionCount
from bridge.transport import discord_reactions
from bridge.transport.discord import DiscordHandlers, DiscordTransport, message_from
from sandbox.discord.server import Emulator, load_seed
from tests.transport.test_discord_bad_input import FIXTURES, SEED, Gateway, load

EMOJI_ID = "5000000000000000001"  # "passerelle" in the demo seed
CAMPAIGN = ChannelID(4000000000000000001)
MSG = MessageID(1311000000000000001)


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


def with_reactions(reactions: list[dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(load(FIXTURES / "message_create_text.json"))
    data["reactions"] = reactions
    return data


def test_reactions_summary(gateway: Gateway) -> None:
    data = with_reactions(
        [
            {
                "emoji": {"id": None, "name": "👍"},
                "count": 3,
                "count_details": {"burst": 1, "normal": 2},
                "burst_colors": [],
                "me_burst": False,
                "me": True,
            },
            {  # a guild emoji (discord.py finds it in its cache)
                "emoji": {"id": EMOJI_ID, "name": "passerelle"},
                "count": 1,
                "count_details": {"burst": 0, "normal": 1},
                "burst_colors": [],
                "me_burst": False,
                "me": False,
            },
            {  # from another guild, animated, and without count_details (older payloads)
                "emoji": {"id": "77", "name": "party", "animated": True},
                "count": 2,
                "me": False,
            },
        ]
    )
    message = message_from(gateway.feed("MESSAGE_CREATE", data))
    thumbs, ours, party = message.reactions
    assert thumbs == DiscordReactionCount("👍", count=3, burst_count=1, me=True)
    assert thumbs.normal_count == 2 and thumbs.emoji == "👍"
    assert (ours.emoji, ours.count, ours.me) == (f"passerelle:{EMOJI_ID}", 1, False)
    assert ours.emoji_url is not None and ours.emoji_url.endswith(f"/emojis/{EMOJI_ID}.png")
    assert (party.emoji, party.animated, party.count, party.normal_count) == (
        "party:77",
        True,
        2,
        2,
    )
    assert party.emoji_url is not None and "/emojis/77." in party.emoji_url


def test_no_reactions_and_unreadable_ones(gateway: Gateway) -> None:
    plain = message_from(gateway.feed("MESSAGE_CREATE", with_reactions([])))
    assert plain.reactions == ()
    odd = with_reactions(
        [
            {"emoji": {"id": None, "name": None}, "count": 1, "me": False},
            {"emoji": {"id": "78", "name": None}, "count": 1, "me": False},
            {"emoji": {"id": None, "name": "👀"}, "count": 1, "me": False},
        ]
    )
    message = message_from(gateway.feed("MESSAGE_CREATE", odd))
    # Nothing names the first one: left out, not the whole summary. Never an empty name.
    assert [r.emoji for r in message.reactions] == ["_:78", "👀"]


class Pages:
    """Discord's reactors endpoint over a list of user IDs (ascending), call by call."""

    def __init__(self, user_ids: list[int], fail_at: int | None = None) -> None:
        self.user_ids = sorted(user_ids)
        self.calls: list[tuple[int, int | None, int | None]] = []
        self.fail_at = fail_at

    async def __call__(
        self,
        channel_id: int,
        message_id: int,
        emoji: str,
        limit: int,
        after: int | None = None,
        type: int | None = None,
    ) -> list[dict[str, Any]]:
        self.calls.append((limit, after, type))
        if self.fail_at is not None and len(self.calls) > self.fail_at:
            raise discord.HTTPException(_Response(503), "unavailable")
        chosen = [u for u in self.user_ids if after is None or u > after][:limit]
        return [
            {"id": str(u), "username": f"u{u}", "discriminator": "0", "avatar": None}
            for u in chosen
        ]


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "x"


async def test_reactors_are_paged_up_to_the_limit(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = Pages(list(range(1, 251)))
    monkeypatch.setattr(gateway.client.http, "get_reaction_users", pages)
    found = await discord_reactions.reactors(gateway.client, CAMPAIGN, MSG, "👍", 230)
    assert found is not None and [u.id for u in found] == list(range(1, 231))
    assert pages.calls == [(100, None, 0), (100, 100, 0), (30, 200, 0)]
    # A short page is the last one.
    pages.calls.clear()
    found = await discord_reactions.reactors(gateway.client, CAMPAIGN, MSG, "👍", 1000, True)
    assert found is not None and len(found) == 250
    assert pages.calls == [(100, None, 1), (100, 100, 1), (100, 200, 1)]


async def test_reactors_members_come_from_the_guild_cache(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = 2000000000000000001  # a member of the demo guild, with a nickname
    monkeypatch.setattr(gateway.client.http, "get_reaction_users", Pages([alice, 42]))
    found = await discord_reactions.reactors(gateway.client, CAMPAIGN, MSG, "👍", 10)
    assert found is not None
    stranger, member = found  # by ascending ID
    assert isinstance(member, discord.Member) and member.nick == "Alice (HQ)"
    assert not isinstance(stranger, discord.Member) and stranger.name == "u42"


async def test_reactors_refused_midway_say_nothing(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = Pages(list(range(1, 251)), fail_at=1)
    monkeypatch.setattr(gateway.client.http, "get_reaction_users", pages)
    assert await discord_reactions.reactors(gateway.client, CAMPAIGN, MSG, "👍", 500) is None


# -- a real transport against the emulator ----------------------------------------------


async def test_transport_reads_reactors_and_routes_thread_reactions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over real HTTP: reactors paged with ``after`` (pages of 2 here), and a reaction
    in a thread names the thread's parent (its queue)."""
    monkeypatch.setattr(discord_reactions, "PAGE", 2)
    seed = load_seed(SEED)
    tokens = {u["username"]: u["token"] for u in seed["users"]}
    reactions: list[DiscordReaction] = []

    async def on_reaction(reaction: DiscordReaction) -> None:
        reactions.append(reaction)

    async def ignore(_: object) -> None:
        return None

    handlers = DiscordHandlers(
        message=ignore, edit=ignore, deletion=ignore, reaction_add=on_reaction
    )
    async with Emulator(seed, validate_responses=True) as emu, aiohttp.ClientSession() as http:

        async def rest(method: str, path: str, user: str, body: Any = None) -> Any:
            headers = {"Authorization": f"Bot {tokens[user]}"}
            async with http.request(method, emu.api_base + path, json=body, headers=headers) as r:
                assert r.status < 300, (path, r.status, await r.text())
                return await r.json() if r.status != 204 else None

        transport = DiscordTransport(tokens["passerelle"], emu.api_base, handlers)
        await transport.start()
        try:
            posted = await rest("POST", f"/channels/{CAMPAIGN}/messages", "alice", {"content": "x"})
            thumbs = f"/channels/{CAMPAIGN}/messages/{posted['id']}/reactions/%F0%9F%91%8D/@me"
            for user in ("carol", "bob", "alice", "mallory", "trent"):
                await rest("PUT", thumbs, user)
            message = MessageID(int(posted["id"]))
            found = await transport.reactors(CAMPAIGN, message, "👍", 10)
            assert found is not None
            assert [a.username for a in found] == ["alice", "bob", "carol", "mallory", "trent"]
            cut = await transport.reactors(CAMPAIGN, message, "👍", 3)
            assert cut is not None and [a.username for a in cut] == ["alice", "bob", "carol"]
            assert await transport.reactors(CAMPAIGN, message, "👍", 10, burst=True) == []
            assert await transport.reactors(CAMPAIGN, message, "nope:42", 10) is None
            # The summary as history reads it back.
            (back,) = await transport.messages_after(CAMPAIGN, MessageID(message - 1), 10)
            assert [(r.emoji, r.count, r.me) for r in back.reactions] == [("👍", 5, False)]

            thread = await rest(
                "POST",
                f"/channels/{CAMPAIGN}/messages/{posted['id']}/threads",
                "alice",
                {"name": "side"},
            )
            inside = await rest(
                "POST", f"/channels/{thread['id']}/messages", "alice", {"content": "y"}
            )
            await rest(
                "PUT",
                f"/channels/{thread['id']}/messages/{inside['id']}/reactions/%F0%9F%8E%89/@me",
                "bob",
            )
            for _ in range(100):
                if any(r.emoji == "🎉" for r in reactions):
                    break
                await asyncio.sleep(0.02)
            by_emoji = {r.emoji: r for r in reactions}
            assert by_emoji["👍"].thread_parent_id is None
            assert by_emoji["🎉"].channel_id == int(thread["id"])
            assert by_emoji["🎉"].thread_parent_id == CAMPAIGN
        finally:
            await transport.stop()
        assert emu.contract_violations == []
