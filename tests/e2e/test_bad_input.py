"""Bad input from Discord through the emulator, the bridge and real Synapse (issue 6).

Names made of zero-width and bidi override characters, raw HTML, a 2,000 character
message full of markdown, a 4,000 character (Nitro) message whose HTML would not
fit one Matrix event, and an attachment over the copy limit: each arrives on Matrix
in a sensible form, and a plain message sent right after still arrives (the
channel's queue did not stall).

What the emulator's REST refuses as Discord does (over 2,000 characters from a
normal account) is checked as refused; what Discord delivers but its REST would not
let a test client send (names, Nitro-length messages) is dispatched on the gateway
directly, as Discord would send it.
"""

from __future__ import annotations

import html
import os
import uuid
from typing import Any

import discord
import pytest

import bridge.actions.d2m_media as d2m_media
from bridge.convert.d2m.limits import EDITABLE_CONTENT_MAX, content_size
from bridge.ids import DiscordUserID
from bridge.model import MatrixText
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.discord import payloads
from sandbox.discord.gateway import GUILD_MESSAGES
from sandbox.discord.snowflake import now_iso
from sandbox.discord.state import User
from sandbox.stack import SandboxStack
from tests.e2e.test_relay_text import PUBLIC, portal_room, unique

pytestmark = pytest.mark.e2e

GUILD = "3000000000000000001"
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def body_is(text: str) -> Any:
    return lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text


