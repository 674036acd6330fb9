"""``goalforms review``: the findings of the target review (docs/review.md).

Arguments in, library call (goalforms.pipeline.review), text out; errors become ``error: …`` on
standard error and exit code 1.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from goalforms.errors import GoalformsError
from goalforms.schema.db import DEFAULT_DB

# The library (the review, SQLAlchemy, the analysis) is imported when the command runs: every
# goalforms command builds this command's options at start-up (tests/test_startup.py).
if TYPE_CHECKING:
    from goalforms.pipeline.analysis import QueryResult
    from goalforms.pipeline.review.rules import RuleSet

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL or SQLite file path.", show_default=True)]

# The columns the table and CSV show (JSON and Excel have every column of v_findings).
SHOWN = ("source_path", "form_ordinal", "project_name", "org_unit", "year", "position", "rule_id", "severity",
         "message", "status")
SUMMARY = ("org_unit", "rule_id", "severity", "forms", "open", "accepted", "on_parse_errors")


class Status(StrEnum):
    open = "open"
    accepted = "accepted"


class ReviewFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


def _fail(exc: GoalformsError) -> typer.Exit:
    sys.stderr.write(f"error: {exc}\n")
    return typer.Exit(1)


def _rules_table(sets: list[RuleSet]) -> QueryResult:
    from goalforms.pipeline.analysis import QueryResult

    rows = [(r.id, f"{s.name}@{s.version}", r.applies_to, r.severity, r.check, r.message, r.source)
            for s in sets for r in s.rules]
    return QueryResult(("rule_id", "rule_set", "applies_to", "severity", "check", "message", "source"), rows)


def _result(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> QueryResult:
    from goalforms.pipeline.analysis import QueryResult

    return QueryResult(columns, [tuple(r.get(c) for c in columns) for r in rows])


def _write_xlsx(out: Path, rows: list[dict[str, Any]], totals: list[dict[str, Any]]) -> None:
    import pandas as pd

    try:
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            for name, data in (("findings", rows), ("summary", totals)):
                pd.DataFrame(data).to_excel(writer, index=False, sheet_name=name)
                for line in writer.sheets[name].iter_rows():
                    for cell in line:
                        if cell.data_type == "f":  # a message or target starting with "=" is text
                            cell.data_type = "s"
    except OSError as exc:
        raise GoalformsError(out, f"cannot write: {exc.strerror or exc}") from None


def review(
    db: DbOption = DEFAULT_DB,
    unit: Annotated[str | None, typer.Option("--unit", help="Only forms of this unit.", show_default=False)] = None,
    year: Annotated[int | None, typer.Option("--year", help="Only forms of this year.", show_default=False)] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule id (or a family: 'money.').",
                                             show_default=False)] = None,
    status: Annotated[Status | None, typer.Option("--status", help="Only open or only accepted findings "
                                                  "(default: both).", show_default=False)] = None,
    fmt: Annotated[ReviewFormat, typer.Option("--format", help="Table, CSV, JSON or Excel (needs --out).")]
    = ReviewFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (xlsx; default review.xlsx).",
                                             show_default=False)] = None,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="A rule file of your own (TOML); may be "
                                                     "repeated. Its findings are computed now, not stored.",
                                                     show_default=False)] = None,
    list_rules: Annotated[bool, typer.Option("--list", help="List every rule and exit.")] = False,
) -> None:
    """Print the target review's findings (what the forms say, not what the parse could not read)
    and a summary by unit and rule."""
    from goalforms.pipeline.analysis import render
    from goalforms.pipeline.archive import Archive
    from goalforms.pipeline.review.rules import combine, load_rule_set
    from goalforms.pipeline.review.store import FindingFilter, summary

    try:
        extra = [load_rule_set(p) for p in rules or []]
        if list_rules:
            sys.stdout.write(render(_rules_table(combine(extra)), "csv" if fmt == ReviewFormat.csv else
                                    "json" if fmt == ReviewFormat.json else "table"))
            return
        filters = FindingFilter(unit=unit, year=year, rule=rule, status=status.value if status else None)
        with Archive(db) as archive:  # forms never reviewed, or under older rules, are reviewed first
            rows = archive.findings(filters, extra)
    except GoalformsError as exc:
        raise _fail(exc) from None
    totals = summary(rows)
    if fmt == ReviewFormat.xlsx:
        target = out or Path("review.xlsx")
        try:
            _write_xlsx(target, rows, totals)
        except GoalformsError as exc:
            raise _fail(exc) from None
        sys.stdout.write(f"wrote {len(rows)} finding(s) to {target}\n")
        return
    if fmt == ReviewFormat.json:
        data = {"findings": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows],
                "summary": totals}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == ReviewFormat.csv:
        sys.stdout.write(render(_result(rows, SHOWN), "csv"))
        return
    sys.stdout.write(render(_result(rows, SHOWN), "table"))
    sys.stdout.write("\nsummary by unit and rule (open findings; accepted apart)\n")
    sys.stdout.write(render(_result(totals, SUMMARY), "table"))
    doubtful = sum(t["on_parse_errors"] for t in totals)
    if doubtful:
        sys.stdout.write(f"{doubtful} open finding(s) are on forms with open parse errors (on_parse_errors): "
                         "check those forms' issues first (goalforms issues), the finding may be the parse's.\n")


def register(app: typer.Typer) -> None:
    """Add ``goalforms review`` to ``app``."""
    app.command("review")(review)
