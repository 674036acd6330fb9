"""Text-layer PDF with pdfplumber: ruled tables from the page's lines, text outside them as lines.

Cells and their spans come from the ruling (pdfplumber's table cells), not from guessing at
text positions: a merged cell is one bbox covering several grid rows/columns. Characters are
assigned to cells by their centre and rebuilt into lines in reading order; lines that wrapped
inside a cell are joined, and a line that stops well short of the cell's right edge ends a
paragraph. Tables continued on the next page simply follow as more rows.
"""

from __future__ import annotations

import bisect
import hashlib
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Location, Row
from goalforms.parsers.readers.source import read_source

_SNAP = 2.0  # points: ruling lines closer than this are one line
_ASCII_WORD = regex.compile(r"[A-Za-z0-9.%]")


def _snap(values: Iterable[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _SNAP:
            out.append(v)
    return out


def _index(grid: list[float], value: float) -> int:
    return min(range(len(grid)), key=lambda i: abs(grid[i] - value))


def _lines(chars: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Characters grouped into lines (by vertical overlap), each in reading order."""
    lines: list[list[dict[str, Any]]] = []
    for ch in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])):
        if lines and abs(lines[-1][0]["top"] - ch["top"]) <= max(2.0, 0.3 * ch["size"]):
            lines[-1].append(ch)
        else:
            lines.append([ch])
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]


def _line_text(line: list[dict[str, Any]]) -> str:
    out: list[str] = []
    previous = None
    for ch in line:
        if ch["text"].isspace():
            if out and out[-1] != " ":
                out.append(" ")  # a space glyph the author typed
            continue
        if previous is not None and out[-1] != " " and ch["x0"] - previous["x1"] > 0.35 * ch["size"]:
            # A wide gap without a space glyph is a space too (narrower gaps are the automatic
            # spacing word processors put between Chinese and Latin text).
            out.append(" ")
        out.append(ch["text"])
        previous = ch
    return "".join(out).strip()


def _first_word_width(line: list[dict[str, Any]]) -> float:
    """Width of what could not fit on the line above: a run of ASCII, or one CJK character."""
    visible = [c for c in line if not c["text"].isspace()]
    if not visible:
        return 0.0
    end = visible[0]
    for ch in visible[1:]:
        if not _ASCII_WORD.match(end["text"]) or not _ASCII_WORD.match(ch["text"]) and ch["text"] not in "，。、；：,.;:%)）":
            break
        if ch["x0"] - end["x1"] > 0.2 * ch["size"]:
            break
        end = ch
    return float(end["x1"] - visible[0]["x0"])


def _text(chars: list[dict[str, Any]], right: float | None) -> tuple[str, bool]:
    """The text of a cell (or of a free line when ``right`` is None), and whether its last line
    ran to the cell's right edge (the text may go on: in the next line, or on the next page).

    Wrapped lines are joined; a line ends a paragraph when the first word of the next line
    would have fitted in the room left on it (how a word processor wraps).
    """
    lines = _lines(chars)
    if not lines:
        return "", False
    widths = [c["x1"] - c["x0"] for c in chars if not c["text"].isspace()] or [10.0]
    char_width = statistics.median(widths)
    tops = [min(c["top"] for c in line) for line in lines]
    heights = [max(c["bottom"] for c in line) - top for line, top in zip(lines, tops, strict=True)]
    pitch = statistics.median([b - a for a, b in zip(tops, tops[1:], strict=False)] or [0.0])
    line_height = statistics.median(heights)
    parts: list[str] = []
    for i, line in enumerate(lines):
        text = _line_text(line)
        if i:
            room = right - lines[i - 1][-1]["x1"] if right is not None else 0.0
            # Paragraph spacing: a step between lines clearly larger than the others.
            spaced = tops[i] - tops[i - 1] > max(pitch, line_height) * 1.15 + 1.0
            if right is not None and (spaced or room > _first_word_width(line) + 1.5 * char_width):
                parts.append("\n")
            elif lines[i - 1][-1]["text"] == " " or (
                _ASCII_WORD.match(parts[-1][-1:] or "") and _ASCII_WORD.match(text[:1])
            ):
                parts.append(" ")
        parts.append(text)
    full = right is not None and right - lines[-1][-1]["x1"] <= 2 * char_width
    return "".join(parts).strip(), full


def _inside(ch: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    x = (ch["x0"] + ch["x1"]) / 2
    y = (ch["top"] + ch["bottom"]) / 2
    return bbox[0] <= x < bbox[2] and bbox[1] <= y < bbox[3]


@dataclass
class _Placed:
    top: float
    row: Row
    full: set[int] = field(default_factory=set)  # columns whose text ran to the cell's right edge


def _page_rows(page: Any, page_no: int, first_table: int) -> tuple[list[_Placed], int]:
    """Rows of one page in reading order: ruled tables' rows and the free lines around them."""
    chars = [c for c in page.chars if c["text"].strip() or c["text"] == " "]
    placed: list[_Placed] = []
    table_no = first_table
    claimed: set[int] = set()
    for table in page.find_tables():
        table_no += 1
        cells = table.cells
        xs = _snap(v for c in cells for v in (c[0], c[2]))
        ys = _snap(v for c in cells for v in (c[1], c[3]))
        by_row: dict[int, list[tuple[Cell, bool]]] = {}
        # Bucket the table's characters by grid row once, so each cell looks only at its rows.
        x0, top, x1, bottom = table.bbox
        band: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for ch in chars:
            y = (ch["top"] + ch["bottom"]) / 2
            if top <= y < bottom and x0 <= (ch["x0"] + ch["x1"]) / 2 < x1:
                band[max(0, bisect.bisect_right(ys, y) - 1)].append(ch)
        for bbox in cells:
            first, last = _index(ys, bbox[1]), _index(ys, bbox[3])
            inside = [c for r in range(first, max(first + 1, last)) for c in band.get(r, ()) if _inside(c, bbox)]
            claimed.update(id(c) for c in inside)
            col, row = _index(xs, bbox[0]), _index(ys, bbox[1])
            text, full = _text(inside, bbox[2])
            cell = Cell(
                text,
                col,
                row_span=max(1, _index(ys, bbox[3]) - row),
                col_span=max(1, _index(xs, bbox[2]) - col),
                bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
            )
            by_row.setdefault(row, []).append((cell, full))
        for row_index in sorted(by_row):
            row_cells = sorted(by_row[row_index], key=lambda item: item[0].col)
            top = ys[row_index]
            where = Location(page=page_no, table=table_no, row=row_index + 1,
                             bbox=(xs[0], top, xs[-1], ys[min(row_index + 1, len(ys) - 1)]))
            placed.append(_Placed(top, Row(tuple(c for c, _ in row_cells), where, in_table=True),
                                  {c.col for c, full in row_cells if full and c.text}))
    free = [c for c in chars if id(c) not in claimed and c["text"].strip()]
    for line in _lines(free):
        top = min(c["top"] for c in line)
        bbox = (min(c["x0"] for c in line), top, max(c["x1"] for c in line), max(c["bottom"] for c in line))
        placed.append(_Placed(top, Row((Cell(_line_text(line), 0),), Location(page=page_no, bbox=bbox), in_table=False)))
    placed.sort(key=lambda item: item.top)
    return placed, table_no


def _continues(last: _Placed, first: _Placed) -> bool:
    """Is ``first`` (top of a page) the rest of ``last`` (bottom of the page before), a table row
    split by the page break? Yes when every text of ``first`` stands under a cell of ``last``
    whose text ran to the right edge (it was still going), and ``first`` is missing some cell
    that ``last`` has (a new row would bring its own target)."""
    if not (last.row.in_table and first.row.in_table):
        return False
    above = {c.col: c for c in last.row.filled}
    below = first.row.filled
    return bool(below) and all(c.col in above and c.col in last.full for c in below) and len(below) < len(above)


def _stitch(last: _Placed, first: _Placed) -> Row:
    texts = {c.col: c.text for c in first.row.filled}
    cells = []
    for cell in last.row.cells:
        extra = texts.get(cell.col, "")
        joiner = " " if extra and _ASCII_WORD.match(cell.text[-1:]) and _ASCII_WORD.match(extra[:1]) else ""
        cells.append(Cell(cell.text + joiner + extra, cell.col, cell.row_span, cell.col_span) if extra else cell)
    return Row(tuple(cells), last.row.where, in_table=True)


def read(path: Path) -> Grid:
    """Read a text-layer PDF into a grid, page by page."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    from goalforms.parsers.readers import scan

    data = read_source(path)
    if not data.lstrip()[:5] == b"%PDF-":
        raise UnreadableFile(path, "not a PDF file (no %PDF header)")
    grid = Grid(path=str(path), format="pdf", sha256=hashlib.sha256(data).hexdigest())
    try:
        with pdfplumber.open(path) as pdf:
            if not pdf.pages:
                raise UnreadableFile(path, "PDF has no pages")
            scan.check_page_count(path, len(pdf.pages))
            ocr = scan.OcrBudget(path)
            tables = 0
            text_chars = 0
            last: _Placed | None = None
            for page_no, page in enumerate(pdf.pages, start=1):
                if scan.usable_text_layer([c["text"] for c in page.chars]):
                    placed, tables = _page_rows(page, page_no, tables)
                elif not any(c["text"].strip() for c in page.chars) and scan.blank_pdf_page(page):
                    placed = []  # a blank page (no characters, no ink): nothing to OCR
                else:  # an image page (a scan) or a text layer of garbage: OCR
                    ocr.take()
                    placed, tables = scan.pdf_page_placed(page, page_no, tables)
                    grid.format = "scan"
                text_chars += sum(len(p.row.text("")) for p in placed)
                if last is not None and placed and _continues(last, placed[0]):
                    grid.rows[-1] = _stitch(last, placed.pop(0))
                grid.rows.extend(p.row for p in placed)
                last = placed[-1] if placed else last
                page.flush_cache()  # large PDFs: keep memory flat, page by page
    except UnreadableFile:
        raise
    except PDFPasswordIncorrect:
        raise UnreadableFile(path, "encrypted PDF (password protected)") from None
    except Exception as exc:  # pdfminer raises many kinds on broken files
        reason = "encrypted PDF (password protected)" if "password" in str(exc).lower() or \
            "PDFPasswordIncorrect" in repr(exc) else f"broken PDF: {exc.__class__.__name__}: {exc}"
        raise UnreadableFile(path, reason) from None
    if text_chars == 0:
        raise UnreadableFile(path, "PDF has no text layer and OCR found no text on its pages (a blank scan?)")
    return grid
