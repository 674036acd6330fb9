"""Load: the evaluation reports of a parsed document into the store, and the links between reports
and target forms of the same project — in the caller's transaction, like the forms.

``store_reports`` is called for every stored document, reports or not: a document's new forms are
linked to the reports already in the store, and its new reports to the forms already there (and
to each other), so the links do not depend on the order in which files are imported. Replacing a
document deletes its rows and, by cascade, their links; storing it again makes them anew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlalchemy.orm import Session

from goalforms.parsers.reports.names import name_match, project_key, unit_match
from goalforms.pipeline.review.reads import fetch, marks
from goalforms.schema import models
from goalforms.schema import report_models as rm


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _dec(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, str) and value != "" else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else value if isinstance(value, int) else None


class StoredForm(NamedTuple):
    """What linking needs of a form just written (the loader builds no ORM object for it)."""

    id: int
    project_name: str | None
    unit: str | None
    # project_key(project_name) when already known (the loader computed it for the forms table).
    key: str | None = None


class _Side(NamedTuple):
    """A report as linking sees it."""

    id: int
    project_name: str | None
    unit: str | None


def store_reports(session: Session, document: models.SourceDocument, reports: list[dict[str, Any]],
                  forms: Sequence[StoredForm]) -> None:
    """Add the reports of ``document`` (already written) and link reports and ``forms`` (its forms,
    already written)."""
    new = [_report(document, ordinal, data) for ordinal, data in enumerate(reports, start=1)]
    if new:
        session.add_all(new)
        session.flush()  # their ids, for the links
    link(session, [_Side(r.id, r.project_name, r.unit) for r in new], list(forms),
         {r.project_key for r in new if r.project_key})


def _report(document: models.SourceDocument, ordinal: int, data: dict[str, Any]) -> rm.Report:
    meta = data.get("metadata") or {}
    table = data.get("score_table") or {}
    budget = data.get("budget_execution") or {}
    years = data.get("financial_years") or {}
    schedule = data.get("schedule") or {}
    survey = data.get("satisfaction") or {}
    report = rm.Report(
        document=document,
        ordinal=ordinal,
        kind=data.get("kind", "evaluation_report"),
        title=meta.get("title"),
        project_name=meta.get("project_name"),
        project_key=project_key(meta.get("project_name")),
        year=meta.get("year"),
        unit=meta.get("unit"),
        department=meta.get("department"),
        commissioned_by=meta.get("commissioned_by"),
        evaluator=meta.get("evaluator"),
        report_number=meta.get("report_number"),
        report_date=_date(meta.get("report_date")),
        plan_start=_date(meta.get("plan_start")),
        plan_end=_date(meta.get("plan_end")),
        goal=meta.get("goal"),
        total_score=_dec(meta.get("total_score")),
        grade=meta.get("grade"),
        score_total=_dec(data.get("score_total")),
        score_table_source=table.get("source"),
        budget_unit=budget.get("unit"),
        years_unit=years.get("unit"),
        respondents=_int(survey.get("respondents")),
        satisfaction_indicator=survey.get("indicator"),
        schedule_indicator=schedule.get("indicator"),
        source_location=data.get("where"),
        locations=_locations(data),
    )
    for position, s in enumerate(data.get("scores") or [], start=1):
        paper = s.get("workpaper") or {}
        report.scores.append(rm.ReportScore(
            position=position, code=s["code"], level1_code=s.get("level1_code"), level1=s.get("level1"),
            level1_max=_dec(s.get("level1_max")), level2_code=s.get("level2_code"), level2=s.get("level2"),
            level2_max=_dec(s.get("level2_max")), level3=s.get("level3"), weight=_dec(s.get("weight")),
            score=_dec(s.get("score")), explanation=s.get("explanation"), criteria=s.get("criteria"),
            reasoning=s.get("reasoning"), detail_name=s.get("detail_name"), detail_max=_dec(s.get("detail_max")),
            detail_score=_dec(s.get("detail_score")), source_location=s.get("where"),
            detail_location=s.get("detail_where"), annex_location=s.get("annex_where"),
            wp_title=paper.get("title"), wp_explanation=paper.get("explanation"), wp_weight=_dec(paper.get("weight")),
            wp_benchmark=paper.get("benchmark"), wp_benchmark_basis=paper.get("benchmark_basis"),
            wp_criteria=paper.get("criteria"), wp_data_source=paper.get("data_source"),
            wp_reasoning=paper.get("reasoning"), wp_score=_dec(paper.get("score")), wp_date=_date(paper.get("date")),
            wp_location=paper.get("where"),
        ))
    for position, st in enumerate(data.get("subtotals") or [], start=1):
        report.subtotals.append(rm.ReportSubtotal(
            position=position, level=st["level"], code=st.get("code"), name=st.get("name"), max=_dec(st.get("max")),
            score=_dec(st.get("score")), detail_name=st.get("detail_name"), detail_max=_dec(st.get("detail_max")),
            detail_score=_dec(st.get("detail_score")), source_location=st.get("where"),
            detail_location=st.get("detail_where"), annex_location=st.get("annex_where"),
        ))
    lines: list[tuple[str, dict[str, Any], bool, str | None]] = []
    lines += [("budget_execution", r, False, budget.get("unit")) for r in budget.get("rows") or []]
    if budget.get("total"):
        lines.append(("budget_execution", budget["total"], True, budget.get("unit")))
    lines += [("financial_years", r, False, years.get("unit")) for r in years.get("rows") or []]
    lines += [("financial_years", r, True, years.get("unit")) for r in years.get("totals") or []]
    for position, (table_name, r, is_total, unit) in enumerate(lines, start=1):
        report.budget_lines.append(rm.ReportBudgetLine(
            position=position, table_name=table_name, item=None if is_total else r.get("item"), is_total=is_total,
            year=r.get("year"), budget=_dec(r.get("budget")), adjusted_budget=_dec(r.get("adjusted_budget")),
            spent=_dec(r.get("spent")), execution_rate=_dec(r.get("execution_rate")), unit=unit,
            source_location=r.get("where"), also_at=list(r.get("also_at") or []),
        ))
    for position, a in enumerate(budget.get("adjustments") or [], start=1):
        report.adjustments.append(rm.ReportAdjustment(
            position=position, item=a.get("item"), amount=_dec(a.get("amount")), unit=budget.get("unit"),
            source_location=a.get("where"), also_at=list(a.get("also_at") or []),
        ))
    for position, o in enumerate((data.get("outputs") or {}).get("rows") or [], start=1):
        report.outputs.append(rm.ReportOutput(
            position=position, name=o.get("name"), planned=_dec(o.get("planned")), actual=_dec(o.get("actual")),
            unit=o.get("unit"), indicator_code=o.get("indicator"), source_location=o.get("where"),
            text_location=o.get("text_where"),
        ))
    for position, row in enumerate(schedule.get("rows") or [], start=1):
        report.schedule.append(rm.ReportScheduleRow(
            position=position, name=row.get("name"), planned=row.get("planned"), actual=row.get("actual"),
            source_location=row.get("where"),
        ))
    survey_rows = [(r, False) for r in survey.get("rows") or []]
    if survey.get("total"):
        survey_rows.append((survey["total"], True))
    for position, (row, is_total) in enumerate(survey_rows, start=1):
        report.satisfaction.append(rm.ReportSatisfactionRow(
            position=position, item=None if is_total else row.get("item"), is_total=is_total, max=_dec(row.get("max")),
            rate=_dec(row.get("rate")), score=_dec(row.get("score")), source_location=row.get("where"),
        ))
    for issue in data.get("issues") or []:
        report.issues.append(rm.ReportIssue(
            code=issue["code"], severity=issue["severity"], message=issue["message"], location=issue.get("where"),
            field=issue.get("field"), found=issue.get("found"), expected=issue.get("expected"),
        ))
    return report


def _locations(data: dict[str, Any]) -> dict[str, Any]:
    """Where the report's metadata and tables were printed (everything but per-row locations)."""
    out: dict[str, Any] = {"metadata": dict((data.get("metadata") or {}).get("where") or {})}
    table = data.get("score_table") or {}
    out["score_table"] = table.get("where")
    out["score_table_duplicate"] = {"source": table.get("duplicate"), "where": table.get("duplicate_where")}
    for key in ("budget_execution", "financial_years", "outputs", "schedule", "satisfaction"):
        section = data.get(key) or {}
        out[key] = {k: v for k, v in section.items() if k in ("where", "unit_where", "respondents_where")}
    return out


