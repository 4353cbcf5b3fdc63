"""Bad input at the Discord transport edge (issue 6).

Gateway payloads with missing, null or odd fields go through a real discord.py
``ConnectionState`` (with the demo guild as the emulator's GUILD_CREATE describes
it), exactly as the bridge's client parses them, then through ``message_from``,
``author_from``, ``thread_from`` and ``reaction_from``. Whatever discord.py manages
to build, the translation must not raise; names with nothing visible are unset so
the next name in line is shown.

The last test runs a real transport against the emulator: a dispatch discord.py
cannot parse is dropped, and the gateway connection carries on.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.model import DiscordMessage
from bridge.transport.discord import (
    DiscordHandlers,
    DiscordTransport,
    author_from,
    message_from,
    reaction_from,
    thread_from,
)
from sandbox.discord import payloads
from sandbox.discord.gateway import GUILD_MESSAGES
from sandbox.discord.server import Emulator, load_seed
from sandbox.discord.state import State

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "sandbox" / "discord" / "demo_seed.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "discord"
BAD = FIXTURES / "bad"
GUILD = "3000000000000000001"
CAMPAIGN = "4000000000000000001"
MEMBERS = "4000000000000000002"

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class Gateway:
    """A discord.py ConnectionState fed the demo guild; collects what it dispatches."""

    def __init__(self) -> None:
        seed = load_seed(SEED)
        state = State(seed)
        bot = next(u for u in state.users.values() if u.bot)
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
        self.client = discord.Client(intents=intents)
        self.state = self.client._connection
        self.dispatched: list[tuple[str, tuple[Any, ...]]] = []
        self.state.dispatch = lambda event, *args: self.dispatched.append((event, args))
        guild_data = payloads.guild_create(state, state.guilds[GUILD], bot.id)
        self.guild = self.state._add_guild_from_data(guild_data)  # type: ignore[arg-type]

    def feed(self, event: str, data: dict[str, Any]) -> Any:
        """Parse one dispatch as the gateway would; the first object dispatched."""
        self.dispatched.clear()
        getattr(self.state, f"parse_{event.lower()}")(data)
        return self.dispatched[0][1][0] if self.dispatched else None


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def translate(gateway: Gateway, data: dict[str, Any]) -> DiscordMessage | None:
    """message_from of what discord.py built; None when discord.py itself refused it."""
    try:
        msg = gateway.feed("MESSAGE_CREATE", data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # discord.py's own parser: its failure is not the translation's
    return message_from(msg)


# -- captured shapes of odd payloads ---------------------------------------------------


def test_invisible_names_fall_back(gateway: Gateway) -> None:
    msg = translate(gateway, load(BAD / "message_create_invisible_names.json"))
    assert msg is not None
    assert msg.author.nick is None and msg.author.global_name is None
    assert msg.author.display_name == "mallory"


def test_rtl_override_names_are_kept_for_the_converters(gateway: Gateway) -> None:
    msg = translate(gateway, load(BAD / "message_create_rtl_override_name.json"))
    assert msg is not None
    # Visible names stay as Discord sent them; the converters neutralise bidi controls.
    assert msg.author.nick == "Admin\u202e\u2066 (Matrix)\u2069"
    assert msg.author.global_name == "\u202eeilrahC"


def test_partial_update_without_author_or_mentions(gateway: Gateway) -> None:
    msg = gateway.feed("MESSAGE_UPDATE", load(BAD / "message_update_partial.json"))
    assert msg is not None
    translated = message_from(msg.message)
    assert translated.author.id == 0 and translated.mentions == ()
    assert translated.edited_ms is None  # not an edit: the bridge ignores it
    assert translated.embeds[0].url == "https://example.org"


def test_unknown_mentions_and_roles(gateway: Gateway) -> None:
    msg = translate(gateway, load(BAD / "message_create_unknown_mentions.json"))
    assert msg is not None
    assert msg.mentions == () and msg.role_mentions == () and msg.channel_mentions == ()


def test_oversized_attachment_and_empty_embeds(gateway: Gateway) -> None:
    msg = translate(gateway, load(BAD / "message_create_oversized_attachment.json"))
    assert msg is not None
    assert [(a.filename, a.size) for a in msg.attachments] == [("invoice\u202egpj.exe", 524288000)]
    assert len(msg.embeds) == 2 and msg.embeds[0].title is None
    assert msg.embeds[1].fields[0].name == ""


def test_reply_to_deleted_and_unknown_type(gateway: Gateway) -> None:
    reply = translate(gateway, load(BAD / "message_create_odd_reply.json"))
    assert reply is not None and reply.reply_to == 1
    future = translate(gateway, load(BAD / "message_create_unknown_type.json"))
    assert future is not None and future.type == 4242


# -- every field missing or null -------------------------------------------------------

BASES = [
    FIXTURES / "message_create_text.json",
    FIXTURES / "message_create_mention.json",
    FIXTURES / "message_create_attachments.json",
    FIXTURES / "message_create_sticker_embeds.json",
    FIXTURES / "message_create_forward.json",
    FIXTURES / "message_create_voice.json",
    *sorted(BAD.glob("message_create_*.json")),
]


def mutations(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*path, key)
                yield from walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, (*path, index))

    changes: tuple[Any, ...] = ("missing", None, "", 0, [], {}, "\u202e\u200b")
    for path in walk(data, ()):
        for change in changes:
            mutated = copy.deepcopy(data)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            if change == "missing":
                del parent[path[-1]]
            else:
                parent[path[-1]] = change
            yield f"{'.'.join(map(str, path))}={change!r}", mutated


@pytest.mark.parametrize("base", BASES, ids=lambda p: p.name)
def test_no_field_change_breaks_the_translation(gateway: Gateway, base: Path) -> None:
    data = load(base)
    data.setdefault("guild_id", GUILD)
    accepted = 0
    for name, mutated in mutations(data):
        try:
            msg = gateway.feed("MESSAGE_CREATE", mutated)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # discord.py refused it: nothing reaches the translation
        accepted += 1
        try:
            translated = message_from(msg)
        except Exception as exc:  # pragma: no cover - the assertion message is the point
            raise AssertionError(f"message_from failed for {name}: {exc!r}") from exc
        assert isinstance(translated.content, str)
    assert accepted > 0


@FUZZ
@given(
    content=st.one_of(st.none(), st.text(max_size=200)),
    global_name=st.one_of(st.none(), st.text(max_size=40)),
    nick=st.one_of(st.none(), st.text(max_size=40)),
    username=st.one_of(st.none(), st.text(max_size=40)),
    mentions=st.lists(st.sampled_from([CAMPAIGN, MEMBERS, "1", "9" * 19, GUILD]), max_size=4),
)
def test_generated_names_and_content(
    gateway: Gateway,
    content: str | None,
    global_name: str | None,
    nick: str | None,
    username: str | None,
    mentions: list[str],
) -> None:
    data = load(FIXTURES / "message_create_text.json")
    data["content"] = content if not mentions else " ".join(f"<#{c}>" for c in mentions)
    data["author"]["global_name"] = global_name
    data["author"]["username"] = username
    data["member"]["nick"] = nick
    msg = translate(gateway, data)
    assert msg is not None
    assert msg.author.display_name is not None
    # Members-only channels are never named publicly: fail closed.
    if MEMBERS in mentions:
        assert int(MEMBERS) in msg.hidden_channel_ids
    assert int(CAMPAIGN) not in msg.hidden_channel_ids


def thread_payload(thread_id: str, parent_id: str, name: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "guild_id": GUILD,
        "parent_id": parent_id,
        "owner_id": "2000000000000000002",
        "name": name,
        "type": 11,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-11-24T09:00:00.000000+00:00",
            "locked": False,
        },
        "newly_created": True,
    }


def test_lone_surrogates_in_content_are_replaced(gateway: Gateway) -> None:
    data = load(FIXTURES / "message_create_text.json")
    data["content"] = "a\ud800b"  # json.loads('"a\\ud800b"') gives this
    msg = translate(gateway, data)
    assert msg is not None and msg.content == "a\ufffdb"


def test_channel_whose_visibility_cannot_be_computed_is_hidden(gateway: Gateway) -> None:
    # A thread whose parent is not cached: permissions_for raises.
    gateway.feed("THREAD_CREATE", thread_payload("4000000000000000077", "4000000000000000066", "x"))
    data = load(FIXTURES / "message_create_text.json")
    data["content"] = "see <#4000000000000000077> and <#4000000000000000001>"
    msg = translate(gateway, data)
    assert msg is not None
    assert msg.hidden_channel_ids == (4000000000000000077,)
    # A guild whose @everyone role is unknown: nothing can be shown as public.
    gateway.guild._roles.pop(gateway.guild.id)
    msg = translate(gateway, data)
    assert msg is not None
    assert set(msg.hidden_channel_ids) == {4000000000000000077, 4000000000000000001}


def test_author_from_odd_users(gateway: Gateway) -> None:
    state = gateway.state
    nameless_data: Any = {"id": "5", "username": None, "discriminator": "0", "avatar": None}
    nameless = discord.User(state=state, data=nameless_data)
    author = author_from(nameless)
    assert author.username == "" and author.display_name == "" and author.avatar_url is None
    odd_data: Any = {
        "id": "6",
        "username": "x",
        "discriminator": "0",
        "avatar": "a_zz",
        "global_name": "\u200b",
    }
    odd_avatar = discord.User(state=state, data=odd_data)
    author = author_from(odd_avatar)
    assert author.global_name is None and author.avatar_url is not None


@pytest.mark.parametrize(
    "emoji",
    [
        {"id": None, "name": None},
        {"id": None, "name": ""},
        {"id": "123", "name": None},
        {"id": "123", "name": "blob", "animated": True},
        {"id": None, "name": "\U0001f468\u200d\U0001f469\u200d\U0001f467"},
        {"id": None, "name": "\u202e"},
    ],
)
def test_reaction_from_odd_emoji(gateway: Gateway, emoji: dict[str, Any]) -> None:
    data = {
        "user_id": "2000000000000000099",
        "channel_id": CAMPAIGN,
        "message_id": "1311000000000000001",
        "guild_id": GUILD,
        "emoji": emoji,
        "burst": False,
        "type": 0,
        "member": {
            "user": {
                "id": "2000000000000000099",  # not cached: this data is used
                "username": "zed",
                "global_name": "\u200b",
                "discriminator": "0",
                "avatar": None,
            },
            "nick": "\u3164",
            "roles": [],
            "joined_at": "2026-01-01T00:00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        },
    }
    raw = gateway.feed("MESSAGE_REACTION_ADD", data)
    reaction = reaction_from(raw)
    assert reaction.emoji  # never empty: Discord's API form needs a name
    assert reaction.member is not None and reaction.member.display_name == "zed"


@pytest.mark.parametrize(
    ("name", "shown"),
    [("\u202edaerht", "daerht"), ("\u200b\u200b", ""), ("<b>plans</b>", "<b>plans</b>")],
)
def test_thread_from_odd_names(gateway: Gateway, name: str, shown: str) -> None:
    thread = gateway.feed("THREAD_CREATE", thread_payload("4000000000000000088", CAMPAIGN, name))
    translated = thread_from(thread)
    assert translated.name == shown and translated.parent_id == int(CAMPAIGN)


# -- one dispatch discord.py cannot parse does not end the gateway connection -----------


async def test_one_malformed_dispatch_does_not_end_the_connection() -> None:
    seed = load_seed(SEED)
    bot = next(u for u in seed["users"] if u.get("bot"))
    received: list[DiscordMessage] = []

    async def on_message(message: DiscordMessage) -> None:
        received.append(message)

    async def ignore(_: object) -> None:
        return None

    handlers = DiscordHandlers(message=on_message, edit=ignore, deletion=ignore)
    async with Emulator(seed) as emu:
        transport = DiscordTransport(bot["token"], emu.api_base, handlers)
        await transport.start()
        try:
            good = load(FIXTURES / "message_create_text.json")
            bad = {k: v for k, v in good.items() if k != "content"}
            bad["id"] = "1311000000000000301"
            good["id"] = "1311000000000000302"
            emu.hub.dispatch_channel("MESSAGE_CREATE", bad, CAMPAIGN, GUILD_MESSAGES)
            emu.hub.dispatch_channel("MESSAGE_CREATE", good, CAMPAIGN, GUILD_MESSAGES)
            for _ in range(50):
                if received:
                    break
                await asyncio.sleep(0.02)
            assert [m.id for m in received] == [1311000000000000302]
        finally:
            await transport.stop()
