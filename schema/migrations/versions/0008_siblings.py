"""Sibling forms (issue 12): self-evaluations, department forms, local target forms; the view
``v_target_vs_actual`` (docs/views.md).

- ``forms``: ``kind`` (target / self_evaluation / department), ``project_key`` (the project name
  without year, quotes and a trailing 项目, as reports are linked to forms), ``outcome``,
  ``total_score``, ``grade``, ``points`` (the points printed in a self-evaluation's 一级 labels);
- ``indicators``: the actual (``actual_raw/kind/op/value/unit``), ``weight``, ``score``, ``note``,
  the prior-year level (``prior_year_raw/kind/op/value/unit``), ``period``;
- ``corrected_forms`` / ``corrected_indicators`` carry the same columns (views read corrected data);
- new tables ``fund_lines`` (a self-evaluation's money rows) and ``department_tasks``;
- ``v_indicators`` and ``v_forms`` gain columns at their end (every documented column keeps its
  name, place and meaning); ``v_issues`` and ``v_series`` are recreated as 0004 made them;
  ``v_target_vs_actual`` is new.

Downgrade restores 0004's views exactly, from 0004's own SQL, and drops what this added.

Revision ID: 0008_siblings
Revises: 0006_sessions_units
Create Date: 2026-11-30
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

import goalforms.schema.types
from goalforms.parsers.reports.names import project_key

revision = "0008_siblings"
down_revision = "0007_findings"
branch_labels = None
depends_on = None

VIEWS = ("v_indicators", "v_forms", "v_issues", "v_series", "v_target_vs_actual")  # creation order

_VALUE_COLUMNS = ("raw", "kind", "op", "value", "unit")
_INDICATOR_COLUMNS = (
    *(f"actual_{c}" for c in _VALUE_COLUMNS), "weight", "score", "note",
    *(f"prior_year_{c}" for c in _VALUE_COLUMNS), "period",
)
_FORM_COLUMNS = ("project_key", "outcome", "total_score", "grade")  # also in corrected_forms


def _indicator_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    exact = goalforms.schema.types.ExactDecimal
    columns: list[sa.Column] = []  # type: ignore[type-arg]
    for prefix in ("actual", "prior_year"):
        columns += [sa.Column(f"{prefix}_raw", sa.Text(), nullable=True),
                    sa.Column(f"{prefix}_kind", sa.String(length=16), nullable=True),
                    sa.Column(f"{prefix}_op", sa.String(length=2), nullable=True),
                    sa.Column(f"{prefix}_value", exact(), nullable=True),
                    sa.Column(f"{prefix}_unit", sa.String(length=100), nullable=True)]
    columns += [sa.Column("weight", exact(), nullable=True), sa.Column("score", exact(), nullable=True),
                sa.Column("note", sa.Text(), nullable=True), sa.Column("period", sa.String(length=16), nullable=True)]
    return columns


def _form_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("project_key", sa.Text(), nullable=True), sa.Column("outcome", sa.Text(), nullable=True),
            sa.Column("total_score", goalforms.schema.types.ExactDecimal(), nullable=True),
            sa.Column("grade", sa.String(length=40), nullable=True)]


def _views_0004():  # type: ignore[no-untyped-def]
    # The module's name starts with a digit: import it by name, not with an import statement.
    return importlib.import_module("goalforms.schema.migrations.versions.0004_clerks")


# 0004's effective rows with the new columns: the corrected copy where there is one, else the parse.
_EFFECTIVE_FORMS = """
    SELECT f.id AS form_id, 0 AS corrected, {parsed_header}, {parsed_budget},
           f.project_key, f.outcome, f.total_score, f.grade
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
    SELECT c.form_id, 1, {corrected_header}, {corrected_budget},
           c.project_key, c.outcome, c.total_score, c.grade
    FROM corrected_forms c
