"""Readers: one module per file format, each a function ``read(path) -> Grid``.

Contract (every reader): return a :class:`~goalforms.parsers.grid.Grid` whose rows keep their
source location, or raise :class:`~goalforms.errors.UnreadableFile` naming the file and the reason.

A file is read by what it *is*, not by its name: :func:`reader_for` sniffs the content
(``sniff.py``: magic bytes, zip entries, OLE2 streams, the start of the text) and picks the
reader of that kind, so an HTML table saved as ``.xls``, a ``.txt`` holding HTML or a Word file
without an extension are all read. The suffix table ``READERS`` only says which files a folder
import picks up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from goalforms.parsers.grid import Grid
from goalforms.parsers.readers import docx, html, legacy, limits, pdf, scan, sniff, spreadsheet, text

Reader = Callable[[Path], Grid]


SPREADSHEET: Reader = spreadsheet.read

# Kind (as sniff() names it) -> reader.
KINDS: dict[str, Reader] = {
    "txt": text.read,
    "html": html.read,
    "docx": docx.read,
    "pdf": pdf.read,
    "scan": scan.read,
    **{kind: legacy.read for kind in legacy.KINDS},
    "xlsx": SPREADSHEET,
    "xls": SPREADSHEET,
    "ods": SPREADSHEET,
}

# The suffixes a folder import picks up, with the kind such a file usually is. Which reader
# reads a file is decided by its content, not by this table.
SUFFIX_KINDS: dict[str, str] = {
    ".txt": "txt",
    ".html": "html",
    ".htm": "html",
    ".mht": "html",
    ".mhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
    **{suffix: kind for kind, suffixes in legacy.SUFFIXES.items() for suffix in suffixes},
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".et": "xls",
    ".ods": "ods",
    **{suffix: "scan" for suffix in scan.IMAGE_SUFFIXES},
}
READERS: dict[str, Reader] = {suffix: KINDS[kind] for suffix, kind in SUFFIX_KINDS.items()}


def worth_reading(path: Path) -> bool:
    """Whether a folder import should try ``path``: a known suffix, or none at all (downloads
    lose their extension; the content says what they are)."""
    return path.suffix.lower() in READERS or not path.suffix


# Kinds whose files are never plain text: a file named so that sniffs as text is a damaged one
# of that kind (a cut download, a wrong file), and that kind's reader says what is wrong with it.
# Spreadsheet suffixes are not among them: budget systems export tab-separated text as .xls.
_NEVER_TEXT = {"pdf", "docx", "scan", "odt", "ods", "xlsx", *legacy.KINDS} - {"rtf"}


def reader_for(path: Path) -> Reader:
    """The reader for what ``path`` holds (by content); UnreadableFile / UnsupportedFormat saying
    what the file is when it cannot be read."""
    claimed = SUFFIX_KINDS.get(path.suffix.lower(), "")
    try:
        kind = sniff.sniff(path)
    except sniff.Unidentified:
        if claimed in _NEVER_TEXT:
            return KINDS[claimed]  # e.g. a .docx zip without word/document.xml: the docx reader says so
        raise
    if kind == "txt" and claimed in _NEVER_TEXT:
        return KINDS[claimed]
    return KINDS[kind]


def read(path: str | Path) -> Grid:
    """Read any supported file into a grid."""
    p = Path(path)
    limits.check_file(p)  # a regular file within the size limits, a zip that is no bomb: before sniffing opens it
    return reader_for(p)(p)
