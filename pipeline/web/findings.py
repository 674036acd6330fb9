"""The target review in the web app: a form's findings beside its fields (apart from parse issues),
and a reviewer's "accepted with reason" (docs/review.md).

Findings are read from ``v_findings`` through the user's :class:`~goalforms.pipeline.scope.Scope`;
a finding of another unit's form is answered as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from goalforms.pipeline.review.store import FindingFilter, ReviewError, accept, findings, withdraw
from goalforms.pipeline.scope import Scope
from goalforms.pipeline.web.deps import Clerk, DbSession, Scoped, flash

router = APIRouter()


def findings_context(session: Session, scope: Scope, path: str, ordinal: int) -> dict[str, Any]:
    """What the form page shows of the review: every finding of the form, and those by field / row key."""
    rows = findings(session, FindingFilter(path=path, ordinal=ordinal), scope)
    by_field: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_field.setdefault(r["field"], []).append(r)
    reviewed = session.execute(text("SELECT rule_sets FROM v_scorecard WHERE source_path = :p AND form_ordinal = :n"),
                               {"p": path, "n": ordinal}).scalar()
    return {"findings": rows, "findings_by_field": by_field, "reviewed_under": reviewed,
            "open_findings": sum(1 for r in rows if r["status"] == "open")}


def _back(request: Request, path: str, n: int) -> RedirectResponse:
    url = request.url_for("form_page").include_query_params(path=path, n=n)
    return RedirectResponse(str(url) + "#findings", status_code=303)


@router.post("/form/accept-finding", name="accept_finding")
def accept_finding(request: Request, user: Clerk, scope: Scoped, session: DbSession, path: Annotated[str, Form()],
                   n: Annotated[int, Form()], finding: Annotated[int, Form()],
                   note: Annotated[str, Form()] = "") -> Response:
    if not note.strip():
        flash(request, "error", "not saved: say in a note why the finding is accepted")
        return _back(request, path, n)
    mine = findings(session, FindingFilter(path=path, ordinal=n), scope)
    if not any(r["finding_id"] == finding for r in mine):
        raise HTTPException(404, f"no finding {finding} on form {n} of {path} (reload the page)")
    try:
        accept(session, finding, user.name, note, scope)
    except ReviewError as exc:
        session.rollback()
        flash(request, "error", f"not saved: {exc.reason}")
        return _back(request, path, n)
    session.commit()
    flash(request, "ok", f"finding {finding} accepted")
    return _back(request, path, n)


@router.post("/form/reopen-finding", name="reopen_finding")
def reopen_finding(request: Request, user: Clerk, scope: Scoped, session: DbSession, path: Annotated[str, Form()],
                   n: Annotated[int, Form()], finding: Annotated[int, Form()]) -> Response:
    mine = findings(session, FindingFilter(path=path, ordinal=n), scope)
    if not any(r["finding_id"] == finding for r in mine):
        raise HTTPException(404, f"no finding {finding} on form {n} of {path} (reload the page)")
    withdraw(session, finding, scope)
    session.commit()
    flash(request, "ok", f"finding {finding} is open again")
    return _back(request, path, n)
