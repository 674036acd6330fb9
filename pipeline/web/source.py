"""The source beside a parsed form: the text lines of a text file, the tables of a Word file, the
page images of a PDF or scan with the rows outlined.

Locations are the strings the parse stored (``line 121``, ``page 1, line 23``, ``table 9, row 2``,
``page 3, table 9, row 2``); the pane marks the source elements with the same key, so that the
page can link a parsed value and its source both ways. The file is read again from its imported
path (only that path: a request never names a file). A page image is served only for a form in
the user's scope, and only a page of that form. Bounding boxes are not stored by the loader
yet, so for a PDF with a text layer they are read again from the PDF's grid (cached); a scan is not
OCR'd again for this (too slow): its pages are shown without outlines until the boxes are stored.
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

from goalforms.errors import GoalformsError
from goalforms.parsers import readers
from goalforms.parsers.grid import Grid, Row
from goalforms.parsers.readers import pdf as pdf_reader
from goalforms.parsers.readers.text import decode
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


@dataclass
class Page:
    number: int
    width: float
    height: float
    boxes: list[Box]


@dataclass
class Pane:
    kind: str  # lines | blocks | pages | none
    notice: str | None = None
    lines: list[Line] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    document_id: int = 0


def _file(document: models.SourceDocument) -> tuple[Path, bytes, str | None]:
    """The imported file's bytes, and a notice if it changed since the import."""
    path = Path(document.path)
    data = path.read_bytes()
    notice = None
    if hashlib.sha256(data).hexdigest() != document.sha256:
        notice = "the file has changed since it was imported: the source shown may not match the parse"
    return path, data, notice


# Formats whose source is shown as the grid of tables the reader found (Word, HTML, spreadsheets).
_GRID_FORMATS = ("docx", "odt", "html", "xlsx", "xls", "ods")


def build_pane(document: models.SourceDocument, form: models.Form, flags: dict[str, list[Flag]],
               keys: set[str]) -> Pane:
    """The source pane of one form. ``flags``: messages by location key; ``keys``: the locations of
    the form's values (outlined on page images)."""
    try:
        path, data, notice = _file(document)
    except OSError as exc:
        return Pane("none", f"the source file cannot be read at {document.path}: {exc.strerror or exc}")
    next_start = _next_start(document, form)
    try:
        if document.format == "txt":
            pane = _lines(path, data, form.source_location, next_start, flags)
        elif document.format in _GRID_FORMATS:
            pane = _blocks(_grid(str(path), hashlib.sha256(data).hexdigest(), document.format),
                           form.source_location, next_start, flags)
        elif document.format in ("pdf", "scan"):
            pane = _pages(path, data, document.format, form, next_start, flags, keys)
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


def _between(rows: list[Row], start: str | None, end: str | None) -> list[Row]:
    """The rows of one form: from the row at its start location to the row where the next begins."""
    keys = [str(r.where) for r in rows]
    first = keys.index(start) if start in keys else 0
    last = keys.index(end, first + 1) if end in keys[first + 1:] else len(rows)
    return rows[first:last]


def _pages(path: Path, data: bytes, kind: str, form: models.Form, next_start: str | None,
           flags: dict[str, list[Flag]], keys: set[str]) -> Pane:
    sizes = _page_sizes(str(path), hashlib.sha256(data).hexdigest())
    numbers = _form_pages(form, next_start, len(sizes))
    boxes = _boxes(path, data, kind, form, keys, flags)
    pages = [Page(n, sizes[n - 1][0], sizes[n - 1][1], boxes.get(n, [])) for n in numbers]
    notice = None
    if kind == "scan" and not boxes:
        notice = "cells are not outlined on scans until the loader stores their boxes (docs/clerks.md)"
    return Pane("pages", notice=notice, pages=pages)


def _form_pages(form: models.Form, next_start: str | None, count: int) -> list[int]:
    """The page numbers of a form in a file of ``count`` pages (at most MAX_PAGES)."""
    first = _number(_PAGE, form.source_location) or 1
    last = _number(_PAGE, next_start) or count
    return list(range(first, min(max(first, last), count) + 1))[:MAX_PAGES]


def _boxes(path: Path, data: bytes, kind: str, form: models.Form, keys: set[str],
           flags: dict[str, list[Flag]]) -> dict[int, list[Box]]:
    """Outlines by page: the rows of the form's values, flagged ones marked."""
    found: dict[int, list[Box]] = {}
    for key, page, bbox in _located(path, data, kind, form):
        if key in keys or key in flags:
            x0, top, x1, bottom = bbox
            found.setdefault(page, []).append(Box(key, x0, top, x1 - x0, bottom - top,
                                                  any(not f.resolved for f in flags.get(key, []))))
    return found


def _located(path: Path, data: bytes, kind: str, form: models.Form) -> Iterable[tuple[str, int, tuple[float, ...]]]:
    if path.suffix.lower() in _IMAGES:
        return []
    stored = [(i.source_location, getattr(i, "source_bbox", None)) for i in form.indicators]
    stored += [(p.location, getattr(p, "source_bbox", None)) for p in form.issues]
    if any(bbox for _, bbox in stored):  # once the loader stores boxes (docs/clerks.md), use them
        return [(loc, _number(_PAGE, loc) or 1, tuple(bbox)) for loc, bbox in stored if loc and bbox]
    if kind != "pdf":
        return []
    grid = _grid(str(path), hashlib.sha256(data).hexdigest(), "pdf")
    # Table rows only: a free line's location is just its page, which would match every free line.
    return [(str(r.where), r.where.page, r.where.bbox) for r in grid.rows
            if r.where.page is not None and r.where.bbox is not None and r.where.row is not None]


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


def flags_by_location(issues: Iterable[Any]) -> dict[str, list[Flag]]:
    """Issue messages by location key (objects with .location, .message and .resolved_by)."""
    flags: dict[str, list[Flag]] = {}
    for issue in issues:
        key = loc_key(issue.location)
        if key is not None:
            flags.setdefault(key, []).append(Flag(issue.message, issue.resolved_by is not None))
    return flags
