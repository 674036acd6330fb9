"""Stored source grids (issue 14): the clerk page shows a Word, ODT, HTML or .ods form's tables
from the store, never reading the file again.

- new table ``source_grids``: one row per row of the grid the reader found in the file (texts
  only, ``cells`` as ``[[text, col_span, row_span, col], …]``), keyed by the document and the
  row's position, with its table, row, sheet and printed location.

Documents imported before this migration have no grid rows: their pane is read from the file as
before (the page says so); they are filled by importing into a new store (or after the document
is removed). Downgrade drops the table.

Revision ID: 0010_source_grids
Revises: 0009_provenance
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_source_grids"
down_revision = "0009_provenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_grids",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("source_documents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_table", sa.Integer()),
        sa.Column("source_row", sa.Integer()),
        sa.Column("sheet", sa.String(200)),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.UniqueConstraint("document_id", "position"),
    )
    op.create_index("ix_source_grids_document_id", "source_grids", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_source_grids_document_id", table_name="source_grids")
    op.drop_table("source_grids")