"""

_EFFECTIVE_INDICATORS = """
    SELECT i.id AS indicator_id, i.form_id, i.position, i.position - 1 AS parse_index, i.dimension,
           i.level1, i.level2, i.level3, i.raw_target, i.kind, i.op, i.value, i.unit, i.source_line,
           i.source_location, {parsed_sibling}
    FROM indicators i
    WHERE NOT EXISTS (SELECT 1 FROM corrected_forms c WHERE c.form_id = i.form_id)
    UNION ALL
    SELECT ci.indicator_id, ci.form_id, ci.position, ci.parse_index, ci.dimension,
           ci.level1, ci.level2, ci.level3, ci.raw_target, ci.kind, ci.op, ci.value, ci.unit, ci.source_line,
           ci.source_location, {corrected_sibling}
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
    e.source_location,
    f.kind AS form_kind,
    h.project_key,
    e.period,
    e.actual_raw,
    e.actual_kind,
    e.actual_op,
    e.actual_value,
    CAST(e.actual_value AS {real}) AS actual_value_num,
    e.actual_unit,
    e.weight,
    CAST(e.weight AS {real}) AS weight_num,
    e.score,
    CAST(e.score AS {real}) AS score_num,
    e.note,
    e.prior_year_raw,
    e.prior_year_kind,
    e.prior_year_op,
    e.prior_year_value,
    CAST(e.prior_year_value AS {real}) AS prior_year_value_num,
    e.prior_year_unit
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
        AS open_issue_count,
    f.kind,
    h.project_key,
    h.outcome,
    h.total_score,
    CAST(h.total_score AS {real}) AS total_score_num,
    h.grade
