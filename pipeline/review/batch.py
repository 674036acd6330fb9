"""The review of a document just imported, built from its parse in memory (the importer's path).

:func:`review_imported` (the importer's call) lands here. It stores
exactly what the form-by-form review (``review_forms``, which rebuilds each form from the database
and replays its corrections) stores, at a few statements per *file* instead of a dozen per form:

- a file none of whose forms has a correction (the usual case) is reviewed from the parse: the
  form the rules see is the stored one, and the stored form is the parse written through the
  column types, so it is built here with the same conversions (decimals in canonical text, dates
  in ISO) — only the ids are read back, in the same query that says there is no correction;
- the other years of every project of the file are read in one query for the whole file; the
  previous years stored in other files (their indicators, replayed where corrected) and the funds'
  scores of self-evaluations in a few more, only when there are any;
- findings and scorecards are written in one executemany each, in form order (so the finding ids
  follow the order the form-by-form review gives them); nothing is deleted, since the forms were
  just inserted and cannot have findings yet;
- a file with corrections, or whose stored forms do not line up with the parse, takes the
  form-by-form review (corrections are rare; their replay and stale reporting stay in one place).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from goalforms.parsers.values import canonical_decimal
from goalforms.pipeline import load_siblings
from goalforms.pipeline.corrections.fields import budget_fields
from goalforms.pipeline.model import Form as ParsedForm
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.normalise import parse_target
from goalforms.pipeline.review.form import ReviewForm, ReviewIndicator
from goalforms.pipeline.review.rules import Finding, RuleSet, default_rule_sets, review
from goalforms.pipeline.review.series import Side, line_up
from goalforms.pipeline.review.store import (
    _corrected,
    _representative,
    _scorecard,
    review_document,
    review_form,
    rule_sets_key,
)
from goalforms.schema import models
from goalforms.schema.clerk_models import UNDONE, Correction
from goalforms.schema.review_models import FindingRow, FormReview

_FORMS = models.Form.__table__
_INDICATORS = models.Indicator.__table__
_FUNDS = models.FundLine.__table__
_DOCUMENTS = models.SourceDocument.__table__
_CORRECTIONS = Correction.__table__
_FINDINGS = FindingRow.__table__
_REVIEWS = FormReview.__table__

Years = list[tuple[int, int | None]]  # (form id, year) of a project's forms, by form id
Indicators = list[ReviewIndicator]

# The forms of the given project names and units (as corrected): _PROJECT_FORMS of store.py for
# every project of a file at once (names and units each in a list; the pairs are kept in Python).
_PROJECTS_FORMS = text("""
    SELECT f.id, f.year, f.project_name, COALESCE(f.unit, '') FROM forms f
    WHERE f.project_name IN :names AND COALESCE(f.unit, '') IN :units
      AND NOT EXISTS (SELECT 1 FROM corrected_forms c WHERE c.form_id = f.id)
    UNION ALL
    SELECT c.form_id, c.year, c.project_name, COALESCE(c.unit, '') FROM corrected_forms c JOIN forms f ON f.id = c.form_id
    WHERE c.project_name IN :names AND COALESCE(c.unit, '') IN :units
    ORDER BY 1
