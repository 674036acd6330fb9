"""Clerk corrections: records of their own, replayed over the parse (docs/clerks.md).

A correction names what it changes by what survives a re-import — the document's path, the form's
ordinal in the file and a field path (``header.unit``, ``budget.total``, ``indicators[3].raw``,
``indicators[3]`` for row operations) — and keeps the value the clerk saw (``old_value``) and the
row's 三级 name (``row_level3``). The corrected form is the parse with the form's corrections
*replayed* in the order they were made: a correction applies while the form, as the parse and the
corrections before it leave it, still shows the old value the clerk saw; otherwise it is *stale*
(kept, listed, not applied). Nothing is keyed by a parsed row's id: the importer deletes and
re-inserts those when a file changes.

Rows are named by their index in the parse (``indicators[3]``: the 4th parsed row, as issues name
it), which does not move when a clerk adds, deletes or reorders rows; a row a clerk added is
``indicators[c17]`` (17: the correction that added it). When the file changed and the index now
holds another row, the row is looked up by its 三级 name (if exactly one row has it).

The result of replaying is stored (``corrected_forms``, ``corrected_indicators``,
``resolved_issues``) for the analyst views, and rebuilt whenever a correction is recorded or undone
and — through :func:`reapply_corrections`, which the importer calls — whenever the file is imported
again. Every function here works in the caller's transaction and commits nothing.

Functions that read or change forms on a user's behalf take a :class:`~goalforms.pipeline.scope.Scope`
(the units the user is limited to; None: every form): a form outside it is not found.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table

from goalforms.errors import GoalformsError
from goalforms.parsers.labels import clean_text, compact
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.discovery import budget_keys, header_keys
from goalforms.parsers.layouts.spec import LayoutSpec, load_spec
from goalforms.parsers.reports.names import project_key
from goalforms.parsers.values import parse_decimal, parse_year
from goalforms.pipeline.normalise import canonical_decimal, parse_bool, parse_date, parse_money, parse_target
from goalforms.pipeline.scope import Scope
from goalforms.schema import models
from goalforms.schema.clerk_models import (
    ACTIVE,
    STALE,
    UNDONE,
    CorrectedForm,
    CorrectedIndicator,
    Correction,
    ResolvedIssue,
)

SET, ADD, DELETE, MOVE, REORDER, RESOLVE = "set", "add", "delete", "move", "reorder", "resolve"
ACTIONS = (SET, ADD, DELETE, MOVE, REORDER, RESOLVE)
ROW_FIELDS = ("level1", "level2", "level3", "raw")
# Row columns of issue 12 a clerk can correct where the layout has them (docs/contract.md).
LATER_ROW_FIELDS = ("actual", "weight", "score", "note")
FORM_FIELD = "form"  # the field of a resolved issue that concerns the whole form
ROWS = "indicators"  # the field of an added row

_ROW = re.compile(r"^indicators\[(?P<ref>\d+|c\d+)\]$")
_ROW_FIELD = re.compile(
    r"^(?P<row>indicators\[(?:\d+|c\d+)\])\.(?P<name>level1|level2|level3|raw|actual|weight|score|note)$")
_DATE_FIELDS = ("plan_start", "plan_end")
# Indicator columns of issue 12 that the corrected copy carries from the parse (migration 0008_siblings).
SIBLING_ROW_COLUMNS = (
    "actual_raw", "actual_kind", "actual_op", "actual_value", "actual_unit", "weight", "score", "note",
    "prior_year_raw", "prior_year_kind", "prior_year_op", "prior_year_value", "prior_year_unit", "period",
)


class CorrectionError(GoalformsError):
    """A correction was refused; nothing was saved. ``problems`` holds one sentence per refusal."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(None, "; ".join(self.problems))


class NotFound(GoalformsError):
    """No such form or correction."""


# --- the state a form is in: the parse, then each correction replayed over it ----------------------


@dataclass
class RowState:
    key: str  # indicators[3] (parsed) or indicators[c17] (added by correction 17)
    level1: str | None
    level2: str | None
    level3: str
    raw: str
    kind: str
    op: str | None
    value: str | None
    unit: str | None
    dimension: str | None
    indicator_id: int  # indicators.id, or minus the id of the correction that added the row
    parse_index: int | None
    source_line: int | None
    source_location: str | None
    corrected_by: dict[str, int] = field(default_factory=dict)  # row field -> last correction that set it
    # Later columns (issue 12): the actual value's printed text, weight and score as decimal
    # strings, the note; None where the layout has no such column.
    actual: str | None = None
    weight: str | None = None
    score: str | None = None
    note: str | None = None

    def actual_reading(self) -> dict[str, str | None] | None:
        """The actual value read like a target (None when the row has none)."""
        return parse_target(self.actual).to_dict() if self.actual is not None else None
    # The parsed row's other issue-12 columns (prior year, period; the actual as normalised), carried
    # into the corrected copy; a row a clerk added has none.
    sibling: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        """What identifies a row to a delete: its levels, name and target."""
        return {"level1": self.level1, "level2": self.level2, "level3": self.level3, "raw": self.raw}


@dataclass
class IssueState:
    issue_id: int
    code: str
    severity: str
    message: str
    location: str | None
    field: str | None
    resolved_by: int | None = None  # the resolving correction

    @property
    def target(self) -> str:
        return self.field or FORM_FIELD


@dataclass
class FormState:
    form_id: int
    document_path: str
    ordinal: int
    layout: str
    year: int | None
    header: dict[str, Any]  # contract values: text, ISO dates, booleans
    extra: dict[str, Any]
    budget: dict[str, str | None]  # decimal strings in yuan
    rows: list[RowState]
    issues: list[IssueState]
    corrected_by: dict[str, int] = field(default_factory=dict)  # year/header/budget path -> correction

    def row(self, key: str) -> RowState | None:
        return next((r for r in self.rows if r.key == key), None)

    def position(self, row: RowState) -> int:
        return self.rows.index(row) + 1

    def value(self, path: str) -> Any:
        """The current value at a year/header/header_extra/budget path (KeyError if there is none)."""
        if path == "year":
            return self.year
        section, _, name = path.partition(".")
        mapping = {"header": self.header, "header_extra": self.extra, "budget": self.budget}.get(section)
        if mapping is None or name not in mapping:
            raise KeyError(path)
        return mapping[name]


