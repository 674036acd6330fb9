"""Clerks: users, corrections, the corrected copy of corrected forms; the analyst views redefined
to show corrected data (docs/clerks.md, docs/views.md).

The base tables keep the raw parse. A form with at least one applied correction has a corrected
copy (``corrected_forms`` + ``corrected_indicators``), and a resolved issue a row in
``resolved_issues``; the views read the copy where there is one and the parse elsewhere, and leave
resolved issues out. Every documented column keeps its name, type and meaning; ``v_series`` reads
``v_indicators`` so that it follows corrected targets too.

The four views are dropped and recreated (on PostgreSQL a view cannot change its query in place
when its columns' sources change, and on SQLite views are never altered). Downgrade restores 0002's
views exactly, from 0002's own SQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

import goalforms.schema.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEWS = ("v_indicators", "v_forms", "v_issues", "v_series")  # in the order they are created

_DIALECT = {
    "sqlite": {"real": "REAL", "find_bracket": "instr(p.field, ']')", "procurement": "h.gov_procurement"},
    "default": {"real": "DOUBLE PRECISION", "find_bracket": "POSITION(']' IN p.field)",
                "procurement": "CAST(h.gov_procurement AS INTEGER)"},
}

_BUDGET_ITEMS = ("total", "current_year", "prior_year_budget", "prior_year_spent",
                 "fiscal_appropriation", "carryover", "other_funds")
_HEADER = ("year", "project_name", "unit", "department", "project_category", "project_nature", "plan_start",
           "plan_end", "gov_procurement", "performance_type", "goal")

# Each form once: its header and budget as corrected (corrected = 1) or as parsed (corrected = 0).
_EFFECTIVE_FORMS = """
    SELECT f.id AS form_id, 0 AS corrected, {parsed_header}, {parsed_budget}
    FROM forms f
    LEFT JOIN (
        -- budget_figures holds one row per (form, item): pivot the items into columns
        SELECT form_id,
            {pivot}
        FROM budget_figures
        GROUP BY form_id
    ) b ON b.form_id = f.id
    WHERE NOT EXISTS (SELECT 1 FROM corrected_forms c WHERE c.form_id = f.id)
    UNION ALL
    SELECT c.form_id, 1, {corrected_header}, {corrected_budget}
    FROM corrected_forms c
"""

# Each indicator row once: the corrected rows of corrected forms, the parsed rows of the others.
# parse_index is the row's 0-based index in the parse (what an issue's field indicators[k] names).
_EFFECTIVE_INDICATORS = """
    SELECT i.id AS indicator_id, i.form_id, i.position, i.position - 1 AS parse_index, i.dimension,
           i.level1, i.level2, i.level3, i.raw_target, i.kind, i.op, i.value, i.unit, i.source_line,
           i.source_location
    FROM indicators i
    WHERE NOT EXISTS (SELECT 1 FROM corrected_forms c WHERE c.form_id = i.form_id)
    UNION ALL
    SELECT ci.indicator_id, ci.form_id, ci.position, ci.parse_index, ci.dimension,
           ci.level1, ci.level2, ci.level3, ci.raw_target, ci.kind, ci.op, ci.value, ci.unit, ci.source_line,
           ci.source_location
    FROM corrected_indicators ci
"""

_V_INDICATORS = """
CREATE VIEW v_indicators AS
SELECT
    e.indicator_id,
    f.id AS form_id,
    d.path AS source_path,
    f.ordinal AS form_ordinal,
    h.project_name,
    h.unit AS org_unit,
    h.department,
    h.year,
    f.layout,
    e.position,
    e.dimension,
    e.level1,
    e.level2,
    e.level3,
    e.raw_target AS raw,
    e.kind,
    e.op,
    e.value,
    CAST(e.value AS {real}) AS value_num,
    e.unit,
    e.source_line,
    e.source_location
