"""Text dumps: tab-separated cells, one table row per line (space-aligned dumps: ``layout_text``).

A dump with no tab and no wide gaps is *flowing* text (a PDF viewer's copy-paste, pdfplumber's
``extract_text()``, ``pdftotext`` without ``-layout``): the cells of a line run together, separated
by single spaces, and only the layout (which knows the labels) can split them. Each line becomes a
one-cell row marked ``flowing`` (``parsers/layouts/flowing.py`` splits it). A form feed starts a new
page, also in the middle of a line (``page.extract_text()`` pages joined by ``\f``): the text after
it is a row of its own, so a title there is never hidden.

UTF-8 (with or without BOM), GB18030/GBK, or UTF-16 with its byte-order mark (Windows "Unicode"
text: Notepad's Unicode, Excel's and Calc's "Unicode Text" export); LF, CRLF or CR line ends. Line numbers are kept
(1-based, as ``cat -n`` counts them) so every parsed value can point back at its line.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Grid, Row, line_location, plain_cell, tab_row
from goalforms.parsers.readers import layout_text
from goalforms.parsers.readers.source import read_source

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Control characters that never occur in a text dump (tab, LF, CR and form feed do).
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


_UTF16 = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode(data: bytes, path: Path) -> str:
    """Bytes to str: UTF-16 when a byte-order mark says so; else UTF-8 first (BOM allowed), then
    GB18030 (a superset of GBK and GB2312)."""
    for bom, codec in _UTF16:
        if data.startswith(bom):
            try:
                return _text_only(data[len(bom):].decode(codec), path)
            except UnicodeDecodeError as error:
                raise UnreadableFile(path, f"not UTF-16 text despite its byte-order mark: undecodable bytes at "
                                           f"offset {error.start + len(bom)}") from None
    if not data.strip():
        raise UnreadableFile(path, "empty file")
    if b"\x00" in data:
        raise UnreadableFile(path, "binary file, not text (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as gb_error:
            raise UnreadableFile(
                path,
                f"not UTF-8 or GB18030 text: undecodable byte 0x{data[gb_error.start]:02x} at offset "
                f"{gb_error.start} (UTF-8 failed at offset {utf8_error.start})",
            ) from None
    return _text_only(text, path)


def _text_only(text: str, path: Path) -> str:
    if not text.strip():
        raise UnreadableFile(path, "empty file")
    controls = len(_BINARY_CONTROL.findall(text))
    if controls > max(3, len(text) // 100):
        raise UnreadableFile(path, f"binary file, not text ({controls} control characters)")
    return text


def read(path: Path) -> Grid:
    """Read a tab-separated text dump into a grid, one row per line."""
    data = read_source(path)
    text = decode(data, path)
    grid = Grid(path=str(path), format="txt", sha256=hashlib.sha256(data).hexdigest())
    # (A plain split when the text has no CR: the same lines, several times faster.)
    lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")
    if layout_text.looks_space_aligned(lines):
        grid.rows = layout_text.rows(lines)
        return grid
    if looks_flowing(lines):
        grid.rows = flowing_rows(lines)
        return grid
    grid.rows = list(map(tab_row, lines, map(line_location, range(1, len(lines) + 1))))
    return grid


def looks_flowing(lines: list[str]) -> bool:
    """No tab anywhere (and not space-aligned, checked before): cells are separated by single spaces."""
    return any(line.strip() for line in lines) and not any("\t" in line for line in lines)


def flowing_rows(lines: list[str]) -> list[Row]:
    """One flowing row per line (per page part of a line); a form feed starts a new page."""
    out: list[Row] = []
    page = 1
    for number, line in enumerate(lines, start=1):
        for n, part in enumerate(line.split("\f")):
            page += 1 if n else 0
            if n and not part.strip():
                continue
            cells = (plain_cell(part.strip(), 0),) if part.strip() else ()
            out.append(Row(cells=cells, where=line_location(number, page), in_table=False, flowing=True))
    return out