FROM forms f
JOIN ({effective_forms}) h ON h.form_id = f.id
JOIN source_documents d ON d.id = f.document_id
"""

# Each self-evaluated indicator beside the target indicator of the same project (project_key),
# unit, year and dimension whose 三级 name is the same or the most alike (Dice coefficient of the
# names' character bigrams ≥ 0.5, each row matched at most once, best pairs first: v_series's
# rule). met / shortfall compare the target with the actual where both are numbers in units that
# convert (万元 = 10000 元 …); elsewhere met is NULL and reason says why.
_V_TARGET_VS_ACTUAL = """
CREATE VIEW v_target_vs_actual AS
WITH RECURSIVE
scale (unit, base, factor) AS (
    VALUES ('元', '元', 1), ('千元', '元', 1000), ('万元', '元', 10000), ('亿元', '元', 100000000),
           ('人', '人', 1), ('万人', '人', 10000), ('人次', '人次', 1), ('万人次', '人次', 10000),
           ('件', '件', 1), ('万件', '件', 10000), ('份', '份', 1), ('万份', '份', 10000),
           ('户', '户', 1), ('万户', '户', 10000), ('天', '天', 1), ('日', '天', 1), ('个工作日', '工作日', 1),
           ('工作日', '工作日', 1), ('小时', '小时', 1), ('分钟', '分钟', 1)
),
ind AS (
    SELECT v.indicator_id AS id, v.form_id, v.form_kind, v.source_path, v.form_ordinal, v.position,
           v.project_name, v.project_key, v.org_unit, COALESCE(v.org_unit, '') AS unit_key, v.year,
           v.dimension, COALESCE(v.dimension, '') AS dim_key, v.level1, v.level3, v.raw, v.kind, v.op,
           v.value, v.unit, v.actual_raw, v.actual_kind, v.actual_op, v.actual_value, v.actual_unit,
           v.weight, v.score, v.note,
           ROW_NUMBER() OVER (PARTITION BY v.form_id, COALESCE(v.dimension, '') ORDER BY v.position)
               AS dim_rank
    FROM v_indicators v
    WHERE v.project_key IS NOT NULL AND v.year IS NOT NULL
      AND v.form_kind IN ('target', 'self_evaluation')
),
ev AS (SELECT * FROM ind WHERE form_kind = 'self_evaluation'),
tg AS (SELECT * FROM ind WHERE form_kind = 'target'),
pairs AS (
    SELECT e.id AS from_id, t.id AS to_id, e.level3 AS from_name, t.level3 AS to_name,
           e.dim_rank AS from_rank, t.dim_rank AS to_rank,
           e.source_path AS from_path, e.form_ordinal AS from_ordinal, e.position AS from_pos,
           t.source_path AS to_path, t.form_ordinal AS to_ordinal, t.position AS to_pos
    FROM ev e
    JOIN tg t ON t.project_key = e.project_key AND t.unit_key = e.unit_key AND t.year = e.year
        AND t.dim_key = e.dim_key
),
grams (id, name, pos, gram) AS (
    SELECT id, level3, 1, substr(level3, 1, 2)
    FROM ind
    WHERE length(level3) >= 2
      AND (id IN (SELECT from_id FROM pairs) OR id IN (SELECT to_id FROM pairs))
    UNION ALL
    SELECT id, name, pos + 1, substr(name, pos + 1, 2) FROM grams WHERE pos + 2 <= length(name)
),
gram_set AS (
    SELECT DISTINCT id, gram FROM grams
),
gram_count AS (
    SELECT id, COUNT(*) AS n FROM gram_set GROUP BY id
),
shared AS (
    SELECT p.from_id, p.to_id, COUNT(*) AS k
    FROM pairs p
    JOIN gram_set ga ON ga.id = p.from_id
    JOIN gram_set gb ON gb.id = p.to_id AND gb.gram = ga.gram
    GROUP BY p.from_id, p.to_id
),
scored AS (
    SELECT p.from_id, p.to_id, p.from_name, p.to_name, p.from_rank, p.to_rank,
           p.from_path, p.from_ordinal, p.from_pos, p.to_path, p.to_ordinal, p.to_pos,
           CASE WHEN p.from_name = p.to_name THEN 1.0
                WHEN COALESCE(na.n, 0) + COALESCE(nb.n, 0) = 0 THEN 0.0
                ELSE 2.0 * COALESCE(sh.k, 0) / (COALESCE(na.n, 0) + COALESCE(nb.n, 0))
           END AS similarity
    FROM pairs p
    LEFT JOIN shared sh ON sh.from_id = p.from_id AND sh.to_id = p.to_id
    LEFT JOIN gram_count na ON na.id = p.from_id
    LEFT JOIN gram_count nb ON nb.id = p.to_id
),
ranked1 AS (
    SELECT sc.from_id, sc.to_id, sc.from_name, sc.to_name, sc.similarity,
           ROW_NUMBER() OVER (PARTITION BY sc.from_id ORDER BY sc.similarity DESC,
                              ABS(sc.from_rank - sc.to_rank), sc.to_path, sc.to_ordinal, sc.to_pos) AS best_for_from,
           ROW_NUMBER() OVER (PARTITION BY sc.to_id ORDER BY sc.similarity DESC,
                              ABS(sc.from_rank - sc.to_rank), sc.from_path, sc.from_ordinal, sc.from_pos) AS best_for_to
    FROM scored sc
    WHERE sc.similarity >= 0.5
),
matched1 AS (
    SELECT from_id, to_id, from_name, to_name, similarity
    FROM ranked1 WHERE best_for_from = 1 AND best_for_to = 1
),
ranked2 AS (
    SELECT sc.from_id, sc.to_id, sc.from_name, sc.to_name, sc.similarity,
           ROW_NUMBER() OVER (PARTITION BY sc.from_id ORDER BY sc.similarity DESC,
                              ABS(sc.from_rank - sc.to_rank), sc.to_path, sc.to_ordinal, sc.to_pos) AS best_for_from,
           ROW_NUMBER() OVER (PARTITION BY sc.to_id ORDER BY sc.similarity DESC,
                              ABS(sc.from_rank - sc.to_rank), sc.from_path, sc.from_ordinal, sc.from_pos) AS best_for_to
    FROM scored sc
    WHERE sc.similarity >= 0.5
      AND sc.from_id NOT IN (SELECT from_id FROM matched1)
      AND sc.to_id NOT IN (SELECT to_id FROM matched1)
),
matched AS (
    SELECT from_id, to_id, from_name, to_name, similarity FROM matched1
    UNION ALL
    SELECT from_id, to_id, from_name, to_name, similarity
    FROM ranked2 WHERE best_for_from = 1 AND best_for_to = 1
),
lined_up AS (
    SELECT m.from_id AS eval_id, m.to_id AS target_id,
           CASE WHEN m.from_name = m.to_name THEN 'exact' ELSE 'near' END AS match_kind,
           m.similarity
    FROM matched m
    UNION ALL
    SELECT e.id, NULL, 'evaluation_only', NULL
    FROM ev e
    WHERE e.id NOT IN (SELECT from_id FROM matched)
    UNION ALL
    SELECT NULL, t.id, 'not_evaluated', NULL
    FROM tg t
    WHERE t.id NOT IN (SELECT to_id FROM matched)
      AND EXISTS (SELECT 1 FROM ev e WHERE e.project_key = t.project_key AND e.unit_key = t.unit_key
                  AND e.year = t.year)
),
sides AS (
    SELECT l.match_kind, l.similarity,
           COALESCE(e.project_name, t.project_name) AS project_name,
           COALESCE(e.project_key, t.project_key) AS project_key,
           COALESCE(e.org_unit, t.org_unit) AS org_unit,
           COALESCE(e.year, t.year) AS year,
           COALESCE(e.dimension, t.dimension) AS dimension,
           CASE WHEN t.id IS NOT NULL THEN 'target_form' ELSE 'self_evaluation' END AS target_from,
           t.form_id AS target_form_id, t.id AS target_indicator_id, t.source_path AS target_source_path,
           COALESCE(t.level3, e.level3) AS target_level3,
           COALESCE(t.raw, e.raw) AS target_raw,
           CASE WHEN t.id IS NOT NULL THEN t.kind ELSE e.kind END AS target_kind,
           CASE WHEN t.id IS NOT NULL THEN t.op ELSE e.op END AS target_op,
           CASE WHEN t.id IS NOT NULL THEN t.value ELSE e.value END AS target_value,
           CASE WHEN t.id IS NOT NULL THEN t.unit ELSE e.unit END AS target_unit,
           e.form_id AS eval_form_id, e.id AS eval_indicator_id, e.source_path AS eval_source_path,
           e.level1 AS eval_level1, e.level3 AS eval_level3, e.raw AS eval_target_raw,
           e.actual_raw, e.actual_kind, e.actual_op, e.actual_value, e.actual_unit,
           e.weight, e.score, e.note
    FROM lined_up l
    LEFT JOIN ev e ON e.id = l.eval_id
    LEFT JOIN tg t ON t.id = l.target_id
),
measured AS (
    SELECT s.*,
           COALESCE(ts.base, s.target_unit, '') AS target_base,
           COALESCE(acs.base, s.actual_unit, '') AS actual_base,
           CAST(s.target_value AS NUMERIC) * COALESCE(ts.factor, 1) AS target_amount,
           CAST(s.actual_value AS NUMERIC) * COALESCE(acs.factor, 1) AS actual_amount,
           COALESCE(ts.factor, 1) AS target_factor,
           CASE WHEN s.eval_indicator_id IS NULL THEN 'no self-evaluation row'
                WHEN s.target_kind = 'missing' THEN 'no target'
                WHEN s.target_kind <> 'numeric' THEN 'target not numeric'
                WHEN s.actual_kind IS NULL OR s.actual_kind = 'missing' THEN 'no actual'
                WHEN s.actual_kind <> 'numeric' THEN 'actual not numeric'
                WHEN COALESCE(ts.base, s.target_unit, '') <> COALESCE(acs.base, s.actual_unit, '')
                    THEN 'units differ: ' || COALESCE(s.target_unit, 'none') || ' vs ' || COALESCE(s.actual_unit, 'none')
           END AS not_comparable
    FROM sides s
    LEFT JOIN scale ts ON ts.unit = s.target_unit
    LEFT JOIN scale acs ON acs.unit = s.actual_unit
),
judged AS (
    SELECT m.*,
           CASE WHEN m.not_comparable IS NOT NULL THEN NULL
                WHEN m.target_op = '≥' THEN CASE WHEN m.actual_amount >= m.target_amount THEN 1 ELSE 0 END
                WHEN m.target_op = '>' THEN CASE WHEN m.actual_amount > m.target_amount THEN 1 ELSE 0 END
                WHEN m.target_op = '≤' THEN CASE WHEN m.actual_amount <= m.target_amount THEN 1 ELSE 0 END
                WHEN m.target_op = '<' THEN CASE WHEN m.actual_amount < m.target_amount THEN 1 ELSE 0 END
                ELSE CASE WHEN m.actual_amount = m.target_amount THEN 1 ELSE 0 END
           END AS met,
           CASE WHEN m.not_comparable IS NOT NULL THEN NULL
                WHEN m.target_op IN ('≥', '>') THEN m.target_amount - m.actual_amount
                WHEN m.target_op IN ('≤', '<') THEN m.actual_amount - m.target_amount
                ELSE ABS(m.target_amount - m.actual_amount)
           END AS gap
    FROM measured m
)
SELECT
    j.project_name,
    j.project_key,
    j.org_unit,
    j.year,
    j.dimension,
    j.match_kind,
    CAST(j.similarity AS {real}) AS similarity,
    j.target_from,
    j.target_level3,
    j.target_raw,
    j.target_kind,
    j.target_op,
    j.target_value,
    CAST(j.target_value AS {real}) AS target_value_num,
    j.target_unit,
    j.eval_level1,
    j.eval_level3,
    j.eval_target_raw,
    j.actual_raw,
    j.actual_kind,
    j.actual_op,
    j.actual_value,
    CAST(j.actual_value AS {real}) AS actual_value_num,
    j.actual_unit,
    j.met,
    CASE WHEN j.met IS NULL THEN NULL
         WHEN j.met = 1 THEN CAST(0 AS {real})
         ELSE CAST(ROUND(CAST(j.gap * 1.0 / j.target_factor AS NUMERIC), 6) AS {real})
    END AS shortfall,
    CASE WHEN j.not_comparable IS NOT NULL THEN j.not_comparable
         WHEN j.met = 0 AND COALESCE(j.target_op, '=') = '=' AND j.actual_amount > j.target_amount
             THEN 'above an exact target'
    END AS reason,
    j.weight,
    CAST(j.weight AS {real}) AS weight_num,
    j.score,
    CAST(j.score AS {real}) AS score_num,
    j.note,
    ef.grade AS eval_grade,
    ef.total_score AS eval_total_score,
    CAST(ef.total_score AS {real}) AS eval_total_score_num,
    j.target_form_id,
    j.target_indicator_id,
    j.target_source_path,
    j.eval_form_id,
    j.eval_indicator_id,
    j.eval_source_path
