"""account_link and link_code (alembic 0005) on both databases, after the real migrations."""

from __future__ import annotations

import asyncio

import pytest

from bridge.db import LinkRow, LinkStore, Stores
from bridge.db.migrate import current_revision
from bridge.ids import DiscordUserID, UserID

ALICE_MX = UserID("@alice:x")
BOB_MX = UserID("@bob:x")
ALICE_DC = DiscordUserID(2000000000000000001)
BOB_DC = DiscordUserID(2000000000000000002)
BIG_DC = DiscordUserID(2**63 - 1)  # the largest snowflake a BIGINT holds
TTL = 600_000


async def test_schema_is_at_0005_or_later(stores: Stores, database_url: str) -> None:
    revision = await current_revision(database_url)
    assert revision is not None and revision >= "0005"


# -- account_link -------------------------------------------------------------------


async def test_link_round_trip_and_lookups(stores: Stores) -> None:
    links = stores.links
    assert await links.by_matrix(ALICE_MX) is None
    assert await links.by_discord(ALICE_DC) is None
    assert await links.link(ALICE_MX, ALICE_DC, now_ms=1000) == []
    row = LinkRow(ALICE_MX, ALICE_DC, 1000)
    assert await links.by_matrix(ALICE_MX) == row
    assert await links.by_discord(ALICE_DC) == row
    # Linking the same pair again changes nothing (linked_at kept).
    assert await links.link(ALICE_MX, ALICE_DC, now_ms=5000) == []
    assert await links.all() == [row]
    assert await links.link(BOB_MX, BIG_DC, now_ms=2000) == []
    assert await links.all() == [row, LinkRow(BOB_MX, BIG_DC, 2000)]
    assert (await links.by_discord(BIG_DC)) == LinkRow(BOB_MX, BIG_DC, 2000)


async def test_link_replaces_older_links_of_either_side(stores: Stores) -> None:
    links = stores.links
    await links.link(ALICE_MX, ALICE_DC, now_ms=1000)
    await links.link(BOB_MX, BOB_DC, now_ms=2000)
    # Alice's Matrix account now claims Bob's Discord account: both old links go.
    replaced = await links.link(ALICE_MX, BOB_DC, now_ms=3000)
    assert replaced == [LinkRow(ALICE_MX, ALICE_DC, 1000), LinkRow(BOB_MX, BOB_DC, 2000)]
    assert await links.all() == [LinkRow(ALICE_MX, BOB_DC, 3000)]
    assert await links.by_matrix(BOB_MX) is None
    assert await links.by_discord(ALICE_DC) is None
    # Only the Matrix side was linked before.
    assert await links.link(ALICE_MX, ALICE_DC, now_ms=4000) == [LinkRow(ALICE_MX, BOB_DC, 3000)]
    # Only the Discord side was linked before.
    assert await links.link(BOB_MX, ALICE_DC, now_ms=5000) == [LinkRow(ALICE_MX, ALICE_DC, 4000)]
    assert await links.all() == [LinkRow(BOB_MX, ALICE_DC, 5000)]


async def test_unlink_either_side(stores: Stores) -> None:
    links = stores.links
    await links.link(ALICE_MX, ALICE_DC, now_ms=1000)
    await links.link(BOB_MX, BOB_DC, now_ms=2000)
    assert await links.unlink_matrix(ALICE_MX) == LinkRow(ALICE_MX, ALICE_DC, 1000)
    assert await links.unlink_matrix(ALICE_MX) is None
    assert await links.unlink_discord(BOB_DC) == LinkRow(BOB_MX, BOB_DC, 2000)
    assert await links.unlink_discord(BOB_DC) is None
    assert await links.all() == []


async def test_concurrent_links_keep_each_side_unique(stores: Stores) -> None:
    # Two stores (two writers, each serialising its own links) over one database.
    writers = [stores.links, LinkStore(stores.db)]
    mxids = [UserID(f"@u{i}:x") for i in range(8)]
    await asyncio.gather(
        *(writers[i % 2].link(mxid, ALICE_DC, now_ms=1000 + i) for i, mxid in enumerate(mxids))
    )
    rows = await stores.links.all()
    assert len(rows) == 1 and rows[0].discord_id == ALICE_DC and rows[0].mxid in mxids


