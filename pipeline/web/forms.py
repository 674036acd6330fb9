"""The form page (parsed header, budget and indicators beside the source, every flagged field
marked with its issue) and the clerk's edits: fields, rows added/deleted/reordered/moved, issues
resolved, corrections undone. Each edit is recorded by goalforms.pipeline.corrections in the
request's transaction; a refused edit saves nothing and says why.

Forms are addressed by their document's path and ordinal (``/form?path=…&n=3``), which survive a
re-import; form and row ids do not. Every route reads and changes forms through the user's
:class:`~goalforms.pipeline.scope.Scope`: a form of another unit is a 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL

from goalforms.pipeline import corrections as corr
from goalforms.pipeline.corrections import (
    ADD,
    DELETE,
    MOVE,
    REORDER,
    RESOLVE,
    SET,
    Change,
    CorrectionError,
    IssueState,
    Replay,
    RowState,
    as_text,
)
from goalforms.pipeline.scope import Scope
from goalforms.pipeline.web import source
from goalforms.pipeline.web.deps import Clerk, DbSession, Scoped, Viewer, flash
from goalforms.pipeline.web.findings import findings_context
from goalforms.schema import models
from goalforms.schema.clerk_models import CLERK, UNDONE, Correction, User

router = APIRouter()


@dataclass
class IssueView:
    issue: IssueState
    resolution: Correction | None
    where: str  # what the issue concerns, for the list


@dataclass
class FieldView:
    path: str
    label: str
    text: str  # current (corrected) value as a clerk reads it
    parsed: str  # as parsed
    correction: Correction | None
    issues: list[IssueView]
    location: str | None
    multiline: bool
    hint: str


@dataclass
class RowView:
    position: int
    row: RowState
    parsed: RowState | None
    corrections: dict[str, Correction]
    issues: list[IssueView]
    location: str | None

    @property
    def flagged(self) -> set[str]:
        """The row's fields its open issues concern (an issue on the whole row: its placement)."""
        names: set[str] = set()
        for view in self.issues:
            if view.resolution is None and view.issue.field is not None:
                _, _, name = view.issue.field.partition("].")
                names |= {name} if name else {"level1", "level2"}
        return names


@dataclass
class FormPage:
    fields: list[FieldView]
    budget: list[FieldView]
    rows: list[RowView]
    form_issues: list[IssueView]  # issues of the whole form, or of a deleted row
    issues: list[IssueView]  # all, in parse order
    open_count: int
    history: list[Correction]
    stale: dict[int, str]
    keys: set[str] = field(default_factory=set)
    # (row field, column header) of the indicator columns this layout prints (actual, weight … too).
    row_fields: list[tuple[str, str]] = field(default_factory=list)




def form_url(request: Request, path: str, ordinal: int, **extra: Any) -> URL:
    return request.url_for("form_page").include_query_params(path=path, n=ordinal, **extra)


def _issue_target(issue: IssueState) -> str | None:
    """The field path or row key an issue concerns."""
    if issue.field is None:
        return None
    if issue.field.startswith("indicators["):
        return issue.field.split("]", 1)[0] + "]"
    return issue.field


def build_page(result: Replay, raw_view: bool) -> FormPage:
    state = result.raw if raw_view else result.state
    by_id = {c.id: c for c in result.corrections}
    issues = [IssueView(i, by_id.get(i.resolved_by) if i.resolved_by else None, i.field or "form")
              for i in state.issues]
    by_target: dict[str | None, list[IssueView]] = {}
    for view in issues:
        by_target.setdefault(_issue_target(view.issue), []).append(view)
    budget_locations = {f"budget.{b.item}": b.source_location for b in result.form.budget_figures}

    def field_view(path: str, label: str) -> FieldView:
        try:
            current = state.value(path)
        except KeyError:
            current = None
        try:
            parsed = result.raw.value(path)
        except KeyError:
            parsed = None
        found = by_target.get(path, [])
        location = budget_locations.get(path) or next((v.issue.location for v in found if v.issue.location), None)
        cid = None if raw_view else state.corrected_by.get(path)
        return FieldView(path, label, as_text(current), as_text(parsed), by_id.get(cid) if cid else None, found,
                         source.loc_key(location), *_field_hint(path))

    def _field_hint(path: str) -> tuple[bool, str]:
        # Multiline and the typing hint come from the field's type in the layout's TOML.
        return (False, "e.g. 2026") if path == "year" else corr.field_hint(result.form.layout, path)

    layout = result.form.layout
    fields = [field_view("year", "年度")] + [field_view(p, label) for p, label in corr.header_fields(layout)]
    budget = [field_view(p, label) for p, label in corr.budget_fields(layout)]
    parsed_rows = {r.key: r for r in result.raw.rows}
    rows: list[RowView] = []
    for position, row in enumerate(state.rows, start=1):
        made = {} if raw_view else {name: by_id[cid] for name, cid in row.corrected_by.items() if cid in by_id}
        rows.append(RowView(position, row, parsed_rows.get(row.key), made, by_target.pop(row.key, []),
                            source.loc_key(row.source_location)))
    shown = {f.path for f in fields + budget}
    form_issues = [v for target, views in by_target.items() if target not in shown for v in views]
    keys = {k for k in [r.location for r in rows] + [f.location for f in budget] if k}
    return FormPage(fields, budget, rows, form_issues, issues,
                    sum(1 for i in state.issues if i.resolved_by is None),
                    list(reversed(result.corrections)), {} if raw_view else result.stale, keys,
                    corr.row_fields(layout))