def _spec(layout: str) -> LayoutSpec | None:
    try:
        return load_spec(f"layout{layout}.toml")
    except (FileNotFoundError, OSError, KeyError):
        return None  # a layout without a spec file still gets the contract's fields


def header_fields(layout: str) -> list[tuple[str, str]]:
    """(path, printed label) of the header fields a layout prints, contract keys first."""
    spec = _spec(layout)
    labels: dict[str, str] = {}
    if spec is not None:
        for table in (spec.fields, spec.text_blocks):
            for name, spellings in table.items():
                labels.setdefault(name, spellings[0] if spellings else name)
    contract = header_keys()
    keys = [k for k in contract if spec is None or k in labels]
    extra = [k for k in labels if k not in contract]
    return [(f"header.{k}", labels.get(k, k)) for k in keys] + [(f"header_extra.{k}", labels[k]) for k in extra]


def budget_fields(layout: str) -> list[tuple[str, str]]:
    """(path, printed label) of the budget items a layout prints."""
    spec = _spec(layout)
    if spec is None:
        return [(f"budget.{k}", k) for k in budget_keys()]
    items = [(k, spellings[0] if spellings else k) for k, spellings in spec.budget.items()]
    if spec.money is not None:  # a self-evaluation's money rows (budget = the row's 全年预算数)
        items += [(k, spellings[0] if spellings else k) for k, spellings in spec.money.rows.items()]
    if spec.tasks is not None and spec.tasks.total_row:  # a department form's 金额合计 row
        items += [(k, f"{spec.tasks.total_row[0]} {spellings[0] if spellings else k}")
                  for k, spellings in spec.tasks.columns.items() if k in ("total", "fiscal_appropriation", "other_funds")]
    return [(f"budget.{k}", label) for k, label in dict(items).items()]


def field_hint(layout: str, path: str) -> tuple[bool, str]:
    """(multiline, typing hint) of a header field of a layout, from its declared type: prose
    (text blocks, header_extra, continued fields, the goal) is multiline; a typed field gets a hint."""
    spec = _spec(layout)
    section, _, name = path.partition(".")
    field_spec = spec.field_specs.get(name) if spec is not None and section in ("header", "header_extra") else None
    if field_spec is None:
        return name == "goal", ""
    multiline = field_spec.type == "text" and (
        field_spec.extra or field_spec.continued or name in spec.text_blocks or name == "goal")  # type: ignore[union-attr]
    hints = {"date": "e.g. 2020-01-01", "bool": "是 or 否", "decimal": "e.g. 95.5", "year": "e.g. 2026",
             "money": "yuan, e.g. 280000", "enum": " / ".join(field_spec.values)}
    return multiline, hints.get(field_spec.type, "")


def row_fields(layout: str) -> list[tuple[str, str]]:
    """(row field, printed column header) of the indicator columns a layout prints: the four of
    every layout, then actual/weight/score/note where it has them."""
    spec = _spec(layout)
    table = spec.table if spec is not None else {}
    names = {"level1": "一级指标", "level2": "二级指标", "level3": "三级指标", "raw": "指标值"}
    out = [(name, table.get(role, [names[name]])[0] if table.get(role) else names[name])
           for name, role in (("level1", "level1"), ("level2", "level2"), ("level3", "level3"), ("raw", "target"))]
    return out + [(name, table[name][0]) for name in LATER_ROW_FIELDS if table.get(name)]


def vocabulary(layout: str) -> dict[str, list[str]]:
    """level1 -> its level2 names, for choosing where a row belongs."""
    spec = _spec(layout)
    if spec is None:
        return {}
    tree: dict[str, list[str]] = {name: [] for name in spec.vocabulary.level1}
    for level2, level1 in spec.vocabulary.parent.items():
        tree.setdefault(level1, []).append(level2)
    return tree


def _dimension(layout: str, level1: str | None, level2: str | None) -> str | None:
    spec = _spec(layout)
    return spec.vocabulary.dimension_of(level1, level2) if spec is not None else None


def _decimal_text(value: Decimal | None) -> str | None:
    return canonical_decimal(value) if value is not None else None


def parsed_state(form: models.Form, path: str) -> FormState:
    """A stored form as the parse left it (no correction applied)."""
    header: dict[str, Any] = {
        "project_name": form.project_name, "unit": form.unit, "department": form.department,
        "project_category": form.project_category, "project_nature": form.project_nature,
        "plan_start": form.plan_start.isoformat() if form.plan_start else None,
        "plan_end": form.plan_end.isoformat() if form.plan_end else None,
        "gov_procurement": form.gov_procurement, "performance_type": form.performance_type, "goal": form.goal,
        "outcome": form.outcome, "total_score": _decimal_text(form.total_score), "grade": form.grade,
    }
    budget: dict[str, str | None] = {p.removeprefix("budget."): None for p, _ in budget_fields(form.layout)}
    budget.update({b.item: _decimal_text(b.amount) for b in form.budget_figures})
    extra: dict[str, Any] = {p.removeprefix("header_extra."): None for p, _ in header_fields(form.layout)
                             if p.startswith("header_extra.")}
    extra.update(form.header_extra or {})
    rows = [
        RowState(
            key=f"indicators[{i.position - 1}]", level1=i.level1, level2=i.level2, level3=i.level3, raw=i.raw_target,
            kind=i.kind, op=i.op, value=_decimal_text(i.value), unit=i.unit, dimension=i.dimension,
            indicator_id=i.id, parse_index=i.position - 1, source_line=i.source_line,
            source_location=i.source_location, **_later_columns(i),
            sibling={name: getattr(i, name) for name in SIBLING_ROW_COLUMNS},
        )
        for i in sorted(form.indicators, key=lambda i: i.position)
    ]
    issues = [IssueState(p.id, p.code, p.severity, p.message, p.location, p.field)
              for p in sorted(form.issues, key=lambda p: p.id)]
    return FormState(form.id, path, form.ordinal, form.layout, form.year, header, extra, budget, rows, issues)


