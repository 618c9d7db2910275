"""Reading image files without drawing anything: format, size, and pixels for PNGs."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from xml.etree import ElementTree

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG whose chunks all pass their CRC check and which ends in IEND."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    pos, chunks, size = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    return size


def image_size(path: Path) -> tuple[float, float]:
    """Size of a PNG in pixels, of an SVG or PDF in points."""
    data = Path(path).read_bytes()
    if path.suffix == ".png":
        return png_size(data)
    if path.suffix == ".svg":
        root = ElementTree.fromstring(data)
        assert root.tag.endswith("svg")
        return float(root.get("width").rstrip("pt")), float(root.get("height").rstrip("pt"))
    if path.suffix == ".pdf":
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        import re
        box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
        return float(box.group(1)), float(box.group(2))
    raise ValueError(path)


def png_pixels(data: bytes):
    """The pixels of a PNG as a float array [height, width, channels] (matplotlib's reader)."""
    import io

    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(data), format="png")
