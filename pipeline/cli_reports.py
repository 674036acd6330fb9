"""Evaluation reports on the command line: ``goalforms project NAME`` (a project's target forms and
evaluations side by side) and the readable print of a parsed report (``goalforms parse`` without
``--json``).

The command reads through the read-only connection of goalforms.pipeline.analysis, like ``query``
and ``series``; errors become ``error: …`` on standard error and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import text

from goalforms.errors import GoalformsError
from goalforms.parsers.reports.names import dice, name_match, project_key
from goalforms.parsers.reports.text import compact
from goalforms.pipeline import analysis
from goalforms.pipeline.cli_analysis import DbOption, OutputFormat
from goalforms.pipeline.terminal import safe
from goalforms.schema.db import DEFAULT_DB

DOCUMENT_COLUMNS = ("year", "document", "project_name", "org_unit", "match", "layout", "indicators", "budget",
                    "spent", "execution_rate", "score", "grade", "report_number", "source")
SCORE_COLUMNS = ("report_year", "code", "level1", "level2", "level3", "weight", "score")
# v_target_vs_actual, as `goalforms project` shows it: a project's targets beside its self-evaluations.
ACTUAL_COLUMNS = ("year", "dimension", "match", "target", "target_raw", "actual_raw", "met", "shortfall",
                  "weight", "score", "reason", "note")
DOCUMENT_KINDS = {"target": "target form", "self_evaluation": "self-evaluation", "department": "department form"}
# A target indicator is shown beside a scored indicator when their names are this alike (the
# Dice coefficient v_series uses for near matches).
NEAR = 0.5


@dataclass
class ProjectView:
    """What ``goalforms project`` shows: the documents of one project and, per evaluation, its
    scores beside the nearest target of each linked form."""

    key: str
    unit: str | None
    documents: analysis.QueryResult
    evaluations: list[tuple[dict[str, Any], analysis.QueryResult]]
    # Targets beside the actuals of the project's self-evaluations (v_target_vs_actual).
    actuals: analysis.QueryResult = field(default_factory=lambda: analysis.QueryResult(ACTUAL_COLUMNS, []))


def _money(value: Any, unit: str | None) -> str:
    if value is None:
        return ""
    return f"{format(Decimal(str(value)).normalize(), 'f')}{unit or ''}"


def _records(connection: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(text(sql), params)]


def project_view(db: str | None, project: str, unit: str | None = None) -> ProjectView:
    """Target forms and evaluation reports of ``project`` (matched exactly or without year,
    quotes and a trailing 项目), one unit; AnalysisError when there is none or several units."""
    key = project_key(project)
    if not key:
        raise analysis.AnalysisError(None, "give a project name")
    engine = analysis.read_only_engine(db)
    try:
        with engine.connect() as connection:
            forms = [f for f in _records(connection, "SELECT * FROM v_forms WHERE project_name LIKE :p ORDER BY year, "
                                                     "form_id", p=f"%{key}%")
                     if project_key(f["project_name"]) == key]
            reports = _records(connection, "SELECT * FROM v_reports WHERE project_key = :k ORDER BY year, report_id",
                               k=key)
            if unit is not None:
                forms = [f for f in forms if compact(f["org_unit"]) == compact(unit)]
                reports = [r for r in reports if compact(r["org_unit"]) == compact(unit)]
            units = sorted({str(d["org_unit"]) for d in forms + reports if d["org_unit"]})
            if not forms and not reports:
                raise analysis.AnalysisError(None, _nothing_found(connection, project, key, unit))
            if len(units) > 1:
                raise analysis.AnalysisError(None, f"project {project!r} is filed by {len(units)} units "
                                                   f"({', '.join(units)}); choose one with --unit")
            links = _records(connection, "SELECT report_id, form_id, form_year FROM v_project_evaluations "
                                         "WHERE project_key = :k AND form_id IS NOT NULL", k=key)
            evaluations = []
            for report in reports:
                linked = sorted({(link["form_year"], link["form_id"]) for link in links
                                 if link["report_id"] == report["report_id"]}, key=lambda x: (x[0] or 0, x[1]))
                evaluations.append((report, _scores_beside_targets(connection, report, linked)))
            actuals = _targets_beside_actuals(connection, key, units[0] if len(units) == 1 else None)
    finally:
        engine.dispose()
    documents = [_form_row(f, project) for f in forms] + [_report_row(r, project) for r in reports]
    documents.sort(key=lambda row: (row[0] or 0, row[1] != "evaluation"))
    return ProjectView(key, units[0] if units else None, analysis.QueryResult(DOCUMENT_COLUMNS, documents),
                       evaluations, actuals)


def _targets_beside_actuals(connection: Any, key: str, unit: str | None) -> analysis.QueryResult:
    """Each self-evaluated indicator of the project beside its target (v_target_vs_actual), in the
    self-evaluation's order; the targets it does not evaluate after them. One file per
    self-evaluation: the same form imported in several formats is shown once."""
    rows = _records(connection, "SELECT * FROM v_target_vs_actual WHERE project_key = :k ORDER BY year, "
                                "eval_source_path, eval_indicator_id, target_source_path, target_indicator_id", k=key)
    if unit is not None:
        rows = [r for r in rows if compact(r["org_unit"]) == compact(unit)]
    # The self-evaluation's rows in its order, then the targets it does not evaluate (NULLs sort
    # differently on SQLite and PostgreSQL: order here).
    rows.sort(key=lambda r: (r["year"], r["match_kind"] == "not_evaluated", r["eval_source_path"] or "",
                             r["eval_indicator_id"] or 0, r["target_source_path"] or "", r["target_indicator_id"] or 0))
    first_file: dict[Any, Any] = {}
    out = []
    for r in rows:
        path = r["eval_source_path"] or r["target_source_path"]
        if first_file.setdefault((r["year"], r["match_kind"] == "not_evaluated"), path) != path:
            continue
        met = {1: "met", 0: "missed"}.get(r["met"], "")
        shortfall = r["shortfall"]
        out.append((r["year"], r["dimension"] or "", r["match_kind"], r["target_level3"] or "", r["target_raw"] or "",
                    r["actual_raw"] if r["actual_raw"] is not None else "", met,
                    f"{_money(Decimal(repr(shortfall)), r['target_unit'])}" if shortfall else "",
                    _money(r["weight"], ""), _money(r["score"], ""), r["reason"] or "", r["note"] or ""))
    return analysis.QueryResult(ACTUAL_COLUMNS, out)


def _form_row(form: dict[str, Any], asked: str) -> tuple[Any, ...]:
    kind = form.get("kind") or "target"
    budget = form["current_year"] if form["current_year"] is not None else form["total"]
    return (form["year"], DOCUMENT_KINDS.get(kind, kind), form["project_name"], form["org_unit"],
            name_match(asked, form["project_name"]) or "near", form["layout"], form["indicator_count"],
            _money(budget, "元"), "", "", _money(form.get("total_score"), ""), form.get("grade") or "", "",
            form["source_path"])


def _report_row(report: dict[str, Any], asked: str) -> tuple[Any, ...]:
    budget = report["adjusted_budget"] if report["adjusted_budget"] is not None else report["budget"]
    rate = report["execution_rate"]
    return (report["year"], "evaluation", report["project_name"], report["org_unit"],
            name_match(asked, report["project_name"]) or "near", "", report["score_count"],
            _money(budget, report["budget_unit"]), _money(report["spent"], report["budget_unit"]),
            f"{_money(rate, '')}%" if rate is not None else "",
            _money(report["total_score"], ""), report["grade"] or "", report["report_number"] or "",
            report["source_path"])


def _scores_beside_targets(connection: Any, report: dict[str, Any],
                           linked: list[tuple[int | None, int]]) -> analysis.QueryResult:
    """The report's scores; beside each, per year of the linked forms, the target indicator with
    the same or the most alike name (Dice ≥ 0.5), as ``三级: target``. Forms of the same year (the
    same form in several files) share a column; differing targets are shown side by side (``|``)."""
    scores = _records(connection, "SELECT * FROM v_report_scores WHERE report_id = :r ORDER BY position",
                      r=report["report_id"])
    years: dict[int | None, list[list[dict[str, Any]]]] = {}
    for year, form_id in linked:
        years.setdefault(year, []).append(_records(
            connection, "SELECT level3, raw FROM v_indicators WHERE form_id = :f ORDER BY position", f=form_id))
    rows = []
    for s in scores:
        row: list[Any] = [report["year"], s["code"], s["level1"], s["level2"], s["level3"],
                          _money(s["weight"], ""), _money(s["score"], "")]
        for forms in years.values():
            found = [_nearest(s["level3"] or "", indicators) for indicators in forms]
            row.append(" | ".join(dict.fromkeys(t for t in found if t)))
        rows.append(tuple(row))
    return analysis.QueryResult(SCORE_COLUMNS + tuple(f"target {year}" for year in years), rows)


def _nearest(name: str, indicators: list[dict[str, Any]]) -> str:
    best, best_score = None, NEAR
    for indicator in indicators:
        similarity = dice(compact(name), compact(indicator["level3"]))
        if similarity > best_score or (best is None and similarity >= NEAR):
            best, best_score = indicator, similarity
    return f"{best['level3']}: {best['raw']}" if best else ""


def _nothing_found(connection: Any, project: str, key: str, unit: str | None) -> str:
    of_unit = f" of unit {unit!r}" if unit else ""
    close = [r[0] for r in connection.execute(text(
        "SELECT DISTINCT project_name FROM v_forms WHERE project_name LIKE :p "
        "UNION SELECT DISTINCT project_name FROM v_reports WHERE project_name LIKE :p"),
        {"p": f"%{key[:4]}%"})]
    hint = f"; similar names: {', '.join(sorted(n for n in close if n)[:10])}" if close else ""
    return f"no target form or evaluation report has the project name {project!r}{of_unit}{hint}"


def render_project(view: ProjectView, fmt: str) -> str:
    if fmt == "json":
        documents = json.loads(analysis.render(view.documents, "json"))
        evaluations = [{"report_id": report["report_id"], "year": report["year"],
                        "report_number": report["report_number"],
                        "total_score": _money(report["total_score"], "") or None, "grade": report["grade"],
                        "scores": json.loads(analysis.render(scores, "json"))}
                       for report, scores in view.evaluations]
        return json.dumps({"project": view.key, "org_unit": view.unit, "documents": documents,
                           "evaluations": evaluations,
                           "targets_vs_actuals": json.loads(analysis.render(view.actuals, "json"))},
                          ensure_ascii=False, indent=2) + "\n"
    parts = []
    if fmt == "table":
        parts.append(f"{view.key} · {view.unit or 'unit not stated'}\n\n")
    parts.append(analysis.render(view.documents, fmt))
    for report, scores in view.evaluations:
        if fmt == "table":
            parts.append(f"\nevaluation {report['year']} · {report['report_number'] or ''} · "
                         f"{_money(report['total_score'], '')} {report['grade'] or ''} · {report['evaluator'] or ''}\n")
        else:
            parts.append("\n")
        parts.append(analysis.render(scores, fmt))
    if view.actuals.rows:
        parts.append("\ntargets and self-evaluated actuals\n" if fmt == "table" else "\n")
        parts.append(analysis.render(view.actuals, fmt))
    return "".join(parts)


def project(
    name: Annotated[str, typer.Argument(help="The project name (项目名称); a year prefix such as 2018年 is ignored.",
                                        show_default=False)],
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Aligned tables, CSV or JSON.")] = OutputFormat.table,
    unit: Annotated[str | None, typer.Option("--unit", help="The unit, when several file the same project name.",
                                             show_default=False)] = None,
) -> None:
    """A project's target forms and evaluation reports side by side, and each evaluation's scores
    beside the closest target of every linked form."""
    try:
        view = project_view(db, name, unit)
    except GoalformsError as exc:
        sys.stderr.write(f"error: {safe(exc)}\n")
        raise typer.Exit(1) from None
    sys.stdout.write(render_project(view, fmt.value))


def print_reports(console: Console, reports: Sequence[dict[str, Any]]) -> None:
    """The readable form of parsed reports (``goalforms parse`` without ``--json``). Report text is
    escaped: 报告文号 such as 上审资绩报[2019]8011 must not be read as Rich markup."""
    for n, report in enumerate(reports, start=1):
        meta = report["metadata"]
        head = " · ".join(str(meta.get(k)) for k in ("title", "project_name", "unit", "report_number"))
        console.print(f"\n[bold]Report {n}[/bold] · {_shown(head)} · {_shown(report['where'])}", highlight=False)
        table_ref = report["score_table"]
        console.print(_shown(f"total {meta.get('total_score')} ({meta.get('grade')}); scoring table "
                             f"{table_ref.get('source')} {table_ref.get('where')}, 总分 {report.get('score_total')}"),
                      highlight=False)
        table = Table(show_lines=False)
        for column in ("code", "一级", "二级", "三级", "分值", "得分", "where"):
            table.add_column(column)
        for s in report["scores"]:
            table.add_row(*(_shown(v or "") for v in (s["code"], s["level1"], s["level2"], s["level3"], s["weight"],
                                                      s["score"], s["where"])))
        for st in report["subtotals"]:
            name = f"{st['name']} 小计" if st["level"] != "total" else st["name"]
            table.add_row(*(_shown(v or "") for v in (st["code"], "", "", name, st["max"], st["score"], st["where"])),
                          style="dim")
        console.print(table)
        budget = report.get("budget_execution")
        if budget and budget.get("total"):
            total = budget["total"]
            console.print(_shown(f"budget ({budget.get('unit')}): 预算 {total.get('budget')} · 调整后 "
                                 f"{total.get('adjusted_budget')} · 支出 {total.get('spent')} · 执行率 "
                                 f"{total.get('execution_rate')}%"), highlight=False)
        for issue in report["issues"]:
            colour = {"error": "red", "warning": "yellow"}.get(issue["severity"], "cyan")
            console.print(f"[{colour}]{issue['severity']}[/{colour}] "
                          f"{_shown(issue['code'] + ' (' + str(issue['where']) + '): ' + issue['message'])}",
                          highlight=False)


def _shown(text: object) -> str:
    """Document text for the terminal: control characters escaped (terminal.safe), Rich markup too."""
    return escape(safe(text, keep_newlines=True))


def register(app: typer.Typer) -> None:
    """Add the report commands to ``app``."""
    app.command("project")(project)