def _later_columns(indicator: models.Indicator) -> dict[str, Any]:
    """The stored row's actual/weight/score/note, where the store has those columns (migration
    0008_siblings); None otherwise."""
    weight, score = getattr(indicator, "weight", None), getattr(indicator, "score", None)
    return {"actual": getattr(indicator, "actual_raw", None), "note": getattr(indicator, "note", None),
            "weight": _decimal_text(weight) if isinstance(weight, Decimal) else weight,
            "score": _decimal_text(score) if isinstance(score, Decimal) else score}


def _field_type(name: str) -> str:
    """A header field's type as its layouts declare it (text when none does)."""
    for parser in LAYOUTS.values():
        spec = parser.spec.field_specs.get(name)
        if spec is not None and spec.type != "text":
            return spec.type
    return "text"


def as_text(value: Any) -> str:
    """A value as a clerk reads and types it: '' for nothing, 是/否 for booleans; dicts item by item."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return json.dumps({k: as_text(v) for k, v in sorted(value.items())}, ensure_ascii=False)
    return str(value)


def _find_row(state: FormState, key: str, level3: str | None) -> RowState | None:
    """The row a correction meant: by its key when that row still has the 三级 name the clerk saw;
    else the one row that has that name (the file changed and rows moved)."""
    row = state.row(key)
    if row is not None and (level3 is None or row.level3 == level3):
        return row
    if level3 is None:
        return None
    same = [r for r in state.rows if r.level3 == level3]
    return same[0] if len(same) == 1 else None


def _set_target(row: RowState, raw: str) -> None:
    target = parse_target(raw)  # targets are normalised again from the corrected text
    row.raw, row.kind, row.op, row.value, row.unit = target.raw, target.kind, target.op, target.value, target.unit


def _apply(state: FormState, c: Correction, ident: int) -> str | None:
    """Apply one correction to ``state``; None when it applied, else why it no longer applies.
    ``ident`` is the correction's id (provisional while it is being recorded)."""
    try:
        if c.action == SET:
            return _apply_set(state, c, ident)
        if c.action == ADD:
            return _apply_add(state, c, ident)
        if c.action in (DELETE, MOVE, REORDER):
            return _apply_row_operation(state, c, ident)
        if c.action == RESOLVE:
            return _apply_resolve(state, c, ident)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A hand-edited record that does not say what it should: stale with the reason, never a crash.
        return f"the correction cannot be read ({exc.__class__.__name__}: {exc})"
    return f"unknown action {c.action!r}"


def _differs(path: str, current: Any, old: Any) -> str:
    return f"{path} now reads {as_text(current)!r}, not {as_text(old)!r} as when it was corrected"


def _apply_set(state: FormState, c: Correction, ident: int) -> str | None:
    m = _ROW_FIELD.match(c.field)
    if m is None:
        try:
            current = state.value(c.field)
        except KeyError:
            return f"the form has no field {c.field}"
        if current != c.old_value:
            return _differs(c.field, current, c.old_value)
        if c.field == "year":
            state.year = c.new_value
        else:
            section, _, name = c.field.partition(".")
            {"header": state.header, "header_extra": state.extra, "budget": state.budget}[section][name] = c.new_value
        state.corrected_by[c.field] = ident
        return None
    row = _find_row(state, m.group("row"), c.row_level3)
    if row is None:
        return f"the row {c.row_level3!r} ({m.group('row')}) is no longer in the form"
    name = m.group("name")
    current = getattr(row, name)
    if current != c.old_value:
        return _differs(f"{row.key}.{name} ({row.level3})", current, c.old_value)
    if name == "raw":
        _set_target(row, c.new_value or "")
    else:
        setattr(row, name, c.new_value)
        row.dimension = _dimension(state.layout, row.level1, row.level2)
    row.corrected_by[name] = ident
    return None


def _apply_add(state: FormState, c: Correction, ident: int) -> str | None:
    new = c.new_value
    level1, level2, level3 = new.get("level1"), new.get("level2"), new["level3"]
    if any((r.level1, r.level2, r.level3) == (level1, level2, level3) for r in state.rows):
        return f"the form already has the row {level1}/{level2}/{level3}"
    row = RowState(
        key=f"indicators[c{ident}]", level1=level1, level2=level2, level3=level3, raw="", kind="missing", op=None,
        value=None, unit=None, dimension=_dimension(state.layout, level1, level2), indicator_id=-ident,
        parse_index=None, source_line=None, source_location=None,
    )
    _set_target(row, new.get("raw") or "")
    row.corrected_by = {name: ident for name in ROW_FIELDS}
    after = new.get("after")
    anchor = state.row(after) if after else None
    if anchor is not None:
        index = state.rows.index(anchor) + 1
    elif after:  # the row it followed is gone: the end of its group, else the end of the table
        group = [i for i, r in enumerate(state.rows) if (r.level1, r.level2) == (level1, level2)]
        index = group[-1] + 1 if group else len(state.rows)
    else:
        index = 0
    state.rows.insert(index, row)
    return None