FROM ({effective_indicators}) e
JOIN forms f ON f.id = e.form_id
JOIN ({effective_forms}) h ON h.form_id = f.id
JOIN source_documents d ON d.id = f.document_id
"""

_V_FORMS = """
CREATE VIEW v_forms AS
SELECT
    f.id AS form_id,
    d.path AS source_path,
    f.ordinal AS form_ordinal,
    f.layout,
    h.year,
    h.project_name,
    h.unit AS org_unit,
    h.department,
    h.project_category,
    h.project_nature,
    h.plan_start,
    h.plan_end,
    {procurement} AS gov_procurement,
    h.performance_type,
    h.goal,
    f.collection_title,
    f.source_location,
    {exact_columns},
    {num_columns},
    CASE WHEN h.corrected = 1
         THEN (SELECT COUNT(*) FROM corrected_indicators ci WHERE ci.form_id = f.id)
         ELSE (SELECT COUNT(*) FROM indicators i WHERE i.form_id = f.id)
    END AS indicator_count,
    (SELECT COUNT(*) FROM parse_issues p
     WHERE p.form_id = f.id AND NOT EXISTS (SELECT 1 FROM resolved_issues r WHERE r.issue_id = p.id))
        AS open_issue_count
FROM forms f
JOIN ({effective_forms}) h ON h.form_id = f.id
JOIN source_documents d ON d.id = f.document_id
"""

# field names an indicator as the contract's 0-based "indicators[k]" (optionally ".raw" after): the
# row whose parse_index is k, wherever corrections moved it (NULL when a clerk deleted it).
_V_ISSUES = """
CREATE VIEW v_issues AS
SELECT
    p.id AS issue_id,
    f.id AS form_id,
    d.path AS source_path,
    f.ordinal AS form_ordinal,
    h.project_name,
    h.unit AS org_unit,
    h.year,
    f.layout,
    p.code,
    p.severity,
    p.message,
    p.location,
    p.field,
    e.indicator_id,
    e.position,
    e.level3
FROM parse_issues p
JOIN forms f ON f.id = p.form_id
JOIN ({effective_forms}) h ON h.form_id = f.id
JOIN source_documents d ON d.id = f.document_id
LEFT JOIN ({effective_indicators}) e
    ON e.form_id = p.form_id
    AND e.parse_index = CASE WHEN p.field LIKE 'indicators[%]%'
                             THEN CAST(substr(p.field, 12, {find_bracket} - 12) AS INTEGER) END
