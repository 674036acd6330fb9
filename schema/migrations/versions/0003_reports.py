"""Evaluation reports: reports and their scores, subtotals, budget lines, adjustments, outputs,
schedule, survey rows, issues and links to target forms; views v_reports, v_report_scores,
v_report_budget, v_report_issues, v_project_evaluations (documented in docs/reports.md).

Only new tables: the tables and views of 0001/0002 are untouched (no batch rebuild, so SQLite never
re-checks 0002's views). Like 0002, the SQL of the views is the same on both databases but for the
floating-point type of the ``*_num`` columns and a cast that makes a boolean 1/0 as SQLite stores it.

Revision ID: 0003
Revises: 0003a (import_failures, written at the same time; both only add tables, so the order is
immaterial and one chain keeps a single head)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import goalforms.schema.types

revision = "0003"
down_revision = "0003a"
branch_labels = None
depends_on = None

VIEWS = ("v_reports", "v_report_scores", "v_report_budget", "v_report_issues", "v_project_evaluations")

_DIALECT = {
    "sqlite": {"real": "REAL", "flag": "{column}"},
    "default": {"real": "DOUBLE PRECISION", "flag": "CAST({column} AS INTEGER)"},
}


def _exact() -> goalforms.schema.types.ExactDecimal:
    return goalforms.schema.types.ExactDecimal()


def _children(name: str, *columns: sa.Column[object]) -> None:
    """A table hanging off reports: id, report_id (cascade), position, the columns, unique position."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "position"),
    )
    op.create_index(f"ix_{name}_report_id", name, ["report_id"])


def _location(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.String(length=200), nullable=True)


_V_REPORTS = """
CREATE VIEW v_reports AS
SELECT
    r.id AS report_id,
    d.path AS source_path,
    r.ordinal AS report_ordinal,
    r.project_name,
    r.project_key,
    r.unit AS org_unit,
    r.department,
    r.year,
    r.commissioned_by,
    r.evaluator,
    r.report_number,
    r.report_date,
    r.plan_start,
    r.plan_end,
    r.goal,
    r.total_score,
    CAST(r.total_score AS {real}) AS total_score_num,
    r.grade,
    r.score_total,
    CAST(r.score_total AS {real}) AS score_total_num,
    r.budget_unit,
    b.budget,
    CAST(b.budget AS {real}) AS budget_num,
    b.adjusted_budget,
    CAST(b.adjusted_budget AS {real}) AS adjusted_budget_num,
    b.spent,
    CAST(b.spent AS {real}) AS spent_num,
    b.execution_rate,
    CAST(b.execution_rate AS {real}) AS execution_rate_num,
    r.respondents,
    (SELECT COUNT(*) FROM report_scores s WHERE s.report_id = r.id) AS score_count,
    (SELECT COUNT(*) FROM report_issues i WHERE i.report_id = r.id) AS open_issue_count,
    (SELECT COUNT(*) FROM report_form_links l WHERE l.report_id = r.id) AS linked_form_count,
    r.source_location
FROM reports r
JOIN source_documents d ON d.id = r.document_id
LEFT JOIN report_budget_lines b
    ON b.report_id = r.id AND b.table_name = 'budget_execution' AND b.is_total
"""

_V_REPORT_SCORES = """
CREATE VIEW v_report_scores AS
SELECT
    s.id AS score_id,
    r.id AS report_id,
    d.path AS source_path,
    r.project_name,
    r.project_key,
    r.unit AS org_unit,
    r.year,
    s.position,
    s.code,
    s.level1_code,
    s.level1,
    s.level1_max,
    s.level2_code,
    s.level2,
    s.level2_max,
    s.level3,
    s.weight,
    CAST(s.weight AS {real}) AS weight_num,
    s.score,
    CAST(s.score AS {real}) AS score_num,
    CASE WHEN CAST(s.weight AS {real}) > 0
         THEN 100.0 * CAST(s.score AS {real}) / CAST(s.weight AS {real}) END AS score_percent_num,
    s.explanation,
    s.criteria,
    s.reasoning,
    s.detail_score,
    s.wp_score,
    s.wp_benchmark,
    s.wp_data_source,
    s.source_location,
    s.detail_location,
    s.wp_location
FROM report_scores s
JOIN reports r ON r.id = s.report_id
JOIN source_documents d ON d.id = r.document_id
"""