# Plain driver SQL (review/reads.fetch): this runs for every file imported, and a Core statement
# with an expanding IN was compiled and processed anew each time.
_REPORTS_OF_KEYS = "SELECT id, project_name, unit FROM reports WHERE project_key IN ({})"
_FORMS_OF_KEYS = "SELECT id, project_name, unit FROM forms WHERE project_key IN ({}) ORDER BY id"  # as the scan read them


def link(session: Session, reports: list[_Side], forms: list[StoredForm], keys: set[str]) -> None:
    """Link new reports (whose project keys are ``keys``) to the forms of the same project (stored
    or new) and new forms to stored reports; the links are written with one executemany."""
    pairs: list[tuple[_Side, StoredForm]] = [(r, f) for r in reports for f in forms]
    new_forms = {f.id for f in forms}
    new_reports = {r.id for r in reports}
    if keys and reports:
        # The forms of the same project key: name_match links a pair only when the keys are equal
        # (an exact name has the same key), and forms.project_key is project_key(project_name),
        # stored with it. Through its index: a LIKE '%key%' over the names read every form of the
        # store for each file with reports (and missed a name with a space inside the key).
        wanted = sorted(keys)
        stored = fetch(session.connection(), _FORMS_OF_KEYS.format(marks(len(wanted))), wanted)
        pairs += [(r, StoredForm(*f)) for r in reports for f in stored if f[0] not in new_forms]
    form_keys = {k for f in forms if (k := f.key if f.key is not None else project_key(f.project_name))}
    if form_keys:
        keys_ = sorted(form_keys)
        known = fetch(session.connection(), _REPORTS_OF_KEYS.format(marks(len(keys_))), keys_)
        pairs += [(_Side(*r), f) for r in known if r[0] not in new_reports for f in forms]
    links = []
    for report, form in pairs:
        by_name = name_match(report.project_name, form.project_name)
        by_unit = unit_match(report.unit, form.unit)
        if by_name is None or by_unit is None:
            continue
        links.append({"report_id": report.id, "form_id": form.id, "name_match": by_name, "unit_match": by_unit})
    if links:
        session.connection().execute(insert(rm.ReportFormLink.__table__), links)