def _apply_row_operation(state: FormState, c: Correction, ident: int) -> str | None:
    m = _ROW.match(c.field)
    if m is None:
        return f"{c.field} does not name a row"
    row = _find_row(state, c.field, c.row_level3)
    if row is None:
        return f"the row {c.row_level3!r} ({c.field}) is no longer in the form"
    old = c.old_value or {}
    if c.action == DELETE:
        if row.snapshot() != old:
            return _differs(f"{row.key} ({row.level3})", row.snapshot(), old)
        state.rows.remove(row)
        return None
    if c.action == MOVE:
        current = {"level1": row.level1, "level2": row.level2}
        if current != old:
            return _differs(f"{row.key} ({row.level3}) levels", current, old)
        row.level1, row.level2 = c.new_value.get("level1"), c.new_value.get("level2")
        row.dimension = _dimension(state.layout, row.level1, row.level2)
        row.corrected_by["level1"] = row.corrected_by["level2"] = ident
        return None
    position = state.position(row)  # REORDER
    if position != old.get("position"):
        return _differs(f"{row.key} ({row.level3}) position", position, old.get("position"))
    state.rows.remove(row)
    target = min(max(int(c.new_value["position"]), 1), len(state.rows) + 1)
    state.rows.insert(target - 1, row)
    row.corrected_by["position"] = ident
    return None


_ISSUE_ROW = re.compile(r"^(?P<row>indicators\[\d+\])(?P<rest>.*)$")


def _apply_resolve(state: FormState, c: Correction, ident: int) -> str | None:
    old = c.old_value or {}
    targets = [c.field]
    m = _ISSUE_ROW.match(c.field)
    if m is not None and c.row_level3:
        # The file changed and the row moved in the parse: the same issue on the same row.
        row = _find_row(state, m.group("row"), c.row_level3)
        if row is not None and row.parse_index is not None:
            targets.append(f"indicators[{row.parse_index}]{m.group('rest')}")
    for target in targets:
        for issue in state.issues:
            if (issue.resolved_by is None and issue.target == target and issue.code == old.get("code")
                    and issue.message == old.get("message")):
                issue.resolved_by = ident
                return None
    return f"the parse no longer has the issue {old.get('code')} on {c.field}"


# --- reading, replaying, storing -----------------------------------------------------------------


def find_form(session: Session, path: str, ordinal: int, scope: Scope | None = None) -> models.Form | None:
    """The form, or None if there is none or it is outside ``scope``."""
    form = session.scalar(
        select(models.Form).join(models.SourceDocument)
        .where(models.SourceDocument.path == path, models.Form.ordinal == ordinal)
    )
    if form is not None and scope is not None and not scope.allows_form(session, form):
        return None
    return form


def _keep_in_scope(scope: Scope | None, result: Replay) -> None:
    """Refuse a change that would move the form out of the user's units (they could no longer see
    it, and could so hand a form to another unit)."""
    if scope is not None and not scope.allows_unit(result.state.header.get("unit")):
        raise CorrectionError([f"header.unit: {result.state.header.get('unit')!r} is not one of your units "
                               f"({', '.join(sorted(scope.units or ()))})"])


def _lock(session: Session, form: models.Form) -> None:
    """Serialise changes to one form: two clerks saving at once must not both rebuild its copy
    from the same state (PostgreSQL row lock until commit; SQLite locks the whole database anyway)."""
    session.execute(select(models.Form.id).where(models.Form.id == form.id).with_for_update())


def corrections_of(session: Session, path: str, ordinal: int | None = None,
                   include_undone: bool = False) -> list[Correction]:
    """The corrections of a document (or of one of its forms) in the order they were made."""
    query = select(Correction).where(Correction.document_path == path)
    if ordinal is not None:
        query = query.where(Correction.form_ordinal == ordinal)
    if not include_undone:
        query = query.where(Correction.status != UNDONE)
    return list(session.scalars(query.order_by(Correction.id)))


@dataclass
class Replay:
    """A form's parse, its corrected state, and what became of each of its corrections."""

    form: models.Form
    raw: FormState
    state: FormState
    corrections: list[Correction]  # every correction of the form, undone ones too, in order
    stale: dict[int, str]  # correction id -> why it no longer applies

    @property
    def applied(self) -> list[Correction]:
        return [c for c in self.corrections if c.status != UNDONE and c.id not in self.stale]


def replay(session: Session, form: models.Form, path: str) -> Replay:
    """The form with its corrections replayed over the parse (reads only)."""
    every = corrections_of(session, path, form.ordinal, include_undone=True)
    state = parsed_state(form, path)
    stale: dict[int, str] = {}
    for c in every:
        if c.status == UNDONE:
            continue
        reason = _apply(state, c, c.id)
        if reason is not None:
            stale[c.id] = reason
    return Replay(form, parsed_state(form, path), state, every, stale)


def _store(session: Session, result: Replay) -> None:
    """Write the statuses and the corrected copy of a replayed form."""
    for c in result.corrections:
        if c.status == UNDONE:
            continue
        c.status, c.status_reason = (STALE, result.stale[c.id]) if c.id in result.stale else (ACTIVE, None)
    form_id, state = result.form.id, result.state
    session.execute(delete(ResolvedIssue).where(ResolvedIssue.form_id == form_id))
    session.execute(delete(CorrectedIndicator).where(CorrectedIndicator.form_id == form_id))
    session.execute(delete(CorrectedForm).where(CorrectedForm.form_id == form_id))
    applied = len(result.applied)
    if applied == 0:
        return  # the views read the parse
    h = state.header
    # The header columns the corrected copy stores (a layout's other header keys are kept with the parse).
    values: dict[str, Any] = {key: h.get(key) for key in header_keys() if hasattr(CorrectedForm, key)}
    if values.get("total_score") is not None:
        values["total_score"] = Decimal(values["total_score"])
    values["project_key"] = project_key(h.get("project_name"))
    for key in _DATE_FIELDS:
        values[key] = dt.date.fromisoformat(h[key]) if h[key] else None
    for item in budget_keys():
        amount = state.budget.get(item)
        values[item] = Decimal(amount) if amount is not None else None
    parsed_extra = result.form.header_extra or {}
    session.add(CorrectedForm(
        form_id=form_id, year=state.year, applied=applied,
        header_extra={k: v for k, v in state.extra.items() if v is not None or k in parsed_extra}, **values,
    ))
    session.flush()  # the copy's header row before its indicator rows (foreign key)
    session.add_all(
        CorrectedIndicator(
            form_id=form_id, position=position, indicator_id=r.indicator_id, parse_index=r.parse_index,
            level1=r.level1, level2=r.level2, level3=r.level3, dimension=r.dimension, raw_target=r.raw,
            kind=r.kind, op=r.op, value=Decimal(r.value) if r.value is not None else None, unit=r.unit,
            source_line=r.source_line, source_location=r.source_location, **_sibling_columns(r),
        )
        for position, r in enumerate(state.rows, start=1)
    )
    session.add_all(ResolvedIssue(issue_id=i.issue_id, form_id=form_id, correction_id=i.resolved_by)
                    for i in state.issues if i.resolved_by is not None)
    session.flush()


