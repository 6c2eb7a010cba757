"""Baseline documents by name (any monitor type's files), and violations that name their metric.

The fixed `statistics` / `constraints` / `calibration` columns (and their `*_path` columns) of
`baselines` become rows of `baseline_documents` keyed by (baseline, name); existing baselines keep
every document and path. Violations gain `metric_name` (auc, DPPL, shap, ...) and `details`
(the rest of the entry), filled for existing model-quality rows from their feature name.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
DOCUMENTS = ('statistics', 'constraints', 'calibration')


def upgrade() -> None:
    op.create_table(
        'baseline_documents',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('baseline_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('document', JSON, nullable=False),
        sa.Column('path', sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(['baseline_id'], ['baselines.id'],
                                name=op.f('fk_baseline_documents_baseline_id_baselines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_baseline_documents')),
        sa.UniqueConstraint('baseline_id', 'name', name='uq_baseline_documents_baseline_name'),
    )
    for name in DOCUMENTS:
        op.execute(f"INSERT INTO baseline_documents (baseline_id, name, document, path) "
                   f"SELECT id, '{name}', {name}, {name}_path FROM baselines WHERE {name} IS NOT NULL")
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.drop_column(f'{name}_path')
            batch_op.drop_column(name)
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metric_name', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('details', JSON, nullable=True))
        batch_op.create_index('ix_violations_schedule_metric_window',
                              ['schedule_id', 'metric_name', 'window_end', 'id'], unique=False)
    op.execute("UPDATE violations SET metric_name = feature_name WHERE monitor_type = 'ModelQuality'")


def downgrade() -> None:
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.drop_index('ix_violations_schedule_metric_window')
        batch_op.drop_column('details')
        batch_op.drop_column('metric_name')
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.add_column(sa.Column(name, JSON, nullable=True))
            batch_op.add_column(sa.Column(f'{name}_path', sa.String(length=2000), nullable=True))
    for name in DOCUMENTS:
        op.execute(f"UPDATE baselines SET {name} = (SELECT d.document FROM baseline_documents d "
                   f"WHERE d.baseline_id = baselines.id AND d.name = '{name}'), "
                   f"{name}_path = (SELECT d.path FROM baseline_documents d "
                   f"WHERE d.baseline_id = baselines.id AND d.name = '{name}')")
    op.drop_table('baseline_documents')
