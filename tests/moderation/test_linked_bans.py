"""A banned Discord user's linked Matrix account is banned with them, and freed with them."""

from __future__ import annotations

from pathlib import Path

from moderation import bans
from moderation.gate import relay_blocked
from tests.moderation.fakes import GUILD, ROOM_A, ROOM_B, moderation_context
from tests.moderation.test_flows import ALICE, DISCORD_MOD, UID


async def test_linked_account_shares_the_ban_and_its_lifting(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await h.stores.links.link(ALICE, UID)
        h.matrix.join_member(ROOM_A, ALICE)
        h.discord.authors[UID] = (DISCORD_MOD, "raiding")
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        row = await h.stores.bans.get("matrix", ALICE, GUILD)
        assert row is not None and row.reason == "raiding"
        assert (ROOM_A, ALICE, "Banned: raiding") in h.matrix.ban_calls
        assert (ROOM_B, ALICE, "Banned: raiding") in h.matrix.ban_calls
        assert await relay_blocked(h.mctx.bridge, ALICE)
        await bans.on_discord_unban(h.mctx, GUILD, UID)
        assert await h.stores.bans.get("matrix", ALICE, GUILD) is None
        assert not await relay_blocked(h.mctx.bridge, ALICE)


async def test_a_separate_matrix_ban_outlives_the_discord_unban(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        await h.stores.links.link(ALICE, UID)
        await bans.ban_matrix_user(
            h.mctx, ALICE, reason="own ban", actor="@admin:example.org", origin="matrix",
            source="matrix",
        )  # fmt: skip
        await bans.on_discord_ban(h.mctx, GUILD, UID)
        await bans.on_discord_unban(h.mctx, GUILD, UID)
        row = await h.stores.bans.get("matrix", ALICE, GUILD)
        assert row is not None and row.reason == "own ban"