_V_REPORT_BUDGET = """
CREATE VIEW v_report_budget AS
SELECT
    b.id AS line_id,
    r.id AS report_id,
    d.path AS source_path,
    r.project_name,
    r.unit AS org_unit,
    r.year AS report_year,
    b.table_name,
    b.position,
    b.item,
    {is_total} AS is_total,
    COALESCE(b.year, r.year) AS year,
    b.budget,
    CAST(b.budget AS {real}) AS budget_num,
    b.adjusted_budget,
    CAST(b.adjusted_budget AS {real}) AS adjusted_budget_num,
    b.spent,
    CAST(b.spent AS {real}) AS spent_num,
    b.execution_rate,
    CAST(b.execution_rate AS {real}) AS execution_rate_num,
    b.unit,
    b.source_location
FROM report_budget_lines b
JOIN reports r ON r.id = b.report_id
JOIN source_documents d ON d.id = r.document_id
"""

_V_REPORT_ISSUES = """
CREATE VIEW v_report_issues AS
SELECT
    i.id AS issue_id,
    r.id AS report_id,
    d.path AS source_path,
    r.project_name,
    r.unit AS org_unit,
    r.year,
    i.code,
    i.severity,
    i.message,
    i.location,
    i.field,
    i.found,
    i.expected
FROM report_issues i
JOIN reports r ON r.id = i.report_id
JOIN source_documents d ON d.id = r.document_id
"""