def _sibling_columns(row: RowState) -> dict[str, Any]:
    """The corrected copy's issue-12 columns of a row: as parsed, with a clerk's actual (read again
    like a target), weight, score and note."""
    columns = dict(row.sibling)
    if "actual" in row.corrected_by:
        reading = row.actual_reading() or {}
        columns.update({f"actual_{k}": reading.get(k) for k in ("raw", "kind", "op", "unit")})
        value = reading.get("value")
        columns["actual_value"] = Decimal(value) if value is not None else None
    columns["weight"] = Decimal(row.weight) if row.weight else None
    columns["score"] = Decimal(row.score) if row.score else None
    columns["note"] = row.note
    return columns


def refresh_form(session: Session, form: models.Form, path: str) -> Replay:
    """Replay a form's corrections and store the result (statuses, corrected copy)."""
    result = replay(session, form, path)
    _store(session, result)
    from goalforms.pipeline.review.store import review_forms  # the review reads this module

    review_forms(session, [form])  # a corrected form is reviewed again (docs/review.md)
    return result


def reapply_corrections(session: Session, document: models.SourceDocument) -> list[Correction]:
    """Replay every correction of a document just stored (or re-stored) and return those that no
    longer apply. The importer calls this right after storing a document, in the same transaction;
    calling it again changes nothing."""
    session.flush()  # the new rows need their ids
    corrected = {c.form_ordinal for c in corrections_of(session, document.path)}
    if not corrected:
        return []  # the common case on import: one query, and the parse is what analysts see
    stale: list[Correction] = []
    ordinals = set()
    for form in document.forms:
        ordinals.add(form.ordinal)
        if form.ordinal in corrected:
            result = refresh_form(session, form, document.path)
            stale += [c for c in result.corrections if c.id in result.stale]
    for c in corrections_of(session, document.path):
        if c.form_ordinal not in ordinals:
            c.status, c.status_reason = STALE, f"the file has no form {c.form_ordinal} any more"
            stale.append(c)
    session.flush()
    return sorted(stale, key=lambda c: c.id)


def describe_stale(stale: Sequence[Correction]) -> str:
    """One line for an import report: which corrections of a re-imported file no longer apply."""
    if not stale:
        return ""
    listed = "; ".join(f"#{c.id} form {c.form_ordinal} {c.field}: {c.status_reason}" for c in stale)
    return f"{len(stale)} correction(s) no longer apply (goalforms corrections export --status stale): {listed}"


def refresh_all(session: Session) -> int:
    """Rebuild the corrected copy of every form that has corrections (for databases whose files
    were re-imported by an importer that did not call :func:`reapply_corrections`). Returns the
    number of forms refreshed."""
    keys = session.execute(
        select(Correction.document_path, Correction.form_ordinal).where(Correction.status != UNDONE).distinct()
    ).all()
    done = 0
    for path, ordinal in keys:
        form = find_form(session, path, ordinal)
        if form is not None:
            refresh_form(session, form, path)
            done += 1
    return done


# --- recording -----------------------------------------------------------------------------------

_UNSET: Any = object()


@dataclass
class Change:
    """One change a clerk asks for.

    ``new`` is what the clerk typed (text) or, from a JSON file, a JSON value; for ``add`` a dict
    with level1, level2, level3, raw and ``after`` (the key of the row it follows, None: first);
    for ``move`` {level1, level2}; for ``reorder`` {position}; for ``resolve`` the issue's code
    (and message, when several issues share code and field). ``expected`` is the value the clerk
    saw: when given, the change is refused if the form shows something else (someone changed it
    meanwhile, or a bulk file was written against another parse).
    """

    action: str
    field: str
    new: Any = None
    expected: Any = _UNSET
    note: str | None = None
    level3: str | None = None  # for a bulk file: the row's 三级 name, checked like expected


def _label(state: FormState, path: str) -> str:
    labels = dict(header_fields(state.layout) + budget_fields(state.layout))
    return f"{labels[path]} ({path})" if path in labels else path


_READERS: dict[str, tuple[Any, str]] = {
    "date": (parse_date, "a date (write it as 2020-12-31)"),
    "bool": (parse_bool, "是 or 否"),
    "year": (parse_year, "a year (write it as 2026)"),
    "decimal": (parse_decimal, "a number (write it as 95.5)"),
    "money": (parse_money, "an amount of money (write yuan in digits: 280000 or 2,745,200.00)"),
    "enum": (lambda text: text if text else None, "a value"),
}


