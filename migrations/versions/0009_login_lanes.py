"""Login throttle lanes and server-side pending logins (issue #12, Security 3, 6, 7, 11).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 05:10:00

Written by hand. login_failure (one row per failure, counted after the fact) gives way to
login_throttle (one row per lane, counted and checked in one statement), and the second
factor's waiting state moves from the cookie into pending_login.
"""
from alembic import op
import sqlalchemy as sa

import app.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Old failure rows are throttle state only: dropped, not carried over.
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_at'))
        batch_op.drop_index(batch_op.f('ix_login_failure_address'))
        batch_op.drop_index(batch_op.f('ix_login_failure_account'))
    op.drop_table('login_failure')
    op.create_table(
        'login_throttle',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('reset_at', sa.Float(), nullable=False),
        sa.Column('blocked_until', sa.Float(), nullable=False),
        sa.Column('delay', sa.Float(), nullable=False),
        sa.Column('last_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
        sa.UniqueConstraint('key', name=op.f('uq_login_throttle_key')),
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_reset_at'), ['reset_at'])
    op.create_table(
        'pending_login',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('password_at', app.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', app.types.UTCDateTime(), nullable=False),
        sa.Column('next', sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_pending_login_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_login')),
    )
    with op.batch_alter_table('pending_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_login_expires_at'), ['expires_at'])
        batch_op.create_index(batch_op.f('ix_pending_login_user_id'), ['user_id'])


def downgrade() -> None:
    # No row guard: both tables hold only disposable state (throttle counts that lapse
    # within the hour, and second-factor steps that expire within minutes). Dropping them
    # at worst lets a few more guesses in or asks someone for their password again.
    with op.batch_alter_table('pending_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_login_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_login_expires_at'))
    op.drop_table('pending_login')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_reset_at'))
    op.drop_table('login_throttle')
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')),
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_at'), ['at'], unique=False)
