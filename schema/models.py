"""The relational store: source documents → forms → budget figures, indicators, parse issues.

Every row keeps its provenance (document, line or page) so a clerk can go back to the source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from goalforms.schema.types import ExactDecimal


class Base(DeclarativeBase):
    pass


class SourceDocument(Base):
    __tablename__ = "source_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    collection_title: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    forms: Mapped[list[Form]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True, order_by="Form.ordinal"
    )


class Form(Base):
    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("source_documents.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)  # 1-based position in its file
    layout: Mapped[str] = mapped_column(String(16))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    project_name: Mapped[str | None] = mapped_column(Text, index=True)
    unit: Mapped[str | None] = mapped_column(Text, index=True)
    department: Mapped[str | None] = mapped_column(Text)
    project_category: Mapped[str | None] = mapped_column(Text)
    project_nature: Mapped[str | None] = mapped_column(Text)
    plan_start: Mapped[dt.date | None] = mapped_column(Date)
    plan_end: Mapped[dt.date | None] = mapped_column(Date)
    gov_procurement: Mapped[bool | None] = mapped_column(Boolean)
    performance_type: Mapped[str | None] = mapped_column(Text)
    goal: Mapped[str | None] = mapped_column(Text)
    header_extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    collection_title: Mapped[str | None] = mapped_column(Text)
    source_location: Mapped[str | None] = mapped_column(String(200))
    # Issue 12 (migration 0008_siblings): what the form is, and the keys of the sibling forms.
    kind: Mapped[str] = mapped_column(String(20), default="target", server_default="target", index=True)
    project_key: Mapped[str | None] = mapped_column(Text, index=True)  # project name, year and quotes peeled
    outcome: Mapped[str | None] = mapped_column(Text)  # self_eval: 实际完成情况
    total_score: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # self_eval: 总分 row's 得分
    grade: Mapped[str | None] = mapped_column(String(40))  # self_eval: 自评等级
    points: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # self_eval: {"产出指标": "50", …}

    document: Mapped[SourceDocument] = relationship(back_populates="forms")
    budget_figures: Mapped[list[BudgetFigure]] = relationship(
        back_populates="form", cascade="all, delete-orphan", passive_deletes=True
    )
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="form", cascade="all, delete-orphan", passive_deletes=True, order_by="Indicator.position"
    )
    issues: Mapped[list[ParseIssue]] = relationship(
        back_populates="form", cascade="all, delete-orphan", passive_deletes=True
    )
    funds: Mapped[list[FundLine]] = relationship(
        back_populates="form", cascade="all, delete-orphan", passive_deletes=True, order_by="FundLine.position"
    )
    tasks: Mapped[list[DepartmentTask]] = relationship(
        back_populates="form", cascade="all, delete-orphan", passive_deletes=True, order_by="DepartmentTask.position"
    )
    # Where every value was read: one JSON value per form (form_origins, migration 0013_form_origins).
    stored_origins: Mapped[FormOrigins | None] = relationship(
        back_populates="form", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def provenance(self) -> list[Provenance]:
        """The form's origins, one :class:`Provenance` per value, in the order they were stored
        (header and budget values, then each indicator's); empty for a form stored without them."""
        stored = self.stored_origins
        if stored is None:
            return []
        form_id = self.id
        return [Provenance(form_id, *origin[:_WIDTH]) for origin in stored.origins]


class BudgetFigure(Base):
    __tablename__ = "budget_figures"
    __table_args__ = (UniqueConstraint("form_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(40))  # total, current_year, … (the contract's budget keys)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # yuan
    source_location: Mapped[str | None] = mapped_column(String(200))

    form: Mapped[Form] = relationship(back_populates="budget_figures")


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based order in the form
    level1: Mapped[str | None] = mapped_column(Text)
    level2: Mapped[str | None] = mapped_column(Text)
    level3: Mapped[str] = mapped_column(Text)
    dimension: Mapped[str | None] = mapped_column(String(40), index=True)
    raw_target: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    op: Mapped[str | None] = mapped_column(String(2))
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(String(100))
    source_line: Mapped[int | None] = mapped_column(Integer)
    source_location: Mapped[str | None] = mapped_column(String(200))
    # Issue 12: the self-evaluation's actual (normalised like the target), its points and score, the
    # note beside it, a local form's prior-year level, and the table (long_term / annual) it sat in.
    actual_raw: Mapped[str | None] = mapped_column(Text)
    actual_kind: Mapped[str | None] = mapped_column(String(16))
    actual_op: Mapped[str | None] = mapped_column(String(2))
    actual_value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    actual_unit: Mapped[str | None] = mapped_column(String(100))
    weight: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    note: Mapped[str | None] = mapped_column(Text)
    prior_year_raw: Mapped[str | None] = mapped_column(Text)
    prior_year_kind: Mapped[str | None] = mapped_column(String(16))
    prior_year_op: Mapped[str | None] = mapped_column(String(2))
    prior_year_value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    prior_year_unit: Mapped[str | None] = mapped_column(String(100))
    period: Mapped[str | None] = mapped_column(String(16))

    form: Mapped[Form] = relationship(back_populates="indicators")


class FundLine(Base):
    """A money row of a self-evaluation (年度资金总额, 当年财政拨款, 上年结转资金, 其他资金), in yuan."""

    __tablename__ = "fund_lines"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, printed order
    item: Mapped[str] = mapped_column(String(40))  # total, fiscal_appropriation, carryover, other_funds
    initial: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 年初预算数
    full_year: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 全年预算数
    executed: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 全年执行数
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 执行率, percent
    weight: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 分值
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 得分

    form: Mapped[Form] = relationship(back_populates="funds")


class DepartmentTask(Base):
    """A row of a department form's 年度主要任务 table (money in yuan)."""

    __tablename__ = "department_tasks"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    fiscal_appropriation: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    other_funds: Mapped[Decimal | None] = mapped_column(ExactDecimal)

    form: Mapped[Form] = relationship(back_populates="tasks")


class ParseIssue(Base):
    __tablename__ = "parse_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(100))

    form: Mapped[Form] = relationship(back_populates="issues")


# The values of one origin in the ``form_origins`` JSON, in this order (the columns of the
# ``provenance`` view after form_id). Appending a column later is safe: a shorter array reads as
# NULLs for the columns it lacks (SQLite's ``->>`` and PostgreSQL's ``->>`` alike, and here).
ORIGIN_COLUMNS = ("field", "indicator_position", "page", "x0", "top", "x1", "bottom", "sheet", "cell", "line",
                  "paragraph", "source_table", "source_row", "source_col", "confidence", "doubt")


_WIDTH = len(ORIGIN_COLUMNS)


class FormOrigins(Base):
    """Where a form's parsed values were read (issue 14; one value per form since issue 16,
    migration 0013_form_origins): the contract's ``forms[].sources`` and ``indicators[].origin``
    as ONE JSON array per form, an array per value in the order of :data:`ORIGIN_COLUMNS`, e.g.
    ``[["header.project_name",null,null,null,null,null,null,null,null,12,null,null,null,1,null,null],
    …]``. Storing ~57 rows per form cost more than all the form's other rows; analysts read the
    same columns as before from the view ``provenance`` (docs/views.md), Python from
    :attr:`Form.provenance`."""

    __tablename__ = "form_origins"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True)
    # Written as text already serialised by the loader (load.origins_json), read back parsed.
    origins: Mapped[list[list[Any]]] = mapped_column(JSON)

    form: Mapped[Form] = relationship(back_populates="stored_origins")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one parsed value was read (issue 14): a row of the ``provenance`` view, built in
    Python from the form's stored origins (:attr:`Form.provenance`). ``field`` is the path the
    issues use (``header.project_name``, ``budget.current_year``, ``indicators[3].raw``, 0-based),
    so a flagged value finds its cell; ``indicator_position`` is the indicator's 1-based position."""

    form_id: int
    field: str
    indicator_position: int | None = None
    page: int | None = None
    # The cell's box on its page, PDF points from the top-left corner (PDF; pixels for scans).
    x0: float | None = None
    top: float | None = None
    x1: float | None = None
    bottom: float | None = None
    sheet: str | None = None
    cell: str | None = None  # the value's own cell, A1 style
    line: int | None = None
    paragraph: int | None = None
    source_table: int | None = None
    source_row: int | None = None
    source_col: int | None = None  # 0-based column in the reader's grid
    confidence: float | None = None  # OCR: the least certain character's
    doubt: str | None = None  # why the reader doubted the cell

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        if self.x0 is None or self.top is None or self.x1 is None or self.bottom is None:
            return None
        return (self.x0, self.top, self.x1, self.bottom)


class SourceGrid(Base):
    """One row of the grid a Word, ODT, HTML or .ods file was read as (issue 14, migration
    0010_source_grids): the clerk page shows the file's tables from these rows, never reading the
    file again. ``location`` is the row's location as the parse printed it (a form's
    ``source_location`` is one of them); ``cells`` holds texts only: ``[[text, col_span, row_span,
    col], …]`` (``col``: the cell's 0-based column in the reader's grid, as ``provenance.source_col``)."""

    __tablename__ = "source_grids"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("source_documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, the rows' order in the file
    source_table: Mapped[int | None] = mapped_column(Integer)
    source_row: Mapped[int | None] = mapped_column(Integer)
    sheet: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    cells: Mapped[list[Any]] = mapped_column(JSON)


class ImportFailure(Base):
    """The quarantine list: files whose last import failed (``goalforms import --retry-failed``)."""

    __tablename__ = "import_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
