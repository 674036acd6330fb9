"""Analyst commands of the ``goalforms`` CLI (query, export, series).

Arguments in, library call (goalforms.pipeline.analysis), text out; errors become ``error: …`` on
standard error and exit code 1. The views are documented in docs/views.md.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import typer

from goalforms.errors import GoalformsError
from goalforms.pipeline.terminal import safe
from goalforms.schema.db import DEFAULT_DB

# goalforms.pipeline.analysis (SQLAlchemy, Alembic) is imported by each command when it runs:
# every goalforms command builds this module's options at start-up.

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL or SQLite file path.", show_default=True)]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Aligned table, CSV or JSON.")]


def _fail(exc: GoalformsError) -> typer.Exit:
    # Plain text, not Rich markup: SQL and data are full of [brackets].
    sys.stderr.write(f"error: {safe(exc)}\n")
    return typer.Exit(1)


def query(
    sql: Annotated[str, typer.Argument(help="One SQL statement, e.g. \"SELECT * FROM v_indicators\".",
                                       show_default=False)],
    db: DbOption = DEFAULT_DB,
    fmt: FormatOption = OutputFormat.table,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Stop the statement after this many seconds "
                                                  "(default 30, or GOALFORMS_QUERY_TIMEOUT_S; 0: no limit).",
                                                  show_default=False)] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Keep at most this many rows (default "
                                                 "100000, or GOALFORMS_QUERY_MAX_ROWS; 0: no limit).",
                                                 show_default=False)] = None,
    max_mb: Annotated[float | None, typer.Option("--max-mb", help="Keep at most this many MiB of rows (default "
                                                 "256, or GOALFORMS_QUERY_MAX_MB; 0: no limit).",
                                                 show_default=False)] = None,
) -> None:
    """Run one SQL statement over a read-only connection (views: v_indicators, v_forms, v_issues, v_series),
    within a time limit and a cap on rows; clerks' accounts and sessions cannot be read."""
    from goalforms.pipeline import analysis
    from goalforms.pipeline.archive import Archive

    try:
        base = analysis.QueryLimits.from_env()
        changes = {k: v for k, v in (("timeout_s", timeout), ("max_rows", max_rows), ("max_mb", max_mb))
                   if v is not None}
        if any(v < 0 for v in changes.values()):
            raise analysis.AnalysisError(None, "--timeout, --max-rows and --max-mb cannot be negative (0: no limit)")
        result = Archive(db).query(sql, replace(base, **changes))
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(analysis.render(result, fmt.value))
    if result.capped and fmt is not OutputFormat.table:  # the table says it in its last line
        sys.stderr.write(f"warning: {len(result.rows)} rows, {result.capped}\n")


def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="File format.", show_default=False)],
    view: Annotated[str, typer.Option("--view", help="The view to write (docs/views.md, docs/reports.md); an unknown name is refused with the list.")] = "v_indicators",
    out: Annotated[str | None, typer.Option("--out", help="File (or folder) to write; default VIEW.FORMAT here.",
                                            show_default=False)] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a view to a CSV, Excel or Parquet file (through pandas)."""
    from goalforms.pipeline.archive import Archive

    try:
        path = Archive(db).export(fmt.value, view, out)
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"wrote {view} to {path}\n")


def series(
    project: Annotated[str, typer.Argument(help="The project name (项目名称), exactly as in the forms.",
                                           show_default=False)],
    db: DbOption = DEFAULT_DB,
    fmt: FormatOption = OutputFormat.table,
    unit: Annotated[str | None, typer.Option("--unit", help="The unit, when several file the same project name.",
                                             show_default=False)] = None,
) -> None:
    """How one project's targets changed across years: indicators lined up by dimension and name."""
    from goalforms.pipeline import analysis
    from goalforms.pipeline.archive import Archive

    try:
        result = Archive(db).series(project, unit)
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(analysis.render(result, fmt.value))


def register(app: typer.Typer) -> None:
    """Add the analyst commands to ``app``."""
    app.command("query")(query)
    app.command("export")(export)
    app.command("series")(series)