""").bindparams(bindparam("names", expanding=True), bindparam("units", expanding=True))


# --- the stored values, as the replay reads them back (corrections/replaying.parsed_state) --------


def _canonical(value: Any) -> Decimal | None:
    """A contract decimal as stored (ExactDecimal) and read back by the replay: canonical text,
    then Decimal (as ``decimal_or_none(_decimal_text(column))``)."""
    if value is None or value == "":
        return None
    return Decimal(canonical_decimal(Decimal(str(value))))


def _canonical_text(value: Any) -> str | None:
    return canonical_decimal(Decimal(str(value))) if value is not None and value != "" else None


def _iso(value: Any) -> str | None:
    return dt.date.fromisoformat(value).isoformat() if value else None


def _indicator(position: int, indicator_id: int, level1: str | None, level2: str | None, level3: str,
               dimension: str | None, raw: str, kind: str, op: str | None, value: Decimal | None, unit: str | None,
               actual_raw: str | None, weight: Decimal | None, score: Decimal | None) -> ReviewIndicator:
    """A parsed row as ``store._corrected`` builds it from an uncorrected stored row."""
    return ReviewIndicator(key=f"indicators[{position - 1}]", position=position, level1=level1, level2=level2,
                           level3=level3, dimension=dimension, raw=raw, kind=kind, op=op, value=value, unit=unit,
                           indicator_id=indicator_id,
                           actual=parse_target(actual_raw).to_dict() if actual_raw is not None else None,
                           weight=weight, score=score)


def parsed_indicators(form: ParsedForm, ids: Sequence[int]) -> Indicators:
    """The rows of a parsed form as the review sees them once stored (``ids``: their indicators.id,
    in position order)."""
    return [_indicator(k, ident, i.level1, i.level2, i.level3, i.dimension, i.raw, i.kind, i.op, _canonical(i.value),
                       i.unit, (i.actual or {}).get("raw"), _canonical(i.weight), _canonical(i.score))
            for k, (i, ident) in enumerate(zip(form.indicators, ids, strict=True), start=1)]


def parsed_form(form: ParsedForm, form_id: int, indicators: Indicators, fund_scores: list[Decimal]) -> ReviewForm:
    """A parsed form as ``store.form_of`` builds it from the stored copy (no correction, no series yet)."""
    h = form.header
    header: dict[str, Any] = {
        "project_name": h.get("project_name"), "unit": h.get("unit"), "department": h.get("department"),
        "project_category": h.get("project_category"), "project_nature": h.get("project_nature"),
        "plan_start": _iso(h.get("plan_start")), "plan_end": _iso(h.get("plan_end")),
        "gov_procurement": None if h.get("gov_procurement") is None else bool(h["gov_procurement"]),
        "performance_type": h.get("performance_type"), "goal": h.get("goal"), "outcome": h.get("outcome"),
        "total_score": _canonical_text(h.get("total_score")), "grade": h.get("grade"),
    }
    budget: dict[str, Decimal | None] = {p.removeprefix("budget."): None for p, _ in budget_fields(form.layout)}
    budget.update({item: _canonical(amount) for item, amount in form.budget.items()})
    kind = load_siblings.form_kind({"kind": form.kind, "layout": form.layout})
    return ReviewForm(layout=form.layout, year=form.year, header=header, budget=budget, indicators=indicators,
                      kind=kind or "target", form_id=form_id, series=[], fund_scores=fund_scores)


# --- what the file's review reads, one query each -------------------------------------------------


def _stored_ids(session: Session, document: models.SourceDocument) -> tuple[bool, list[tuple[int, int, list[int]]]]:
    """Whether the document's path has a correction that is not undone, and (form id, ordinal, its
    indicators' ids in position order) of its forms by ordinal: one query."""
    f, i, c = _FORMS.c, _INDICATORS.c, _CORRECTIONS.c
    corrected = select(c.id).where(c.document_path == document.path, c.status != UNDONE).exists()
    query = (select(f.id, f.ordinal, i.id, corrected).select_from(_FORMS.outerjoin(_INDICATORS, i.form_id == f.id))
             .where(f.document_id == document.id).order_by(f.ordinal, i.position))
    out: list[tuple[int, int, list[int]]] = []
    any_correction = False
    for form_id, ordinal, ident, has_correction in session.connection().execute(query):
        any_correction = any_correction or bool(has_correction)
        if not out or out[-1][0] != form_id:
            out.append((form_id, ordinal, []))
        if ident is not None:
            out[-1][2].append(ident)
    return any_correction, out


def _fund_scores(session: Session, form_ids: list[int]) -> dict[int, list[Decimal]]:
    """The stored 得分 of the funds (as the column type gives them back, whose scale the review's
    sums keep), by form."""
    f = _FUNDS.c
    out: dict[int, list[Decimal]] = {}
    for form_id, score in session.connection().execute(select(f.form_id, f.score).where(f.form_id.in_(form_ids), f.score.is_not(None))
                                          .order_by(f.form_id, f.position)):
        out.setdefault(form_id, []).append(score)
    return out


