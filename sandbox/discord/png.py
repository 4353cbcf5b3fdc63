"""Tiny real PNG images (solid colour with a border), made with zlib + struct."""

from __future__ import annotations

import hashlib
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def solid_png(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    """An RGB ``size`` x ``size`` PNG filled with ``rgb`` and a darker 4 px border."""
    dark = tuple(c // 2 for c in rgb)
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            edge = min(x, y, size - 1 - x, size - 1 - y) < 4
            row.extend(dark if edge else rgb)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def colour_for(key: str) -> tuple[int, int, int]:
    """A stable, reasonably bright colour derived from ``key``."""
    digest = hashlib.sha256(key.encode()).digest()
    return (64 + digest[0] % 192, 64 + digest[1] % 192, 64 + digest[2] % 192)


# Discord's default avatar colours (blurple, grey, green, yellow, red, pink).
DEFAULT_COLOURS = [
    (88, 101, 242),
    (117, 126, 138),
    (59, 165, 93),
    (250, 166, 26),
    (237, 66, 69),
    (235, 69, 158),
]


# A 1x1 transparent GIF, for GIF stickers.
TINY_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or baseline/progressive JPEG; None otherwise."""
    if data[:8] == SIGNATURE and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker = data[i + 1]
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None
