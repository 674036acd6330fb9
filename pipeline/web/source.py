"""The source beside a parsed form: the text lines of a text file, the tables of a Word file, the
page images of a PDF or scan with the rows outlined.

Locations are the strings the parse stored (``line 121``, ``page 1, line 23``, ``table 9, row 2``,
``page 3, table 9, row 2``); the pane marks the source elements with the same key, so that the
page can link a parsed value and its source both ways. The file is read again from its imported
path (only that path: a request never names a file). A page image is served only for a form in
the user's scope, and only a page of that form.

Where each value was read — its page and cell box (PDF, scan), its sheet and cell (spreadsheet) —
comes from the store (``Form.provenance``: the form's origins the loader stored as one JSON value,
``form_origins``): showing a
page never parses the file again. A PDF or scan page is rendered as an image (pypdfium2) with
the cells of the form's values outlined, flagged ones in red, and the first flagged cell shown
enlarged; an .xlsx sheet is shown as its cells (openpyxl, values only) with the flagged cells
marked (.xls alike, xlrd). Word, ODT, HTML and .ods files are shown as the tables their reader
found, from the rows the loader stored (``source_grids``, texts only), the cells of flagged values
marked from the provenance; a document imported before those rows were stored is read again
(cached), and the page says so.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import object_session

from goalforms.errors import GoalformsError
from goalforms.parsers import readers
from goalforms.parsers.grid import Grid, Location, Row, sheet_ref
from goalforms.parsers.readers import pdf as pdf_reader
from goalforms.parsers.readers.text import decode
from goalforms.pipeline.parse import STORED_GRID_FORMATS
from goalforms.pipeline.scope import Scope
from goalforms.pipeline.web.deps import DbSession, Scoped
from goalforms.schema import models

router = APIRouter()

RENDER_SCALE = 1.5  # 108 dpi: cell text readable, a page about 900 px wide
MAX_PAGES = 6
_LINE = re.compile(r"\bline (\d+)\b")
_PAGE = re.compile(r"\bpage (\d+)\b")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
# pdfium is not thread-safe and FastAPI runs page handlers in a thread pool.
_PDF_LOCK = threading.Lock()


def loc_key(where: str | None) -> str | None:
    """The key that ties a stored location to its source element: ``line N`` for text dumps
    (a layout dump also names the page), the whole location otherwise."""
    if not where:
        return None
    m = _LINE.search(where)
    return f"line {m.group(1)}" if m else where.strip()


@dataclass
class Flag:
    message: str
    resolved: bool


@dataclass
class Line:
    number: int
    text: str
    key: str
    flags: list[Flag]


@dataclass
class TableRow:
    key: str
    cells: list[tuple[str, int]]  # text, column span
    flags: list[Flag]
    marks: list[str] = field(default_factory=list)  # per cell: "" or "flag" (a flagged value's cell)


@dataclass
class Block:
    """A paragraph (one cell, no table) or a table of the Word file."""

    table: int | str | None  # a table's number, or a sheet's name
    rows: list[TableRow]


@dataclass
class Box:
    key: str
    x0: float
    top: float
    width: float
    height: float
    flagged: bool
    field: str = ""  # the value's field path (``indicators[3].raw``)


@dataclass
class Page:
    number: int
    width: float
    height: float
    boxes: list[Box]


@dataclass
class Zoom:
    """The first flagged cell enlarged: a part of its page (``view``: x, y, width, height in the
    page's units) around the cell's box."""

    page: Page
    box: Box
    view: tuple[float, float, float, float]


@dataclass
class Pane:
    kind: str  # lines | blocks | pages | none
    notice: str | None = None
    lines: list[Line] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    document_id: int = 0
    zoom: Zoom | None = None


def _file(document: models.SourceDocument) -> tuple[Path, bytes, str | None]:
    """The imported file's bytes, and a notice if it changed since the import."""
    path = Path(document.path)
    data = path.read_bytes()
    notice = None
    if hashlib.sha256(data).hexdigest() != document.sha256:
        notice = "the file has changed since it was imported: the source shown may not match the parse"
    return path, data, notice


# Spreadsheets shown by cell address from the values' provenance; the other grid formats from the
# rows stored at import. Both are the grid of tables the reader found.
_SHEETS = ("xlsx", "xls")
_GRID_FORMATS = STORED_GRID_FORMATS + _SHEETS


def build_pane(document: models.SourceDocument, form: models.Form, flags: dict[str, list[Flag]],
               keys: set[str], fields: dict[str, list[Flag]] | None = None) -> Pane:
    """The source pane of one form. ``flags``: messages by location key; ``keys``: the locations of
    the form's values; ``fields``: messages by field path (the cells of flagged values are marked)."""
    fields = fields or {}
    next_start = _next_start(document, form)
    try:
        path, data, notice = _file(document)
    except OSError as exc:
        missing = f"the source file cannot be read at {document.path}: {exc.strerror or exc}"
        if document.format in _GRID_FORMATS and (stored := _stored_rows(document)):
            pane = _stored_blocks(stored, form, next_start, flags, fields)  # the store has all it shows
            pane.notice, pane.document_id = missing, document.id
            return pane
        return Pane("none", missing)
    try:
        if document.format == "txt":
            pane = _lines(path, data, form.source_location, next_start, flags)
        elif document.format in _SHEETS and form.provenance:  # imported before 0009: as below
            pane = _sheets(path, document.format, form, flags, fields)
        elif document.format in _GRID_FORMATS and (stored := _stored_rows(document)):
            pane = _stored_blocks(stored, form, next_start, flags, fields)
        elif document.format in _GRID_FORMATS:
            pane = _blocks(_grid(str(path), hashlib.sha256(data).hexdigest(), document.format),
                           form.source_location, next_start, flags)
            if document.format not in _SHEETS:
                pane.notice = ("no source grid is stored for this file (imported before it was): its tables "
                               "are read from the file again")
        elif document.format in ("pdf", "scan"):
            pane = _pages(path, data, form, next_start, flags, fields)
        else:
            pane = Pane("none", f"no source view for {document.format} files")
    except GoalformsError as exc:
        pane = Pane("none", f"the source file cannot be shown: {exc.reason}")
    pane.notice = notice or pane.notice
    pane.document_id = document.id
    return pane


def _next_start(document: models.SourceDocument, form: models.Form) -> str | None:
    later = [f for f in document.forms if f.ordinal == form.ordinal + 1]
    return later[0].source_location if later else None


def _lines(path: Path, data: bytes, start: str | None, end: str | None, flags: dict[str, list[Flag]]) -> Pane:
    lines = _LINE_BREAK.split(decode(data, path))
    first = _number(_LINE, start) or 1
    stop = (_number(_LINE, end) or len(lines) + 1) - 1
    shown = [
        Line(n, lines[n - 1], f"line {n}", flags.get(f"line {n}", []))
        for n in range(max(1, first), min(stop, len(lines)) + 1)
    ]
    return Pane("lines", lines=shown)


def _number(pattern: re.Pattern[str], where: str | None) -> int | None:
    m = pattern.search(where or "")
    return int(m.group(1)) if m else None


@lru_cache(maxsize=16)
def _grid(path: str, sha256: str, kind: str) -> Grid:
    """The file's grid, read again (cached by content: a changed file is read anew)."""
    reader = pdf_reader.read if kind in ("pdf", "scan") else readers.read
    return reader(Path(path))


def _blocks(grid: Grid, start: str | None, end: str | None, flags: dict[str, list[Flag]]) -> Pane:
    rows = _between(grid.rows, start, end)
    blocks: list[Block] = []
    for row in rows:
        key = loc_key(str(row.where)) or str(row.where)  # the key issues are filed under (HTML rows have lines)
        view = TableRow(key, [(cell.text, cell.col_span) for cell in row.cells], flags.get(key, []))
        table = row.where.table if row.where.table is not None else row.where.sheet
        if table is not None and blocks and blocks[-1].table == table:
            blocks[-1].rows.append(view)
        else:
            blocks.append(Block(table, [view]))
    return Pane("blocks", blocks=blocks)


def _stored_rows(document: models.SourceDocument) -> list[models.SourceGrid]:
    session = object_session(document)
    if session is None:
        return []
    return list(session.scalars(select(models.SourceGrid).where(models.SourceGrid.document_id == document.id)
                                .order_by(models.SourceGrid.position)))


def _row_number(ref: str | None) -> int | None:
    """The row of an A1 reference (``表1!C7`` → 7)."""
    m = re.search(r"(\d+)$", ref or "")
    return int(m.group(1)) if m else None


def _value_cells(form: models.Form, fields: dict[str, list[Flag]]) -> dict[tuple[str, int], bool]:
    """The stored cells of the form's values, by (row key, grid column): flagged or not. A row
    key is ``sheet:row`` for a sheet, the location key otherwise."""
    found: dict[tuple[str, int], bool] = {}
    for p in form.provenance:
        if p.source_col is None:
            continue
        if p.sheet is not None:
            row = f"{p.sheet}:{_row_number(p.cell)}"
        else:
            row = loc_key(_row_location(p)) or ""
        flagged = any(not f.resolved for f in _field_flags(fields, p.field))
        found[(row, p.source_col)] = found.get((row, p.source_col), False) or flagged
    return found


def _stored_blocks(stored: list[models.SourceGrid], form: models.Form, end: str | None,
                   flags: dict[str, list[Flag]], fields: dict[str, list[Flag]]) -> Pane:
    """A form's tables from the stored grid rows (no reader runs), its values' cells marked."""
    locations = [r.location for r in stored]
    start = form.source_location
    first = locations.index(start) if start in locations else 0
    last = locations.index(end, first + 1) if end in locations[first + 1:] else len(stored)
    values = _value_cells(form, fields)
    blocks: list[Block] = []
    focused = False
    for row in stored[first:last]:
        key = loc_key(row.location) or row.location
        row_key = f"{row.sheet}:{_row_number(row.location)}" if row.sheet is not None else key
        marks: list[str] = []
        for _text, span, _row_span, col in row.cells:
            hits = [values[(row_key, c)] for c in range(col, col + max(1, span)) if (row_key, c) in values]
            mark = "flag" if any(hits) else ("value" if hits else "")
            if mark == "flag" and not focused:  # the first flagged cell is where the pane opens (app.js)
                mark, focused = "flag focus", True
            marks.append(mark)
        view = TableRow(key, [(text, span) for text, span, _row_span, _col in row.cells], flags.get(key, []), marks)
        table = row.source_table if row.source_table is not None else row.sheet
        if table is not None and blocks and blocks[-1].table == table:
            blocks[-1].rows.append(view)
        else:
            blocks.append(Block(table, [view]))
    return Pane("blocks", blocks=blocks)


def _between(rows: list[Row], start: str | None, end: str | None) -> list[Row]:
    """The rows of one form: from the row at its start location to the row where the next begins."""
    keys = [str(r.where) for r in rows]
    first = keys.index(start) if start in keys else 0
    last = keys.index(end, first + 1) if end in keys[first + 1:] else len(rows)
    return rows[first:last]


def _pages(path: Path, data: bytes, form: models.Form, next_start: str | None,
           flags: dict[str, list[Flag]], fields: dict[str, list[Flag]]) -> Pane:
    sizes = _page_sizes(str(path), hashlib.sha256(data).hexdigest())
    numbers = _form_pages(form, next_start, len(sizes))
    boxes = _boxes(form, flags, fields)
    pages = [Page(n, sizes[n - 1][0], sizes[n - 1][1], boxes.get(n, [])) for n in numbers]
    notice = None
    if not any(boxes.values()):
        notice = "no cell boxes are stored for this form (imported before they were): its cells are not outlined"
    return Pane("pages", notice=notice, pages=pages, zoom=_zoom(pages))


def _form_pages(form: models.Form, next_start: str | None, count: int) -> list[int]:
    """The page numbers of a form in a file of ``count`` pages (at most MAX_PAGES)."""
    first = _number(_PAGE, form.source_location) or 1
    last = _number(_PAGE, next_start) or count
    return list(range(first, min(max(first, last), count) + 1))[:MAX_PAGES]


def _row_location(p: models.Provenance) -> str:
    """The stored value's row location as the parse printed it (``page 1, table 3, row 2``)."""
    return str(Location(line=p.line, page=p.page, paragraph=p.paragraph, table=p.source_table, row=p.source_row))


def _field_flags(fields: dict[str, list[Flag]], name: str) -> list[Flag]:
    """The flags on a value's field, and on its indicator as a whole (``indicators[3]``)."""
    found = list(fields.get(name, []))
    if name.startswith("indicators[") and "." in name:
        found += fields.get(name.split(".", 1)[0], [])
    return found


def _boxes(form: models.Form, flags: dict[str, list[Flag]], fields: dict[str, list[Flag]]) -> dict[int, list[Box]]:
    """Outlines by page from the stored provenance: every value's cell, flagged ones marked (the
    value's own field flagged, or — for values of flagged rows — its row)."""
    found: dict[int, list[Box]] = {}
    for p in form.provenance:
        if p.page is None or p.bbox is None:
            continue
        x0, top, x1, bottom = p.bbox
        key = loc_key(_row_location(p)) or ""
        own = _field_flags(fields, p.field)
        flagged = any(not f.resolved for f in own)
        found.setdefault(p.page, []).append(Box(key, x0, top, x1 - x0, bottom - top, flagged, p.field))
    return found


def _zoom(pages: list[Page]) -> Zoom | None:
    """The first flagged cell, with a margin of a few cells around it."""
    for page in pages:
        for box in page.boxes:
            if box.flagged:
                margin_x, margin_y = max(40.0, box.width), max(30.0, box.height * 2)
                x = max(0.0, box.x0 - margin_x)
                y = max(0.0, box.top - margin_y)
                width = min(page.width - x, box.width + 2 * margin_x)
                height = min(page.height - y, box.height + 2 * margin_y)
                return Zoom(page, box, (round(x, 2), round(y, 2), round(width, 2), round(height, 2)))
    return None


_A1 = re.compile(r"^([A-Z]+)(\d+)$")
MAX_SHEET_ROWS = 400


class _Book:
    """A workbook's cell values, opened to show them (openpyxl for .xlsx, xlrd for .xls): no
    reader runs, nothing is parsed; a cell shows the value the file holds."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.fmt = fmt
        if fmt == "xlsx":
            import openpyxl

            self._xlsx = openpyxl.load_workbook(path, read_only=True, data_only=True)
            self.sheetnames = list(self._xlsx.sheetnames)
        else:
            import xlrd

            self._xls = xlrd.open_workbook(str(path), on_demand=True)
            self.sheetnames = list(self._xls.sheet_names())

    def rows(self, name: str, first_row: int, last_row: int, last_col: int) -> list[list[object]]:
        """Rows ``first_row``..``last_row`` (1-based), columns 1..``last_col``."""
        if self.fmt == "xlsx":
            return [list(values) for values in self._xlsx[name].iter_rows(
                min_row=first_row, max_row=last_row, min_col=1, max_col=last_col, values_only=True)]
        sheet = self._xls.sheet_by_name(name)
        out: list[list[object]] = []
        for r in range(first_row - 1, min(last_row, sheet.nrows)):
            values: list[object] = [sheet.cell_value(r, c) if c < sheet.row_len(r) else None for c in range(last_col)]
            out.append([int(v) if isinstance(v, float) and v.is_integer() else (v if v != "" else None)
                        for v in values])
        return out

    def close(self) -> None:
        if self.fmt == "xlsx":
            self._xlsx.close()
        else:
            self._xls.release_resources()


def _sheets(path: Path, fmt: str, form: models.Form, flags: dict[str, list[Flag]],
            fields: dict[str, list[Flag]]) -> Pane:
    """A spreadsheet form's sheets as their cells (the values the file holds), from the rows and
    columns of the form's stored cells; the cells of flagged values marked."""
    from openpyxl.utils import column_index_from_string

    cells: dict[str, dict[tuple[int, int], bool]] = {}
    for p in form.provenance:
        m = _A1.match(p.cell or "")
        if p.sheet is None or m is None:
            continue
        at = (int(m.group(2)), column_index_from_string(m.group(1)))
        flagged = any(not f.resolved for f in _field_flags(fields, p.field))
        sheet = cells.setdefault(p.sheet, {})
        sheet[at] = sheet.get(at, False) or flagged
    if not cells:
        return Pane("none", "no cells are stored for this form (imported before they were): its sheet cannot be shown")
    try:
        book = _Book(path, fmt)
    except Exception as exc:  # noqa: BLE001 - any damage: said in the pane, never a crash
        return Pane("none", f"the sheet cannot be shown: {exc}")
    blocks: list[Block] = []
    try:
        for name, marked in cells.items():
            if name not in book.sheetnames:
                continue
            first_row = min(r for r, _ in marked)
            start = _A1.match((form.source_location or "").rsplit("!", 1)[-1])
            if start is not None and form.source_location and sheet_ref(name) == form.source_location.rsplit("!", 1)[0]:
                first_row = min(first_row, int(start.group(2)))
            last_row = min(max(r for r, _ in marked), first_row + MAX_SHEET_ROWS)
            first_col = 1
            last_col = max(c for _, c in marked)
            rows: list[TableRow] = []
            for r, values in enumerate(book.rows(name, first_row, last_row, last_col), start=first_row):
                texts = ["" if v is None else str(v) for v in values] + [""] * (last_col - len(values))
                filled = [c for c, text in enumerate(texts, start=first_col) if text.strip()]
                if not filled:
                    continue
                key = f"{sheet_ref(name)}!{_letters(filled[0])}{r}"
                marks = ["flag" if marked.get((r, c)) else ("value" if (r, c) in marked else "")
                         for c in range(first_col, last_col + 1)]
                rows.append(TableRow(key, [(t, 1) for t in texts], flags.get(key, []), marks))
            blocks.append(Block(name, rows))
    finally:
        book.close()
    focused = False
    for block in blocks:  # the first flagged cell is where the pane opens (app.js)
        for row in block.rows:
            if not focused and "flag" in row.marks:
                row.marks[row.marks.index("flag")] = "flag focus"
                focused = True
    return Pane("blocks", blocks=blocks)


def _letters(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


@lru_cache(maxsize=32)
def _page_sizes(path: str, sha256: str) -> list[tuple[float, float]]:
    if Path(path).suffix.lower() in _IMAGES:
        from PIL import Image

        with Image.open(path) as image:
            return [(float(image.width), float(image.height))]
    import pypdfium2 as pdfium

    with _PDF_LOCK:
        pdf = pdfium.PdfDocument(path)
        try:
            return [tuple(pdf[i].get_size()) for i in range(len(pdf))]  # type: ignore[misc]
        finally:
            pdf.close()


@lru_cache(maxsize=24)
def _page_png(path: str, sha256: str, page: int) -> bytes:
    import pypdfium2 as pdfium

    with _PDF_LOCK:
        pdf = pdfium.PdfDocument(path)
        try:
            image = pdf[page - 1].render(scale=RENDER_SCALE).to_pil()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _in_scope(session: DbSession, scope: Scope, document: models.SourceDocument, ordinal: int) -> models.Form:
    form = next((f for f in document.forms if f.ordinal == ordinal), None)
    if form is None or not scope.allows_form(session, form):
        raise HTTPException(404, "no such document page")
    return form


@router.get("/source/page", name="page_image")
def page_image(scope: Scoped, session: DbSession, doc: int, n: int, page: Annotated[int, Query(ge=1)]) -> Response:
    """A page of form ``n`` of a PDF or scan as an image (the document by id: the path comes from
    the store), if the form is in the user's scope and the page is one of the form's."""
    document = session.get(models.SourceDocument, doc)
    if document is None or document.format not in ("pdf", "scan"):
        raise HTTPException(404, "no such document page")
    form = _in_scope(session, scope, document, n)
    path = Path(document.path)
    try:
        data = path.read_bytes()
    except OSError:
        raise HTTPException(404, "the source file cannot be read") from None
    if path.suffix.lower() in _IMAGES:
        if page != 1:
            raise HTTPException(404, "an image has one page")
        return Response(data, media_type=_IMAGES[path.suffix.lower()], headers={"Cache-Control": "private, max-age=300"})
    sha256 = hashlib.sha256(data).hexdigest()
    if page not in _form_pages(form, _next_start(document, form), len(_page_sizes(str(path), sha256))):
        raise HTTPException(404, "no such page")
    return Response(_page_png(str(path), sha256, page), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=300"})


def flags_by_field(issues: Iterable[Any]) -> dict[str, list[Flag]]:
    """Issue messages by the field they name (objects with .field, .message and .resolved_by)."""
    flags: dict[str, list[Flag]] = {}
    for issue in issues:
        if issue.field:
            flags.setdefault(issue.field, []).append(Flag(issue.message, issue.resolved_by is not None))
    return flags


def flags_by_location(issues: Iterable[Any]) -> dict[str, list[Flag]]:
    """Issue messages by location key (objects with .location, .message and .resolved_by)."""
    flags: dict[str, list[Flag]] = {}
    for issue in issues:
        key = loc_key(issue.location)
        if key is not None:
            flags.setdefault(key, []).append(Flag(issue.message, issue.resolved_by is not None))
    return flags
