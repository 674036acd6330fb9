"""The lists clerks work from, read through the analyst views (v_issues, v_forms)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table

from goalforms.pipeline.scope import Scope

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
