"""Recording and undoing a clerk's changes: each change is checked against the form as it is
now, becomes a ``Correction`` record, and the form's corrected copy is rebuilt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goalforms.parsers.labels import clean_text, compact
from goalforms.parsers.values import parse_decimal, parse_year
from goalforms.pipeline.corrections.fields import (
    _field_type,
    budget_fields,
    header_fields,
    row_fields,
)
from goalforms.pipeline.corrections.model import (
    _ISSUE_ROW,
    _ROW,
    _ROW_FIELD,
    _UNSET,
    ACTIONS,
    ADD,
    DELETE,
    LATER_ROW_FIELDS,
    MOVE,
    REORDER,
    RESOLVE,
    ROWS,
    SET,
    Change,
    CorrectionError,
    FormState,
    NotFound,
    RowState,
    as_text,
)
from goalforms.pipeline.corrections.replaying import (
    _apply,
    _find_row,
    corrections_of,
    find_form,
    replay,
)
from goalforms.pipeline.corrections.store import _keep_in_scope, _lock, refresh_form
from goalforms.pipeline.normalise import parse_bool, parse_date, parse_money, parse_target
from goalforms.pipeline.scope import Scope
from goalforms.schema.clerk_models import (
    ACTIVE,
    UNDONE,
    Correction,
)


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
