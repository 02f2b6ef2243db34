"""Pictures for upload tests."""

from __future__ import annotations

import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def bomb_png(width: int = 13000, height: int = 13000, name: str = "bomb.png"):
    """A valid black-and-white PNG of width × height: a few tens of kilobytes on disk,
    hundreds of megabytes once decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed 1-bit pixels
    data = zlib.compress(row * height, 9)
    png = (b"\x89PNG\r\n\x1a\n"
           + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
           + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b""))
    return SimpleUploadedFile(name, png, content_type="image/png")
