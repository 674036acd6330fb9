"""Findings in the store: recomputed on import and on correction, read through ``v_findings``,
accepted with a reason by a reviewer (docs/review.md).

The rules always see the *corrected* form (the parse with its clerk corrections replayed, exactly
what the analyst views show). Every function works in the caller's transaction and commits nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Integer, delete, func, insert, select, text
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import column, table

from goalforms.errors import GoalformsError
from goalforms.pipeline.corrections.replaying import corrected_state
from goalforms.pipeline.review.form import ReviewForm, ReviewIndicator, decimal_or_none, framework
from goalforms.pipeline.review.rules import Finding, RuleSet, default_rule_sets, review
from goalforms.pipeline.review.series import Side, line_up
from goalforms.pipeline.scope import Scope
from goalforms.schema import models
from goalforms.schema.review_models import FindingAcceptance, FindingRow, FormReview

V_FINDINGS = table(
    "v_findings", *(column(name) for name in (
        "source_path", "project_name", "org_unit", "layout", "rule_id", "rule_set", "rule_set_version",
        "severity", "message", "subject", "field", "level3", "status", "accepted_by", "accepted_note", "accepted_at")),
    *(column(name, Integer) for name in ("finding_id", "form_id", "form_ordinal", "year", "indicator_id", "position",
                                         "open_parse_errors")),
)
FINDING_COLUMNS = ("finding_id", "form_id", "source_path", "form_ordinal", "project_name", "org_unit", "year",
                   "layout", "rule_id", "rule_set", "rule_set_version", "severity", "message", "subject", "field",
                   "indicator_id", "position", "level3", "status", "accepted_by", "accepted_note", "accepted_at",
                   "open_parse_errors")


class ReviewError(GoalformsError):
    """A review request that cannot be done (no such finding, no reason given)."""


def rule_sets_key(rule_sets: Iterable[RuleSet]) -> str:
    return ",".join(f"{s.name}@{s.version}" for s in rule_sets)


# --- the form as the rules see it ------------------------------------------------------------------

# Forms of a project (name and unit, as corrected) in other years than a given one, by form id.
# Two halves so that each can use an index (forms.project_name; corrected_forms is small): one
# expression over both tables scans every form, for every form imported.
_PROJECT_FORMS = """
    SELECT f.id, f.year FROM forms f
    WHERE f.project_name = :project AND COALESCE(f.unit, '') = :unit
      AND NOT EXISTS (SELECT 1 FROM corrected_forms c WHERE c.form_id = f.id)
    UNION ALL
    SELECT c.form_id, c.year FROM corrected_forms c JOIN forms f ON f.id = c.form_id
    WHERE c.project_name = :project AND COALESCE(c.unit, '') = :unit
    ORDER BY 1
