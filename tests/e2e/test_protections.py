"""Protections through real Synapse + the Discord emulator + the bridge: a Discord
flood is held and timed out (and lifted by a moderator), a Matrix mention spam is
held and its author muted (and unmuted), a young Discord account posting a link is
held, the same message in two channels is deleted on both sides; moderators read
one sentence per action in their room and channel."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import discord
import pytest

from bridge.ids import ChannelID, DiscordUserID
from moderation.protections.core import Protection
from moderation.protections.rules import Flooding, Newcomers, Repeats
from moderation.protections.runtime import Protections
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord.snowflake import SnowflakeGenerator
from sandbox.stack import SandboxStack
from tests.conftest import matrix_token
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
MEMBERS = ChannelID(4000000000000000002)
MOD_CHANNEL = ChannelID(4000000000000000003)
MEMBER_ROLE = "3000000000000000011"
GUILD = "3000000000000000001"


def protections_of(stack: SandboxStack) -> Protections:
    assert stack.bridge is not None and stack.bridge.protections is not None
    return stack.bridge.protections


@contextmanager
def replaced(stack: SandboxStack, protection: Protection, *authors: str) -> Iterator[None]:
    """The bridge runs with ``protection`` (switched on) instead of its namesake."""
    guard = protections_of(stack).guard
    index = guard.names().index(protection.name)
    old, was_on = guard.protections[index], guard.enabled(protection.name)
    guard.protections[index] = protection
    guard.switch(protection.name, True)
    try:
        yield
    finally:
        guard.protections[index] = old
        guard.switch(protection.name, was_on)
        for author in authors:
            guard.forget(author)


@pytest.fixture(scope="module")
async def carol(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """A configured moderator, in the moderators' room and the public portal room."""
    user_id, token = matrix_token(stack, "carol")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    await user.join(stack.bridge.ctx.moderation.mod_room)  # type: ignore[union-attr, arg-type]
    await user.join(str(await room_of(stack, PUBLIC)))
    await user.prime()
    yield user
    await user.close()