def _project_years(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Years]:
    """The forms (id, year) of each project (name, unit or ""), as corrected, in one query."""
    wanted = set(keys)
    out: dict[tuple[str, str], Years] = {key: [] for key in wanted}
    if not wanted:
        return out
    names, units = sorted({n for n, _u in wanted}), sorted({u for _n, u in wanted})
    for fid, year, name, unit in session.connection().execute(_PROJECTS_FORMS, {"names": names, "units": units}):
        if (name, unit) in wanted:
            out[(name, unit)].append((fid, year))
    return out


def _stored_indicators(session: Session, form_ids: set[int]) -> dict[int, tuple[str, int, Indicators]]:
    """Forms of other files as ``store._corrected`` builds them: (path, ordinal, indicators). A form
    with a correction that is not undone is replayed (``_corrected``); the others are their parse,
    read in one query."""
    if not form_ids:
        return {}
    f, d, c, i = _FORMS.c, _DOCUMENTS.c, _CORRECTIONS.c, _INDICATORS.c
    place = {fid: (path, ordinal) for fid, path, ordinal in session.execute(
        select(f.id, d.path, f.ordinal).join(_DOCUMENTS, d.id == f.document_id).where(f.id.in_(form_ids)))}
    corrected = {fid for (fid,) in session.execute(
        select(f.id).join(_DOCUMENTS, d.id == f.document_id)
        .join(_CORRECTIONS, (c.document_path == d.path) & (c.form_ordinal == f.ordinal))
        .where(f.id.in_(form_ids), c.status != UNDONE).distinct())}
    out: dict[int, tuple[str, int, Indicators]] = {}
    plain = [fid for fid in place if fid not in corrected]
    rows: dict[int, Indicators] = {fid: [] for fid in plain}
    if plain:
        query = (select(i.form_id, i.position, i.id, i.level1, i.level2, i.level3, i.dimension, i.raw_target, i.kind,
                        i.op, i.value, i.unit, i.actual_raw, i.weight, i.score)
                 .where(i.form_id.in_(plain)).order_by(i.form_id, i.position))
        for form_id, position, *values in session.execute(query):
            ident, level1, level2, level3, dimension, raw, kind, op, value, unit, actual, weight, score = values
            rows[form_id].append(_indicator(position, ident, level1, level2, level3, dimension, raw, kind, op,
                                            _canonical(value), unit, actual, _canonical(weight), _canonical(score)))
    for fid, (path, ordinal) in place.items():
        if fid in corrected:
            form = session.get(models.Form, fid)
            assert form is not None
            rows[fid] = _corrected(session, form)[1]
        out[fid] = (path, ordinal, rows[fid])
    return out


# --- the review ------------------------------------------------------------------------------------


def _key(form: ReviewForm) -> tuple[str, str] | None:
    name = form.header.get("project_name")
    return (name, form.header.get("unit") or "") if name else None


def _previous(form: ReviewForm, years: dict[tuple[str, str], Years]) -> tuple[int, int] | None:
    """(form id, year) of the form standing for the project's nearest earlier year (store.series_of)."""
    key = _key(form)
    if form.year is None or key is None:
        return None
    forms = years[key]
    earlier = [y for _fid, y in forms if y is not None and y < form.year]
    if not earlier:
        return None
    chosen = _representative(forms, max(earlier))
    return (chosen, max(earlier)) if chosen is not None else None


def _later(form: ReviewForm, years: dict[tuple[str, str], Years]) -> list[int]:
    """The forms of the project's next year, when this form stands for its year (store._later_forms)."""
    key = _key(form)
    if form.year is None or key is None:
        return []
    forms = years[key]
    if _representative(forms, form.year) != form.form_id:
        return []
    later_years = [y for _fid, y in forms if y is not None and y > form.year]
    if not later_years:
        return []
    following = min(later_years)
    return [fid for fid, y in forms if y == following]


def forms_of(session: Session, document: models.SourceDocument, parsed: ParsedDocument) -> list[ReviewForm] | None:
    """The forms of ``document``, just stored from ``parsed``, as the rules see them: what
    ``store.form_of`` reads back from the database for each, series included — or None when the
    file must take the form-by-form review (it has corrections, or its stored forms do not match
    the parse)."""
    built = _forms_and_years(session, document, parsed)
    return built[0] if built is not None else None


