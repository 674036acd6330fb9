"""The review of a document just imported, built from its parse in memory (the importer's path).

The importer reviews a file in two steps:

- :func:`prepare_review` (before the file's transaction, no database): everything that depends on
  the file alone — the forms as the rules will see them once stored (the stored form is the parse
  written through the column types, so it is built here with the same conversions: decimals in
  canonical text, dates in ISO), every rule that does not look at the project's other years (per
  form, per indicator, self-evaluation: messages rendered), the scorecards. In a worker this runs
  while another worker holds the write lock.
- :func:`review_imported` (in the file's transaction, after its corrections were replayed): what
  reads other files' rows, and the writing. One query gives the ids of the stored forms and rows
  and says whether the path has a correction; the other years of every project of the file come in
  one more; the previous years stored in other files (their indicators, replayed where corrected)
  in a few more, only when there are any; the rules of the series (:func:`.rules.reads_series`)
  run on the forms lined up with their year before; findings and scorecards are written in one
  executemany each, in form order and rule order (so the finding ids follow the order the
  form-by-form review gives them); nothing is deleted, since the forms were just inserted.

It stores exactly what the form-by-form review (``review_forms``, which rebuilds each form from
the database and replays its corrections) stores. A file with corrections, or whose stored forms
do not line up with the parse, takes that form-by-form review (corrections are rare; their replay
and stale reporting stay in one place).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, select
from sqlalchemy.orm import Session

from goalforms.parsers.values import canonical_decimal
from goalforms.pipeline import load_siblings
from goalforms.pipeline.bulk import insert_many, process
from goalforms.pipeline.corrections.fields import budget_fields
from goalforms.pipeline.model import Form as ParsedForm
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.normalise import parse_target
from goalforms.pipeline.review.form import ReviewForm, ReviewIndicator
from goalforms.pipeline.review.reads import fetch, marks
from goalforms.pipeline.review.rules import Finding, Rule, RuleSet, default_rule_sets, reads_series, run_rules
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
_DOCUMENTS = models.SourceDocument.__table__
_CORRECTIONS = Correction.__table__
_FINDINGS = FindingRow.__table__
_REVIEWS = FormReview.__table__
_FINDING_COLUMNS = ("form_id", "rule_id", "rule_set", "rule_set_version", "severity", "message", "subject", "field",
                    "position", "level3", "indicator_id")
# reviewed_at last: one value for the whole file, converted once (the others are converted row by row).
_REVIEW_COLUMNS = ("form_id", "rule_sets", "indicator_count", "quantified_count", "quantified_share",
                   "groups_required", "groups_covered", "groups_missing", "reviewed_at")

Years = list[tuple[int, int | None]]  # (form id, year) of a project's forms, by form id
Indicators = list[ReviewIndicator]


@cache
def _projects_forms(names: int, units: int) -> str:
    """The forms of the given project names and units (as corrected): _PROJECT_FORMS of store.py for
    every project of a file at once (names and units each in a list; the pairs are kept in Python)."""
    return f"""
        SELECT f.id, f.year, f.project_name, COALESCE(f.unit, '') FROM forms f
        WHERE f.project_name IN ({marks(names)}) AND COALESCE(f.unit, '') IN ({marks(units)})
          AND NOT EXISTS (SELECT 1 FROM corrected_forms c WHERE c.form_id = f.id)
        UNION ALL
        SELECT c.form_id, c.year, c.project_name, COALESCE(c.unit, '') FROM corrected_forms c
        JOIN forms f ON f.id = c.form_id
        WHERE c.project_name IN ({marks(names)}) AND COALESCE(c.unit, '') IN ({marks(units)})
        ORDER BY 1
    """


# A document's forms by ordinal: id, ordinal, how many rows, their positions' and ids' range (as
# id - position: one value when the ids follow the positions, as rows inserted in order get them),
# and whether its path has a correction that is not undone. One row per form, not per row.
_IDS = """
    SELECT f.id, f.ordinal, COUNT(i.id), MIN(i.position), MAX(i.position), MIN(i.id - i.position),
           MAX(i.id - i.position),
           EXISTS (SELECT 1 FROM corrections c WHERE c.document_path = ? AND c.status <> ?)
    FROM forms f LEFT OUTER JOIN indicators i ON i.form_id = f.id
    WHERE f.document_id = ? GROUP BY f.id, f.ordinal ORDER BY f.ordinal
