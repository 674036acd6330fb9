"""One file through the pure stages: read → recognise → parse → normalise → validate."""

from __future__ import annotations

from pathlib import Path

from goalforms.errors import NoKnownLayout
from goalforms.parsers import readers
from goalforms.parsers.grid import Grid
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.discovery import ensure_loaded
from goalforms.parsers.recognise import document_rows, recognise
from goalforms.parsers.reports import reports_and_body
from goalforms.pipeline.doubts import doubt_issues
from goalforms.pipeline.model import GridRow, Issue, ParsedDocument, Source
from goalforms.pipeline.normalise import normalise, parse_target
from goalforms.pipeline.plausibility import check_document, check_form
from goalforms.pipeline.validate import validate


def parse_grid(grid: Grid) -> ParsedDocument:
    """Parse a grid already read from a file: its target forms and its evaluation reports."""
    ensure_loaded()  # a broken user layout (GOALFORMS_LAYOUTS) is an error naming its file and key
    reports, body = reports_and_body(grid)
    try:
        # Forms are looked for outside the reports, so that no form runs on into a report.
        collection_title, segments = recognise(body)
    except NoKnownLayout:
        if not reports:
            raise  # neither a form nor a report: the error says which titles were looked for
        collection_title, segments = None, []
    forms = []
    for segment in segments:
        parser = LAYOUTS[segment.layout]
        form = validate(normalise(parser.parse(segment.rows)))
        # What the reader doubted (OCR on a scan, a number that holds more than it prints in a
        # spreadsheet), flagged from each value's origin; a scan's targets also where their spaces
        # cannot be seen.
        form.issues.extend(doubt_issues(form, grid.format, segment.rows, parse_target))
        # Last: values that read but do not fit together, whatever the reader (plausibility.py).
        forms.append(check_form(form, parser.spec))
    check_document(document_rows(body), [segment.rows[0] for segment in segments], forms)
    if forms:
        # What the reader saw but did not read (hidden sheets, rows, columns) goes to the first form.
        forms[0].issues.extend(Issue(note.code, "warning", note.message, str(note.where) if note.where else None)
                               for note in grid.notes if note.code != "rounded_number")
    return ParsedDocument(Source(grid.path, grid.sha256, grid.format), collection_title, forms, reports,
                          grid_rows(grid) if forms else [])


# Formats whose clerk-page source is the grid itself (tables with no page image, no text lines).
STORED_GRID_FORMATS = ("docx", "odt", "html", "ods")


def grid_rows(grid: Grid) -> list[GridRow]:
    """The grid's rows, texts only, for the store (empty for formats shown otherwise)."""
    if grid.format not in STORED_GRID_FORMATS:
        return []
    return [GridRow(str(row.where), row.where.table, row.where.row, row.where.sheet,
                    tuple((cell.text, cell.col_span, cell.row_span, cell.col) for cell in row.cells))
            for row in grid.rows]


def parse_file(path: str | Path) -> ParsedDocument:
    """Parse one file; raises a GoalformsError naming the file when it cannot be read or holds no form."""
    return parse_grid(readers.read(path))
