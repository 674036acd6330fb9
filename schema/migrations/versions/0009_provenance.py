"""Typed provenance (issue 14): where every parsed value was read.

- new table ``provenance``: one row per header/budget value and per indicator field, keyed by the
  form and the field path the issues use (``header.project_name``, ``indicators[3].raw``), with
  the page and the cell's box in PDF points, the sheet and cell, the line, paragraph, table, row
  and column, and the OCR confidence and the reader's doubt.

Files imported before this migration have no provenance rows: the clerk page shows their pages
without outlines (and says why), their sheets as the reader reads them (as before). ``goalforms
import`` skips an unchanged file, so their rows are filled only by importing into a new store (or
after the document is removed). Downgrade drops the table.

Revision ID: 0009_provenance
Revises: 0008_siblings
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_provenance"
down_revision = "0008_siblings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provenance",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("forms.id", ondelete="CASCADE"), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("indicator_position", sa.Integer()),
        sa.Column("page", sa.Integer()),
        sa.Column("x0", sa.Float()),
        sa.Column("top", sa.Float()),
        sa.Column("x1", sa.Float()),
        sa.Column("bottom", sa.Float()),
        sa.Column("sheet", sa.String(200)),
        sa.Column("cell", sa.String(20)),
        sa.Column("line", sa.Integer()),
        sa.Column("paragraph", sa.Integer()),
        sa.Column("source_table", sa.Integer()),
        sa.Column("source_row", sa.Integer()),
        sa.Column("source_col", sa.Integer()),
        sa.Column("confidence", sa.Float()),
        sa.Column("doubt", sa.Text()),
        sa.UniqueConstraint("form_id", "field"),
    )
    op.create_index("ix_provenance_form_id", "provenance", ["form_id"])


def downgrade() -> None:
    op.drop_index("ix_provenance_form_id", table_name="provenance")
    op.drop_table("provenance")
