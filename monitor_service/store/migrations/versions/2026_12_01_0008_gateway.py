"""Inference gateway: configuration versions, live variant state, recorded weight changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'gateway_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('config_version', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_state')),
    )
    op.create_table(
        'gateway_configs',
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('document', JSON, nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('version', name=op.f('pk_gateway_configs')),
    )
    op.create_table(
        'gateway_variant_states',
        sa.Column('endpoint_name', sa.String(length=63), nullable=False),
        sa.Column('variant_name', sa.String(length=63), nullable=False),
        sa.Column('model_name', sa.String(length=63), nullable=False),
        sa.Column('current_weight', sa.Float(), nullable=False),
        sa.Column('desired_weight', sa.Float(), nullable=False),
        sa.Column('current_instance_count', sa.Integer(), nullable=False),
        sa.Column('desired_instance_count', sa.Integer(), nullable=False),
        sa.Column('config_version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('endpoint_name', 'variant_name', name=op.f('pk_gateway_variant_states')),
    )
    op.create_table(
        'gateway_weight_changes',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('endpoint_name', sa.String(length=63), nullable=False),
        sa.Column('changes', JSON, nullable=False),
        sa.Column('previous', JSON, nullable=False),
        sa.Column('state_version', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_weight_changes')),
    )
    op.create_index('ix_gateway_weight_changes_endpoint_id', 'gateway_weight_changes', ['endpoint_name', 'id'])


def downgrade() -> None:
    op.drop_index('ix_gateway_weight_changes_endpoint_id', table_name='gateway_weight_changes')
    op.drop_table('gateway_weight_changes')
    op.drop_table('gateway_variant_states')
    op.drop_table('gateway_configs')
    op.drop_table('gateway_state')