WHERE NOT EXISTS (SELECT 1 FROM resolved_issues r WHERE r.issue_id = p.id)
"""

# v_series of 0002 with its first step reading v_indicators (corrected data) instead of the tables.
_SERIES_IND_0002 = """ind AS (
    SELECT i.id, i.form_id, i.position, d.path AS doc_path, f.ordinal AS form_ordinal,
           f.project_name, f.unit AS org_unit,
           COALESCE(f.unit, '') AS unit_key, f.year, i.dimension,
           COALESCE(i.dimension, '') AS dim_key, i.level3, i.raw_target AS raw, i.kind, i.op,
           i.value, CAST(i.value AS {real}) AS value_num, i.unit,
           ROW_NUMBER() OVER (PARTITION BY i.form_id, COALESCE(i.dimension, '') ORDER BY i.position)
               AS dim_rank
    FROM indicators i
    JOIN forms f ON f.id = i.form_id
    JOIN source_documents d ON d.id = f.document_id
    WHERE f.project_name IS NOT NULL AND f.year IS NOT NULL
),"""
_SERIES_IND = """ind AS (
    SELECT v.indicator_id AS id, v.form_id, v.position, v.source_path AS doc_path, v.form_ordinal,
           v.project_name, v.org_unit,
           COALESCE(v.org_unit, '') AS unit_key, v.year, v.dimension,
           COALESCE(v.dimension, '') AS dim_key, v.level3, v.raw, v.kind, v.op,
           v.value, v.value_num, v.unit,
           ROW_NUMBER() OVER (PARTITION BY v.form_id, COALESCE(v.dimension, '') ORDER BY v.position)
               AS dim_rank
    FROM v_indicators v
    WHERE v.project_name IS NOT NULL AND v.year IS NOT NULL
),"""


def _views_0002():  # type: ignore[no-untyped-def]
    # The module's name starts with a digit: import it by name, not with an import statement.
    return importlib.import_module("goalforms.schema.migrations.versions.0002_analyst_views")


def _effective_forms() -> str:
    return _EFFECTIVE_FORMS.format(
        parsed_header=", ".join(f"f.{column}" for column in _HEADER),
        parsed_budget=", ".join(f"b.{item}" for item in _BUDGET_ITEMS),
        corrected_header=", ".join(f"c.{column}" for column in _HEADER),
        corrected_budget=", ".join(f"c.{item}" for item in _BUDGET_ITEMS),
        pivot=",\n            ".join(f"MAX(CASE WHEN item = '{item}' THEN amount END) AS {item}"
                                    for item in _BUDGET_ITEMS),
    )


def view_sql(dialect: str) -> dict[str, str]:
    """The CREATE VIEW statement of each view for a database dialect (``sqlite``, ``postgresql``)."""
    spelling = _DIALECT.get(dialect, _DIALECT["default"])
    real = spelling["real"]
    forms, indicators = _effective_forms(), _EFFECTIVE_INDICATORS
    series_0002 = _views_0002()._V_SERIES
    if series_0002.count(_SERIES_IND_0002) != 1:
        raise RuntimeError("0002's v_series changed: its first step is no longer the one 0004 replaces")
    return {
        "v_indicators": _V_INDICATORS.format(real=real, effective_indicators=indicators, effective_forms=forms),
        "v_forms": _V_FORMS.format(
            procurement=spelling["procurement"],
            effective_forms=forms,
            exact_columns=",\n    ".join(f"h.{item}" for item in _BUDGET_ITEMS),
            num_columns=",\n    ".join(f"CAST(h.{item} AS {real}) AS {item}_num" for item in _BUDGET_ITEMS),
        ),
        "v_issues": _V_ISSUES.format(find_bracket=spelling["find_bracket"], effective_forms=forms,
                                     effective_indicators=indicators),
        "v_series": series_0002.replace(_SERIES_IND_0002, _SERIES_IND).format(real=real),
    }


def _drop_views() -> None:
    # v_series reads v_indicators: drop in reverse order of creation.
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_path", sa.String(length=1024), nullable=False),
        sa.Column("form_ordinal", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("row_level3", sa.Text(), nullable=True),
        sa.Column("old_value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("new_value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_corrections_document_path", "corrections", ["document_path"])
    op.create_index("ix_corrections_status", "corrections", ["status"])
    exact = goalforms.schema.types.ExactDecimal
    op.create_table(
        "corrected_forms",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("project_name", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("project_category", sa.Text(), nullable=True),
        sa.Column("project_nature", sa.Text(), nullable=True),
        sa.Column("plan_start", sa.Date(), nullable=True),
        sa.Column("plan_end", sa.Date(), nullable=True),
        sa.Column("gov_procurement", sa.Boolean(), nullable=True),
        sa.Column("performance_type", sa.Text(), nullable=True),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("header_extra", sa.JSON(), nullable=False),
        *(sa.Column(item, exact(), nullable=True) for item in _BUDGET_ITEMS),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("form_id"),
    )
    op.create_table(
        "corrected_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("parse_index", sa.Integer(), nullable=True),
        sa.Column("level1", sa.Text(), nullable=True),
        sa.Column("level2", sa.Text(), nullable=True),
        sa.Column("level3", sa.Text(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("raw_target", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=True),
        sa.Column("value", exact(), nullable=True),
        sa.Column("unit", sa.String(length=100), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("source_location", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["form_id"], ["corrected_forms.form_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "position"),
    )
    op.create_index("ix_corrected_indicators_form_id", "corrected_indicators", ["form_id"])
    op.create_table(
        "resolved_issues",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["parse_issues.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["correction_id"], ["corrections.id"]),
        sa.PrimaryKeyConstraint("issue_id"),
    )
    op.create_index("ix_resolved_issues_form_id", "resolved_issues", ["form_id"])

    _drop_views()
    statements = view_sql(op.get_bind().dialect.name)
    for name in VIEWS:
        op.execute(statements[name])


def downgrade() -> None:
    _drop_views()
    base = _views_0002()
    spelling = base._DIALECT.get(op.get_bind().dialect.name, base._DIALECT["default"])
    op.execute(base._V_INDICATORS.format(**spelling))
    op.execute(base._forms_sql(spelling["real"], spelling["procurement"]))
    op.execute(base._V_ISSUES.format(**spelling))
    op.execute(base._V_SERIES.format(**spelling))
    op.drop_table("resolved_issues")
    op.drop_table("corrected_indicators")
    op.drop_table("corrected_forms")
    op.drop_table("corrections")
    op.drop_table("users")