# One row per (report, linked target form); a report linked to no form has one row with the form
# columns NULL. The report's figures are its budget table's 合计 (in budget_unit, usually 万元);
# the form's are yuan.
_V_PROJECT_EVALUATIONS = """
CREATE VIEW v_project_evaluations AS
SELECT
    r.project_key,
    r.id AS report_id,
    r.project_name AS report_project_name,
    r.unit AS report_org_unit,
    r.year AS report_year,
    r.evaluator,
    r.report_number,
    r.report_date,
    r.total_score,
    CAST(r.total_score AS {real}) AS total_score_num,
    r.grade,
    r.budget_unit,
    b.adjusted_budget AS report_adjusted_budget,
    b.spent AS report_spent,
    b.execution_rate AS report_execution_rate,
    CAST(b.execution_rate AS {real}) AS report_execution_rate_num,
    l.name_match,
    l.unit_match,
    f.id AS form_id,
    f.project_name AS form_project_name,
    f.unit AS form_org_unit,
    f.year AS form_year,
    f.layout AS form_layout,
    (SELECT COUNT(*) FROM indicators i WHERE i.form_id = f.id) AS form_indicator_count,
    cy.amount AS form_current_year,
    CAST(cy.amount AS {real}) AS form_current_year_num,
    d.path AS report_path,
    fd.path AS form_path
FROM reports r
JOIN source_documents d ON d.id = r.document_id
LEFT JOIN report_budget_lines b
    ON b.report_id = r.id AND b.table_name = 'budget_execution' AND b.is_total
LEFT JOIN report_form_links l ON l.report_id = r.id
LEFT JOIN forms f ON f.id = l.form_id
LEFT JOIN source_documents fd ON fd.id = f.document_id
LEFT JOIN budget_figures cy ON cy.form_id = f.id AND cy.item = 'current_year'
"""


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("project_name", sa.Text(), nullable=True),
        sa.Column("project_key", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("commissioned_by", sa.Text(), nullable=True),
        sa.Column("evaluator", sa.Text(), nullable=True),
        sa.Column("report_number", sa.Text(), nullable=True),
        sa.Column("report_date", sa.Date(), nullable=True),
        sa.Column("plan_start", sa.Date(), nullable=True),
        sa.Column("plan_end", sa.Date(), nullable=True),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("total_score", _exact(), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("score_total", _exact(), nullable=True),
        sa.Column("score_table_source", sa.String(length=16), nullable=True),
        sa.Column("budget_unit", sa.String(length=16), nullable=True),
        sa.Column("years_unit", sa.String(length=16), nullable=True),
        sa.Column("respondents", sa.Integer(), nullable=True),
        sa.Column("satisfaction_indicator", sa.String(length=16), nullable=True),
        sa.Column("schedule_indicator", sa.String(length=16), nullable=True),
        _location("source_location"),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["source_documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "ordinal"),
    )
    for column in ("document_id", "project_name", "project_key", "year", "unit"):
        op.create_index(f"ix_reports_{column}", "reports", [column])

    _children(
        "report_scores",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("level1_code", sa.String(length=16), nullable=True),
        sa.Column("level1", sa.Text(), nullable=True),
        sa.Column("level1_max", _exact(), nullable=True),
        sa.Column("level2_code", sa.String(length=16), nullable=True),
        sa.Column("level2", sa.Text(), nullable=True),
        sa.Column("level2_max", _exact(), nullable=True),
        sa.Column("level3", sa.Text(), nullable=True),
        sa.Column("weight", _exact(), nullable=True),
        sa.Column("score", _exact(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("detail_name", sa.Text(), nullable=True),
        sa.Column("detail_max", _exact(), nullable=True),
        sa.Column("detail_score", _exact(), nullable=True),
        _location("source_location"),
        _location("detail_location"),
        _location("annex_location"),
        sa.Column("wp_title", sa.Text(), nullable=True),
        sa.Column("wp_explanation", sa.Text(), nullable=True),
        sa.Column("wp_weight", _exact(), nullable=True),
        sa.Column("wp_benchmark", sa.Text(), nullable=True),
        sa.Column("wp_benchmark_basis", sa.Text(), nullable=True),
        sa.Column("wp_criteria", sa.Text(), nullable=True),
        sa.Column("wp_data_source", sa.Text(), nullable=True),
        sa.Column("wp_reasoning", sa.Text(), nullable=True),
        sa.Column("wp_score", _exact(), nullable=True),
        sa.Column("wp_date", sa.Date(), nullable=True),
        _location("wp_location"),
    )
    _children(
        "report_subtotals",
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("max", _exact(), nullable=True),
        sa.Column("score", _exact(), nullable=True),
        sa.Column("detail_name", sa.Text(), nullable=True),
        sa.Column("detail_max", _exact(), nullable=True),
        sa.Column("detail_score", _exact(), nullable=True),
        _location("source_location"),
        _location("detail_location"),
        _location("annex_location"),
    )
    _children(
        "report_budget_lines",
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("item", sa.Text(), nullable=True),
        sa.Column("is_total", sa.Boolean(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("budget", _exact(), nullable=True),
        sa.Column("adjusted_budget", _exact(), nullable=True),
        sa.Column("spent", _exact(), nullable=True),
        sa.Column("execution_rate", _exact(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        _location("source_location"),
        sa.Column("also_at", sa.JSON(), nullable=False),
    )
    _children(
        "report_adjustments",
        sa.Column("item", sa.Text(), nullable=True),
        sa.Column("amount", _exact(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        _location("source_location"),
        sa.Column("also_at", sa.JSON(), nullable=False),
    )
    _children(
        "report_outputs",
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("planned", _exact(), nullable=True),
        sa.Column("actual", _exact(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("indicator_code", sa.String(length=16), nullable=True),
        _location("source_location"),
        _location("text_location"),
    )
    _children(
        "report_schedule",
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("planned", sa.Text(), nullable=True),
        sa.Column("actual", sa.Text(), nullable=True),
        _location("source_location"),
    )
    _children(
        "report_satisfaction",
        sa.Column("item", sa.Text(), nullable=True),
        sa.Column("is_total", sa.Boolean(), nullable=False),
        sa.Column("max", _exact(), nullable=True),
        sa.Column("rate", _exact(), nullable=True),
        sa.Column("score", _exact(), nullable=True),
        _location("source_location"),
    )
    op.create_table(
        "report_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _location("location"),
        _location("field"),
        sa.Column("found", sa.Text(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_issues_report_id", "report_issues", ["report_id"])
    op.create_index("ix_report_issues_code", "report_issues", ["code"])
    op.create_table(
        "report_form_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("name_match", sa.String(length=8), nullable=False),
        sa.Column("unit_match", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "form_id"),
    )
    op.create_index("ix_report_form_links_report_id", "report_form_links", ["report_id"])
    op.create_index("ix_report_form_links_form_id", "report_form_links", ["form_id"])

    spelling = _DIALECT.get(op.get_bind().dialect.name, _DIALECT["default"])
    real = spelling["real"]
    op.execute(_V_REPORTS.format(real=real))
    op.execute(_V_REPORT_SCORES.format(real=real))
    op.execute(_V_REPORT_BUDGET.format(real=real, is_total=spelling["flag"].format(column="b.is_total")))
    op.execute(_V_REPORT_ISSUES.format(real=real))
    op.execute(_V_PROJECT_EVALUATIONS.format(real=real))


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in ("report_form_links", "report_issues", "report_satisfaction", "report_schedule", "report_outputs",
                  "report_adjustments", "report_budget_lines", "report_subtotals", "report_scores", "reports"):
        op.drop_table(table)
