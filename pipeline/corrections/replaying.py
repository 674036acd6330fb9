"""Replaying: a stored form as the parse left it, then each correction applied over it in the
order made (reads only; nothing is written here)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goalforms.pipeline.corrections.fields import (
    _dimension,
    budget_fields,
    header_fields,
)
from goalforms.pipeline.corrections.model import (
    _ISSUE_ROW,
    _ROW,
    _ROW_FIELD,
    ADD,
    DELETE,
    MOVE,
    REORDER,
    RESOLVE,
    ROW_FIELDS,
    SET,
    SIBLING_ROW_COLUMNS,
    FormState,
    IssueState,
    RowState,
    as_text,
)
from goalforms.pipeline.normalise import canonical_decimal, parse_target
from goalforms.pipeline.scope import Scope
from goalforms.schema import models
from goalforms.schema.clerk_models import (
    UNDONE,
    Correction,
)


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


def find_form(session: Session, path: str, ordinal: int, scope: Scope | None = None) -> models.Form | None:
    """The form, or None if there is none or it is outside ``scope``."""
    form = session.scalar(
        select(models.Form).join(models.SourceDocument)
        .where(models.SourceDocument.path == path, models.Form.ordinal == ordinal)
    )
    if form is not None and scope is not None and not scope.allows_form(session, form):
        return None
    return form


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


def _replayed(session: Session, form: models.Form, path: str) -> tuple[FormState, list[Correction], dict[int, str]]:
    every = corrections_of(session, path, form.ordinal, include_undone=True)
    state = parsed_state(form, path)
    stale: dict[int, str] = {}
    for c in every:
        if c.status == UNDONE:
            continue
        reason = _apply(state, c, c.id)
        if reason is not None:
            stale[c.id] = reason
    return state, every, stale


def replay(session: Session, form: models.Form, path: str) -> Replay:
    """The form with its corrections replayed over the parse (reads only)."""
    state, every, stale = _replayed(session, form, path)
    return Replay(form, parsed_state(form, path), state, every, stale)


def corrected_state(session: Session, form: models.Form, path: str) -> FormState:
    """``replay(...).state`` without the parse's own copy (the review, on every imported form,
    needs only the corrected state)."""
    return _replayed(session, form, path)[0]