def _load(session: Session, scope: Scope, path: str, ordinal: int) -> tuple[models.Form, Replay]:
    form = corr.find_form(session, path, ordinal, scope)
    if form is None:
        raise HTTPException(404, f"no form {ordinal} in {path} (was the file removed from the database?)")
    return form, corr.replay(session, form, path)


def _render(request: Request, session: Session, user: User, scope: Scope, path: str, ordinal: int,
            raw_view: bool = False, typed: dict[str, str] | None = None, errors: list[str] | None = None,
            status: int = 200) -> Response:
    form, result = _load(session, scope, path, ordinal)
    page = build_page(result, raw_view)
    flags = source.flags_by_location([v.issue for v in page.issues])
    pane = source.build_pane(form.document, form, flags, page.keys, source.flags_by_field([v.issue for v in page.issues]))
    siblings = [(f.ordinal, f.project_name) for f in form.document.forms if scope.allows_form(session, f)]
    context = {
        "form": form, "document": form.document, "path": path, "ordinal": ordinal, "page": page, "pane": pane,
        "raw_view": raw_view, "can_edit": user.role == CLERK and not raw_view, "typed": typed or {},
        "errors": errors or [], "vocabulary": corr.vocabulary(form.layout), "siblings": siblings,
        "basename": PurePath(path).name, "form_url": lambda n, **kw: form_url(request, path, n, **kw),
        "UNDONE": UNDONE, "source_key": source.loc_key, "title": (result.raw if raw_view else result.state).header.get("project_name"),
    }
    context.update(findings_context(session, scope, path, ordinal))  # the target review, apart from issues
    response: Response = request.app.state.templates.TemplateResponse(request, "form.html", context,
                                                                       status_code=status)
    return response


@router.get("/form", name="form_page")
def form_page(request: Request, user: Viewer, scope: Scoped, session: DbSession, path: str, n: int,
              raw: int = 0) -> Response:
    return _render(request, session, user, scope, path, n, raw_view=bool(raw))