@pytest.fixture
async def spammer(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """A new Matrix account, in the public portal room only (other tests ban people)."""
    assert stack.synapse is not None
    localpart = f"spammer-{secrets.token_hex(3)}"
    user_id, token = await stack.synapse.register_user(localpart, secrets.token_hex(12))
    user = MatrixUser(stack.synapse.url, user_id, token)
    await user.join(str(await room_of(stack, PUBLIC)))
    await user.prime()
    yield user
    await user.close()


async def new_discord_user(stack: SandboxStack, name: str) -> tuple[DiscordUser, str]:
    """A new Discord account (made now), member of the guild, logged in."""
    assert stack.emulator is not None
    user_id = SnowflakeGenerator(worker=7).next_str()
    token = f"{name}-{secrets.token_hex(8)}"
    stack.emulator.add_user(user_id, f"{name}{user_id[-4:]}", token, guilds={GUILD: []})
    user = DiscordUser(stack.emulator.api_base, token)
    await user.start()
    return user, user_id


def mod_room(stack: SandboxStack) -> str:
    room = stack.bridge.ctx.moderation.mod_room  # type: ignore[union-attr]
    assert room is not None
    return str(room)


async def mod_line(stack: SandboxStack, carol: MatrixUser, *words: str) -> str:
    """The moderators' room line holding every one of ``words``."""
    event, _ = await carol.wait_for_event(
        mod_room(stack),
        lambda e: all(w in e["content"].get("body", "") for w in words),
        timeout=30,
    )
    return str(event["content"]["body"])


async def command(stack: SandboxStack, carol: MatrixUser, text: str, *answer: str) -> str:
    """A moderator's command in the moderators' room; the answer holding ``answer``."""
    await carol.send_text(mod_room(stack), text)
    return await mod_line(stack, carol, *answer)


def in_mod_channel(stack: SandboxStack, *words: str) -> list[str]:
    messages = stack.emulator.state.messages_in(MOD_CHANNEL)  # type: ignore[union-attr]
    return [m["content"] for m in messages if all(w in m["content"] for w in words)]


def member(stack: SandboxStack, user_id: int) -> Any:
    return stack.emulator.state.guilds[GUILD].members[str(user_id)]  # type: ignore[union-attr]


async def test_discord_flood_is_held_timed_out_and_lifted(
    stack: SandboxStack, carol: MatrixUser
) -> None:
    mallory, mallory_id = await new_discord_user(stack, "mallory")
    mallory_uid = DiscordUserID(int(mallory_id))
    flood = f"flood-{secrets.token_hex(3)}"
    try:
        with replaced(stack, Flooding(3, 60, ("hold", "timeout")), f"discord:{mallory_uid}"):
            sent: list[discord.Message] = []
            for i in range(6):
                try:
                    sent.append(await mallory.send(PUBLIC, f"{flood} #{i}"))
                except discord.Forbidden:
                    break  # timed out meanwhile: Discord refuses the rest
            held = await mod_line(stack, carol, "flooding protection held", str(mallory_uid))
            assert "more than 3 messages in 60 seconds" in held
            timed = await mod_line(stack, carol, "timed out", str(mallory_uid))
            assert f"!mod unmute {mallory_uid}" in timed
            await eventually(
                lambda: _true(member(stack, mallory_uid).timed_out()), "no timeout on Discord"
            )
            with pytest.raises(discord.Forbidden):
                await mallory.send(PUBLIC, f"{flood} after")
            # Mallory is told in a direct message, once.
            dm, _ = await mallory.wait_for_message(
                lambda m: m.guild is None and "more than 3 messages" in m.content, timeout=20
            )
            assert "cannot write for 10 minutes" in dm.content
            # The moderators' Discord channel has the same lines.
            assert await eventually(
                lambda: _true(in_mod_channel(stack, "flooding protection held", str(mallory_uid))),
                "no line in the moderators' channel",
            )
            # At most the burst crossed to Matrix.
            await asyncio.sleep(2)
            rows = [
                r
                for m in sent
                for r in await stack.bridge.ctx.stores.messages.by_discord(m.id)  # type: ignore[union-attr, arg-type]
            ]
            assert 1 <= len(rows) <= 3 and len(sent) >= 4
            # A moderator lifts the timeout.
            answer = await command(
                stack,
                carol,
                f"!mod unmute {mallory_uid}",
                f"{mallory_uid} may write again on Discord",
            )
            assert "(1 server)" in answer
            assert member(stack, mallory_uid).communication_disabled_until is None
            await mallory.send(PUBLIC, f"{flood} back")
    finally:
        member(stack, mallory_uid).communication_disabled_until = None
        await mallory.close()


async def _true(value: object) -> object:
    return value


def pills(users: list[str]) -> str:
    return " ".join(f'<a href="https://matrix.to/#/{u}">{u[1:].split(":")[0]}</a>' for u in users)


async def power_of(user: MatrixUser, room: str, who: str) -> int | None:
    levels = await user.client.get_state_event(room, "m.room.power_levels")  # type: ignore[arg-type]
    value = levels.serialize().get("users", {}).get(who)  # type: ignore[union-attr]
    return int(value) if value is not None else None


async def test_matrix_mention_spam_is_held_and_the_author_muted(
    stack: SandboxStack, carol: MatrixUser, spammer: MatrixUser
) -> None:
    room = str(await room_of(stack, PUBLIC))
    answer = await command(stack, carol, "!mod protection mentions on", "protection is on")
    assert "mentions" in answer
    try:
        mentioned = [f"@nobody{i}:localhost" for i in range(10)]
        tag = f"spam-{secrets.token_hex(3)}"
        event_id = await spammer.send_content(
            room,
            {
                "msgtype": "m.text",
                "body": f"{tag} " + " ".join(mentioned),
                "format": "org.matrix.custom.html",
                "formatted_body": f"{tag} {pills(mentioned)}",
                "m.mentions": {"user_ids": mentioned},
            },
        )
        held = await mod_line(stack, carol, "mentions protection held", spammer.user_id)
        assert "10 people" in held
        muted = await mod_line(stack, carol, "muted", spammer.user_id)
        assert f"!mod unmute {spammer.user_id}" in muted
        # Dave is told in the room; nothing reached Discord.
        notice, _ = await spammer.wait_for_event(
            room, lambda e: "mentions too many people" in e["content"].get("body", "")
        )
        assert spammer.user_id in notice["content"]["body"]
        await asyncio.sleep(1)
        assert await stack.bridge.ctx.stores.messages.by_event(event_id) == []  # type: ignore[union-attr, arg-type]
        messages = stack.emulator.state.messages_in(PUBLIC)  # type: ignore[union-attr]
        assert not [m for m in messages if tag in m["content"]]
        # Muted: below the level needed to write in every portal room.
        assert await power_of(carol, room, spammer.user_id) == -1
        answer = await command(
            stack, carol, f"!mod unmute {spammer.user_id}", f"{spammer.user_id} may write again"
        )
        assert "rooms)" in answer
        assert await power_of(carol, room, spammer.user_id) is None
    finally:
        await command(stack, carol, "!mod protection mentions off", "protection is off")
        protections_of(stack).guard.forget(spammer.user_id)


async def test_young_discord_account_posting_a_link_is_held(
    stack: SandboxStack, carol: MatrixUser
) -> None:
    raider, user_id = await new_discord_user(stack, "raider")  # an account made now
    # Only the account's age counts here (the seed's members all joined just now).
    try:
        with replaced(stack, Newcomers(72, 0), f"discord:{user_id}"):
            link = await raider.send(PUBLIC, "free stuff at https://spam.example/x")
            held = await mod_line(stack, carol, "newcomers protection held", user_id)
            assert "less than 72 hours old" in held
            dm, _ = await raider.wait_for_message(
                lambda m: m.guild is None and "72 hours" in m.content, timeout=20
            )
            assert "Matrix" in dm.content
            plain = await raider.send(PUBLIC, "hello everyone, no link here")
            rows = await eventually(
                lambda: stack.bridge.ctx.stores.messages.by_discord(plain.id),  # type: ignore[union-attr, arg-type]
                "a message without a link crosses",
            )
            assert rows
            assert await stack.bridge.ctx.stores.messages.by_discord(link.id) == []  # type: ignore[union-attr, arg-type]
    finally:
        await raider.close()


async def test_same_message_in_two_channels_is_deleted_on_both_sides(
    stack: SandboxStack, carol: MatrixUser
) -> None:
    assert stack.emulator is not None and stack.bridge is not None
    spammer, user_id = await new_discord_user(stack, "copier")
    stack.emulator.set_member_roles(GUILD, user_id, [MEMBER_ROLE])  # sees #members too
    spam = f"join my great server now {secrets.token_hex(3)}"
    try:
        with replaced(stack, Repeats(max_places=1, window_seconds=60), f"discord:{user_id}"):
            first = await spammer.send(PUBLIC, spam)
            rows = await eventually(
                lambda: stack.bridge.ctx.stores.messages.by_discord(first.id),  # type: ignore[union-attr, arg-type]
                "the first copy crosses",
            )
            second = await spammer.send(MEMBERS, spam)
            deleted = await mod_line(stack, carol, "repeats protection deleted", user_id)
            assert "on both sides" in deleted and "2 places" in deleted
            # Both copies are gone from Discord, the relayed one redacted on Matrix.
            await eventually(
                lambda: _true(
                    not [
                        m
                        for channel in (PUBLIC, MEMBERS)
                        for m in stack.emulator.state.messages_in(channel)  # type: ignore[union-attr]
                        if m["content"] == spam
                    ]
                ),
                "copies left on Discord",
            )
            redacted = await carol.client.get_event(rows[0].room_id, rows[0].event_id)
            assert "redacted_because" in redacted.serialize().get("unsigned", {})
            assert await stack.bridge.ctx.stores.messages.by_discord(second.id) == []  # type: ignore[arg-type]
    finally:
        await spammer.close()
