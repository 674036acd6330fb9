"""Load: a parsed document into the relational store, all of it or nothing (the caller's
transaction). The database never holds half a file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from goalforms.pipeline import load_siblings
from goalforms.pipeline.load_reports import store_reports
from goalforms.pipeline.model import ParsedDocument
from goalforms.schema import models


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def find_by_sha(session: Session, sha256: str) -> models.SourceDocument | None:
    return session.scalar(select(models.SourceDocument).where(models.SourceDocument.sha256 == sha256))


def find_by_path(session: Session, path: str) -> models.SourceDocument | None:
    return session.scalar(select(models.SourceDocument).where(models.SourceDocument.path == path))


def remove_document(session: Session, document: models.SourceDocument) -> None:
    """Delete a document and (by cascade) every row parsed from it."""
    session.execute(delete(models.SourceDocument).where(models.SourceDocument.id == document.id))
    session.expire_all()


def store_document(session: Session, doc: ParsedDocument, path: str, size_bytes: int) -> models.SourceDocument:
    """Add a parsed document and all its rows to the session (not committed)."""
    document = models.SourceDocument(
        path=path,
        sha256=doc.source.sha256,
        format=doc.source.format,
        size_bytes=size_bytes,
        collection_title=doc.collection_title,
        imported_at=dt.datetime.now(dt.UTC),
    )
    for ordinal, form in enumerate(doc.forms, start=1):
        header = form.header
        data = form.to_dict()  # the issue-12 keys are read from the contract's form (load_siblings)
        row = models.Form(
            ordinal=ordinal,
            layout=form.layout,
            year=form.year,
            project_name=header.get("project_name"),
            unit=header.get("unit"),
            department=header.get("department"),
            project_category=header.get("project_category"),
            project_nature=header.get("project_nature"),
            plan_start=_date(header.get("plan_start")),
            plan_end=_date(header.get("plan_end")),
            gov_procurement=header.get("gov_procurement"),
            performance_type=header.get("performance_type"),
            goal=header.get("goal"),
            header_extra=dict(form.extra),
            collection_title=doc.collection_title,
            source_location=form.where,
            **load_siblings.form_columns(data),
        )
        for item, amount in form.budget.items():
            row.budget_figures.append(
                models.BudgetFigure(
                    item=item,
                    amount=Decimal(amount) if amount is not None else None,
                    source_location=form.sources.get(f"budget.{item}"),
                )
            )
        row.funds.extend(models.FundLine(**{k: v for k, v in r.items() if k != "form_id"})
                         for r in load_siblings.fund_rows(0, data))
        row.tasks.extend(models.DepartmentTask(**{k: v for k, v in r.items() if k != "form_id"})
                         for r in load_siblings.task_rows(0, data))
        for position, (indicator, indicator_data) in enumerate(zip(form.indicators, data["indicators"], strict=True),
                                                               start=1):
            row.indicators.append(
                models.Indicator(
                    position=position,
                    level1=indicator.level1,
                    level2=indicator.level2,
                    level3=indicator.level3,
                    dimension=indicator.dimension,
                    raw_target=indicator.raw,
                    kind=indicator.kind,
                    op=indicator.op,
                    value=Decimal(indicator.value) if indicator.value is not None else None,
                    unit=indicator.unit,
                    source_line=indicator.line,
                    source_location=indicator.where,
                    **load_siblings.indicator_columns(indicator_data),
                )
            )
        for issue in form.issues:
            row.issues.append(
                models.ParseIssue(code=issue.code, severity=issue.severity, message=issue.message,
                                  location=issue.where, field=issue.field)
            )
        document.forms.append(row)
    session.add(document)
    # Every document, reports or not: its forms are linked to the reports already stored.
    store_reports(session, document, doc.reports)
    return document