def read_value(path: str, value: Any) -> Any:
    """What a clerk typed for a field, as the contract's value; ValueError says why it is refused."""
    text = as_text(value).strip()
    if path == "year":
        if not text:
            return None
        if not text.isdigit() or not 1900 <= int(text) <= 2100:
            raise ValueError(f"{text!r} is not a year (write it as 2026)")
        return int(text)
    section, _, name = path.partition(".")
    if section == "budget":
        if not text:
            return None
        amount = parse_money(text)
        if amount is None:
            raise ValueError(f"{text!r} is not an amount of money (write yuan in digits: 280000 or 2,745,200.00)")
        return amount
    kind = _field_type(name) if section == "header" else "text"
    if kind != "text":
        if not text:
            return None
        reader, hint = _READERS[kind]
        read = reader(text)
        if read is None:
            raise ValueError(f"{text!r} is not {hint}")
        return read
    if section in ("header", "header_extra"):
        return clean_text(str(value if value is not None else "")) or None
    m = _ROW_FIELD.match(path)
    if m is not None:
        name = m.group("name")
        if name in ("raw", "actual"):
            return parse_target(text).raw  # the actual value is read again like a target
        if name in ("weight", "score"):
            if not text:
                return None
            number = parse_decimal(text)
            if number is None:
                raise ValueError(f"{text!r} is not a number (write it as 10 or 9.5)")
            return number
        if name == "note":
            return clean_text(str(value if value is not None else "")) or None
        name_text = compact(text)
        if name == "level3" and not name_text:
            raise ValueError("a 三级 name cannot be empty (delete the row instead)")
        return name_text or None
    raise ValueError("no such field")


def _plan(state: FormState, changes: Sequence[Change], author: str, note: str | None,
          provisional: Iterable[int]) -> tuple[list[Correction], list[str]]:
    """Corrections for ``changes``, applied to ``state`` one after the other, and the problems
    that refuse some of them."""
    made: list[Correction] = []
    problems: list[str] = []
    now = dt.datetime.now(dt.UTC)
    ids = iter(provisional)
    for change in changes:
        try:
            c = _correction(state, change)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if c is None:
            continue  # nothing to change: the form already shows that value
        c.document_path, c.form_ordinal = state.document_path, state.ordinal
        c.author, c.created_at, c.status = author, now, ACTIVE
        c.note = change.note if change.note is not None else note
        reason = _apply(state, c, next(ids))
        if reason is not None:
            problems.append(reason)
            continue
        made.append(c)
    return made, problems


def _check_expected(path: str, change: Change, current: Any) -> None:
    if change.expected is not _UNSET and as_text(change.expected).strip() != as_text(current).strip():
        raise ValueError(f"{path} was changed meanwhile: it now reads {as_text(current)!r}, not "
                         f"{as_text(change.expected)!r} (reload the form and try again)")


def _correction(state: FormState, change: Change) -> Correction | None:
    """The correction record for one change (None when it changes nothing); ValueError if refused."""
    path = change.field
    if change.action == SET:
        m = _ROW_FIELD.match(path)
        if m is None:
            try:
                current = state.value(path)
            except KeyError:
                raise ValueError(f"the form has no field {path}") from None
            try:
                new = read_value(path, change.new)
            except ValueError as exc:
                raise ValueError(f"{_label(state, path)}: {exc}") from None
            _check_expected(path, change, current)
            if new == current:
                return None
            return Correction(action=SET, field=path, old_value=current, new_value=new)
        row = _row_for(state, m.group("row"), change)
        name = m.group("name")
        if name in LATER_ROW_FIELDS and name not in dict(row_fields(state.layout)):
            raise ValueError(f"{path}: layout {state.layout} has no {name} column")
        try:
            new = read_value(path, change.new)
        except ValueError as exc:
            raise ValueError(f"{path} ({row.level3}): {exc}") from None
        current = getattr(row, name)
        _check_expected(f"{path} ({row.level3})", change, current)
        if new == current:
            return None
        return Correction(action=SET, field=f"{row.key}.{name}", row_level3=row.level3, old_value=current,
                          new_value=new)
    if change.action == ADD:
        new = change.new if isinstance(change.new, dict) else {}
        level3 = compact(as_text(new.get("level3")))
        if not level3:
            raise ValueError("a new row needs a 三级 name")
        after = new.get("after") or None
        if after is not None and state.row(after) is None:
            raise ValueError(f"there is no row {after} to add the new row after")
        return Correction(action=ADD, field=ROWS, row_level3=level3, old_value=None, new_value={
            "level1": compact(as_text(new.get("level1"))) or None,
            "level2": compact(as_text(new.get("level2"))) or None,
            "level3": level3, "raw": parse_target(as_text(new.get("raw"))).raw, "after": after,
        })
    if change.action in (DELETE, MOVE, REORDER):
        row = _row_for(state, path, change)
        if change.action == DELETE:
            _check_expected(f"{row.key} ({row.level3})", change, row.snapshot())
            return Correction(action=DELETE, field=row.key, row_level3=row.level3, old_value=row.snapshot())
        if change.action == MOVE:
            current = {"level1": row.level1, "level2": row.level2}
            _check_expected(f"{row.key} ({row.level3}) levels", change, current)
            new = change.new if isinstance(change.new, dict) else {}
            moved = {"level1": compact(as_text(new.get("level1"))) or None,
                     "level2": compact(as_text(new.get("level2"))) or None}
            if moved == current:
                return None
            return Correction(action=MOVE, field=row.key, row_level3=row.level3, old_value=current, new_value=moved)
        position = state.position(row)
        _check_expected(f"{row.key} ({row.level3}) position", change,
                        {"position": position} if isinstance(change.expected, dict) else position)
        new = change.new.get("position") if isinstance(change.new, dict) else change.new
        try:
            target = int(as_text(new))
        except ValueError:
            raise ValueError(f"{as_text(new)!r} is not a position (1 to {len(state.rows)})") from None
        target = min(max(target, 1), len(state.rows))
        if target == position:
            return None
        return Correction(action=REORDER, field=row.key, row_level3=row.level3, old_value={"position": position},
                          new_value={"position": target})
    if change.action == RESOLVE:
        wanted = change.new if isinstance(change.new, dict) else {"code": as_text(change.new)}
        if change.expected is not _UNSET and isinstance(change.expected, dict):
            wanted = {**change.expected, **wanted}
        for issue in state.issues:
            if (issue.resolved_by is None and issue.target == path and issue.code == wanted.get("code")
                    and wanted.get("message") in (None, issue.message)):
                m = _ISSUE_ROW.match(path)
                concerned = state.row(m.group("row")) if m is not None else None
                return Correction(action=RESOLVE, field=path,
                                  row_level3=concerned.level3 if concerned is not None else None,
                                  old_value={"code": issue.code, "message": issue.message}, new_value="resolved")
        raise ValueError(f"no open issue {wanted.get('code')} on {path}")
    raise ValueError(f"unknown action {change.action!r} (one of {', '.join(ACTIONS)})")


