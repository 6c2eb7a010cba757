"""Model quality: baselines get a monitor type and a calibration file, schedules their monitor settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('monitor_type', sa.String(length=32), server_default='DataQuality',
                                      nullable=False))
        batch_op.add_column(sa.Column('calibration', JSON, nullable=True))
        batch_op.add_column(sa.Column('calibration_path', sa.String(length=2000), nullable=True))
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('monitor_settings', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_column('monitor_settings')
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.drop_column('calibration_path')
        batch_op.drop_column('calibration')
        batch_op.drop_column('monitor_type')
