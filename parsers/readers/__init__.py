"""Readers: one module per file format, each a function ``read(path) -> Grid``.

Contract (every reader): return a :class:`~goalforms.parsers.grid.Grid` whose rows keep their
source location, or raise :class:`~goalforms.errors.UnreadableFile` naming the file and the reason.
The registry maps a file suffix to its reader; the importer uses it to decide what to read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from goalforms.errors import UnsupportedFormat
from goalforms.parsers.grid import Grid
from goalforms.parsers.readers import docx, legacy, pdf, scan, spreadsheet, text

Reader = Callable[[Path], Grid]

READERS: dict[str, Reader] = {
    ".txt": text.read,
    ".docx": docx.read,
    ".pdf": pdf.read,
    ".doc": legacy.read,
    ".wps": legacy.read,
    ".rtf": legacy.read,
    **{suffix: scan.read for suffix in scan.IMAGE_SUFFIXES},
    **{suffix: spreadsheet.read for suffix in (".xlsx", ".xlsm", ".xls", ".et", ".ods")},
}

# Formats we know but cannot read: the message says what to do instead.
REFUSED: dict[str, str] = {}


def reader_for(path: Path) -> Reader:
    """The reader for ``path`` by its suffix, or UnsupportedFormat naming the ones we have."""
    reader = READERS.get(path.suffix.lower())
    if path.suffix.lower() in REFUSED:
        raise UnsupportedFormat(path, f"unsupported file type {path.suffix!r}: {REFUSED[path.suffix.lower()]}")
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise UnsupportedFormat(path, f"unsupported file type {path.suffix or '(none)'!r}; goalforms reads {known}")
    return reader


def read(path: str | Path) -> Grid:
    """Read any supported file into a grid."""
    p = Path(path)
    return reader_for(p)(p)
