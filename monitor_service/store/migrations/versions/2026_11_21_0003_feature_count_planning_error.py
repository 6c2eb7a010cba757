"""Baselines keep their feature count (the list no longer loads statistics); schedules their planning error.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feature_count', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planning_error', sa.Text(), nullable=True))
    baselines = sa.table('baselines', sa.column('id', sa.String()), sa.column('statistics', sa.JSON()),
                         sa.column('feature_count', sa.Integer()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(baselines.c.id, baselines.c.statistics)
                              .where(baselines.c.statistics.is_not(None))).all()
    for baseline_id, statistics in rows:
        features = statistics.get('features') if isinstance(statistics, dict) else None
        if isinstance(features, list) and features:
            connection.execute(baselines.update().where(baselines.c.id == baseline_id)
                               .values(feature_count=len(features)))


def downgrade() -> None:
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_column('planning_error')
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.drop_column('feature_count')
