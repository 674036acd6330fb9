"""Initial schema: source documents, forms, budget figures, indicators, parse issues.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 01:59:45.358319
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import goalforms.schema.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('source_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('collection_title', sa.Text(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path'),
    sa.UniqueConstraint('sha256')
    )
    op.create_table('forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('layout', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('project_name', sa.Text(), nullable=True),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('project_category', sa.Text(), nullable=True),
    sa.Column('project_nature', sa.Text(), nullable=True),
    sa.Column('plan_start', sa.Date(), nullable=True),
    sa.Column('plan_end', sa.Date(), nullable=True),
    sa.Column('gov_procurement', sa.Boolean(), nullable=True),
    sa.Column('performance_type', sa.Text(), nullable=True),
    sa.Column('goal', sa.Text(), nullable=True),
    sa.Column('header_extra', sa.JSON(), nullable=False),
    sa.Column('collection_title', sa.Text(), nullable=True),
    sa.Column('source_location', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['source_documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'ordinal')
    )
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forms_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forms_project_name'), ['project_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_forms_unit'), ['unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_forms_year'), ['year'], unique=False)

    op.create_table('budget_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=40), nullable=False),
    sa.Column('amount', goalforms.schema.types.ExactDecimal(), nullable=True),
    sa.Column('source_location', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('form_id', 'item')
    )
    with op.batch_alter_table('budget_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_figures_form_id'), ['form_id'], unique=False)

    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('level1', sa.Text(), nullable=True),
    sa.Column('level2', sa.Text(), nullable=True),
    sa.Column('level3', sa.Text(), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=True),
    sa.Column('raw_target', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('op', sa.String(length=2), nullable=True),
    sa.Column('value', goalforms.schema.types.ExactDecimal(), nullable=True),
    sa.Column('unit', sa.String(length=100), nullable=True),
    sa.Column('source_line', sa.Integer(), nullable=True),
    sa.Column('source_location', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('form_id', 'position')
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_dimension'), ['dimension'], unique=False)
        batch_op.create_index(batch_op.f('ix_indicators_form_id'), ['form_id'], unique=False)

    op.create_table('parse_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('field', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parse_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parse_issues_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_parse_issues_form_id'), ['form_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('parse_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parse_issues_form_id'))
        batch_op.drop_index(batch_op.f('ix_parse_issues_code'))

    op.drop_table('parse_issues')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_form_id'))
        batch_op.drop_index(batch_op.f('ix_indicators_dimension'))

    op.drop_table('indicators')
    with op.batch_alter_table('budget_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_figures_form_id'))

    op.drop_table('budget_figures')
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forms_year'))
        batch_op.drop_index(batch_op.f('ix_forms_unit'))
        batch_op.drop_index(batch_op.f('ix_forms_project_name'))
        batch_op.drop_index(batch_op.f('ix_forms_document_id'))

    op.drop_table('forms')
    op.drop_table('source_documents')
