"""Executions keep how many records were analyzed in the window, next to all the records read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_analyzed', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_column('records_analyzed')