def _row_for(state: FormState, key: str, change: Change) -> RowState:
    if _ROW.match(key) is None:
        raise ValueError(f"{key} does not name an indicator row (indicators[3], indicators[c17])")
    row = state.row(key) if change.level3 is None else _find_row(state, key, change.level3)
    if row is None:
        raise ValueError(f"the form has no row {key}" + (f" named {change.level3}" if change.level3 else ""))
    return row


def record(session: Session, path: str, ordinal: int, changes: Sequence[Change], author: str,
           note: str | None = None, scope: Scope | None = None) -> list[Correction]:
    """Record ``changes`` to one form as corrections and rebuild its corrected copy.

    All or nothing: if any change is refused, :class:`CorrectionError` lists every refusal and
    nothing is added to the session. Changes that change nothing are skipped. A form outside
    ``scope`` is not found; a change of its unit to one outside ``scope`` is refused."""
    form = find_form(session, path, ordinal, scope)
    if form is None:
        raise NotFound(path, f"no form {ordinal} in this document")
    _lock(session, form)
    state = replay(session, form, path).state
    made, problems = _plan(state, changes, author, note, _provisional_ids(session))
    if problems:
        raise CorrectionError(problems)
    if made:
        session.add_all(made)
        session.flush()
        result = refresh_form(session, form, path)
        _keep_in_scope(scope, result)
        lost = [c for c in made if c.id in result.stale]
        if lost:  # cannot happen unless the replay and the plan disagree: refuse rather than store it
            raise CorrectionError([f"internal error: {c.field}: {result.stale[c.id]}" for c in lost])
    return made


def _provisional_ids(session: Session) -> Iterable[int]:
    """Ids the corrections being planned will get (the database assigns the real ones; added rows
    are keyed by them, so the plan uses the next free ones)."""
    start = (session.scalar(select(func.max(Correction.id))) or 0) + 1
    n = start
    while True:
        yield n
        n += 1


def undo(session: Session, correction_id: int, author: str, scope: Scope | None = None) -> list[Correction]:
    """Undo a correction (it stays on record as undone) and rebuild its form; returns the later
    corrections that no longer apply without it (an edit of a row whose adding was undone).
    A correction of a form outside ``scope`` is not found."""
    c = session.get(Correction, correction_id)
    if c is not None and scope is not None and scope.limited:
        c = session.scalar(select(Correction).where(Correction.id == correction_id, *scope.correction_terms()))
    if c is None:
        raise NotFound(None, f"no correction {correction_id}")
    if c.status == UNDONE:
        raise CorrectionError([f"correction {correction_id} was already undone by {c.undone_by}"])
    form = find_form(session, c.document_path, c.form_ordinal)
    if form is not None:
        _lock(session, form)
    before = {x.id for x in corrections_of(session, c.document_path, c.form_ordinal) if x.status == ACTIVE}
    c.status, c.undone_at, c.undone_by = UNDONE, dt.datetime.now(dt.UTC), author
    session.flush()
    if form is None:
        return []
    result = refresh_form(session, form, c.document_path)
    _keep_in_scope(scope, result)  # undoing a unit correction could hand the form back elsewhere
    return [x for x in result.corrections if x.id in result.stale and x.id in before]


# --- bulk: export, files of corrections, open issues ----------------------------------------------

EXPORT_COLUMNS = ("id", "path", "form", "action", "field", "level3", "old_value", "new_value", "note", "author",
                  "created_at", "status", "status_reason", "undone_at", "undone_by")


def export_corrections(session: Session, path: str | None = None, status: str | None = None,
                       scope: Scope | None = None) -> list[dict[str, Any]]:
    """Every correction (of one document, of one status, of forms in ``scope``) as a plain dict, in
    the order made."""
    query = select(Correction).order_by(Correction.id)
    if scope is not None:
        query = query.where(*scope.correction_terms())
    if path is not None:
        query = query.where(Correction.document_path == path)
    if status is not None:
        query = query.where(Correction.status == status)
    return [
        {"id": c.id, "path": c.document_path, "form": c.form_ordinal, "action": c.action, "field": c.field,
         "level3": c.row_level3, "old_value": c.old_value, "new_value": c.new_value, "note": c.note,
         "author": c.author, "created_at": _iso(c.created_at), "status": c.status,
         "status_reason": c.status_reason, "undone_at": _iso(c.undone_at), "undone_by": c.undone_by}
        for c in session.scalars(query)
    ]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def write_corrections(rows: Sequence[dict[str, Any]], out: io.TextIOBase | Any, fmt: str) -> None:
    """Rows of :func:`export_corrections` as JSON (a list) or CSV (old/new values JSON-encoded)."""
    if fmt == "json":
        out.write(json.dumps(list(rows), ensure_ascii=False, indent=1) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(k, row.get(k)) for k in EXPORT_COLUMNS})


def _csv_cell(column: str, value: Any) -> Any:
    if column in ("old_value", "new_value"):
        return "" if value is None else json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


@dataclass
class PlannedChange:
    """One row of a corrections file: which form, and the change."""

    number: int  # 1-based row (CSV: the line after the header) or item, for messages
    path: str
    ordinal: int
    change: Change


