"""One file through the pure stages: read → recognise → parse → normalise → validate."""

from __future__ import annotations

from pathlib import Path

from goalforms.errors import NoKnownLayout
from goalforms.parsers import readers
from goalforms.parsers.grid import Grid
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.recognise import recognise
from goalforms.parsers.reports import find_reports, without_reports
from goalforms.pipeline.model import ParsedDocument, Source
from goalforms.pipeline.normalise import normalise
from goalforms.pipeline.validate import validate


def parse_grid(grid: Grid) -> ParsedDocument:
    """Parse a grid already read from a file: its target forms and its evaluation reports."""
    reports = find_reports(grid)
    try:
        # Forms are looked for outside the reports, so that no form runs on into a report.
        collection_title, segments = recognise(without_reports(grid))
    except NoKnownLayout:
        if not reports:
            raise  # neither a form nor a report: the error says which titles were looked for
        collection_title, segments = None, []
    forms = [validate(normalise(LAYOUTS[s.layout].parse(s.rows))) for s in segments]
    return ParsedDocument(Source(grid.path, grid.sha256, grid.format), collection_title, forms, reports)


def parse_file(path: str | Path) -> ParsedDocument:
    """Parse one file; raises a GoalformsError naming the file when it cannot be read or holds no form."""
    return parse_grid(readers.read(path))
