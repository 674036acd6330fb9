"""Evaluation reports (财政项目支出绩效评价报告) in a grid, as the dicts of docs/reports.md.

``find_reports(grid)`` is the interface: it works on the grid every reader emits, so a report read
from text, Word or PDF parses the same way. A file may hold target forms, reports, or both:
``without_reports(grid)`` is the grid with the reports' rows left out, for the form recogniser
(else the last form before a report would run on through the whole report).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from goalforms.parsers.grid import Grid
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.reports.build import build_report
from goalforms.parsers.reports.evaluation import KIND, ReportParser, is_report_title

__all__ = ["KIND", "find_reports", "report_spans", "reports_and_body", "without_reports"]


def _is_form_title(text: str) -> bool:
    return bool(text) and len(text) <= 40 and any(parser.spec.is_title(text) for parser in LAYOUTS.values())


def _parsers(grid: Grid) -> list[ReportParser]:
    """One parser per report: from a report title to the next report title or target-form title."""
    rows = grid.rows
    # Every row of every file comes here: is_report_title's own first test (a title holds 报告)
    # is made inline, saving a call per row.
    starts = [i for i, row in enumerate(rows) if "报告" in row.joined and is_report_title(rows, i)]
    parsers = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(rows)
        end = next((i for i in range(start + 1, end) if _is_form_title(compact(rows[i].joined))), end)
        parser = ReportParser(rows, start, end)
        if parser.has_substance():
            parsers.append(parser)
    return parsers


def report_spans(grid: Grid) -> list[tuple[int, int]]:
    """``(start, end)`` row ranges of the reports in ``grid``."""
    return [(p.start, p.end) for p in _parsers(grid)]


def find_reports(grid: Grid) -> list[dict[str, Any]]:
    """Every evaluation report in ``grid``, in order; [] when the grid holds none."""
    return [build_report(parser) for parser in _parsers(grid)]


def without_reports(grid: Grid) -> Grid:
    """``grid`` without the rows of its reports (rows keep their locations); ``grid`` itself when
    it holds no report."""
    return _without(grid, report_spans(grid))


def reports_and_body(grid: Grid) -> tuple[list[dict[str, Any]], Grid]:
    """``find_reports(grid)`` and ``without_reports(grid)`` from one search for the reports (every
    row of the file is tried as a report title)."""
    parsers = _parsers(grid)
    return [build_report(parser) for parser in parsers], _without(grid, [(p.start, p.end) for p in parsers])


def _without(grid: Grid, spans: list[tuple[int, int]]) -> Grid:
    if not spans:
        return grid
    inside = {i for start, end in spans for i in range(start, end)}
    return replace(grid, rows=[row for i, row in enumerate(grid.rows) if i not in inside])
