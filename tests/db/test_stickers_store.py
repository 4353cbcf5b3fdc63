"""The sticker table (guild stickers uploaded for the image pack) on both databases,
after running the real migrations."""

from __future__ import annotations

from bridge.db import StickerRow, Stores


async def test_sticker_round_trip(stores: Stores) -> None:
    assert await stores.stickers.by_id(6000000000000000001) is None
    row = StickerRow(2**62 + 7, "Wave", 1, "mxc://x/wave")
    await stores.stickers.put(row)
    assert await stores.stickers.by_id(2**62 + 7) == row
    assert await stores.stickers.by_mxc("mxc://x/wave") == row
    renamed = StickerRow(2**62 + 7, "Big wave", 1, "mxc://x/wave")
    await stores.stickers.put(renamed)
    assert await stores.stickers.by_id(2**62 + 7) == renamed
    assert await stores.stickers.by_mxc("mxc://x/other") is None
