"""The queue (forms with open issues first, filters with counts, a project search) and the list of
corrections. Everything is read from the analyst views, so the queue shows corrected values and
leaves resolved issues out; every query is built with SQLAlchemy Core and bound parameters, and
every one is limited to the user's :class:`~goalforms.pipeline.scope.Scope` (counts and facet
values too: a limited user learns nothing of other units' forms)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Select, case, func, select
from sqlalchemy.sql import ColumnElement

from goalforms.pipeline.corrections import V_FORMS, V_ISSUES
from goalforms.pipeline.review.store import V_FINDINGS
from goalforms.pipeline.scope import Scope
from goalforms.pipeline.web.deps import DbSession, Scoped
from goalforms.schema.clerk_models import ACTIVE, STALE, UNDONE, Correction

router = APIRouter()
PAGE_SIZE = 100


@dataclass
class Filters:
    file: str | None = None
    unit: str | None = None
    year: int | None = None
    code: str | None = None
    q: str | None = None
    scope: Scope = Scope.everything()
    finding: str | None = None  # a review rule id: forms with an open finding of that rule

    def conditions(self, columns: Any, skip: str = "") -> list[ColumnElement[bool]]:
        """WHERE terms for a view that has source_path, org_unit, year, project_name (all but
        ``skip``), always within the scope."""
        terms: list[ColumnElement[bool]] = list(self.scope.terms(columns))
        if self.file is not None and skip != "file":
            terms.append(columns.source_path == self.file)
        if self.unit is not None and skip != "unit":
            terms.append(columns.org_unit == self.unit)
        if self.year is not None and skip != "year":
            terms.append(columns.year == self.year)
        if self.q:
            terms.append(columns.project_name.contains(self.q, autoescape=True))
        if self.code is not None and skip != "code":
            with_code = select(V_ISSUES.c.form_id).where(V_ISSUES.c.code == self.code)
            terms.append(columns.form_id.in_(with_code))
        if self.finding is not None and skip != "finding":
            with_finding = select(V_FINDINGS.c.form_id).where(V_FINDINGS.c.rule_id == self.finding,
                                                              V_FINDINGS.c.status == "open")
            terms.append(columns.form_id.in_(with_finding))
        return terms


def _blank_none(value: str | None) -> str | None:
    return value if value not in (None, "") else None


@router.get("/", name="queue")
def queue_page(
    request: Request, scope: Scoped, session: DbSession,
    file: str | None = None, unit: str | None = None, year: str | None = None, code: str | None = None,
    q: str | None = None, page: Annotated[int, Query(ge=1)] = 1, finding: str | None = None,
) -> Response:
    year_text = _blank_none(year)
    filters = Filters(_blank_none(file), _blank_none(unit), int(year_text) if year_text and year_text.isdigit() else None,
                      _blank_none(code), _blank_none(q.strip() if q else None), scope, _blank_none(finding))
    f = V_FORMS.c
    where = filters.conditions(f)
    total = session.scalar(select(func.count()).select_from(V_FORMS).where(*where)) or 0
    query = (
        select(f.form_id, f.source_path, f.form_ordinal, f.layout, f.year, f.project_name, f.org_unit,
               f.indicator_count, f.open_issue_count)
        .where(*where)
        .order_by(case((f.open_issue_count > 0, 0), else_=1), f.source_path, f.form_ordinal)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    )
    rows = session.execute(query).all()
    ids = [r.form_id for r in rows]
    errors = dict(session.execute(
        select(V_ISSUES.c.form_id, func.count()).where(V_ISSUES.c.form_id.in_(ids), V_ISSUES.c.severity == "error")
        .group_by(V_ISSUES.c.form_id)).all())
    corrected: dict[tuple[str, int], dict[str, int]] = {}
    paths = sorted({r.source_path for r in rows})
    for path, ordinal, status, n in session.execute(
        select(Correction.document_path, Correction.form_ordinal, Correction.status, func.count())
        .where(Correction.document_path.in_(paths), Correction.status != UNDONE, *scope.correction_terms())
        .group_by(Correction.document_path, Correction.form_ordinal, Correction.status)
    ):
        corrected.setdefault((path, ordinal), {})[status] = n
    context = {
        "filters": filters, "rows": rows, "errors": errors, "corrected": corrected, "total": total,
        "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "facets": _facets(session, filters), "open_total": _open_total(session, filters),
        "basename": lambda p: PurePath(p).name, "ACTIVE": ACTIVE, "STALE": STALE,
    }
    response: Response = request.app.state.templates.TemplateResponse(request, "queue.html", context)
    return response


def _facet(session: DbSession, column: Any, filters: Filters, skip: str) -> list[tuple[Any, int, int]]:
    """(value, forms, forms with open issues) for each value of a v_forms column, under the other filters."""
    f = V_FORMS.c
    query: Select[Any] = (
        select(column, func.count(), func.sum(case((f.open_issue_count > 0, 1), else_=0)))
        .where(*filters.conditions(f, skip)).group_by(column).order_by(column)
    )
    return [(value, n, int(flagged or 0)) for value, n, flagged in session.execute(query)]


def _facets(session: DbSession, filters: Filters) -> dict[str, list[tuple[Any, int, int]]]:
    f, i = V_FORMS.c, V_ISSUES.c
    codes = [
        (code, forms, n) for code, forms, n in session.execute(
            select(i.code, func.count(func.distinct(i.form_id)), func.count())
            .where(*filters.conditions(i, "code")).group_by(i.code).order_by(i.code)
        )
    ]
    x = V_FINDINGS.c
    rules = [
        (rule, forms, n) for rule, forms, n in session.execute(
            select(x.rule_id, func.count(func.distinct(x.form_id)), func.count())
            .where(x.status == "open", *filters.conditions(x, "finding")).group_by(x.rule_id).order_by(x.rule_id)
        )
    ]
    return {"finding": rules, "file": _facet(session, f.source_path, filters, "file"), "unit": _facet(session, f.org_unit, filters, "unit"),
            "year": _facet(session, f.year, filters, "year"), "code": codes}


def _open_total(session: DbSession, filters: Filters) -> int:
    return session.scalar(select(func.count()).select_from(V_ISSUES).where(*filters.conditions(V_ISSUES.c))) or 0


@router.get("/corrections", name="corrections_page")
def corrections_page(request: Request, scope: Scoped, session: DbSession, status: str | None = None,
                     path: str | None = None) -> Response:
    query = select(Correction).where(*scope.correction_terms()).order_by(Correction.id.desc()).limit(500)
    if _blank_none(status):
        query = query.where(Correction.status == status)
    if _blank_none(path):
        query = query.where(Correction.document_path == path)
    counts = dict(session.execute(select(Correction.status, func.count()).where(*scope.correction_terms())
                                  .group_by(Correction.status)).all())
    context = {"corrections": list(session.scalars(query)), "status": _blank_none(status), "path": _blank_none(path),
               "counts": counts, "basename": lambda p: PurePath(p).name}
    response: Response = request.app.state.templates.TemplateResponse(request, "corrections.html", context)
    return response
