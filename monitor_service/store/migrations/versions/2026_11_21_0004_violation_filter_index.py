"""Index for the combined violation filter schedule + feature + check type, newest first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_violations_schedule_feature_check_window', 'violations',
                    ['schedule_id', 'feature_name', 'check_type', 'window_end', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_violations_schedule_feature_check_window', table_name='violations')
