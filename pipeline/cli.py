"""The ``goalforms`` command: translates arguments, results and errors; the work is in the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from goalforms.errors import GoalformsError
from goalforms.pipeline import cli_analysis
from goalforms.pipeline.importer import FAILED, FileOutcome, ImportReport, discover, import_paths
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.parse import parse_file
from goalforms.schema.db import DEFAULT_DB, connect

app = typer.Typer(help="Archived performance-target forms (绩效目标表 / 申报表) into a database.",
                  no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
if not out.is_terminal:
    out = Console(soft_wrap=True, width=200)  # piped: wide tables rather than folded cells
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL or SQLite file path.", show_default=True)]


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(help="A form file (.txt).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the parse contract JSON.")] = False,
) -> None:
    """Parse one file and print its forms (a table, or the contract JSON with --json)."""
    try:
        doc = parse_file(file)
    except GoalformsError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(doc.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_document(doc)


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).", show_default=False)],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Import files and folders: one transaction per file, unchanged files skipped."""
    engine = connect(db)
    files = list(discover(paths))
    with Progress(
        TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[forms]} forms, {task.fields[failed]} failed"),
        console=err, transient=False, disable=not files,
    ) as progress:
        task = progress.add_task("import", total=len(files), forms=0, failed=0)
        totals = {"forms": 0, "failed": 0}

        def advance(outcome: FileOutcome) -> None:
            totals["forms"] += outcome.forms
            totals["failed"] += outcome.status == FAILED
            progress.update(task, advance=1, forms=totals["forms"], failed=totals["failed"])

        report = import_paths(files, engine, on_file=advance)
    _print_report(report, db)
    if report.failures or not files:
        raise typer.Exit(1)


def _print_document(doc: ParsedDocument) -> None:
    out.print(f"[bold]{doc.source.path}[/bold]  ({doc.source.format}, {len(doc.forms)} forms)")
    if doc.collection_title:
        out.print(doc.collection_title)
    for n, form in enumerate(doc.forms, start=1):
        h = form.header
        out.print(f"\n[bold]Form {n}[/bold] · layout {form.layout} · {form.year} · {h.get('project_name')}"
                  f" · {h.get('unit')} · {form.where}")
        budget = ", ".join(f"{k}={v}" for k, v in form.budget.items() if v is not None)
        out.print(f"budget: {budget or '—'}", highlight=False)
        table = Table(show_lines=False)
        for column in ("#", "一级", "二级", "三级", "target", "kind", "op", "value", "unit", "where"):
            table.add_column(column)
        for i, ind in enumerate(form.indicators, start=1):
            table.add_row(str(i), ind.level1 or "", ind.level2 or "", ind.level3, ind.raw, ind.kind,
                          ind.op or "", ind.value or "", ind.unit or "", ind.where)
        out.print(table)
        for issue in form.issues:
            colour = "red" if issue.severity == "error" else "yellow"
            out.print(f"[{colour}]{issue.severity}[/{colour}] {issue.code} ({issue.where}): {issue.message}",
                      highlight=False)


def _print_report(report: ImportReport, db: str) -> None:
    out.print(
        f"files: {len(report.outcomes)} · loaded {report.count('loaded')} · replaced {report.count('replaced')}"
        f" · skipped {report.count('skipped')} · failed {report.count('failed')}", highlight=False)
    out.print(f"forms: {report.total('forms')} · indicators: {report.total('indicators')}"
              f" · issues: {report.total('issues')} · database: {db}", highlight=False)
    for failure in report.failures:
        err.print(f"[red]failed:[/red] {failure.path}: {failure.reason}", highlight=False)
    if not report.outcomes:
        err.print("[red]error:[/red] no importable files found (goalforms reads .txt)", highlight=False)


# Analyst commands (query, export, series) live in their own module.
cli_analysis.register(app)


def main() -> None:
    app()