def _forms_and_years(session: Session, document: models.SourceDocument,
                     parsed: ParsedDocument) -> tuple[list[ReviewForm], dict[tuple[str, str], Years]] | None:
    corrected, stored = _stored_ids(session, document)
    if corrected:
        return None
    if [(ordinal, len(ids)) for _fid, ordinal, ids in stored] != [
            (k, len(form.indicators)) for k, form in enumerate(parsed.forms, start=1)]:
        return None
    funded = [fid for (fid, _o, _i), form in zip(stored, parsed.forms, strict=True) if form.funds]
    scores = _fund_scores(session, funded) if funded else {}
    subjects: list[ReviewForm] = []
    for (fid, _ordinal, ids), form in zip(stored, parsed.forms, strict=True):
        subjects.append(parsed_form(form, fid, parsed_indicators(form, ids), scores.get(fid, [])))
    years = _project_years(session, (k for s in subjects if (k := _key(s)) is not None))
    previous = {s.form_id: p for s in subjects if (p := _previous(s, years)) is not None}
    mine = {s.form_id: (document.path, ordinal, s.indicators) for ordinal, s in enumerate(subjects, start=1)}
    sides = {**_stored_indicators(session, {fid for fid, _y in previous.values() if fid not in mine}), **mine}
    for ordinal, subject in enumerate(subjects, start=1):
        if subject.form_id in previous and subject.year is not None:
            chosen, year = previous[subject.form_id]
            before_path, before_ordinal, rows = sides[chosen]
            before = [Side(i, year, (before_path, before_ordinal, i.position)) for i in rows]
            after = [Side(i, subject.year, (document.path, ordinal, i.position)) for i in subject.indicators]
            subject.series = line_up(before, after)
    return subjects, years


def review_imported(session: Session, document: models.SourceDocument, parsed: ParsedDocument) -> int:
    """The importer's review of a document just stored from ``parsed``, in the file's transaction
    after its corrections were replayed: built from the parse in memory and written a few
    statements per file — the same findings and scorecards as :func:`.store.review_document` —
    or, when the file has corrections (or its stored forms do not match the parse), that
    form-by-form review. Returns the number of forms reviewed."""
    session.flush()
    done = review_parsed(session, document, parsed)
    return done if done is not None else review_document(session, document)


def review_parsed(session: Session, document: models.SourceDocument, parsed: ParsedDocument,
                  rule_sets: Sequence[RuleSet] | None = None) -> int | None:
    """Review the forms of ``document``, just stored from ``parsed`` in this transaction, and the
    next years of their projects. Returns the number of forms reviewed, or None when the file must
    take the form-by-form review (it has corrections, or its stored forms do not match the parse)."""
    built = _forms_and_years(session, document, parsed)
    if built is None:
        return None
    subjects, years = built
    sets = list(default_rule_sets() if rule_sets is None else rule_sets)
    found: list[tuple[int | None, Finding]] = []
    reviews: list[dict[str, Any]] = []
    now = dt.datetime.now(dt.UTC)
    for subject in subjects:
        found += [(subject.form_id, x) for x in review(subject, sets)]
        reviews.append({"form_id": subject.form_id, "rule_sets": rule_sets_key(sets), "reviewed_at": now,
                        **_scorecard(subject)})
    if found:  # new forms: nothing to delete first
        session.connection().execute(insert(_FINDINGS), [
            {"form_id": fid, "rule_id": x.rule_id, "rule_set": x.rule_set, "rule_set_version": x.version,
             "severity": x.severity, "message": x.message, "subject": x.subject[:500], "field": x.field,
             "position": x.position, "level3": x.level3, "indicator_id": x.indicator_id} for fid, x in found])
    if reviews:
        session.connection().execute(insert(_REVIEWS), reviews)
    done = {s.form_id for s in subjects}
    for subject in subjects:
        for fid in _later(subject, years):
            if fid not in done:  # another file's form: the form-by-form review, replacing its findings
                other = session.get(models.Form, fid)
                if other is not None:
                    review_form(session, other)
                    done.add(fid)
    return len(done)
