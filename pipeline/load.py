"""Load: a parsed document into the relational store, all of it or nothing (the caller's
transaction). The database never holds half a file.

Rows are written with SQLAlchemy Core or the driver, a few statements per file: the document, its
forms (on SQLite one executemany through the driver, ids read back by ordinal; elsewhere one
multi-row INSERT … RETURNING id, ids in the forms' order), then every budget figure, indicator
and issue of the file as one executemany each, and each form's origins as one JSON text
(``form_origins``; they were a ``provenance`` row per value, most of the rows a form stored). Building ORM objects for thousands of small rows
cost tens of milliseconds per file in the one loading process; the rows written are the same,
in the same order (so the same ids), as the ORM wrote them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, delete, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from goalforms.parsers.grid import Origin
from goalforms.pipeline import load_siblings
from goalforms.pipeline.bulk import insert_many, insert_one, process
from goalforms.pipeline.load_reports import StoredForm, store_reports
from goalforms.pipeline.model import Form, ParsedDocument
from goalforms.pipeline.review.reads import fetch
from goalforms.schema import models

_DOCUMENTS = models.SourceDocument.__table__
_FORMS = models.Form.__table__
_BUDGET = models.BudgetFigure.__table__
_INDICATORS = models.Indicator.__table__
_ISSUES = models.ParseIssue.__table__
_FUNDS = models.FundLine.__table__
_TASKS = models.DepartmentTask.__table__
_ORIGINS = models.FormOrigins.__table__
_GRIDS = models.SourceGrid.__table__


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def find_by_path(session: Session, path: str) -> models.SourceDocument | None:
    return session.scalar(select(models.SourceDocument).where(models.SourceDocument.path == path))


def remove_document(session: Session, document: models.SourceDocument) -> None:
    """Delete a document and (by cascade) every row parsed from it."""
    session.execute(delete(models.SourceDocument).where(models.SourceDocument.id == document.id))
    session.expire_all()


def _form_row(ordinal: int, form: Any, data: dict[str, Any], collection_title: str | None) -> dict[str, Any]:
    """A forms-table row, but its document id."""
    header = form.header
    return {
        "ordinal": ordinal,
        "layout": form.layout,
        "year": form.year,
        "project_name": header.get("project_name"),
        "unit": header.get("unit"),
        "department": header.get("department"),
        "project_category": header.get("project_category"),
        "project_nature": header.get("project_nature"),
        "plan_start": _date(header.get("plan_start")),
        "plan_end": _date(header.get("plan_end")),
        "gov_procurement": header.get("gov_procurement"),
        "performance_type": header.get("performance_type"),
        "goal": header.get("goal"),
        "header_extra": dict(form.extra),
        "collection_title": collection_title,
        "source_location": form.where,
        **load_siblings.form_columns(data),
    }


def _as_orm(session: Session, document_id: int, columns: dict[str, Any]) -> models.SourceDocument:
    """The document just written as an ORM object of the session, without reading it back (every
    column is known); its ``forms`` load when used."""
    key = identity_key(models.SourceDocument, document_id)
    if key in session.identity_map:
        # A document removed in this transaction had this id (SQLite reuses the largest rowid):
        # the session still holds its expired object, which get() reloads with the new row.
        found = session.get(models.SourceDocument, document_id)
        assert found is not None
        return found
    document = models.SourceDocument(id=document_id, **columns)
    make_transient_to_detached(document)
    session.add(document)
    return document


# A big table's row before its form has an id: (the form's index in the document, the row's other
# columns in the order of the table's columns after form_id, type processors applied).
_Row = tuple[int, tuple[Any, ...]]


@dataclass
class Rows:
    """A parsed document's rows, built before its transaction (nothing here needs the database): the
    importer builds them before it takes the write lock, so that only the writing is serialised."""

    dialect: str
    contract: list[dict[str, Any]]  # each form's contract shape (load_siblings.contract_of)
    forms: list[dict[str, Any]]  # forms-table rows without the document id
    budget: list[_Row] = field(default_factory=list)
    indicators: list[_Row] = field(default_factory=list)
    issues: list[_Row] = field(default_factory=list)
    origins: list[_Row] = field(default_factory=list)  # (k, (the form's origins as JSON text,))
    # SQLite: the forms rows as tuples in the order of _FORM_COLUMNS, type processors applied
    # (JSON text, dates, decimals): written through the driver (see store_document).
    form_values: list[_Row] = field(default_factory=list)


def prepare_rows(doc: ParsedDocument, dialect: Dialect) -> Rows:
    """Every row of ``doc`` but the ids, ready for the database of ``dialect``."""
    # The issue-12 keys, read from the contract's shape of each form (load_siblings), without
    # building its whole JSON form (every value's origin): that was most of the rows' cost.
    read = load_siblings.header_read()
    contract = [load_siblings.contract_of(form, read) for form in doc.forms]
    rows = Rows(dialect.name, contract, [_form_row(ordinal, form, data, doc.collection_title)
                                         for ordinal, (form, data) in enumerate(zip(doc.forms, contract, strict=True),
                                                                                start=1)])
    for k, (form, data) in enumerate(zip(doc.forms, contract, strict=True)):
        sources = form.sources
        rows.budget += [(k, (item, Decimal(amount) if amount is not None else None, sources.get(f"budget.{item}")))
                        for item, amount in form.budget.items()]
        rows.indicators += [(k, (position, i.level1, i.level2, i.level3, i.dimension, i.raw, i.kind, i.op,
                                 Decimal(i.value) if i.value is not None else None, i.unit, i.line, i.where,
                                 *load_siblings.indicator_values(d)))
                            for position, (i, d) in enumerate(zip(form.indicators, data["indicators"], strict=True),
                                                              start=1)]
        if origins := origins_json(form):
            rows.origins.append((k, (origins,)))
        rows.issues += [(k, (i.code, i.severity, i.message, i.where, i.field)) for i in form.issues]
    for table, names, values in _big_tables(rows):
        process(dialect, table, names[1:], values)
    if _driver_sql(dialect):
        rows.form_values = [(k, tuple(row[c] for c in _FORM_COLUMNS)) for k, row in enumerate(rows.forms)]
        process(dialect, _FORMS, _FORM_COLUMNS, rows.form_values)
    return rows


def _driver_sql(dialect: Dialect) -> bool:
    """SQLite (pysqlite, qmark): the document and its forms go in as plain driver statements. A
    Core INSERT compiled and processed its parameters per file (the forms' JSON, dates, decimals)
    for as much CPU as SQLite's own work; elsewhere (PostgreSQL's JSON through COPY would need
    psycopg's adapters) the Core INSERT … RETURNING stays."""
    return dialect.name == "sqlite" and dialect.paramstyle == "qmark"


def _big_tables(rows: Rows) -> tuple[tuple[Any, tuple[str, ...], list[_Row]], ...]:
    return ((_BUDGET, _BUDGET_COLUMNS, rows.budget), (_INDICATORS, _INDICATOR_COLUMNS, rows.indicators),
            (_ISSUES, _ISSUE_COLUMNS, rows.issues))


def store_document(session: Session, doc: ParsedDocument, path: str, size_bytes: int,
                   before_links: Callable[[], None] | None = None, rows: Rows | None = None) -> models.SourceDocument:
    """Write a parsed document and all its rows in the session's transaction (not committed);
    returns the stored document (its ``forms`` load on first use, e.g. to replay corrections).

    ``rows``: :func:`prepare_rows` of ``doc``, if already made (outside the transaction). Nothing of
    other files is read until the links between reports and forms, which ``before_links`` (if
    given) is called before: the importer takes its PostgreSQL project locks there, so that files' own
    rows go in in parallel and only files of the same project are serialised."""
    connection = session.connection()
    if rows is None or rows.dialect != connection.dialect.name:
        rows = prepare_rows(doc, connection.dialect)
    columns = {
        "path": path,
        "sha256": doc.source.sha256,
        "format": doc.source.format,
        "size_bytes": size_bytes,
        "collection_title": doc.collection_title,
        "imported_at": dt.datetime.now(dt.UTC),
    }
    forms = rows.forms
    form_ids: list[int] = []
    if _driver_sql(connection.dialect) and rows.form_values:
        document_id = insert_one(connection, _DOCUMENTS, _DOCUMENT_COLUMNS,
                                 tuple(columns[c] for c in _DOCUMENT_COLUMNS))
        insert_many(connection, _FORMS, ("document_id", *_FORM_COLUMNS),
                    [(document_id, *values) for _k, values in rows.form_values])
        # The ids in the forms' order (ordinal is unique per document): the rows were inserted in
        # that order, so these are the ids a multi-row INSERT … RETURNING gave.
        form_ids = [r[0] for r in fetch(connection, _FORM_IDS, (document_id,))]
        assert len(form_ids) == len(forms)
    else:
        written = connection.execute(insert(_DOCUMENTS), columns).inserted_primary_key
        assert written is not None
        document_id = written[0]
    if forms and not form_ids:
        forms = [{"document_id": document_id, **row} for row in rows.forms]
        # One statement; sort_by_parameter_order makes the returned ids follow the rows' order.
        form_ids = list(connection.execute(
            insert(_FORMS).returning(_FORMS.c.id, sort_by_parameter_order=True), forms).scalars())
    # The many small rows through the driver's own executemany (bulk.py): the same values as a Core
    # INSERT, without SQLAlchemy's per-row parameter processing (half the cost of storing a file).
    # The origins are JSON text already (origins_json): no type processor runs on them.
    for table, names, values in (*_big_tables(rows), (_ORIGINS, _ORIGIN_COLUMNS, rows.origins)):
        insert_many(connection, table, names, [(form_ids[k], *row) for k, row in values])
    funds: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for form_id, data in zip(form_ids, rows.contract, strict=True):
        funds += load_siblings.fund_rows(form_id, data)
        tasks += load_siblings.task_rows(form_id, data)
    for table, dicts in ((_FUNDS, funds), (_TASKS, tasks), (_GRIDS, grid_rows(document_id, doc))):
        if dicts:
            connection.execute(insert(table), dicts)
    # Every document, reports or not: its forms are linked to the reports already stored.
    stored = [StoredForm(form_id, row["project_name"], row["unit"], row["project_key"] or "")
              for form_id, row in zip(form_ids, forms, strict=True)]
    document = _as_orm(session, document_id, columns)
    if before_links is not None:
        before_links()
    store_reports(session, document, doc.reports, stored)
    return document


_DOCUMENT_COLUMNS = ("path", "sha256", "format", "size_bytes", "collection_title", "imported_at")
_FORM_COLUMNS = ("ordinal", "layout", "year", "project_name", "unit", "department", "project_category",
                 "project_nature", "plan_start", "plan_end", "gov_procurement", "performance_type", "goal",
                 "header_extra", "collection_title", "source_location", "kind", "project_key", "outcome",
                 "total_score", "grade", "points")
_FORM_IDS = "SELECT id FROM forms WHERE document_id = ? ORDER BY ordinal"
_BUDGET_COLUMNS = ("form_id", "item", "amount", "source_location")
_INDICATOR_COLUMNS = ("form_id", "position", "level1", "level2", "level3", "dimension", "raw_target", "kind", "op",
                      "value", "unit", "source_line", "source_location", *load_siblings.INDICATOR_COLUMNS)
_ISSUE_COLUMNS = ("form_id", "code", "severity", "message", "location", "field")
_ORIGIN_COLUMNS = ("form_id", "origins")


def grid_rows(document_id: int, doc: ParsedDocument) -> list[dict[str, Any]]:
    """The ``source_grids`` rows of a Word, ODT, HTML or .ods file: the grid the clerk page shows."""
    return [{"document_id": document_id, "position": position, "source_table": row.table, "source_row": row.row,
             "sheet": row.sheet, "location": row.location, "cells": [list(cell) for cell in row.cells]}
            for position, row in enumerate(doc.grid_rows, start=1)]


# Compact (no spaces, Chinese as UTF-8): the origins are most of a form's stored bytes. Floats are
# written as repr() writes them, so every box reads back exactly. NaN is refused (not JSON).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False, allow_nan=False).encode


def origins_json(form: Form) -> str | None:
    """The form's ``form_origins.origins``: one array per value whose origin is known, in the
    order of ``models.ORIGIN_COLUMNS`` (the ``provenance`` view's columns), keyed by the field path
    the issues use; None when no value's origin is known. One text per form instead of a row per
    value: that row's binding was most of storing a form."""
    rows = [_origin(name, None, origin) for name, origin in form.origins.items()]
    for index, indicator in enumerate(form.indicators):
        prefix = f"indicators[{index}]."
        rows += [_origin(prefix + name, index + 1, origin) for name, origin in indicator.origins.items()]
    return _ENCODE(rows) if rows else None


def _origin(name: str, position: int | None, origin: Origin) -> tuple[Any, ...]:
    # Run for every value of every form (tens a form): each attribute read once, the spreadsheet
    # reference (a property) asked only where there is a sheet (it is None elsewhere).
    where = origin.where
    box = origin.bbox
    confidence = origin.confidence
    sheet = where.sheet
    cell = origin.cell_ref if sheet is not None else None
    if confidence is not None:
        confidence = float(confidence)
    if box:  # floats, as the typed columns stored them (a scan's box may be whole pixels)
        return (name, position, where.page, float(box[0]), float(box[1]), float(box[2]), float(box[3]), sheet, cell,
                where.line, where.paragraph, where.table, where.row, origin.col, confidence, origin.doubt)
    return (name, position, where.page, None, None, None, None, sheet, cell, where.line, where.paragraph, where.table,
            where.row, origin.col, confidence, origin.doubt)
