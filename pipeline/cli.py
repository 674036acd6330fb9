"""The ``goalforms`` command: translates arguments, results and errors; the work is in the library."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from goalforms.errors import GoalformsError
from goalforms.pipeline import cli_analysis, cli_clerk, cli_reports
from goalforms.schema.db import DEFAULT_DB

# Each command imports what it needs when it runs (the parsers, the importer and SQLAlchemy,
# Alembic): ``goalforms --help`` and ``goalforms parse`` start in a fraction of a second.
if TYPE_CHECKING:
    from goalforms.pipeline.importer import FileOutcome, ImportReport
    from goalforms.pipeline.model import ParsedDocument

app = typer.Typer(help="Archived performance-target forms (绩效目标表 / 申报表) into a database.",
                  no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
if not out.is_terminal:
    out = Console(soft_wrap=True, width=200)  # piped: wide tables rather than folded cells
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL or SQLite file path.", show_default=True)]


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(help="A form file: .txt (tab or space aligned), .docx, .pdf, a scan "
                                              "(.png/.jpg/.tif), or .doc/.wps/.rtf.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the parse contract JSON.")] = False,
) -> None:
    """Parse one file and print its forms (a table, or the contract JSON with --json)."""
    from goalforms.pipeline.parse import parse_file

    try:
        doc = parse_file(file)
    except GoalformsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(doc.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_document(doc)


@app.command("import")
def import_(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (walked recursively).",
                                                         show_default=False)] = None,
    db: DbOption = DEFAULT_DB,
    workers: Annotated[int, typer.Option("--workers", help="Parsing processes (default: the number of cores).")] = 0,
    dask: Annotated[str | None, typer.Option("--dask", help="Parse on a Dask cluster: a scheduler address, "
                                             "or 'local' for a LocalCluster.")] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write every file's outcome to this "
                                                     ".csv or .json file.")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Import again the files whose last "
                                               "import failed (the quarantine list).")] = False,
) -> None:
    """Import files and folders: one transaction per file, unchanged files skipped, parsing in parallel."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from goalforms.pipeline.importer import FAILED, ImportOptions, discover, failed_paths, import_paths
    from goalforms.schema.db import connect

    engine = connect(db)
    targets: list[Path] = list(paths or [])
    if retry_failed:
        targets += failed_paths(engine)
    if not targets:
        err.print("[red]error:[/red] nothing to import: name files or folders"
                  + (" (the quarantine list is empty)" if retry_failed else ""), highlight=False)
        raise typer.Exit(1)
    files = list(discover(targets))
    options = ImportOptions(workers=workers or (os.cpu_count() or 1), dask=dask)
    with Progress(
        TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[forms]} forms, {task.fields[failed]} failed, {task.fields[rate]} files/s"),
        console=err, transient=False, disable=not files,
    ) as progress:
        task = progress.add_task("import", total=len(files), forms=0, failed=0, rate="0")
        totals = {"forms": 0, "failed": 0, "done": 0}
        started = time.monotonic()

        def advance(outcome: FileOutcome) -> None:
            totals["forms"] += outcome.forms
            totals["failed"] += outcome.status == FAILED
            totals["done"] += 1
            rate = totals["done"] / max(time.monotonic() - started, 1e-6)
            progress.update(task, advance=1, forms=totals["forms"], failed=totals["failed"], rate=f"{rate:.1f}")

        try:
            report = import_paths(files, engine, on_file=advance, options=options)
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]: every file loaded so far is complete; "
                      "run the same command again to go on", highlight=False)
            raise typer.Exit(130) from None
    if report_file is not None:
        report.write(report_file)
    _print_report(report, db)
    if report.failures or not files:
        raise typer.Exit(1)


def _print_document(doc: ParsedDocument) -> None:
    from rich.table import Table

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
    cli_reports.print_reports(out, doc.reports)


def _print_report(report: ImportReport, db: str) -> None:
    from goalforms.parsers.readers import READERS
    from goalforms.pipeline.importer import LOADED, REPLACED

    out.print(
        f"files: {len(report.outcomes)} · loaded {report.count('loaded')} · replaced {report.count('replaced')}"
        f" · skipped {report.count('skipped')} · failed {report.count('failed')}", highlight=False)
    out.print(f"forms: {report.total('forms')} · indicators: {report.total('indicators')}"
              f" · issues: {report.total('issues')} · database: {db}", highlight=False)
    for failure in report.failures:
        err.print(f"[red]failed:[/red] {escape(failure.path)}: {escape(failure.reason)}", highlight=False)
    for outcome in report.outcomes:
        if outcome.status in (LOADED, REPLACED) and outcome.reason:  # clerk corrections that no longer apply
            err.print(f"[yellow]check:[/yellow] {escape(outcome.path)}: {escape(outcome.reason)}", highlight=False)
    if not report.outcomes:
        known = ", ".join(sorted(READERS))
        err.print(f"[red]error:[/red] no importable files found (goalforms reads {known})", highlight=False)


# Analyst commands (query, export, series) live in their own module.
cli_analysis.register(app)
# goalforms project: a project's target forms and evaluation reports side by side.
cli_reports.register(app)
# Clerks: serve (the web app), user, issues, corrections.
cli_clerk.register(app)


def main() -> None:
    app()
