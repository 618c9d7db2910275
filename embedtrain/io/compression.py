"""Compressed files, told apart once: by their magic numbers (never by their names),
with the file-name suffixes they usually have and an estimate of their
decompressed size.

Corpora are read through any of them (corpus/text.py opens them); vectors files
are recognised and refused with a hint (io/formats.py); the Ray input split sizes
its parts by the estimate (distributed/split.py); ``embedtrain train`` strips the
suffixes when it names its outputs (cli/train.py).
"""
from __future__ import annotations

import lzma
import os
import struct

# name -> the bytes a file of it starts with. bzip2's "BZh" is also checked for the
# block-size digit and the magic of its first block (or of its end of stream), so that
# a text starting "BZh" is text.
MAGIC = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00", "zstd": b"\x28\xb5\x2f\xfd"}
BZIP2_BLOCK_MAGICS = (b"1AY&SY", b"\x17rE8P\x90")
SUFFIXES = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "zstd": ".zst"}
HEAD_BYTES = 18   # enough of a file's start for compression_of and a zstd frame header
# Decompressed-to-compressed size ratio assumed when the file does not record its size
# (English text: gzip ~3, zstd ~3.5, bzip2 and xz ~4). It only affects the balance of
# the parts of a Ray run.
ASSUMED_RATIO = {"gzip": 3.0, "bzip2": 4.0, "xz": 4.0, "zstd": 3.5}
NAMES = "gzip, bzip2, xz and zstd"
# What reading a damaged or truncated compressed file raises: gzip (BadGzipFile is an
# OSError) and bzip2 raise OSError or EOFError, xz LZMAError, zstd (corpus/text.py) ValueError.
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, ValueError)


def compression_of(head: bytes) -> str | None:
    """The compression whose magic number starts ``head`` (at least HEAD_BYTES of the
    file, or all of it), if any."""
    for name, magic in MAGIC.items():
        if head.startswith(magic):
            if name == "bzip2" and not (head[3:4].isdigit() and head[4:10] in BZIP2_BLOCK_MAGICS):
                continue
            return name
    return None


def strip_suffix(name: str) -> str:
    """``name`` without a compression suffix (``text8.gz`` -> ``text8``)."""
    for suffix in SUFFIXES.values():
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def decompressed_size(path: str | os.PathLike) -> tuple[int, str | None]:
    """(the decompressed size of ``path``, estimated where the format does not record
    it, and its compression or None). gzip records the size modulo 2**32 (RFC 1952's
    ISIZE, of the last member); a zstd frame may record its content size (RFC 8878)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        kind = compression_of(head)
        if kind is None:
            return size, None
        recorded = None
        if kind == "gzip" and size >= 18:
            f.seek(-4, os.SEEK_END)
            recorded = struct.unpack("<I", f.read(4))[0]
        elif kind == "zstd":
            recorded = zstd_content_size(head)
    if recorded is not None and recorded >= size:
        return recorded, kind
    return int(size * ASSUMED_RATIO[kind]), kind


def zstd_content_size(head: bytes) -> int | None:
    """The Frame_Content_Size of the zstd frame ``head`` starts with, when it has one."""
    if len(head) < 5:
        return None
    descriptor = head[4]
    fcs_flag, single_segment, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    fcs_bytes = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    if fcs_bytes == 0:
        return None
    start = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag]
    field = head[start:start + fcs_bytes]
    if len(field) < fcs_bytes:
        return None
    value = int.from_bytes(field, "little")
    return value + 256 if fcs_bytes == 2 else value