def _back(request: Request, path: str, ordinal: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(str(form_url(request, path, ordinal)) + anchor, status_code=303)


def _commit(session: Session, request: Request, scope: Scope, path: str, ordinal: int, author: str,
            changes: list[Change], done: str, note: str | None = None) -> bool:
    """Record changes; flash what happened. False (nothing saved) when they were refused."""
    try:
        made = corr.record(session, path, ordinal, changes, author, note=note or None, scope=scope)
    except corr.NotFound as exc:  # gone, or another unit's form: as if it never existed
        raise HTTPException(404, exc.reason) from None
    except CorrectionError as exc:
        session.rollback()
        flash(request, "error", "not saved: " + "; ".join(exc.problems))
        return False
    session.commit()
    flash(request, "ok", done.format(n=len(made)) if made else "nothing to save: the form already shows that")
    return True


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def changes_from_form(data: dict[str, str]) -> list[Change]:
    """The changes a submitted edit form asks for: ``v:FIELD`` (typed) against ``o:FIELD`` (shown)."""
    values = {k[2:]: _lf(v) for k, v in data.items() if k.startswith("v:")}
    olds = {k[2:]: _lf(v) for k, v in data.items() if k.startswith("o:")}
    changes: list[Change] = []
    moved: list[str] = []
    for path, new in values.items():
        old = olds.get(path, "")
        if new.strip() == old.strip():
            continue
        row, _, name = path.partition("].")
        if path.startswith("indicators[") and name in ("level1", "level2"):
            if row + "]" not in moved:
                moved.append(row + "]")
            continue
        changes.append(Change(SET, path, new, expected=old))
    for key in moved:
        names = ("level1", "level2")
        changes.append(Change(MOVE, key, {n: values.get(f"{key}.{n}", olds.get(f"{key}.{n}", "")) for n in names},
                              expected={n: olds.get(f"{key}.{n}", "") for n in names}))
    return changes


@router.post("/form/save")
async def save(request: Request, user: Clerk, scope: Scoped, session: DbSession) -> Response:
    data = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    path, ordinal = data.get("path", ""), _int(data.get("n"))
    changes = changes_from_form(data)

    def work() -> Response:
        try:
            made = corr.record(session, path, ordinal, changes, user.name, note=data.get("note") or None, scope=scope)
        except CorrectionError as exc:
            session.rollback()
            typed = {k[2:]: v for k, v in data.items() if k.startswith("v:")}
            return _render(request, session, user, scope, path, ordinal, typed=typed, errors=exc.problems,
                           status=400)
        except corr.NotFound as exc:
            raise HTTPException(404, exc.reason) from None
        session.commit()
        flash(request, "ok", f"saved {len(made)} correction(s)" if made else "nothing changed")
        return _back(request, path, ordinal)

    return await run_in_threadpool(work)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise HTTPException(400, "the form's number is missing") from None


@router.post("/form/row")
def row_operation(request: Request, user: Clerk, scope: Scoped, session: DbSession, path: Annotated[str, Form()],
                  n: Annotated[int, Form()], op: Annotated[str, Form()]) -> Response:
    action, _, key = op.partition(":")
    form, result = _load(session, scope, path, n)
    row = result.state.row(key)
    if row is None:
        flash(request, "error", f"not saved: the form has no row {key} any more (reload the page)")
        return _back(request, path, n)
    position = result.state.position(row)
    if action == "delete":
        change = Change(DELETE, key, None)
        done = f"deleted row {position} ({row.level3})"
    elif action in ("up", "down"):
        change = Change(REORDER, key, {"position": position + (-1 if action == "up" else 1)})
        done = f"moved row {row.level3} {action}"
    else:
        raise HTTPException(400, f"unknown row operation {action!r}")
    _commit(session, request, scope, path, n, user.name, [change], done)
    return _back(request, path, n, "#rows")


@router.post("/form/add-row")
def add_row(request: Request, user: Clerk, scope: Scoped, session: DbSession, path: Annotated[str, Form()],
            n: Annotated[int, Form()], level3: Annotated[str, Form()] = "", level1: Annotated[str, Form()] = "",
            level2: Annotated[str, Form()] = "", raw: Annotated[str, Form()] = "",
            after: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    new = {"level1": level1, "level2": level2, "level3": level3, "raw": raw, "after": after or None}
    _commit(session, request, scope, path, n, user.name, [Change(ADD, corr.ROWS, new)], f"added the row {level3}", note)
    return _back(request, path, n, "#rows")


@router.post("/form/resolve")
def resolve(request: Request, user: Clerk, scope: Scoped, session: DbSession, path: Annotated[str, Form()],
            n: Annotated[int, Form()], issue_id: Annotated[int, Form()], note: Annotated[str, Form()] = "") -> Response:
    if not note.strip():
        flash(request, "error", "not saved: say in a note how the issue was resolved")
        return _back(request, path, n, "#issues")
    _form, result = _load(session, scope, path, n)
    issue = next((i for i in result.state.issues if i.issue_id == issue_id and i.resolved_by is None), None)
    if issue is None:
        flash(request, "error", "not saved: that issue is no longer open (reload the page)")
        return _back(request, path, n, "#issues")
    change = Change(RESOLVE, issue.target, {"code": issue.code, "message": issue.message})
    _commit(session, request, scope, path, n, user.name, [change], f"resolved {issue.code} on {issue.target}", note.strip())
    return _back(request, path, n, "#issues")


@router.post("/form/resolve-all")
def resolve_all(request: Request, user: Clerk, scope: Scoped, session: DbSession, path: Annotated[str, Form()],
                n: Annotated[int, Form()], note: Annotated[str, Form()] = "") -> Response:
    if not note.strip():
        flash(request, "error", "not saved: say in a note how the issues were resolved")
        return _back(request, path, n, "#issues")
    _form, result = _load(session, scope, path, n)
    changes = [Change(RESOLVE, i.target, {"code": i.code, "message": i.message})
               for i in result.state.issues if i.resolved_by is None]
    _commit(session, request, scope, path, n, user.name, changes, "resolved {n} issue(s)", note.strip())
    return _back(request, path, n, "#issues")


@router.post("/form/undo")
def undo(request: Request, user: Clerk, scope: Scoped, session: DbSession, correction: Annotated[int, Form()],
         path: Annotated[str, Form()] = "", n: Annotated[int, Form()] = 0) -> Response:
    try:
        lost = corr.undo(session, correction, user.name, scope)
    except corr.NotFound as exc:
        raise HTTPException(404, exc.reason) from None
    except CorrectionError as exc:
        session.rollback()
        flash(request, "error", f"not undone: {exc.reason}")
    else:
        session.commit()
        flash(request, "ok", f"undid correction {correction}")
        if lost:
            flash(request, "warning", "these later corrections no longer apply: "
                  + "; ".join(f"#{c.id} {c.field}" for c in lost))
    if path and n:
        return _back(request, path, n, "#history")
    return RedirectResponse(request.url_for("corrections_page"), status_code=303)