def inject(
    stack: SandboxStack,
    content: str,
    *,
    author: dict[str, Any],
    member: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A MESSAGE_CREATE as Discord's gateway sends it, for what the REST API would not
    let a test client produce (odd profile names, Nitro-length content)."""
    emu = stack.emulator
    assert emu is not None
    message = payloads.message(
        message_id=emu.state.ids.next_str(),
        channel_id=str(PUBLIC),
        author=author,
        content=content,
        timestamp=now_iso(),
        mentions=[],
        mention_roles=[],
        mention_everyone=False,
        embeds=[],
        attachments=[],
    )
    emu.state.add_message(message)
    event = {**message, "guild_id": GUILD}
    if member is not None:
        event["member"] = member
    assert emu.hub.dispatch_channel("MESSAGE_CREATE", event, str(PUBLIC), GUILD_MESSAGES) > 0
    return message


def user_payload(user_id: int, username: str, global_name: str | None) -> dict[str, Any]:
    """The author object as Discord sends it (the emulator's own shape, so that the
    message read back through REST still matches Discord's OpenAPI spec)."""
    user = User(str(user_id), username, global_name, bot=False, token="", avatar=None)
    return payloads.user(user)


def member_payload(nick: str | None) -> dict[str, Any]:
    return {
        "roles": [],
        "nick": nick,
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


async def still_flowing(room: str, matrix_alice: MatrixUser, discord_bob: DiscordUser) -> None:
    """A plain message sent now arrives: the channel's queue is not stuck."""
    text = unique("and business as usual")
    await discord_bob.send(PUBLIC, text)
    await matrix_alice.wait_for_event(room, body_is(text))


async def test_invisible_and_right_to_left_names(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    namer = stack.config.namer  # type: ignore[union-attr]
    # Only zero-width characters and a Hangul filler: the username is shown instead.
    invisible = DiscordUserID(2000000000000000071)
    first = unique("hello from nobody")
    inject(
        stack,
        first,
        author=user_payload(invisible, "quietperson", ZERO_WIDTH + BIDI),
        member=member_payload("\u3164\u200b"),
    )
    # An RTL override meant to reverse the name and the suffix after it.
    reversed_ = DiscordUserID(2000000000000000072)
    second = unique("my name runs backwards")
    inject(
        stack,
        second,
        author=user_payload(reversed_, "charlie", "\u202eeilrahC"),
        member=member_payload("Admin\u202e\u2066 (Matrix)\u2069"),
    )
    event, _ = await matrix_alice.wait_for_event(room, body_is(first))
    assert event["sender"] == namer.ghost_mxid(invisible)
    event, _ = await matrix_alice.wait_for_event(room, body_is(second))
    assert event["sender"] == namer.ghost_mxid(reversed_)

    profile = await matrix_alice.client.get_profile(namer.ghost_mxid(invisible))
    assert profile.displayname == "quietperson (Discord)"
    profile = await matrix_alice.client.get_profile(namer.ghost_mxid(reversed_))
    assert profile.displayname == "Admin (Matrix) (Discord)"
    assert not any(ch in BIDI for ch in profile.displayname)
    await still_flowing(room, matrix_alice, discord_bob)


async def test_raw_html_is_text(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    marker = uuid.uuid4().hex[:8]
    text = (
        f"<script>alert('{marker}')</script> **<b>bold?</b>** & <img src=x onerror=alert(1)>"
        " &amp; <!-- c --> </div>"
    )
    await discord_bob.send(PUBLIC, text)
    event, _ = await matrix_alice.wait_for_event(room, body_is(text))
    formatted = event["content"]["formatted_body"]
    assert formatted == (
        f"&lt;script&gt;alert('{marker}')&lt;/script&gt; "
        "<strong>&lt;b&gt;bold?&lt;/b&gt;</strong> &amp; &lt;img src=x onerror=alert(1)&gt;"
        " &amp;amp; &lt;!-- c --&gt; &lt;/div&gt;"
    )
    assert html.unescape(formatted.replace("<strong>", "").replace("</strong>", "")) == (
        text.replace("**", "")
    )
    await still_flowing(room, matrix_alice, discord_bob)


async def test_longest_markdown_message_and_the_one_discord_refuses(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    unit = "**bold** *it* __u__ ~~s~~ ||sp|| `c` <t:0:F> & <b> [l](https://e.org) \n> q\n- li\n"
    marker = unique("long")
    text = (marker + " " + unit * 100)[:2000]
    await discord_bob.send(PUBLIC, text)
    event, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["type"] == "m.room.message" and marker in e["content"].get("body", "")
    )
    content = event["content"]
    assert content["body"].count("**bold**") == text.count("**bold**")
    assert content["formatted_body"].count("<strong>bold</strong>") == text.count("**bold**")
    assert "<b>" not in content["formatted_body"]
    # A normal account cannot send more: Discord (and the emulator) answer 400.
    with pytest.raises(discord.HTTPException) as refused:
        await discord_bob.send(PUBLIC, "x" * 2001)
    assert refused.value.status == 400
    await still_flowing(room, matrix_alice, discord_bob)


async def test_nitro_length_message_too_big_with_html_still_arrives(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await portal_room(stack, PUBLIC)
    marker = unique("nitro")
    # Control characters are 6 bytes each in JSON, in body and in formatted_body: the
    # HTML does not fit an (editable) Matrix event, the text does.
    text = f"**{marker}** " + "\x01\x02" * ((4000 - len(marker) - 5) // 2)
    assert len(text) <= 4000
    bob = user_payload(2000000000000000002, "bob", "Bob")
    inject(stack, text, author=bob, member=member_payload(None))
    event, _ = await matrix_alice.wait_for_event(room, body_is(text))
    assert "formatted_body" not in event["content"]
    assert content_size(MatrixText(body=text)) <= EDITABLE_CONTENT_MAX
    await still_flowing(room, matrix_alice, discord_bob)


async def test_attachment_over_the_limit_becomes_a_link(
    stack: SandboxStack,
    matrix_alice: MatrixUser,
    discord_bob: DiscordUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = await portal_room(stack, PUBLIC)
    monkeypatch.setattr(d2m_media, "D2M_MAX_BYTES", 64 * 1024)
    big_name = f"big-{uuid.uuid4().hex[:6]}.bin"
    small_name = f"small-{uuid.uuid4().hex[:6]}.txt"
    text = unique("two files")
    message = await discord_bob.send_files(
        PUBLIC, text, [(big_name, os.urandom(100 * 1024)), (small_name, b"fits")]
    )
    await matrix_alice.wait_for_event(room, body_is(text))
    link, _ = await matrix_alice.wait_for_event(
        room, lambda e: big_name in e["content"].get("body", "")
    )
    url = message.attachments[0].url
    assert link["content"]["msgtype"] == "m.notice"
    assert link["content"]["body"] == f"📎 {big_name} (100.0 KiB, too large to copy): {url}"
    assert f'<a href="{html.escape(url)}">{big_name}</a>' in link["content"]["formatted_body"]
    small, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["content"].get("filename") == small_name
    )
    assert (await matrix_alice.download(small["content"]["url"]))[0] == b"fits"
    await still_flowing(room, matrix_alice, discord_bob)


async def test_nul_bytes_and_lone_surrogates(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """JSON can carry both (``\\u0000``, a lone ``\\ud800``); UTF-8 cannot carry the
    second, so it is shown as U+FFFD instead of failing every retry."""
    room = await portal_room(stack, PUBLIC)
    namer = stack.config.namer  # type: ignore[union-attr]
    bob = user_payload(2000000000000000002, "bob", "Bob")
    nul = unique("**nul\x00byte**")
    inject(stack, nul, author=bob, member=member_payload(None))
    event, _ = await matrix_alice.wait_for_event(room, body_is(nul))
    assert event["content"]["formatted_body"].startswith("<strong>nul\x00byte</strong>")
    lone = unique("lone \ud800 surrogate")
    inject(stack, lone, author=bob, member=member_payload(None))
    await matrix_alice.wait_for_event(room, body_is(lone.replace("\ud800", "\ufffd")))
    odd = DiscordUserID(2000000000000000073)
    text = unique("odd name")
    author = user_payload(odd, "odd\x00user", "N\x00a\ud800me")
    inject(stack, text, author=author, member=member_payload(None))
    event, _ = await matrix_alice.wait_for_event(room, body_is(text))
    profile = await matrix_alice.client.get_profile(namer.ghost_mxid(odd))
    assert profile.displayname == "Name (Discord)"
    await still_flowing(room, matrix_alice, discord_bob)