FROM judged j
LEFT JOIN v_forms ef ON ef.form_id = j.eval_form_id
"""


def view_sql(dialect: str) -> dict[str, str]:
    """The CREATE VIEW statement of each view for a database dialect (``sqlite``, ``postgresql``)."""
    base = _views_0004()
    statements = base.view_sql(dialect)
    spelling = base._DIALECT.get(dialect, base._DIALECT["default"])
    real = spelling["real"]
    forms = _EFFECTIVE_FORMS.format(
        parsed_header=", ".join(f"f.{column}" for column in base._HEADER),
        parsed_budget=", ".join(f"b.{item}" for item in base._BUDGET_ITEMS),
        corrected_header=", ".join(f"c.{column}" for column in base._HEADER),
        corrected_budget=", ".join(f"c.{item}" for item in base._BUDGET_ITEMS),
        pivot=",\n            ".join(f"MAX(CASE WHEN item = '{item}' THEN amount END) AS {item}"
                                    for item in base._BUDGET_ITEMS),
    )
    indicators = _EFFECTIVE_INDICATORS.format(
        parsed_sibling=", ".join(f"i.{c}" for c in _INDICATOR_COLUMNS),
        corrected_sibling=", ".join(f"ci.{c}" for c in _INDICATOR_COLUMNS),
    )
    statements["v_indicators"] = _V_INDICATORS.format(real=real, effective_indicators=indicators,
                                                      effective_forms=forms)
    statements["v_forms"] = _V_FORMS.format(
        real=real,
        procurement=spelling["procurement"],
        effective_forms=forms,
        exact_columns=",\n    ".join(f"h.{item}" for item in base._BUDGET_ITEMS),
        num_columns=",\n    ".join(f"CAST(h.{item} AS {real}) AS {item}_num" for item in base._BUDGET_ITEMS),
    )
    statements["v_target_vs_actual"] = _V_TARGET_VS_ACTUAL.format(real=real)
    return statements


def _drop_views() -> None:
    for name in reversed(VIEWS):  # v_target_vs_actual and v_series read v_indicators / v_forms
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    _drop_views()  # SQLite re-checks views when tables change
    op.add_column("forms", sa.Column("kind", sa.String(length=20), nullable=False, server_default="target"))
    for column in _form_columns():
        op.add_column("forms", column)
    op.add_column("forms", sa.Column("points", sa.JSON(), nullable=True))
    op.create_index("ix_forms_kind", "forms", ["kind"])
    op.create_index("ix_forms_project_key", "forms", ["project_key"])
    for column in _form_columns():
        op.add_column("corrected_forms", column)
    for table in ("indicators", "corrected_indicators"):
        for column in _indicator_columns():
            op.add_column(table, column)
    exact = goalforms.schema.types.ExactDecimal
    op.create_table(
        "fund_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        *(sa.Column(name, exact(), nullable=True)
          for name in ("initial", "full_year", "executed", "rate", "weight", "score")),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "position"),
    )
    op.create_index("ix_fund_lines_form_id", "fund_lines", ["form_id"])
    op.create_table(
        "department_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        *(sa.Column(name, exact(), nullable=True) for name in ("total", "fiscal_appropriation", "other_funds")),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id", "position"),
    )
    op.create_index("ix_department_tasks_form_id", "department_tasks", ["form_id"])
    _backfill_project_keys()
    statements = view_sql(op.get_bind().dialect.name)
    for name in VIEWS:
        op.execute(statements[name])


def _backfill_project_keys() -> None:
    """Forms loaded before this revision get their key and kind (the loader writes them from now on;
    a database downgraded and upgraded again keeps its self-evaluations and department forms)."""
    connection = op.get_bind()
    for layout, kind in (("self_eval", "self_evaluation"), ("dept", "department")):
        connection.execute(sa.text("UPDATE forms SET kind = :kind WHERE layout = :layout"),
                           {"kind": kind, "layout": layout})
    for table in ("forms", "corrected_forms"):
        key_column = "id" if table == "forms" else "form_id"
        rows = connection.execute(sa.text(f"SELECT {key_column}, project_name FROM {table}")).all()
        updates = [{"k": project_key(name), "i": ident} for ident, name in rows if name]
        if updates:
            connection.execute(sa.text(f"UPDATE {table} SET project_key = :k WHERE {key_column} = :i"), updates)


def downgrade() -> None:
    _drop_views()
    op.drop_index("ix_department_tasks_form_id", table_name="department_tasks")
    op.drop_table("department_tasks")
    op.drop_index("ix_fund_lines_form_id", table_name="fund_lines")
    op.drop_table("fund_lines")
    for table in ("indicators", "corrected_indicators"):
        for name in _INDICATOR_COLUMNS:
            op.drop_column(table, name)
    for name in _FORM_COLUMNS:
        op.drop_column("corrected_forms", name)
    op.drop_index("ix_forms_project_key", table_name="forms")
    op.drop_index("ix_forms_kind", table_name="forms")
    for name in (*_FORM_COLUMNS, "points", "kind"):
        op.drop_column("forms", name)
    base = _views_0004()
    statements = base.view_sql(op.get_bind().dialect.name)
    for name in base.VIEWS:
        op.execute(statements[name])