"""


def _project_years(session: Session, project: str | None, unit: str | None) -> list[tuple[int, int | None]]:
    if not project:
        return []
    return [(r[0], r[1]) for r in session.execute(text(_PROJECT_FORMS), {"project": project, "unit": unit or ""})]


def _corrected(session: Session, form: models.Form) -> tuple[Any, list[ReviewIndicator]]:
    state = corrected_state(session, form, form.document.path)
    indicators = [
        ReviewIndicator(key=r.key, position=k, level1=r.level1, level2=r.level2, level3=r.level3,
                        dimension=r.dimension, raw=r.raw, kind=r.kind, op=r.op, value=decimal_or_none(r.value),
                        unit=r.unit, indicator_id=r.indicator_id,
                        # Self-evaluations: the corrected actual, 分值 and 得分 (None on target forms).
                        actual=r.actual_reading(), weight=decimal_or_none(r.weight), score=decimal_or_none(r.score))
        for k, r in enumerate(state.rows, start=1)
    ]
    return state, indicators


def _representative(forms: list[tuple[int, int | None]], year: int) -> int | None:
    """The form that stands for a project in a year: the first imported (several forms of one
    project and year are the same form imported from several files)."""
    ids = [fid for fid, y in forms if y == year]
    return min(ids) if ids else None


def series_of(session: Session, form: models.Form, state: Any, indicators: list[ReviewIndicator]) -> list[dict[str, Any]]:
    """This form lined up with its project's previous year (the nearest earlier year of the same
    project name and unit, as corrected) as v_series lines them up; empty without one."""
    year = state.year
    if year is None:
        return []
    forms = _project_years(session, state.header.get("project_name"), state.header.get("unit"))
    earlier_years = [y for _fid, y in forms if y is not None and y < year]
    if not earlier_years:
        return []
    previous = max(earlier_years)
    chosen = _representative(forms, previous)
    earlier = session.get(models.Form, chosen) if chosen is not None else None
    if earlier is None:
        return []
    _state, rows = _corrected(session, earlier)
    before = [Side(i, previous, (earlier.document.path, earlier.ordinal, i.position)) for i in rows]
    after = [Side(i, year, (form.document.path, form.ordinal, i.position)) for i in indicators]
    return line_up(before, after)


def form_of(session: Session, form: models.Form, with_series: bool = True) -> ReviewForm:
    """A stored form as corrected (clerk corrections replayed), lined up with its previous year."""
    state, indicators = _corrected(session, form)
    budget: dict[str, Decimal | None] = {k: decimal_or_none(v) for k, v in state.budget.items()}
    series = series_of(session, form, state, indicators) if with_series else None
    header = dict(state.header)  # total_score, grade and outcome of a self-evaluation included
    return ReviewForm(layout=form.layout, year=state.year, header=header, budget=budget, indicators=indicators,
                      kind=form.kind or "target", form_id=form.id, series=series,
                      fund_scores=[f.score for f in form.funds if f.score is not None])


# --- computing and storing -------------------------------------------------------------------------


@cache
def _required_groups(layout: str) -> tuple[str, ...]:
    """The 一级 groups the shipped coverage rule asks of a layout (what the scorecard counts)."""
    rules = [r for s in default_rule_sets() for r in s.rules if r.check == "dimensions_covered"]
    return tuple(rules[0].params["required"].get(layout, [])) if rules else ()


def _scorecard(form: ReviewForm) -> dict[str, Any]:
    count = len(form.indicators)
    quantified = sum(1 for i in form.indicators if i.kind == "numeric")
    required = _required_groups(form.layout)
    groups = framework(form.layout).groups
    present = {i.dimension for i in form.indicators if i.dimension}
    missing = [g for g in required if not groups.get(g, frozenset()) & present]
    return {"indicator_count": count, "quantified_count": quantified,
            "quantified_share": quantified / count if count else None, "groups_required": len(required),
            "groups_covered": len(required) - len(missing), "groups_missing": "、".join(missing) or None}


def review_form(session: Session, form: models.Form, rule_sets: Sequence[RuleSet] | None = None) -> list[Finding]:
    """Review one stored form (as corrected) and store its findings and scorecard, replacing the old."""
    sets = list(default_rule_sets() if rule_sets is None else rule_sets)
    subject = form_of(session, form)
    found = review(subject, sets)
    session.execute(delete(FindingRow).where(FindingRow.form_id == form.id))
    session.execute(delete(FormReview).where(FormReview.form_id == form.id))
    if found:  # one executemany, no ORM objects: this runs for every imported form
        session.execute(insert(FindingRow), [
            {"form_id": form.id, "rule_id": f.rule_id, "rule_set": f.rule_set, "rule_set_version": f.version,
             "severity": f.severity, "message": f.message, "subject": f.subject[:500], "field": f.field,
             "position": f.position, "level3": f.level3, "indicator_id": f.indicator_id} for f in found])
    session.execute(insert(FormReview), [{"form_id": form.id, "rule_sets": rule_sets_key(sets),
                                          "reviewed_at": dt.datetime.now(dt.UTC), **_scorecard(subject)}])
    return found


def _later_forms(session: Session, form: models.Form, state_header: dict[str, Any], year: int | None) -> list[int]:
    """The forms whose comparison with the year before may have changed with this form: those of the
    project's next year, when this form stands for its own year."""
    if year is None:
        return []
    forms = _project_years(session, state_header.get("project_name"), state_header.get("unit"))
    if _representative(forms, year) != form.id:
        return []
    later_years = [y for _fid, y in forms if y is not None and y > year]
    if not later_years:
        return []
    following = min(later_years)
    return [fid for fid, y in forms if y == following]


