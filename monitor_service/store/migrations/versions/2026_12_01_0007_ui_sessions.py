"""Dashboard sign-ins: one row per session, keyed by the hash of the cookie's token.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ui_sessions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('api_key_id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_ui_sessions_api_key_id_api_keys'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ui_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_ui_sessions_token_hash')),
    )
    op.create_index(op.f('ix_ui_sessions_api_key_id'), 'ui_sessions', ['api_key_id'], unique=False)
    op.create_index(op.f('ix_ui_sessions_expires_at'), 'ui_sessions', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ui_sessions_expires_at'), table_name='ui_sessions')
    op.drop_index(op.f('ix_ui_sessions_api_key_id'), table_name='ui_sessions')
    op.drop_table('ui_sessions')
