"""Compressed bodies that expand far beyond their size (for the body-limit tests and benchmarks).

Each is a valid stream of zeros, built without ever holding the expanded data: the gzip one
repeats one fully flushed deflate segment (after Z_FULL_FLUSH a segment refers to nothing before
it, so copies of it make a valid stream), about 1 KB per MiB, so 2 MiB expand to 2 GiB.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

import brotli
import zstandard

MIB = 1024 * 1024
_ZEROS = bytes(MIB)


@lru_cache(maxsize=4)
def gzip_bomb(mib: int) -> bytes:
    """A gzip stream (with a correct CRC and size) of `mib` MiB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(_ZEROS, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + segment * mib + final + struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF)


@lru_cache(maxsize=4)
def brotli_bomb(mib: int) -> bytes:
    """A brotli stream of `mib` MiB of zeros."""
    compressor = brotli.Compressor(quality=5)
    parts = [compressor.process(_ZEROS) for _ in range(mib)]
    parts.append(compressor.finish())
    return b"".join(parts)


@lru_cache(maxsize=4)
def zstd_bomb(mib: int) -> bytes:
    """A zstd frame of `mib` MiB of zeros."""
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    parts = [compressor.compress(_ZEROS) for _ in range(mib)]
    parts.append(compressor.flush())
    return b"".join(parts)
