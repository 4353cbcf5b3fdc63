"""The guild's custom emoji and stickers as an image pack, through real Synapse + the
Discord emulator + the bridge: the seed's emoji in the portal room's pack, the pack
following emoji added, renamed and removed on Discord, and pack emoji used on Matrix
(in a message, as a reaction) reaching Discord as the Discord emoji."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from mautrix.api import Method, Path
from mautrix.errors import MNotFound

from bridge.convert.emoji_pack import PACK_EVENT, pack_state_key
from bridge.ids import ChannelID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

PUBLIC = ChannelID(4000000000000000001)
GUILD = 3000000000000000001
EMOJI_ID = 5000000000000000001  # "passerelle" in the demo seed
ANIMATED_ID = 5000000000000000002  # "wave_anim"
KEY = pack_state_key(GUILD)


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


async def pack(user: MatrixUser, room: str) -> dict[str, Any] | None:
    """The guild's pack as a Matrix client reads it from the room's state."""
    try:
        content = await user.client.api.request(
            Method.GET, Path.v3.rooms[room].state[PACK_EVENT][KEY]
        )
    except MNotFound:
        return None
    return content if isinstance(content, dict) else None


async def images(user: MatrixUser, room: str) -> dict[str, Any]:
    return (await pack(user, room) or {}).get("images", {})


async def test_seed_emoji_and_stickers_in_the_room_pack(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    room = await room_of(stack, PUBLIC)
    content = await eventually(lambda: pack(matrix_alice, room), "no image pack in the room")
    assert content["pack"]["display_name"] == "Campaign HQ"
    assert content["pack"]["usage"] == ["emoticon", "sticker"]
    got = content["images"]
    stores = stack.bridge.ctx.stores  # type: ignore[union-attr]
    cached = await stores.reactions.emoji_by_id(EMOJI_ID)
    assert cached is not None
    # The emoji image is the one reactions use (one upload, one cache).
    assert got["passerelle"] == {"url": cached.mxc, "body": ":passerelle:", "usage": ["emoticon"]}
    assert got["wave_anim"]["usage"] == ["emoticon"]
    animated = await stores.reactions.emoji_by_id(ANIMATED_ID)
    assert animated is not None and animated.animated and got["wave_anim"]["url"] == animated.mxc
    assert got["Wave"]["usage"] == ["sticker"] and got["Wave"]["url"].startswith("mxc://")
    assert "Party_Parrot" not in got  # Lottie: no Matrix client draws it
    data, ctype = await matrix_alice.download(got["passerelle"]["url"])
    assert ctype.startswith("image/") and data.startswith(b"\x89PNG")


async def test_pack_follows_emoji_added_renamed_removed(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    assert stack.emulator is not None
    room = await room_of(stack, PUBLIC)
    await eventually(lambda: pack(matrix_alice, room), "no image pack in the room")
    new = stack.emulator.add_emoji(str(GUILD), "greve")

    async def has(name: str) -> bool:
        return name in await images(matrix_alice, room)

    await eventually(lambda: has("greve"), "the new emoji is not in the pack", timeout=20)
    url = (await images(matrix_alice, room))["greve"]["url"]
    stack.emulator.rename_emoji(str(GUILD), new, "greve_generale")
    await eventually(lambda: has("greve_generale"), "the rename did not reach the pack", 20)
    now = await images(matrix_alice, room)
    assert "greve" not in now and now["greve_generale"]["url"] == url  # not uploaded again
    stack.emulator.remove_emoji(str(GUILD), new)

    async def gone() -> bool:
        return "greve_generale" not in await images(matrix_alice, room)

    await eventually(gone, "the removed emoji is still in the pack", timeout=20)
    assert "passerelle" in await images(matrix_alice, room)


async def test_matrix_message_with_pack_emoji_reaches_discord_as_the_emoji(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    content = await eventually(lambda: pack(matrix_alice, room), "no image pack in the room")
    mxc = content["images"]["passerelle"]["url"]
    text = unique("on strike")
    # What a client with an emoji picker for image packs sends (Cinny, FluffyChat).
    await matrix_alice.send_content(
        room,
        {
            "msgtype": "m.text",
            "body": f"{text} :passerelle:",
            "format": "org.matrix.custom.html",
            "formatted_body": (
                f'{text} <img data-mx-emoticon src="{mxc}" alt=":passerelle:"'
                ' title=":passerelle:" height="32">'
                ' <img data-mx-emoticon src="mxc://elsewhere.example/blob" alt=":blobcat:">'
            ),
        },
    )
    message, _ = await discord_bob.wait_for_message(lambda m: text in m.content, timeout=20)
    assert message.content.endswith(f"{text} <:passerelle:{EMOJI_ID}> :blobcat:")


async def test_matrix_reaction_with_pack_emoji_reaches_discord(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    content = await eventually(lambda: pack(matrix_alice, room), "no image pack in the room")
    mxc = content["images"]["passerelle"]["url"]
    text = unique("react with the pack")
    message = await discord_bob.send(int(PUBLIC), text)
    event, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text
    )
    await matrix_alice.react(room, event["event_id"], mxc)
    bot = int(next(u["id"] for u in stack.seed["users"] if u.get("bot")))

    async def bot_reacted() -> bool:
        return bot in await discord_bob.reactors(int(PUBLIC), message.id, f"passerelle:{EMOJI_ID}")

    await eventually(bot_reacted, "the bot did not react with the guild emoji", timeout=20)


async def test_discord_message_with_guild_emoji_shows_the_image(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, PUBLIC)
    content = await eventually(lambda: pack(matrix_alice, room), "no image pack in the room")
    mxc = content["images"]["passerelle"]["url"]
    text = unique("solidarity")
    await discord_bob.send(int(PUBLIC), f"{text} <:passerelle:{EMOJI_ID}>")
    event, _ = await matrix_alice.wait_for_event(
        room, lambda e: text in e.get("content", {}).get("body", ""), timeout=20
    )
    assert f'<img data-mx-emoticon src="{mxc}"' in event["content"]["formatted_body"]


async def test_element_typed_shortcode_reaches_discord_as_the_emoji(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """Element has no picker for image packs: typing ``:passerelle:`` is how its users
    use the guild's emoji."""
    room = await room_of(stack, PUBLIC)
    text = unique("typed in Element")
    await matrix_alice.send_text(room, f"{text} :passerelle: :not_ours:")
    message, _ = await discord_bob.wait_for_message(lambda m: text in m.content, timeout=20)
    assert message.content.endswith(f"{text} <:passerelle:{EMOJI_ID}> :not_ours:")


async def test_pack_follows_stickers_added_and_removed(
    stack: SandboxStack, matrix_alice: MatrixUser
) -> None:
    assert stack.emulator is not None
    room = await room_of(stack, PUBLIC)
    await eventually(lambda: pack(matrix_alice, room), "no image pack in the room")
    sid = stack.emulator.add_sticker(str(GUILD), "Picket Line")

    async def sticker_url() -> str | None:
        found = (await images(matrix_alice, room)).get("Picket_Line")
        return found["url"] if found and found["usage"] == ["sticker"] else None

    url = await eventually(sticker_url, "the new sticker is not in the pack", timeout=20)
    data, ctype = await matrix_alice.download(url)
    assert ctype == "image/png" and data.startswith(b"\x89PNG")
    stack.emulator.remove_sticker(str(GUILD), sid)

    async def gone() -> bool:
        return "Picket_Line" not in await images(matrix_alice, room)

    await eventually(gone, "the removed sticker is still in the pack", timeout=20)