# -- link_code ----------------------------------------------------------------------


async def test_code_create_take_once(stores: Stores) -> None:
    codes = stores.link_codes
    row = await codes.create("ABCD1234", "m2d", mxid=ALICE_MX, now_ms=1000, ttl_ms=TTL)
    assert row is not None and row.expires_at == 1000 + TTL and not row.used
    assert await codes.get("ABCD1234") == row
    taken = await codes.take("ABCD1234", 2000)
    assert taken is not None and taken.used and taken.mxid == ALICE_MX
    assert taken.direction == "m2d" and taken.discord_id is None
    assert await codes.take("ABCD1234", 2000) is None  # used
    assert await codes.take("NOPE0000", 2000) is None  # unknown


async def test_code_expiry_and_direction(stores: Stores) -> None:
    codes = stores.link_codes
    await codes.create("EXPD0001", "d2m", discord_id=BOB_DC, now_ms=1000, ttl_ms=TTL)
    assert await codes.take("EXPD0001", 1000 + TTL) is None  # expiry is exclusive
    assert await codes.take("EXPD0001", 1000 + TTL - 1, direction="m2d") is None
    taken = await codes.take("EXPD0001", 1000 + TTL - 1, direction="d2m")
    assert taken is not None and taken.discord_id == BOB_DC and taken.mxid is None


async def test_code_collision_and_one_outstanding_code_per_requester(stores: Stores) -> None:
    codes = stores.link_codes
    assert await codes.create("SAME0001", "m2d", mxid=ALICE_MX, now_ms=1, ttl_ms=TTL)
    assert await codes.create("SAME0001", "d2m", discord_id=BOB_DC, now_ms=2, ttl_ms=TTL) is None
    # Alice asks again: her first code is withdrawn, Bob's unrelated code stays.
    await codes.create("BOBS0001", "m2d", mxid=BOB_MX, now_ms=3, ttl_ms=TTL)
    assert await codes.create("NEWR0001", "m2d", mxid=ALICE_MX, now_ms=4, ttl_ms=TTL)
    assert await codes.get("SAME0001") is None
    assert await codes.take("SAME0001", 5) is None
    assert await codes.get("BOBS0001") is not None
    assert await codes.take("NEWR0001", 5) is not None


async def test_code_requires_its_requester(stores: Stores) -> None:
    codes = stores.link_codes
    with pytest.raises(ValueError, match="mxid"):
        await codes.create("X0000001", "m2d", discord_id=BOB_DC, now_ms=1, ttl_ms=TTL)
    with pytest.raises(ValueError, match="Discord"):
        await codes.create("X0000002", "d2m", mxid=ALICE_MX, now_ms=1, ttl_ms=TTL)
    with pytest.raises(ValueError, match="direction"):
        await codes.create("X0000003", "sideways", mxid=ALICE_MX, now_ms=1, ttl_ms=TTL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl"):
        await codes.create("X0000004", "m2d", mxid=ALICE_MX, now_ms=1, ttl_ms=0)


async def test_concurrent_takes_succeed_once(stores: Stores) -> None:
    codes = stores.link_codes
    await codes.create("RACE0001", "m2d", mxid=ALICE_MX, now_ms=1000, ttl_ms=TTL)
    results = await asyncio.gather(*(codes.take("RACE0001", 2000) for _ in range(10)))
    assert sum(r is not None for r in results) == 1


async def test_purge_expired(stores: Stores) -> None:
    codes = stores.link_codes
    await codes.create("OLD00001", "m2d", mxid=ALICE_MX, now_ms=0, ttl_ms=10)
    await codes.create("USED0001", "m2d", mxid=BOB_MX, now_ms=0, ttl_ms=TTL)
    await codes.create("LIVE0001", "d2m", discord_id=BOB_DC, now_ms=0, ttl_ms=TTL)
    assert await codes.take("USED0001", 5) is not None
    assert await codes.purge_expired(10) == 2
    assert await codes.get("LIVE0001") is not None
    assert await codes.purge_expired(10) == 0
