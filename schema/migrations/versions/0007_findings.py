"""Target review: findings, form reviews, acceptances; the views v_findings and v_scorecard
(docs/review.md).

The views read the base tables only (with the corrected header where a clerk corrected the form),
never other views, so that later migrations may drop and recreate the analyst views freely.

Revision ID: 0007_findings
Revises: 0006_sessions_units
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_findings"
down_revision = "0006_sessions_units"
branch_labels = None
depends_on = None

VIEWS = ("v_findings", "v_scorecard")

# Each form's project, unit and year as the views show them: corrected where a clerk corrected them.
_FORM = """
    SELECT f.id AS form_id, d.path AS source_path, f.ordinal AS form_ordinal, f.layout,
           CASE WHEN c.form_id IS NULL THEN f.year ELSE c.year END AS year,
           CASE WHEN c.form_id IS NULL THEN f.project_name ELSE c.project_name END AS project_name,
           CASE WHEN c.form_id IS NULL THEN f.unit ELSE c.unit END AS org_unit
    FROM forms f
    JOIN source_documents d ON d.id = f.document_id
    LEFT JOIN corrected_forms c ON c.form_id = f.id
"""

# Open parse errors of a form: a finding on such a form may be the parse's doing, not the form's.
_OPEN_ERRORS = """(
        SELECT COUNT(*) FROM parse_issues p
        WHERE p.form_id = {form} AND p.severity = 'error'
          AND NOT EXISTS (SELECT 1 FROM resolved_issues r WHERE r.issue_id = p.id)
    )"""

_V_FINDINGS = f"""
CREATE VIEW v_findings AS
SELECT
    x.id AS finding_id,
    x.form_id,
    h.source_path,
    h.form_ordinal,
    h.project_name,
    h.org_unit,
    h.year,
    h.layout,
    x.rule_id,
    x.rule_set,
    x.rule_set_version,
    x.severity,
    x.message,
    x.subject,
    x.field,
    x.indicator_id,
    x.position,
    x.level3,
    CASE WHEN a.id IS NULL THEN 'open' ELSE 'accepted' END AS status,
    a.author AS accepted_by,
    a.note AS accepted_note,
    a.created_at AS accepted_at,
    {_OPEN_ERRORS.format(form="x.form_id")} AS open_parse_errors
FROM findings x
JOIN ({_FORM}) h ON h.form_id = x.form_id
LEFT JOIN finding_acceptances a
    ON a.document_path = h.source_path AND a.form_ordinal = h.form_ordinal
    AND a.rule_id = x.rule_id AND a.subject = x.subject
"""

_V_SCORECARD = f"""
CREATE VIEW v_scorecard AS
SELECT
    h.form_id,
    h.source_path,
    h.form_ordinal,
    h.project_name,
    h.org_unit,
    h.year,
    h.layout,
    r.rule_sets,
    r.indicator_count,
    r.quantified_count,
    r.quantified_share,
    r.groups_required,
    r.groups_covered,
    r.groups_missing,
    COALESCE(n.errors, 0) AS errors,
    COALESCE(n.warnings, 0) AS warnings,
    COALESCE(n.infos, 0) AS infos,
    COALESCE(n.accepted, 0) AS accepted,
    {_OPEN_ERRORS.format(form="r.form_id")} AS open_parse_errors
FROM form_reviews r
JOIN ({_FORM}) h ON h.form_id = r.form_id
LEFT JOIN (
    SELECT x.form_id,
        SUM(CASE WHEN a.id IS NULL AND x.severity = 'error' THEN 1 ELSE 0 END) AS errors,
        SUM(CASE WHEN a.id IS NULL AND x.severity = 'warning' THEN 1 ELSE 0 END) AS warnings,
        SUM(CASE WHEN a.id IS NULL AND x.severity = 'info' THEN 1 ELSE 0 END) AS infos,
        SUM(CASE WHEN a.id IS NULL THEN 0 ELSE 1 END) AS accepted
    FROM findings x
    JOIN forms f ON f.id = x.form_id
    JOIN source_documents d ON d.id = f.document_id
    LEFT JOIN finding_acceptances a
        ON a.document_path = d.path AND a.form_ordinal = f.ordinal
        AND a.rule_id = x.rule_id AND a.subject = x.subject
    GROUP BY x.form_id
) n ON n.form_id = r.form_id
"""


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("rule_set", sa.String(length=100), nullable=False),
        sa.Column("rule_set_version", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("level3", sa.Text(), nullable=True),
        sa.Column("indicator_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_findings_form_id", "findings", ["form_id"])
    op.create_index("ix_findings_rule_id", "findings", ["rule_id"])
    op.create_table(
        "form_reviews",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("rule_sets", sa.String(length=300), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indicator_count", sa.Integer(), nullable=False),
        sa.Column("quantified_count", sa.Integer(), nullable=False),
        sa.Column("quantified_share", sa.Float(), nullable=True),
        sa.Column("groups_required", sa.Integer(), nullable=False),
        sa.Column("groups_covered", sa.Integer(), nullable=False),
        sa.Column("groups_missing", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("form_id"),
    )
    op.create_table(
        "finding_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_path", sa.String(length=1024), nullable=False),
        sa.Column("form_ordinal", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_path", "form_ordinal", "rule_id", "subject"),
    )
    op.create_index("ix_finding_acceptances_document_path", "finding_acceptances", ["document_path"])
    op.execute(_V_FINDINGS)
    op.execute(_V_SCORECARD)


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index("ix_finding_acceptances_document_path", table_name="finding_acceptances")
    op.drop_table("finding_acceptances")
    op.drop_table("form_reviews")
    op.drop_index("ix_findings_rule_id", table_name="findings")
    op.drop_index("ix_findings_form_id", table_name="findings")
    op.drop_table("findings")