"""


@cache
def _row_ids(forms: int) -> str:
    """The rows' ids of ``forms`` forms, by form and position (forms whose ids do not follow the
    positions)."""
    return f"SELECT form_id, id FROM indicators WHERE form_id IN ({marks(forms)}) ORDER BY form_id, position"


# --- the stored values, as the replay reads them back (corrections/replaying.parsed_state) --------


def _canonical(value: Any) -> Decimal | None:
    """A contract decimal as stored (ExactDecimal) and read back by the replay: canonical text,
    then Decimal (as ``decimal_or_none(_decimal_text(column))``)."""
    if value is None or value == "":
        return None
    return _canonical_of(value)


@lru_cache(maxsize=1 << 16)
def _canonical_of(value: Any) -> Decimal:
    # Remembered: targets' values (100, 95, 1 …) repeat across an archive's forms. Values equal as
    # keys (Decimal 1.0 and 1) have the same canonical form; a Decimal is immutable.
    return Decimal(canonical_decimal(Decimal(str(value))))


@cache
def _budget_items(layout: str) -> tuple[str, ...]:
    """The budget items a layout prints (every one a key of the review's budget, None if unread)."""
    return tuple(p.removeprefix("budget.") for p, _label in budget_fields(layout))


def _canonical_text(value: Any) -> str | None:
    return canonical_decimal(Decimal(str(value))) if value is not None and value != "" else None


def _iso(value: Any) -> str | None:
    return dt.date.fromisoformat(value).isoformat() if value else None


def _indicator(position: int, indicator_id: int | None, level1: str | None, level2: str | None, level3: str,
               dimension: str | None, raw: str, kind: str, op: str | None, value: Decimal | None, unit: str | None,
               actual_raw: str | None, weight: Decimal | None, score: Decimal | None) -> ReviewIndicator:
    """A parsed row as ``store._corrected`` builds it from an uncorrected stored row."""
    return ReviewIndicator(key=f"indicators[{position - 1}]", position=position, level1=level1, level2=level2,
                           level3=level3, dimension=dimension, raw=raw, kind=kind, op=op, value=value, unit=unit,
                           indicator_id=indicator_id,
                           actual=parse_target(actual_raw).to_dict() if actual_raw is not None else None,
                           weight=weight, score=score)


def parsed_indicators(form: ParsedForm, ids: Sequence[int] | None = None) -> Indicators:
    """The rows of a parsed form as the review sees them once stored (``ids``: their indicators.id,
    in position order; None: not known yet, before the form is stored). What :func:`_indicator`
    makes of each row, written out: this runs for every row of every file imported."""
    rows = form.indicators
    idents: Sequence[int | None] = ids if ids is not None else [None] * len(rows)
    canonical = _canonical_of
    out: Indicators = []
    for k, (i, ident) in enumerate(zip(rows, idents, strict=True), start=1):
        value, weight, score = i.value, i.weight, i.score
        actual_raw = i.actual.get("raw") if i.actual else None
        out.append(ReviewIndicator(
            f"indicators[{k - 1}]", k, i.level1, i.level2, i.level3, i.dimension, i.raw, i.kind, i.op,
            None if value is None or value == "" else canonical(value), i.unit, ident,
            parse_target(actual_raw).to_dict() if actual_raw is not None else None,
            None if weight is None or weight == "" else canonical(weight),
            None if score is None or score == "" else canonical(score)))
    return out


def fund_scores(form: ParsedForm) -> list[Decimal]:
    """The 得分 of the form's money block as stored (fund_lines.score, ExactDecimal: canonical text
    on SQLite, which is what reading it back gives; PostgreSQL's NUMERIC keeps the parse's scale,
    which no check sees: they add the scores up and print them normalised)."""
    return [d for f in form.funds if (d := _canonical(f.get("score"))) is not None]


def parsed_form(form: ParsedForm, form_id: int | None, indicators: Indicators,
                scores: list[Decimal] | None = None) -> ReviewForm:
    """A parsed form as ``store.form_of`` builds it from the stored copy (no correction, no series
    yet; ``form_id`` None before the form is stored; ``scores``: its funds' scores, by default
    :func:`fund_scores`)."""
    h = form.header
    header: dict[str, Any] = {
        "project_name": h.get("project_name"), "unit": h.get("unit"), "department": h.get("department"),
        "project_category": h.get("project_category"), "project_nature": h.get("project_nature"),
        "plan_start": _iso(h.get("plan_start")), "plan_end": _iso(h.get("plan_end")),
        "gov_procurement": None if h.get("gov_procurement") is None else bool(h["gov_procurement"]),
        "performance_type": h.get("performance_type"), "goal": h.get("goal"), "outcome": h.get("outcome"),
        "total_score": _canonical_text(h.get("total_score")), "grade": h.get("grade"),
    }
    budget: dict[str, Decimal | None] = dict.fromkeys(_budget_items(form.layout))
    budget.update({item: _canonical(amount) for item, amount in form.budget.items()})
    kind = load_siblings.form_kind({"kind": form.kind, "layout": form.layout})
    return ReviewForm(layout=form.layout, year=form.year, header=header, budget=budget, indicators=indicators,
                      kind=kind or "target", form_id=form_id, series=[],
                      fund_scores=fund_scores(form) if scores is None else scores)


# --- before the transaction: what depends on the file alone ----------------------------------------


@dataclass
class PreparedForm:
    """One form's review as far as the file alone decides it."""

    subject: ReviewForm  # as the rules see it once stored: no ids yet, series None
    found: list[tuple[int, Finding]]  # (the rule's place in rule order, finding) of the rules run already
    scorecard: dict[str, Any]  # form_reviews' figures (store._scorecard)


@dataclass
class PreparedReview:
    """:func:`prepare_review` of a parsed document: handed to :func:`review_imported` in the
    file's transaction."""

    rule_sets: list[RuleSet]
    later: list[tuple[int, Rule]]  # the rules that read the year before (their place in rule order)
    forms: list[PreparedForm] = field(default_factory=list)


def prepare_review(parsed: ParsedDocument, rule_sets: Sequence[RuleSet] | None = None) -> PreparedReview:
    """The review of ``parsed`` as far as the file alone decides it, without the database: the
    forms as the rules will see them once stored, the findings of every rule that does not look at
    the project's other years (messages rendered; the ids of forms and rows are filled in later),
    the scorecards. The importer calls this before the file's transaction."""
    sets = list(default_rule_sets() if rule_sets is None else rule_sets)
    rules = [rule for s in sets for rule in s.rules]
    own = [(k, rule) for k, rule in enumerate(rules) if not reads_series(rule)]
    prepared = PreparedReview(sets, [(k, rule) for k, rule in enumerate(rules) if reads_series(rule)])
    for form in parsed.forms:
        subject = parsed_form(form, None, parsed_indicators(form))
        subject.series = None  # not known before the transaction: no rule run here reads it
        found = run_rules(own, subject)
        prepared.forms.append(PreparedForm(subject, found, _scorecard(subject)))
    return prepared


# --- what the file's review reads, one query each -------------------------------------------------


def _stored_ids(session: Session, document: models.SourceDocument) -> tuple[bool, list[tuple[int, int, list[int]]]]:
    """Whether the document's path has a correction that is not undone, and (form id, ordinal, its
    indicators' ids in position order) of its forms by ordinal (empty when it has a correction).
    One query, and a second one only for forms whose row ids do not follow the positions."""
    connection = session.connection()
    forms = fetch(connection, _IDS, (document.path, UNDONE, document.id))
    if any(row[7] for row in forms):
        return True, []
    out: list[tuple[int, int, list[int]]] = []
    irregular: dict[int, list[int]] = {}
    for form_id, ordinal, count, first, last, low, high, _flag in forms:
        if not count:
            out.append((form_id, ordinal, []))
        elif low == high and first == 1 and last == count:  # positions 1..count, id = position + low
            out.append((form_id, ordinal, list(range(low + 1, low + count + 1))))
        else:
            out.append((form_id, ordinal, irregular.setdefault(form_id, [])))
    if irregular:
        for form_id, ident in fetch(connection, _row_ids(len(irregular)), tuple(irregular)):
            irregular[form_id].append(ident)
    return False, out


def _project_years(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Years]:
    """The forms (id, year) of each project (name, unit or ""), as corrected, in one query."""
    wanted = set(keys)
    out: dict[tuple[str, str], Years] = {key: [] for key in wanted}
    if not wanted:
        return out
    names, units = sorted({n for n, _u in wanted}), sorted({u for _n, u in wanted})
    for fid, year, name, unit in fetch(session.connection(), _projects_forms(len(names), len(units)),
                                       (*names, *units, *names, *units)):
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
    prepared = prepare_review(parsed)
    built = _stored_forms(session, document, prepared)
    return [p.subject for p in prepared.forms] if built is not None else None


def _stored_forms(session: Session, document: models.SourceDocument,
                  prepared: PreparedReview) -> dict[tuple[str, str], Years] | None:
    """Give the prepared forms their ids and their line-up with the year before; returns the other
    years of the file's projects — or None when the file must take the form-by-form review."""
    corrected, stored = _stored_ids(session, document)
    if corrected:
        return None
    if [(ordinal, len(ids)) for _fid, ordinal, ids in stored] != [
            (k, len(p.subject.indicators)) for k, p in enumerate(prepared.forms, start=1)]:
        return None
    subjects = [p.subject for p in prepared.forms]
    for (fid, _ordinal, ids), subject in zip(stored, subjects, strict=True):
        subject.form_id = fid
        subject.series = []
        for row, ident in zip(subject.indicators, ids, strict=True):
            row.indicator_id = ident
    years = _project_years(session, (k for s in subjects if (k := _key(s)) is not None))
    previous = {s.form_id: p for s in subjects if (p := _previous(s, years)) is not None}
    if not previous:
        return years
    mine = {s.form_id: (document.path, ordinal, s.indicators) for ordinal, s in enumerate(subjects, start=1)}
    sides = {**_stored_indicators(session, {fid for fid, _y in previous.values() if fid not in mine}), **mine}
    for ordinal, subject in enumerate(subjects, start=1):
        if subject.form_id in previous and subject.year is not None:
            chosen, year = previous[subject.form_id]
            before_path, before_ordinal, rows = sides[chosen]
            before = [Side(i, year, (before_path, before_ordinal, i.position)) for i in rows]
            after = [Side(i, subject.year, (document.path, ordinal, i.position)) for i in subject.indicators]
            subject.series = line_up(before, after)
    return years


def _stamp(dialect: Dialect, now: dt.datetime) -> Any:
    """form_reviews.reviewed_at for ``dialect``, converted as a Core INSERT converts it."""
    convert = _REVIEWS.c.reviewed_at.type.dialect_impl(dialect).bind_processor(dialect)
    return convert(now) if convert is not None else now


def review_imported(session: Session, document: models.SourceDocument, parsed: ParsedDocument,
                    prepared: PreparedReview | None = None) -> int:
    """The importer's review of a document just stored from ``parsed``, in the file's transaction
    after its corrections were replayed; ``prepared``: :func:`prepare_review` of ``parsed``, made
    before the transaction (made here when not given). Stores the same findings and scorecards as
    :func:`.store.review_document` — which it falls back on when the file has corrections (or its
    stored forms do not match the parse). Returns the number of forms reviewed."""
    session.flush()
    done = review_parsed(session, document, prepare_review(parsed) if prepared is None else prepared)
    return done if done is not None else review_document(session, document)


def review_parsed(session: Session, document: models.SourceDocument, prepared: PreparedReview) -> int | None:
    """Finish the review of ``document``'s forms, just stored in this transaction from the parse
    ``prepared`` was made of, and review again the next years of their projects. Returns the number
    of forms reviewed, or None when the file must take the form-by-form review (it has corrections,
    or its stored forms do not match the parse)."""
    years = _stored_forms(session, document, prepared)
    if years is None:
        return None
    found: list[tuple[Any, ...]] = []
    reviews: list[tuple[Any, ...]] = []
    connection = session.connection()
    key, now = rule_sets_key(prepared.rule_sets), _stamp(connection.dialect, dt.datetime.now(dt.UTC))
    for form in prepared.forms:
        subject = form.subject
        fid, rows = subject.form_id, subject.indicators
        listed = form.found
        later = run_rules(prepared.later, subject)
        if later:  # in rule order, as review() gives them
            listed = sorted([*listed, *later], key=itemgetter(0))
        for _k, x in listed:
            # The findings made before the transaction knew no ids: a row's is its position's.
            ident = x.indicator_id if x.indicator_id is not None or x.position is None else rows[x.position - 1].indicator_id
            found.append((fid, x.rule_id, x.rule_set, x.version, x.severity, x.message, x.subject[:500], x.field,
                          x.position, x.level3, ident))
        card = form.scorecard
        reviews.append((fid, key, card["indicator_count"], card["quantified_count"], card["quantified_share"],
                        card["groups_required"], card["groups_covered"], card["groups_missing"], now))
    for table, columns, values in ((_FINDINGS, _FINDING_COLUMNS, found), (_REVIEWS, _REVIEW_COLUMNS, reviews)):
        if values:  # new forms: nothing to delete first
            tagged = [(0, row) for row in values]
            # The columns' conversions, as a Core INSERT makes them (reviewed_at's made by _stamp).
            process(connection.dialect, table, columns[:-1] if table is _REVIEWS else columns, tagged)
            insert_many(connection, table, columns, [row for _tag, row in tagged])
    subjects = [form.subject for form in prepared.forms]
    done = {s.form_id for s in subjects}
    for subject in subjects:
        for fid in _later(subject, years):
            if fid not in done:  # another file's form: the form-by-form review, replacing its findings
                other = session.get(models.Form, fid)
                if other is not None:
                    review_form(session, other)
                    done.add(fid)
    return len(done)
