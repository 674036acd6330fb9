"""The relational store of evaluation reports (docs/reports.md, The store): a report per
绩效评价报告, its scores, subtotals, budget lines, adjustments, outputs, schedule, survey rows and
issues, and its links to the target forms of the same project.

Every table hangs off ``reports`` and ``reports`` off ``source_documents`` with ON DELETE CASCADE,
so deleting (or replacing) a document removes its reports with the same statement that removes its
forms. Numbers are exact decimals (``ExactDecimal``) as printed: report amounts stay in the unit the
report gives (``budget_unit``, usually 万元); forms are in yuan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from goalforms.schema.models import Base, Form, SourceDocument
from goalforms.schema.types import ExactDecimal

_LOCATION = 200


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("source_documents.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)  # 1-based position among the file's reports
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(Text)
    project_name: Mapped[str | None] = mapped_column(Text, index=True)
    # The name without its year, quotes and a trailing 项目: what links a report to target forms.
    project_key: Mapped[str | None] = mapped_column(Text, index=True)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    unit: Mapped[str | None] = mapped_column(Text, index=True)
    department: Mapped[str | None] = mapped_column(Text)
    commissioned_by: Mapped[str | None] = mapped_column(Text)
    evaluator: Mapped[str | None] = mapped_column(Text)
    report_number: Mapped[str | None] = mapped_column(Text)
    report_date: Mapped[dt.date | None] = mapped_column(Date)
    plan_start: Mapped[dt.date | None] = mapped_column(Date)
    plan_end: Mapped[dt.date | None] = mapped_column(Date)
    goal: Mapped[str | None] = mapped_column(Text)
    total_score: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # stated in the conclusion
    grade: Mapped[str | None] = mapped_column(String(16))
    score_total: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # 总分 得分 of the scoring table
    score_table_source: Mapped[str | None] = mapped_column(String(16))  # body | annex1
    budget_unit: Mapped[str | None] = mapped_column(String(16))  # of budget lines and adjustments
    years_unit: Mapped[str | None] = mapped_column(String(16))  # of the multi-year table
    respondents: Mapped[int | None] = mapped_column(Integer)
    satisfaction_indicator: Mapped[str | None] = mapped_column(String(16))
    schedule_indicator: Mapped[str | None] = mapped_column(String(16))
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    # Where every metadata field and table was printed (the report JSON's where/*_where keys).
    locations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    document: Mapped[SourceDocument] = relationship()
    scores: Mapped[list[ReportScore]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True, order_by="ReportScore.position"
    )
    subtotals: Mapped[list[ReportSubtotal]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportSubtotal.position"
    )
    budget_lines: Mapped[list[ReportBudgetLine]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportBudgetLine.position"
    )
    adjustments: Mapped[list[ReportAdjustment]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportAdjustment.position"
    )
    outputs: Mapped[list[ReportOutput]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True, order_by="ReportOutput.position"
    )
    schedule: Mapped[list[ReportScheduleRow]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportScheduleRow.position"
    )
    satisfaction: Mapped[list[ReportSatisfactionRow]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReportSatisfactionRow.position"
    )
    issues: Mapped[list[ReportIssue]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True
    )
    form_links: Mapped[list[ReportFormLink]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True
    )


class ReportScore(Base):
    """One 三级 indicator of the chosen scoring table, with its section and its workpaper (wp_*)."""

    __tablename__ = "report_scores"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16))
    level1_code: Mapped[str | None] = mapped_column(String(16))
    level1: Mapped[str | None] = mapped_column(Text)
    level1_max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    level2_code: Mapped[str | None] = mapped_column(String(16))
    level2: Mapped[str | None] = mapped_column(Text)
    level2_max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    level3: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    explanation: Mapped[str | None] = mapped_column(Text)
    criteria: Mapped[str | None] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text)
    detail_name: Mapped[str | None] = mapped_column(Text)
    detail_max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    detail_score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    detail_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    annex_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    wp_title: Mapped[str | None] = mapped_column(Text)
    wp_explanation: Mapped[str | None] = mapped_column(Text)
    wp_weight: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    wp_benchmark: Mapped[str | None] = mapped_column(Text)
    wp_benchmark_basis: Mapped[str | None] = mapped_column(Text)
    wp_criteria: Mapped[str | None] = mapped_column(Text)
    wp_data_source: Mapped[str | None] = mapped_column(Text)
    wp_reasoning: Mapped[str | None] = mapped_column(Text)
    wp_score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    wp_date: Mapped[dt.date | None] = mapped_column(Date)
    wp_location: Mapped[str | None] = mapped_column(String(_LOCATION))

    report: Mapped[Report] = relationship(back_populates="scores")


class ReportSubtotal(Base):
    """A 小计 row (level1 / level2) or the 总分 row (level ``total``) of the chosen scoring table."""

    __tablename__ = "report_subtotals"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(Text)
    max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    detail_name: Mapped[str | None] = mapped_column(Text)
    detail_max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    detail_score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    detail_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    annex_location: Mapped[str | None] = mapped_column(String(_LOCATION))

    report: Mapped[Report] = relationship(back_populates="subtotals")


class ReportBudgetLine(Base):
    """A row of the year's budget table (``budget_execution``: year NULL) or one (item, year) cell
    group of the multi-year table (``financial_years``); totals have ``is_total`` and no item."""

    __tablename__ = "report_budget_lines"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    table_name: Mapped[str] = mapped_column(String(32))
    item: Mapped[str | None] = mapped_column(Text)
    is_total: Mapped[bool] = mapped_column(Boolean, default=False)
    year: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    adjusted_budget: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    spent: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    execution_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # percent
    unit: Mapped[str | None] = mapped_column(String(16))
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    also_at: Mapped[list[str]] = mapped_column(JSON, default=list)

    report: Mapped[Report] = relationship(back_populates="budget_lines")


class ReportAdjustment(Base):
    """预算调整 stated in the text (调增 positive, 调减 negative)."""

    __tablename__ = "report_adjustments"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(String(16))
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    also_at: Mapped[list[str]] = mapped_column(JSON, default=list)

    report: Mapped[Report] = relationship(back_populates="adjustments")


class ReportOutput(Base):
    """Planned versus actual output (附件2 计划数 / 实际数)."""

    __tablename__ = "report_outputs"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(Text)
    planned: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    actual: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(String(16))
    indicator_code: Mapped[str | None] = mapped_column(String(16))
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))
    text_location: Mapped[str | None] = mapped_column(String(_LOCATION))

    report: Mapped[Report] = relationship(back_populates="outputs")


class ReportScheduleRow(Base):
    """Planned versus actual completion time (text as printed: ``9月``, ``按需``)."""

    __tablename__ = "report_schedule"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(Text)
    planned: Mapped[str | None] = mapped_column(Text)
    actual: Mapped[str | None] = mapped_column(Text)
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))

    report: Mapped[Report] = relationship(back_populates="schedule")


class ReportSatisfactionRow(Base):
    """A row of the satisfaction survey table; the 合计 row has ``is_total`` and no item."""

    __tablename__ = "report_satisfaction"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str | None] = mapped_column(Text)
    is_total: Mapped[bool] = mapped_column(Boolean, default=False)
    max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # percent
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    source_location: Mapped[str | None] = mapped_column(String(_LOCATION))

    report: Mapped[Report] = relationship(back_populates="satisfaction")


class ReportIssue(Base):
    __tablename__ = "report_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(_LOCATION))
    field: Mapped[str | None] = mapped_column(String(_LOCATION))
    found: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="issues")


class ReportFormLink(Base):
    """A report and a target form of the same project: ``name_match`` exact (same 项目名称) or near
    (the same once year, quotes and a trailing 项目 are set aside); ``unit_match`` exact, or
    ``unknown`` when either side names no unit. Forms of another unit are never linked."""

    __tablename__ = "report_form_links"
    __table_args__ = (UniqueConstraint("report_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    name_match: Mapped[str] = mapped_column(String(8))
    unit_match: Mapped[str] = mapped_column(String(8))

    report: Mapped[Report] = relationship(back_populates="form_links")
    form: Mapped[Form] = relationship()


# The views of migration 0003 with their columns and the kinds goalforms.pipeline.analysis gives
# them as DataFrame columns (text, exact, number, integer, date, boolean). docs/reports.md documents
# the same columns; tests/test_reports.py holds the three together.
_T, _E, _N, _I, _D, _B = "text", "exact", "number", "integer", "date", "boolean"

VIEW_COLUMNS: dict[str, dict[str, str]] = {
    "v_reports": {
        "report_id": _I, "source_path": _T, "report_ordinal": _I, "project_name": _T, "project_key": _T,
        "org_unit": _T, "department": _T, "year": _I, "commissioned_by": _T, "evaluator": _T,
        "report_number": _T, "report_date": _D, "plan_start": _D, "plan_end": _D, "goal": _T,
        "total_score": _E, "total_score_num": _N, "grade": _T, "score_total": _E, "score_total_num": _N,
        "budget_unit": _T, "budget": _E, "budget_num": _N, "adjusted_budget": _E, "adjusted_budget_num": _N,
        "spent": _E, "spent_num": _N, "execution_rate": _E, "execution_rate_num": _N, "respondents": _I,
        "score_count": _I, "open_issue_count": _I, "linked_form_count": _I, "source_location": _T,
    },
    "v_report_scores": {
        "score_id": _I, "report_id": _I, "source_path": _T, "project_name": _T, "project_key": _T,
        "org_unit": _T, "year": _I, "position": _I, "code": _T, "level1_code": _T, "level1": _T,
        "level1_max": _E, "level2_code": _T, "level2": _T, "level2_max": _E, "level3": _T, "weight": _E,
        "weight_num": _N, "score": _E, "score_num": _N, "score_percent_num": _N, "explanation": _T,
        "criteria": _T, "reasoning": _T, "detail_score": _E, "wp_score": _E, "wp_benchmark": _T,
        "wp_data_source": _T, "source_location": _T, "detail_location": _T, "wp_location": _T,
    },
    "v_report_budget": {
        "line_id": _I, "report_id": _I, "source_path": _T, "project_name": _T, "org_unit": _T,
        "report_year": _I, "table_name": _T, "position": _I, "item": _T, "is_total": _B, "year": _I,
        "budget": _E, "budget_num": _N, "adjusted_budget": _E, "adjusted_budget_num": _N, "spent": _E,
        "spent_num": _N, "execution_rate": _E, "execution_rate_num": _N, "unit": _T, "source_location": _T,
    },
    "v_report_issues": {
        "issue_id": _I, "report_id": _I, "source_path": _T, "project_name": _T, "org_unit": _T, "year": _I,
        "code": _T, "severity": _T, "message": _T, "location": _T, "field": _T, "found": _T, "expected": _T,
    },
    "v_project_evaluations": {
        "project_key": _T, "report_id": _I, "report_project_name": _T, "report_org_unit": _T, "report_year": _I,
        "evaluator": _T, "report_number": _T, "report_date": _D, "total_score": _E, "total_score_num": _N,
        "grade": _T, "budget_unit": _T, "report_adjusted_budget": _E, "report_spent": _E,
        "report_execution_rate": _E, "report_execution_rate_num": _N, "name_match": _T, "unit_match": _T,
        "form_id": _I, "form_project_name": _T, "form_org_unit": _T, "form_year": _I, "form_layout": _T,
        "form_indicator_count": _I, "form_current_year": _E, "form_current_year_num": _N, "report_path": _T,
        "form_path": _T,
    },
}

VIEWS: dict[str, str] = {
    "v_reports": "one row per evaluation report, with its total score, grade and budget totals",
    "v_report_scores": "one row per scored indicator of an evaluation report",
    "v_report_budget": "one row per budget line of a report (the year's budget table and the multi-year table)",
    "v_report_issues": "one row per open issue of an evaluation report",
    "v_project_evaluations": "an evaluation report beside each target form of the same project",
}
