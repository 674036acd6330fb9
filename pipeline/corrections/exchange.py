"""Corrections as files: export to CSV or JSON, and apply a file of changes (all or nothing)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.pipeline.corrections.model import (
    _UNSET,
    ACTIONS,
    ADD,
    RESOLVE,
    SET,
    Change,
    CorrectionError,
    as_text,
)
from goalforms.pipeline.corrections.recording import _plan, _provisional_ids
from goalforms.pipeline.corrections.replaying import (
    find_form,
    replay,
)
from goalforms.pipeline.corrections.store import _keep_in_scope, _lock, refresh_form
from goalforms.pipeline.scope import Scope
from goalforms.schema.clerk_models import (
    UNDONE,
    Correction,
)

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
