"""The corrected copy: statuses and the replayed form written to ``corrected_forms``,
``corrected_indicators`` and ``resolved_issues``, rebuilt on every correction and re-import;
the review (docs/review.md) is run again on every form whose copy was rebuilt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from goalforms.parsers.layouts.discovery import budget_keys, header_keys
from goalforms.parsers.reports.names import project_key
from goalforms.pipeline.corrections.model import (
    CorrectionError,
    RowState,
)
from goalforms.pipeline.corrections.replaying import (
    Replay,
    corrections_of,
    find_form,
    replay,
)
from goalforms.pipeline.review.reads import fetch
from goalforms.pipeline.review.store import review_forms  # the review reads .replaying, below this module
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

_DATE_FIELDS = ("plan_start", "plan_end")
# The forms of a path that have a correction to replay (corrections.document_path is indexed).
_CORRECTED = "SELECT form_ordinal FROM corrections WHERE document_path = ? AND status <> ?"


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
    review_forms(session, [form])  # a corrected form is reviewed again (docs/review.md)
    return result


def reapply_corrections(session: Session, document: models.SourceDocument) -> list[Correction]:
    """Replay every correction of a document just stored (or re-stored) and return those that no
    longer apply. The importer calls this right after storing a document, in the same transaction;
    calling it again changes nothing."""
    session.flush()  # the new rows need their ids
    # The common case on import: one light query (through the driver's cursor, no Correction
    # objects built) says there is nothing to replay, and the parse is what analysts see.
    corrected = {ordinal for (ordinal,) in fetch(session.connection(), _CORRECTED, (document.path, UNDONE))}
    if not corrected:
        return []
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
