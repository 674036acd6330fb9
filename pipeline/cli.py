"""The ``goalforms`` command: translates arguments, results and errors; the work is in the library."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from goalforms.pipeline import cli_analysis, cli_clerk, cli_debug, cli_layouts, cli_reports, cli_review
from goalforms.pipeline.cli_layouts import LayoutsOption, use_layouts
from goalforms.pipeline.terminal import safe
from goalforms.schema.db import DEFAULT_DB, dispose_engines

# Each command imports what it needs when it runs (the parsers, the importer and SQLAlchemy,
# Alembic): ``goalforms --help`` starts in a fraction of a second.
if TYPE_CHECKING:
    from goalforms.parsers.readers.limits import Limits
    from goalforms.pipeline.importer import FileOutcome, ImportReport
    from goalforms.pipeline.model import ParsedDocument

app = typer.Typer(help="Archived performance-target forms (绩效目标表 / 申报表) into a database.",
                  no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
if not out.is_terminal:
    out = Console(soft_wrap=True, width=200)  # piped: wide tables rather than folded cells
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL or SQLite file path.", show_default=True)]
LimitOption = Annotated[list[str] | None, typer.Option(
    "--limit", metavar="NAME=VALUE", show_default=False,
    help="Change a limit per file, e.g. --limit max_pages=100 --limit timeout_s=60 (repeatable; 0 turns "
         "it off). Names and defaults: docs/limits.md; also GOALFORMS_MAX_PAGES etc.")]

# Exit codes (README): 0 done; 1 a file failed, nothing to do, or an error; 2 wrong arguments
# (Typer's usage errors); 130 interrupted.


def _m(value: object, keep_newlines: bool = False) -> str:
    """Text from a file name or a document for a Rich print: control characters escaped
    (pipeline/terminal.py), then Rich markup escaped ("[red]" in a form is text, not a colour)."""
    return escape(safe(value, keep_newlines))


def _error(message: object) -> typer.Exit:
    err.print(f"[red]error:[/red] {_m(message)}", highlight=False)
    return typer.Exit(1)


def _limits(values: list[str] | None) -> Limits:
    """The limits from the environment, with --limit NAME=VALUE on top."""
    # Imported here: the readers package imports every reader (``goalforms --help`` needs none).
    from goalforms.parsers.readers.limits import Limits

    try:
        limits = Limits.from_env()
    except ValueError as exc:
        raise _error(exc) from None
    known = set(Limits.__dataclass_fields__)
    changes: dict[str, float | int] = {}
    for item in values or []:
        name, _, raw = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in known or not raw.strip():
            raise _error(f"--limit {item!r}: give NAME=VALUE with NAME one of {', '.join(sorted(known))}")
        try:
            number = float(raw)
        except ValueError:
            raise _error(f"--limit {item!r}: {raw!r} is not a number") from None
        if number < 0:
            raise _error(f"--limit {item!r}: negative (0 turns the limit off)")
        changes[name] = int(number) if isinstance(getattr(limits, name), int) else number
    return limits.with_(**changes)


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(help="A form file: .txt (tab or space aligned), .docx, .pdf, a scan "
                                              "(.png/.jpg/.tif), or .doc/.wps/.rtf.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the parse contract JSON.")] = False,
    limit: LimitOption = None,
    layouts: LayoutsOption = None,
) -> None:
    """Parse one file and print its forms (a table, or the contract JSON with --json)."""
    use_layouts(layouts)
    # The same job an import worker runs, in a worker process: the limits per file, the timeout and
    # the memory ceiling; every failure a reason (never a traceback), exit code 1.
    from goalforms.pipeline.isolate import parse_isolated

    result = parse_isolated(str(file), _limits(limit))
    doc = result.doc
    if doc is None:
        raise _error(f"{file}: {result.reason}")
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
    limit: LimitOption = None,
    layouts: LayoutsOption = None,
) -> None:
    """Import files and folders: one transaction per file, unchanged files skipped, parsing in parallel."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from goalforms.pipeline.archive import Archive
    from goalforms.pipeline.importer import FAILED, ImportOptions, discover

    use_layouts(layouts)
    limits = _limits(limit)
    try:
        archive = Archive(db)
        archive.open()  # now, so that a bad database is reported before any work
    except Exception as exc:  # a bad URL, a folder that does not exist, a server that refuses
        raise _error(f"cannot open the database {db}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
    targets: list[Path] = list(paths or [])
    if retry_failed:
        targets += archive.failed_paths()
    if not targets:
        raise _error("nothing to import: name files or folders"
                     + (" (the quarantine list is empty)" if retry_failed else ""))
    files = list(discover(targets))
    _before_the_workers_fork(files)
    options = ImportOptions(workers=workers or (os.cpu_count() or 1), dask=dask, limits=limits,
                            isolate=True)
    # SIGTERM (kill, a scheduler's timeout) ends the import like Ctrl-C: workers stopped, the files
    # loaded so far complete.
    previous = signal.signal(signal.SIGTERM, _interrupt)
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
            report = archive.import_paths(files, options=options, on_file=advance)
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]: every file loaded so far is complete; "
                      "run the same command again to go on", highlight=False)
            raise typer.Exit(130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
    if report_file is not None:
        report.write(report_file)
    _print_report(report, db)
    if report.failures or not files:
        raise typer.Exit(1)


def _before_the_workers_fork(files: list[Any]) -> None:
    """Do once here what every parse worker would do on its first file: the workers are forked
    from this process and inherit it (the label patterns of every layout; pdfplumber when PDFs
    are among the files)."""
    from goalforms.parsers.layouts.discovery import compile_patterns

    compile_patterns()
    if any(str(getattr(f, "suffix", "")).lower() == ".pdf" for f in files):
        import pdfplumber  # noqa: F401


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _print_document(doc: ParsedDocument) -> None:
    from rich.table import Table

    # Every text here comes from the file: escaped for the terminal and for Rich markup.
    out.print(f"[bold]{_m(doc.source.path)}[/bold]  ({doc.source.format}, {len(doc.forms)} forms)")
    if doc.collection_title:
        out.print(_m(doc.collection_title), highlight=False)
    for n, form in enumerate(doc.forms, start=1):
        h = form.header
        out.print(f"\n[bold]Form {n}[/bold] · layout {form.layout} · {form.year} · {_m(h.get('project_name'))}"
                  f" · {_m(h.get('unit'))} · {_m(form.where)}", highlight=False)
        budget = ", ".join(f"{k}={v}" for k, v in form.budget.items() if v is not None)
        out.print(f"budget: {_m(budget) or '—'}", highlight=False)
        # The later columns (actual, 分值, 得分, note, prior year) only where the layout has them.
        later = [name for name in ("prior_year", "actual", "weight", "score", "note")
                 if any(getattr(ind, name) is not None for ind in form.indicators)]
        table = Table(show_lines=False)
        for column in ("#", "一级", "二级", "三级", "target", "kind", "op", "value", "unit", *later, "where"):
            table.add_column(column)
        for i, ind in enumerate(form.indicators, start=1):
            extra = [_later_text(getattr(ind, name)) for name in later]
            table.add_row(*(_m(v or "", keep_newlines=True) for v in (
                str(i), ind.level1, ind.level2, ind.level3, ind.raw, ind.kind, ind.op, ind.value, ind.unit,
                *extra, ind.where)))
        out.print(table)
        for issue in form.issues:
            colour = "red" if issue.severity == "error" else "yellow"
            out.print(f"[{colour}]{issue.severity}[/{colour}] {issue.code} ({_m(issue.where)}): {_m(issue.message)}",
                      highlight=False)
    cli_reports.print_reports(out, doc.reports)


def _later_text(value: object) -> str:
    """A later column's cell: a reading like a target shows its raw text."""
    if isinstance(value, dict):
        return str(value.get("raw") or "")
    return "" if value is None else str(value)


def _print_report(report: ImportReport, db: str) -> None:
    from goalforms.parsers.readers import READERS
    from goalforms.pipeline.importer import LOADED, REPLACED

    out.print(
        f"files: {len(report.outcomes)} · loaded {report.count('loaded')} · replaced {report.count('replaced')}"
        f" · skipped {report.count('skipped')} · failed {report.count('failed')}", highlight=False)
    out.print(f"forms: {report.total('forms')} · indicators: {report.total('indicators')}"
              f" · issues: {report.total('issues')} · database: {_m(db)}", highlight=False)
    if report.formats():
        out.print("formats: " + " · ".join(f"{name} {count}" for name, count in report.formats().items()),
                  highlight=False)
    for failure in report.failures:
        err.print(f"[red]failed:[/red] {_m(failure.path)}: {_m(failure.reason)}", highlight=False)
    for outcome in report.outcomes:
        if outcome.status in (LOADED, REPLACED) and outcome.reason:  # clerk corrections that no longer apply
            err.print(f"[yellow]check:[/yellow] {_m(outcome.path)}: {_m(outcome.reason)}", highlight=False)
    if not report.outcomes:
        known = ", ".join(sorted(READERS))
        err.print(f"[red]error:[/red] no importable files found (goalforms reads {known})", highlight=False)


# Analyst commands (query, export, series) live in their own module.
cli_analysis.register(app)
# goalforms project: a project's target forms and evaluation reports side by side.
cli_reports.register(app)
# Clerks: serve (the web app), user, issues, corrections.
cli_clerk.register(app)
cli_layouts.register(app)  # goalforms layouts: the layouts in force and where they come from
cli_review.register(app)  # goalforms review: findings about what the forms say
cli_debug.register(app)  # goalforms debug: draw what the parser saw


def main() -> None:
    # A command allocates mostly objects that live as long as it does (modules, compiled patterns,
    # the ORM's classes): the collector's default thresholds walked them over and over while the
    # modules were imported, and once more at exit (a process that imports the importer and exits:
    # 0.62 → 0.45 s, the import alone 0.46 → 0.42 s). Collect seldom while running (the workers' own setting,
    # isolate.py), and at exit leave what is left to the process's end.
    if sys.argv[1:2] != ["serve"]:  # the web app runs for days: it keeps the collector's defaults
        gc.set_threshold(10_000, 50, 100)
    try:
        app()
    finally:
        dispose_engines()  # the store's connections closed now, not left to a collection (schema/db.py)
        gc.freeze()
