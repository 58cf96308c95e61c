"""Calendar: withdrawn editions, and a Last-Modified of each feed's own.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 05:15:00

Written by hand. Three nullable columns: nothing existing changes, and the downgrade
drops only these columns (no rows are lost with them).
- ceremony.withdrawn_at: when an announced public edition stopped being public; its
  .ics answers as cancelled for CALENDAR_REMOVED_GRACE_DAYS after it.
- ceremony.calendar_changed_at: the edition's own change stamp (personal feeds).
- calendar_state.public_changed_at: the public feeds' change stamp.
"""
from alembic import op
import sqlalchemy as sa

import app.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('calendar_changed_at', app.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('calendar_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_changed_at', app.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calendar_state', schema=None) as batch_op:
        batch_op.drop_column('public_changed_at')
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.drop_column('calendar_changed_at')
        batch_op.drop_column('withdrawn_at')
