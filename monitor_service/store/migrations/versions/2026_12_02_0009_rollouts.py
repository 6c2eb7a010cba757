"""Deployment strategies: rollouts, their events, gateway metric samples, assignments and bandit feedback.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'rollouts',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('endpoint_name', sa.String(length=63), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('spec', JSON, nullable=False),
        sa.Column('state', JSON, nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rollouts')),
    )
    op.create_index('ix_rollouts_endpoint_status', 'rollouts', ['endpoint_name', 'status'])
    op.create_table(
        'rollout_events',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('rollout_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('detail', JSON, nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], name=op.f('fk_rollout_events_rollout_id_rollouts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rollout_events')),
    )
    op.create_index('ix_rollout_events_rollout_id', 'rollout_events', ['rollout_id', 'id'])
    op.create_table(
        'gateway_metric_samples',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('gateway_id', sa.String(length=64), nullable=False),
        sa.Column('endpoint_name', sa.String(length=63), nullable=False),
        sa.Column('variant_name', sa.String(length=63), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('invocations', sa.Integer(), nullable=False),
        sa.Column('errors_5xx', sa.Integer(), nullable=False),
        sa.Column('latency_counts', JSON, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_metric_samples')),
    )
    op.create_index('ix_gateway_metric_samples_variant_at', 'gateway_metric_samples',
                    ['endpoint_name', 'variant_name', 'at'])
    op.create_table(
        'rollout_assignments',
        sa.Column('rollout_id', sa.String(length=36), nullable=False),
        sa.Column('inference_id', sa.String(length=64), nullable=False),
        sa.Column('variant_name', sa.String(length=63), nullable=False),
        sa.Column('prediction', sa.Text(), nullable=True),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('label', sa.Text(), nullable=True),
        sa.Column('reward', sa.Float(), nullable=True),
        sa.Column('reward_seq', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'],
                                name=op.f('fk_rollout_assignments_rollout_id_rollouts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rollout_id', 'inference_id', name=op.f('pk_bandit_assignments')),
    )
    op.create_index('ix_rollout_assignments_reward_seq', 'rollout_assignments', ['rollout_id', 'reward_seq'])
    op.create_table(
        'bandit_feedback',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('endpoint_name', sa.String(length=63), nullable=False),
        sa.Column('inference_id', sa.String(length=64), nullable=False),
        sa.Column('reward', sa.Float(), nullable=True),
        sa.Column('label', sa.Text(), nullable=True),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('applied_at', sa.DateTime(), nullable=True),
        sa.Column('rollout_id', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bandit_feedback')),
    )
    op.create_index('ix_bandit_feedback_pending', 'bandit_feedback', ['endpoint_name', 'applied_at'])
    op.create_table(
        'rollout_leases',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_rollout_leases')),
    )


def downgrade() -> None:
    op.drop_table('rollout_leases')
    op.drop_index('ix_bandit_feedback_pending', table_name='bandit_feedback')
    op.drop_table('bandit_feedback')
    op.drop_index('ix_rollout_assignments_reward_seq', table_name='rollout_assignments')
    op.drop_table('rollout_assignments')
    op.drop_index('ix_gateway_metric_samples_variant_at', table_name='gateway_metric_samples')
    op.drop_table('gateway_metric_samples')
    op.drop_index('ix_rollout_events_rollout_id', table_name='rollout_events')
    op.drop_table('rollout_events')
    op.drop_index('ix_rollouts_endpoint_status', table_name='rollouts')
    op.drop_table('rollouts')
