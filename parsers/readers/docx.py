"""Word (.docx) files with python-docx: paragraphs and tables in document order.

python-docx's ``row.cells`` repeats a vertically merged cell in every row it covers (the text
looks filled down), so the table XML is read directly: ``w:gridSpan`` gives the column span,
``w:vMerge`` (restart / continue) the row span. A merged cell is emitted once, at its first row,
with its spans; the rows it covers get a blank cell there — exactly what the layout parsers
expect from a merged cell.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Location, Row
from goalforms.parsers.readers.limits import check_zip
from goalforms.parsers.readers.source import read_source

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _paragraph_text(p: Any) -> str:
    """Text of a w:p element: runs, tabs and breaks (python-docx's Paragraph.text does the same)."""
    from docx.text.paragraph import Paragraph

    return str(Paragraph(p, None).text)  # type: ignore[arg-type]  # text needs no parent part


def _cell_text(tc: Any) -> str:
    # Several paragraphs in a cell are several lines; nested tables are read as their text.
    return "\n".join(_paragraph_text(p) for p in tc.iter(f"{_W}p"))


def _table_rows(tbl: Any, table_no: int) -> list[Row]:
    """Rows of a w:tbl with spans from gridSpan and vMerge."""
    raw: list[list[dict[str, Any]]] = []
    for tr in tbl.findall(f"{_W}tr"):
        col = 0
        trpr = tr.find(f"{_W}trPr")
        if trpr is not None:
            before = trpr.find(f"{_W}gridBefore")
            if before is not None:
                col += int(before.get(f"{_W}val", "0"))
        cells = []
        for tc in tr.findall(f"{_W}tc"):
            tcpr = tc.find(f"{_W}tcPr")
            span, vmerge = 1, None
            if tcpr is not None:
                grid_span = tcpr.find(f"{_W}gridSpan")
                if grid_span is not None:
                    span = int(grid_span.get(f"{_W}val", "1"))
                merge = tcpr.find(f"{_W}vMerge")
                if merge is not None:
                    vmerge = merge.get(f"{_W}val", "continue")
            cells.append({"col": col, "span": span, "vmerge": vmerge, "text": _cell_text(tc)})
            col += span
        raw.append(cells)
    rows = []
    for r, cells in enumerate(raw):
        out = []
        for cell in cells:
            if cell["vmerge"] == "continue":
                out.append(Cell("", cell["col"], col_span=cell["span"]))
                continue
            row_span = 1
            if cell["vmerge"] == "restart":
                for below in raw[r + 1 :]:
                    if any(c["col"] == cell["col"] and c["vmerge"] == "continue" for c in below):
                        row_span += 1
                    else:
                        break
            out.append(Cell(cell["text"], cell["col"], row_span=row_span, col_span=cell["span"]))
        rows.append(Row(tuple(out), Location(table=table_no, row=r + 1), in_table=True))
    return rows


def read(path: Path) -> Grid:
    """Read a .docx into a grid: each paragraph a free row, each table row a row of cells."""
    data = read_source(path)
    if not zipfile.is_zipfile(path):
        raise UnreadableFile(path, "not a Word .docx file (not a zip archive)")
    # Sizes and entry counts from the zip directory, before python-docx decompresses anything
    # (a zip bomb fails here); python-docx's own XML parser never resolves entities.
    check_zip(path)
    try:
        with zipfile.ZipFile(path) as archive:
            if "word/document.xml" not in archive.namelist():
                raise UnreadableFile(path, "not a Word .docx file (the zip holds no word/document.xml)")
        import docx

        document = docx.Document(str(path))
    except UnreadableFile:
        raise
    except Exception as exc:  # python-docx raises many kinds on broken files
        raise UnreadableFile(path, f"broken .docx file: {exc.__class__.__name__}: {exc}") from None
    grid = Grid(path=str(path), format="docx", sha256=hashlib.sha256(data).hexdigest())
    paragraph_no = table_no = 0
    for element in document.element.body.iterchildren():
        if element.tag == f"{_W}p":
            paragraph_no += 1
            grid.rows.append(
                Row((Cell(_paragraph_text(element), 0),), Location(paragraph=paragraph_no), in_table=False)
            )
        elif element.tag == f"{_W}tbl":
            table_no += 1
            grid.rows.extend(_table_rows(element, table_no))
    return grid