def review_forms(session: Session, forms: Iterable[models.Form]) -> int:
    """Review these forms and the later years of their projects (whose comparison with the year
    before may have changed). Returns the number of forms reviewed."""
    done: set[int] = set()
    later: list[int] = []
    for form in forms:
        review_form(session, form)
        done.add(form.id)
        header = {"project_name": form.project_name, "unit": form.unit}
        row = session.execute(text("SELECT project_name, unit, year FROM corrected_forms WHERE form_id = :f"),
                              {"f": form.id}).first()
        year = form.year
        if row is not None:
            header, year = {"project_name": row[0], "unit": row[1]}, row[2]
        later += _later_forms(session, form, header, year)
    for fid in dict.fromkeys(later):
        if fid not in done:
            other = session.get(models.Form, fid)
            if other is not None:
                review_form(session, other)
                done.add(fid)
    return len(done)


def review_document(session: Session, document: models.SourceDocument) -> int:
    """Review every form of a stored document, and the next year of its projects, each form read
    back from the database with its corrections replayed. Returns the number of forms reviewed.
    The importer reviews a file it has just stored from its parse instead
    (:func:`goalforms.pipeline.review.batch.review_imported`), which falls back on this."""
    session.flush()
    # The forms with the rows the review reads, in one query per table (not four per form).
    forms = session.scalars(
        select(models.Form).where(models.Form.document_id == document.id).order_by(models.Form.ordinal)
        .options(*(selectinload(r) for r in (models.Form.budget_figures, models.Form.indicators, models.Form.issues,
                                             models.Form.funds)))).all()
    return review_forms(session, forms)


def review_pending(session: Session, rule_sets: Sequence[RuleSet] | None = None) -> int:
    """Review every form never reviewed, or reviewed under other rule-set versions (a database made
    before the review existed, or after the shipped rules changed). Returns how many were reviewed."""
    key = rule_sets_key(default_rule_sets() if rule_sets is None else rule_sets)
    reviewed = select(FormReview.form_id).where(FormReview.rule_sets == key)
    pending = list(session.scalars(select(models.Form).where(models.Form.id.not_in(reviewed)).order_by(models.Form.id)))
    for form in pending:
        review_form(session, form, rule_sets)
    return len(pending)


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class FindingFilter:
    unit: str | None = None
    year: int | None = None
    rule: str | None = None  # a rule id, or a prefix ending in "." (``money.``)
    severity: str | None = None
    status: str | None = None  # open / accepted
    path: str | None = None
    ordinal: int | None = None


def _terms(f: FindingFilter, scope: Scope | None) -> list[Any]:
    v = V_FINDINGS.c
    terms: list[Any] = list(scope.terms(v)) if scope is not None else []
    if f.unit is not None:
        terms.append(v.org_unit == f.unit)
    if f.year is not None:
        terms.append(v.year == f.year)
    if f.rule:
        terms.append(v.rule_id.startswith(f.rule, autoescape=True) if f.rule.endswith(".") else v.rule_id == f.rule)
    if f.severity:
        terms.append(v.severity == f.severity)
    if f.status:
        terms.append(v.status == f.status)
    if f.path is not None:
        terms.append(v.source_path == f.path)
    if f.ordinal is not None:
        terms.append(v.form_ordinal == f.ordinal)
    return terms


def findings(session: Session, filters: FindingFilter | None = None, scope: Scope | None = None) -> list[dict[str, Any]]:
    """Rows of v_findings, in document order."""
    v = V_FINDINGS.c
    query = (select(*(v[name] for name in FINDING_COLUMNS)).where(*_terms(filters or FindingFilter(), scope))
             .order_by(v.source_path, v.form_ordinal, func.coalesce(v.position, 0), v.rule_id, v.finding_id))
    return [dict(r._mapping) for r in session.execute(query)]


def summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings counted by unit and rule: forms, open, accepted, and open ones on forms with open
    parse errors (those may be the parse's doing: check the form's issues first)."""
    counts: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["org_unit"] or "", r["rule_id"], r["severity"])
        entry = counts.setdefault(key, {"org_unit": key[0], "rule_id": key[1], "severity": key[2], "forms": set(),
                                        "open": 0, "accepted": 0, "on_parse_errors": 0})
        entry["forms"].add(r["form_id"])
        entry["open" if r["status"] == "open" else "accepted"] += 1
        if r["status"] == "open" and r.get("open_parse_errors"):
            entry["on_parse_errors"] += 1
    out = [{**e, "forms": len(e["forms"])} for e in counts.values()]
    return sorted(out, key=lambda e: (e["org_unit"], -e["open"], e["rule_id"]))


# --- accepting -------------------------------------------------------------------------------------


def accept(session: Session, finding_id: int, author: str, note: str, scope: Scope | None = None) -> FindingAcceptance:
    """Mark a finding "accepted with reason"; kept across re-imports (keyed by path, ordinal, rule, subject)."""
    if not note.strip():
        raise ReviewError(None, "say in a note why the finding is accepted")
    found = findings(session, FindingFilter(), scope)  # scope: a finding of another unit is not found
    row = next((r for r in found if r["finding_id"] == finding_id), None)
    if row is None:
        raise ReviewError(None, f"no finding {finding_id} (was the form imported again? reload the page)")
    existing = session.scalar(select(FindingAcceptance).where(
        FindingAcceptance.document_path == row["source_path"], FindingAcceptance.form_ordinal == row["form_ordinal"],
        FindingAcceptance.rule_id == row["rule_id"], FindingAcceptance.subject == row["subject"]))
    now = dt.datetime.now(dt.UTC)
    if existing is not None:
        existing.note, existing.author, existing.created_at, existing.message = note.strip(), author, now, row["message"]
        session.flush()
        return existing
    made = FindingAcceptance(document_path=row["source_path"], form_ordinal=row["form_ordinal"], rule_id=row["rule_id"],
                             subject=row["subject"], message=row["message"], author=author, note=note.strip(),
                             created_at=now)
    session.add(made)
    session.flush()
    return made


def withdraw(session: Session, finding_id: int, scope: Scope | None = None) -> bool:
    """Take back the acceptance of a finding (it is open again). False when it was not accepted."""
    row = next((r for r in findings(session, FindingFilter(), scope) if r["finding_id"] == finding_id), None)
    if row is None:
        raise ReviewError(None, f"no finding {finding_id}")
    result = session.execute(delete(FindingAcceptance).where(
        FindingAcceptance.document_path == row["source_path"], FindingAcceptance.form_ordinal == row["form_ordinal"],
        FindingAcceptance.rule_id == row["rule_id"], FindingAcceptance.subject == row["subject"]))
    return bool(getattr(result, "rowcount", 0))


def live_findings(session: Session, rule_sets: Sequence[RuleSet], filters: FindingFilter | None = None,
                  scope: Scope | None = None) -> list[dict[str, Any]]:
    """Findings under other rule sets than the stored ones (``goalforms review --rules FILE``):
    computed now over the forms v_scorecard lists (within the filters), stored nowhere; acceptances
    apply as in v_findings."""
    f = filters or FindingFilter()
    sql = ("SELECT form_id, source_path, form_ordinal, project_name, org_unit, year, layout, open_parse_errors "
           "FROM v_scorecard")
    wanted = []
    for row in session.execute(text(sql)):
        r = dict(row._mapping)
        if scope is not None and not scope.allows_unit(r["org_unit"]):
            continue
        if (f.unit is not None and r["org_unit"] != f.unit) or (f.year is not None and r["year"] != f.year):
            continue
        if (f.path is not None and r["source_path"] != f.path) or (f.ordinal is not None and r["form_ordinal"] != f.ordinal):
            continue
        wanted.append(r)
    accepted = {(a.document_path, a.form_ordinal, a.rule_id, a.subject): a
                for a in session.scalars(select(FindingAcceptance))}
    out: list[dict[str, Any]] = []
    for r in sorted(wanted, key=lambda r: (r["source_path"], r["form_ordinal"])):
        form = session.get(models.Form, r["form_id"])
        if form is None:
            continue
        for k, x in enumerate(review(form_of(session, form), rule_sets), start=1):
            if f.rule and not (x.rule_id.startswith(f.rule) if f.rule.endswith(".") else x.rule_id == f.rule):
                continue
            if f.severity and x.severity != f.severity:
                continue
            a = accepted.get((r["source_path"], r["form_ordinal"], x.rule_id, x.subject))
            status = "open" if a is None else "accepted"
            if f.status and status != f.status:
                continue
            out.append({**r, "finding_id": -k, "rule_id": x.rule_id, "rule_set": x.rule_set,
                        "rule_set_version": x.version, "severity": x.severity, "message": x.message,
                        "subject": x.subject, "field": x.field, "indicator_id": x.indicator_id,
                        "position": x.position, "level3": x.level3, "status": status,
                        "accepted_by": a.author if a else None, "accepted_note": a.note if a else None,
                        "accepted_at": a.created_at if a else None})
    return [{name: row.get(name) for name in FINDING_COLUMNS} for row in out]
