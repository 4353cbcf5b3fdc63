"""Several guilds in one deployment, through Synapse + the emulator + the bridge: each
guild's channels bridged by its own rules (listed, whole guild, category), relay both
ways in a federation's server, and rules changed by command and by Discord."""

from __future__ import annotations

import uuid

import pytest

from bridge.ids import ChannelID, GuildID
from sandbox.clients import DiscordUser, MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.test_admin import admin_carol, ask  # noqa: F401 (fixture)
from tests.e2e.waits import eventually, room_of

pytestmark = pytest.mark.e2e

HQ = GuildID(3000000000000000001)
NORD = GuildID(3000000000000000002)
YVELINES = GuildID(3000000000000000003)
NORD_DISCUSSION = ChannelID(4100000000000000012)
NORD_MEMBERS = ChannelID(4100000000000000013)
NORD_MODS = ChannelID(4100000000000000014)
CAMPAGNE = ChannelID(4200000000000000001)
TRACTAGE, PORTE, ACCUEIL = (
    ChannelID(4200000000000000011),
    ChannelID(4200000000000000012),
    ChannelID(4200000000000000013),
)


def channels_now(stack: SandboxStack) -> set[int]:
    assert stack.bridge is not None
    return {int(c.discord_channel) for c in stack.bridge.config.bridge.channels}


async def _async(value: bool) -> bool:
    return value


async def bridged(stack: SandboxStack) -> dict[int, str]:
    assert stack.bridge is not None
    return {int(c.discord_channel): c.access for c in stack.bridge.config.bridge.channels}


async def test_every_guild_is_bridged_by_its_own_rules(stack: SandboxStack) -> None:
    assert stack.bridge is not None
    channels = await bridged(stack)
    # HQ: listed one by one; Nord and Yvelines: bridged whole (all_channels: public).
    assert channels[4000000000000000001] == "public"
    assert channels[int(NORD_DISCUSSION)] == "public"
    assert channels[int(TRACTAGE)] == "public" and channels[int(ACCUEIL)] == "public"
    # Public by rule, but @everyone cannot see it on Discord: members-only (fail closed).
    members = await stack.bridge.ctx.stores.portals.by_channel(NORD_MEMBERS)
    assert members is not None and members.access == "members_only"
    assert members.guild_id == NORD
    # Each guild's moderators' channel is never bridged, even by a whole-guild rule.
    assert int(NORD_MODS) not in channels and 4000000000000000003 not in channels
    # Categories are no portals.
    assert int(CAMPAGNE) not in channels
    portals = {p.discord_channel_id: p for p in await stack.bridge.ctx.stores.portals.all()}
    assert portals[TRACTAGE].guild_id == YVELINES and portals[PORTE].name == "porte-a-porte"


async def test_a_federation_channel_relays_both_ways(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    room = await room_of(stack, NORD_DISCUSSION)
    await matrix_alice.join(room)
    text = f"Bonjour le Nord {uuid.uuid4().hex[:6]}"
    await discord_bob.send(NORD_DISCUSSION, text)
    event, _ = await matrix_alice.wait_for_event(
        room, lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text
    )
    assert event["sender"] == stack.config.namer.ghost_mxid(2000000000000000002)  # type: ignore[union-attr]
    reply = f"Salut depuis Element {uuid.uuid4().hex[:6]}"
    await matrix_alice.send_text(room, reply)
    message, _ = await discord_bob.wait_for_message(
        lambda m: m.channel.id == NORD_DISCUSSION and m.content == reply
    )
    assert message.webhook_id is not None and message.guild.id == NORD


async def test_rules_by_command_category_then_guild(
    stack: SandboxStack,
    admin_carol: MatrixUser,  # noqa: F811
) -> None:
    """Yvelines is bridged whole; switching that off and bridging one category instead
    keeps only that category's channels, and the guild rule comes back by command."""
    try:
        said = await ask(stack, admin_carol, f"!bridge remove guild {YVELINES}", "no longer")
        assert "3 channels stopped" in said
        assert int(TRACTAGE) not in await bridged(stack)
        said = await ask(
            stack, admin_carol, f"!bridge add category {CAMPAGNE} public", "now bridged"
        )
        assert "2 channels added" in said
        channels = await bridged(stack)
        assert channels[int(TRACTAGE)] == "public" and channels[int(PORTE)] == "public"
        assert int(ACCUEIL) not in channels
        listing = await ask(stack, admin_carol, "!bridge channels", "Rule:")
        assert f"Rule: every channel of category {CAMPAGNE} in guild {YVELINES}" in listing
        assert f"{TRACTAGE} (public, by category)" in listing
        refused = await ask(stack, admin_carol, "!bridge add category 4100000000000000012", "No ")
        assert "No category 4100000000000000012" in refused  # a text channel, not a category
        # Moved on Discord: into the category, bridged; out of it, no longer (notice).
        assert stack.emulator is not None
        room = await room_of(stack, TRACTAGE)
        stack.emulator.move_channel(str(ACCUEIL), parent_id=str(CAMPAGNE))
        stack.emulator.move_channel(str(TRACTAGE), parent_id=None)
        await eventually(
            lambda: _async(int(ACCUEIL) in channels_now(stack)), "moved in, not bridged"
        )
        await eventually(
            lambda: _async(int(TRACTAGE) not in channels_now(stack)), "moved out, still bridged"
        )
        await admin_carol.join(room)
        await admin_carol.wait_for_event(
            room, lambda e: "no longer bridged" in e["content"].get("body", ""), timeout=15
        )
    finally:
        if stack.emulator is not None:
            stack.emulator.move_channel(str(TRACTAGE), parent_id=str(CAMPAGNE))
            stack.emulator.move_channel(str(ACCUEIL), parent_id=None)
        await ask(stack, admin_carol, f"!bridge remove category {CAMPAGNE}", "no longer")
        await ask(stack, admin_carol, f"!bridge add guild {YVELINES} public", "now bridged")
    assert int(ACCUEIL) in await bridged(stack)


async def test_a_channel_created_in_a_bridged_guild_gets_its_room(
    stack: SandboxStack, matrix_alice: MatrixUser, discord_bob: DiscordUser
) -> None:
    """Nord is bridged whole: a channel created there on Discord is bridged at once."""
    assert stack.emulator is not None and stack.bridge is not None
    created = ChannelID(
        int(stack.emulator.create_channel(str(NORD), "nouveau", parent_id="4100000000000000001"))
    )

    async def portal() -> object:
        return await stack.bridge.ctx.stores.portals.by_channel(created)  # type: ignore[union-attr]

    row = await eventually(portal, "no portal for the new channel", timeout=15)
    assert row.guild_id == NORD and row.access == "public" and row.name == "nouveau"
    text = f"Premier message {uuid.uuid4().hex[:6]}"
    await matrix_alice.join(row.room_id)
    await discord_bob.send(created, text)
    await matrix_alice.wait_for_event(
        row.room_id, lambda e: e["type"] == "m.room.message" and e["content"].get("body") == text
    )
