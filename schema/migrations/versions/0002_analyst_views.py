"""Analyst views: v_indicators, v_forms, v_issues, v_series (documented in docs/views.md).

The views read the base tables only. When clerk corrections arrive (a later issue), a new
migration redefines them with the same columns so that analysts' queries keep working; this file
stays as it is, like every applied migration.

The SQL is the same on both databases but for a few spellings (``_DIALECT``): the floating-point
type of the ``*_num`` columns, the function that finds a character in a string, and a cast that
makes a boolean 1/0 as SQLite stores it. Exact decimals
are text on SQLite (see goalforms.schema.types.ExactDecimal), so every exact column has a
``*_num`` twin that compares as a number on both databases.

SQLite caveat for later migrations: a batch-mode table rebuild (``op.batch_alter_table``) renames
tables, and SQLite re-checks views on a rename; drop these views first and recreate them after.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEWS = ("v_indicators", "v_forms", "v_issues", "v_series")

# {real}: floating type for *_num columns; {find_bracket}: 1-based index of ']' in p.field;
# {procurement}: gov_procurement as 1/0 on both databases (SQLite stores booleans so), so that
# `WHERE gov_procurement = 1` and every output are the same whichever database answers.
_DIALECT = {
    "sqlite": {"real": "REAL", "find_bracket": "instr(p.field, ']')", "procurement": "f.gov_procurement"},
    "default": {"real": "DOUBLE PRECISION", "find_bracket": "POSITION(']' IN p.field)",
                "procurement": "CAST(f.gov_procurement AS INTEGER)"},
}

_V_INDICATORS = """
CREATE VIEW v_indicators AS
SELECT
    i.id AS indicator_id,
    f.id AS form_id,
    d.path AS source_path,
    f.ordinal AS form_ordinal,
    f.project_name,
    f.unit AS org_unit,
    f.department,
    f.year,
    f.layout,
    i.position,
    i.dimension,
    i.level1,
    i.level2,
    i.level3,
    i.raw_target AS raw,
    i.kind,
    i.op,
    i.value,
    CAST(i.value AS {real}) AS value_num,
    i.unit,
    i.source_line,
    i.source_location
FROM indicators i
JOIN forms f ON f.id = i.form_id
JOIN source_documents d ON d.id = f.document_id
"""

_BUDGET_ITEMS = ("total", "current_year", "prior_year_budget", "prior_year_spent",
                 "fiscal_appropriation", "carryover", "other_funds")

_V_FORMS = """
CREATE VIEW v_forms AS
SELECT
    f.id AS form_id,
    d.path AS source_path,
    f.ordinal AS form_ordinal,
    f.layout,
    f.year,
    f.project_name,
    f.unit AS org_unit,
    f.department,
    f.project_category,
    f.project_nature,
    f.plan_start,
    f.plan_end,
    {procurement} AS gov_procurement,
    f.performance_type,
    f.goal,
    f.collection_title,
    f.source_location,
    {exact_columns},
    {num_columns},
    (SELECT COUNT(*) FROM indicators i WHERE i.form_id = f.id) AS indicator_count,
    (SELECT COUNT(*) FROM parse_issues p WHERE p.form_id = f.id) AS open_issue_count
FROM forms f
JOIN source_documents d ON d.id = f.document_id
LEFT JOIN (
    -- budget_figures holds one row per (form, item): pivot the items into columns
    SELECT form_id,
        {pivot}
    FROM budget_figures
    GROUP BY form_id
) b ON b.form_id = f.id
"""

# field names an indicator as the contract's 0-based "indicators[k]" (optionally ".raw" after):
# position k + 1 in the form. The CASE keeps the substring arithmetic away from other fields.
_V_ISSUES = """
CREATE VIEW v_issues AS
SELECT
    p.id AS issue_id,
    f.id AS form_id,
    d.path AS source_path,
    f.ordinal AS form_ordinal,
    f.project_name,
    f.unit AS org_unit,
    f.year,
    f.layout,
    p.code,
    p.severity,
    p.message,
    p.location,
    p.field,
    i.id AS indicator_id,
    i.position,
    i.level3
FROM parse_issues p
JOIN forms f ON f.id = p.form_id
JOIN source_documents d ON d.id = f.document_id
LEFT JOIN indicators i
    ON i.form_id = p.form_id
    AND i.position = CASE WHEN p.field LIKE 'indicators[%]%'
                          THEN CAST(substr(p.field, 12, {find_bracket} - 12) AS INTEGER) + 1 END
