"""A minimal OLE2 compound file (the container of .doc, .xls, .wps, .et) for tests: named streams
of filler bytes, enough for a reader that looks at stream names (no Office needed to make one).

Version 3 layout, 512-byte sectors: header, one FAT sector, one directory sector (root + up to
three streams), then each stream padded to 4096 bytes so that none lives in the mini stream.
"""

from __future__ import annotations

import struct

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STREAM_SIZE = 4096  # the mini-stream cutoff: streams this large live in ordinary sectors
SECTORS_PER_STREAM = STREAM_SIZE // 512


def _entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", left, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
            + struct.pack("<IIq", start, size, 0)[:12])


def compound_file(*stream_names: str) -> bytes:
    """An OLE2 file holding streams of these names (at most three)."""
    assert 1 <= len(stream_names) <= 3
    fat = [FATSECT, END]
    entries = []
    for n, name in enumerate(stream_names):
        start = 2 + n * SECTORS_PER_STREAM
        fat += [start + k + 1 for k in range(SECTORS_PER_STREAM - 1)] + [END]
        right = n + 2 if n + 1 < len(stream_names) else NOSTREAM
        entries.append(_entry(name, 2, NOSTREAM, right, NOSTREAM, start, STREAM_SIZE))
    root = _entry("Root Entry", 5, NOSTREAM, NOSTREAM, 1, END, 0)
    directory = b"".join([root, *entries]).ljust(512, b"\0")
    # Unused directory slots must say "no siblings, no child".
    directory = directory[: 128 * (1 + len(entries))] + b"".join(
        _entry("", 0, NOSTREAM, NOSTREAM, NOSTREAM, 0, 0) for _ in range(3 - len(entries)))
    fat_sector = b"".join(struct.pack("<I", v) for v in fat + [FREE] * (128 - len(fat)))
    header = (SIGNATURE + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREE) * 108)
    assert len(header) == 512
    streams = b"".join(bytes([65 + n]) * STREAM_SIZE for n in range(len(stream_names)))
    return header + fat_sector + directory + streams