def read_corrections_file(file: Path) -> list[PlannedChange]:
    """A CSV or JSON file of corrections (the columns of ``corrections export``; id, author,
    dates and status are ignored, and undone corrections skipped). Values are JSON; a CSV cell
    that is not JSON is taken as text. Raises CorrectionError naming every unreadable row."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise GoalformsError(file, f"cannot read file: {exc.strerror or exc}") from None
    if file.suffix.lower() == ".json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GoalformsError(file, f"not JSON: {exc}") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise GoalformsError(file, "a JSON corrections file holds a list of objects")
        rows: list[dict[str, Any]] = items
        loose = False
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        loose = True
    planned: list[PlannedChange] = []
    problems: list[str] = []
    for number, row in enumerate(rows, start=1):
        if (row.get("status") or "") == UNDONE:
            continue
        try:
            planned.append(_planned(number, row, loose))
        except (KeyError, ValueError, TypeError) as exc:
            problems.append(f"row {number}: {exc}")
    if problems:
        raise CorrectionError(problems)
    return planned


def _cell(value: Any, loose: bool) -> Any:
    if not loose or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # plain text, as a clerk typed it in a spreadsheet


def _planned(number: int, row: dict[str, Any], loose: bool) -> PlannedChange:
    missing = [k for k in ("path", "form", "action", "field") if row.get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    action = str(row["action"]).strip()
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    old = row.get("old_value", _UNSET)
    old = _UNSET if old is _UNSET else _cell(old, loose)
    if action != SET and old in ("", None):
        old = _UNSET  # a row operation checks its row by its 三级 name; an old value is optional
    if action == RESOLVE and old is not _UNSET and not isinstance(old, dict):
        old = {"code": as_text(old)}
    new = _cell(row.get("new_value"), loose)
    if action == RESOLVE and (new in (None, "", "resolved")):
        new = {"code": old.get("code"), "message": old.get("message")} if isinstance(old, dict) else new
    level3 = row.get("level3") or None
    path = str(row["path"])
    if not Path(path).is_absolute():
        path = str(Path(path).resolve())  # documents are stored by their resolved absolute path
    return PlannedChange(number, path, int(row["form"]),
                         Change(action, str(row["field"]).strip(), new, old, row.get("note") or None,
                                str(level3) if level3 is not None and action != ADD else None))


def apply_changes(session: Session, planned: Sequence[PlannedChange], author: str,
                  scope: Scope | None = None) -> list[Correction]:
    """Record the changes of a corrections file, form by form in file order. All or nothing:
    CorrectionError lists every refused row (by its number) and nothing is recorded. A form
    outside ``scope`` is not found."""
    made: list[Correction] = []
    problems: list[str] = []
    by_form: dict[tuple[str, int], list[PlannedChange]] = {}
    for item in planned:
        by_form.setdefault((item.path, item.ordinal), []).append(item)
    for (path, ordinal), items in by_form.items():
        form = find_form(session, path, ordinal, scope)
        if form is None:
            problems += [f"row {i.number}: no form {ordinal} in {path}" for i in items]
            continue
        _lock(session, form)
        state = replay(session, form, path).state
        for item in items:
            batch, refused = _plan(state, [item.change], author, None, _provisional_ids(session))
            problems += [f"row {item.number}: {p}" for p in refused]
            if batch and not problems:
                # Stored as it goes, so that a later row of the same form can name a row added earlier.
                session.add_all(batch)
                session.flush()
                result = refresh_form(session, form, path)
                try:
                    _keep_in_scope(scope, result)
                except CorrectionError as exc:
                    problems += [f"row {item.number}: {p}" for p in exc.problems]
                state = result.state
            made += batch
    if problems:
        raise CorrectionError(problems)
    return made


# The analyst views clerks' lists read (columns as in docs/views.md): Core objects, so that every
# query is built by SQLAlchemy with bound parameters.
V_ISSUES = table(
    "v_issues", column("issue_id", Integer), column("form_id", Integer), column("source_path"),
    column("form_ordinal", Integer), column("project_name"), column("org_unit"), column("year", Integer),
    column("layout"), column("code"), column("severity"), column("message"), column("location"), column("field"),
    column("indicator_id", Integer), column("position", Integer), column("level3"),
)
V_FORMS = table(
    "v_forms", column("form_id", Integer), column("source_path"), column("form_ordinal", Integer),
    column("layout"), column("year", Integer), column("project_name"), column("org_unit"),
    column("indicator_count", Integer), column("open_issue_count", Integer),
)


@dataclass
class OpenIssue:
    path: str
    ordinal: int
    project_name: str | None
    org_unit: str | None
    year: int | None
    code: str
    severity: str
    message: str
    location: str | None
    field: str | None
    level3: str | None


def open_issues(session: Session, path: str | None = None, unit: str | None = None, year: int | None = None,
                code: str | None = None, project: str | None = None, scope: Scope | None = None) -> list[OpenIssue]:
    """Open issues (v_issues: resolved ones left out, corrected header values) of forms in
    ``scope``, in document order."""
    v = V_ISSUES.c
    query = select(v.source_path, v.form_ordinal, v.project_name, v.org_unit, v.year, v.code, v.severity,
                   v.message, v.location, v.field, v.level3)
    if scope is not None:
        query = query.where(*scope.terms(v))
    if path is not None:
        query = query.where(v.source_path == path)
    if unit is not None:
        query = query.where(v.org_unit == unit)
    if year is not None:
        query = query.where(v.year == year)
    if code is not None:
        query = query.where(v.code == code)
    if project is not None:
        query = query.where(v.project_name.contains(project, autoescape=True))
    query = query.order_by(v.source_path, v.form_ordinal, v.issue_id)
    return [OpenIssue(*row) for row in session.execute(query).all()]