"""

# One project (same project_name and org_unit) from each year it appears in to the next one.
# Indicators are lined up inside one dimension: the same level3 name is an exact match; else
# names are compared by the Dice coefficient of their character bigrams (shared distinct pairs of
# adjacent characters, 2k / (n1 + n2)) and a pair of at least 0.5 is a near match when each name
# is the other's best (ties: the pair closest in order within the dimension, then document order,
# never ids, which follow the order files happened to be loaded in). Pairs made are set aside and
# the rule is applied once more to the rest. What is left is dropped or added.
_V_SERIES = """
CREATE VIEW v_series AS
WITH RECURSIVE
ind AS (
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
),
years AS (
    SELECT DISTINCT project_name, unit_key, year FROM ind
),
steps AS (
    SELECT a.project_name, a.unit_key, a.year AS from_year, MIN(b.year) AS to_year
    FROM years a
    JOIN years b ON b.project_name = a.project_name AND b.unit_key = a.unit_key AND b.year > a.year
    GROUP BY a.project_name, a.unit_key, a.year
),
side_from AS (
    SELECT s.from_year, s.to_year, a.*
    FROM steps s
    JOIN ind a ON a.project_name = s.project_name AND a.unit_key = s.unit_key AND a.year = s.from_year
),
side_to AS (
    SELECT s.from_year, s.to_year, b.*
    FROM steps s
    JOIN ind b ON b.project_name = s.project_name AND b.unit_key = s.unit_key AND b.year = s.to_year
),
pairs AS (
    SELECT a.id AS from_id, b.id AS to_id, a.level3 AS from_name, b.level3 AS to_name,
           a.dim_rank AS from_rank, b.dim_rank AS to_rank,
           a.doc_path AS from_path, a.form_ordinal AS from_ordinal, a.position AS from_pos,
           b.doc_path AS to_path, b.form_ordinal AS to_ordinal, b.position AS to_pos
    FROM side_from a
    JOIN side_to b
        ON b.project_name = a.project_name AND b.unit_key = a.unit_key
        AND b.from_year = a.from_year AND b.dim_key = a.dim_key
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
    SELECT a.from_year, a.to_year, m.from_id, m.to_id,
           CASE WHEN m.from_name = m.to_name THEN 'exact' ELSE 'near' END AS match_kind,
           m.similarity
    FROM matched m
    JOIN side_from a ON a.id = m.from_id
    UNION ALL
    SELECT a.from_year, a.to_year, a.id, NULL, 'dropped', NULL
    FROM side_from a
    WHERE a.id NOT IN (SELECT from_id FROM matched)
    UNION ALL
    SELECT b.from_year, b.to_year, NULL, b.id, 'added', NULL
    FROM side_to b
    WHERE b.id NOT IN (SELECT to_id FROM matched)
)
SELECT
    COALESCE(a.project_name, b.project_name) AS project_name,
    COALESCE(a.org_unit, b.org_unit) AS org_unit,
    COALESCE(a.dimension, b.dimension) AS dimension,
    l.from_year,
    l.to_year,
    l.match_kind,
    CAST(l.similarity AS {real}) AS similarity,
    a.level3 AS from_level3,
    b.level3 AS to_level3,
    a.raw AS from_raw,
    b.raw AS to_raw,
    a.kind AS from_kind,
    b.kind AS to_kind,
    a.op AS from_op,
    b.op AS to_op,
    a.value AS from_value,
    b.value AS to_value,
    a.value_num AS from_value_num,
    b.value_num AS to_value_num,
    a.unit AS from_unit,
    b.unit AS to_unit,
    CASE
        WHEN l.from_id IS NULL THEN 'added'
        WHEN l.to_id IS NULL THEN 'dropped'
        WHEN a.raw = b.raw THEN 'unchanged'
        WHEN b.kind = 'missing' THEN 'target now missing'
        WHEN a.kind = 'missing' THEN 'target was missing'
        WHEN a.kind = 'numeric' AND b.kind = 'numeric' AND COALESCE(a.unit, '') = COALESCE(b.unit, '') THEN
            CASE WHEN b.value_num > a.value_num THEN 'raised'
                 WHEN b.value_num < a.value_num THEN 'lowered'
                 WHEN COALESCE(a.op, '') <> COALESCE(b.op, '') THEN 'operator changed'
                 ELSE 'unchanged'
            END
        WHEN a.kind = 'numeric' AND b.kind = 'numeric' THEN 'unit changed'
        WHEN b.kind = 'numeric' THEN 'quantified'
        WHEN a.kind = 'numeric' THEN 'no longer numeric'
        ELSE 'reworded'
    END AS change,
    l.from_id AS from_indicator_id,
    l.to_id AS to_indicator_id,
    a.form_id AS from_form_id,
    b.form_id AS to_form_id,
    a.position AS from_position,
    b.position AS to_position
FROM lined_up l
LEFT JOIN ind a ON a.id = l.from_id
LEFT JOIN ind b ON b.id = l.to_id
"""


def _forms_sql(real: str, procurement: str) -> str:
    return _V_FORMS.format(
        procurement=procurement,
        exact_columns=",\n    ".join(f"b.{item}" for item in _BUDGET_ITEMS),
        num_columns=",\n    ".join(f"CAST(b.{item} AS {real}) AS {item}_num" for item in _BUDGET_ITEMS),
        pivot=",\n        ".join(f"MAX(CASE WHEN item = '{item}' THEN amount END) AS {item}"
                                  for item in _BUDGET_ITEMS),
    )


def upgrade() -> None:
    spelling = _DIALECT.get(op.get_bind().dialect.name, _DIALECT["default"])
    op.execute(_V_INDICATORS.format(**spelling))
    op.execute(_forms_sql(spelling["real"], spelling["procurement"]))
    op.execute(_V_ISSUES.format(**spelling))
    op.execute(_V_SERIES.format(**spelling))


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
