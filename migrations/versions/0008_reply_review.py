"""Calendar replies to review: those not applied on their own wait for planners.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-04 18:00:00

Written by hand. A new table only: nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.database import refuse_to_drop_rows


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'applied', 'discarded')
REASONS = ('not_invited', 'cancelled', 'sender_differs', 'not_authenticated',
           'older_sequence', 'newer_sequence', 'tentative', 'not_an_answer',
           'deadline_passed', 'refused')


def upgrade() -> None:
    op.create_table(
        'reply_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ceremony_id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum(*STATUSES, name='reviewstatus', native_enum=False,
                                    length=20, create_constraint=True), nullable=False),
        sa.Column('reason', sa.Enum(*REASONS, name='reviewreason', native_enum=False,
                                    length=20, create_constraint=True), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.Column('attendee', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('partstat', sa.String(length=20), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('from_address', sa.String(length=254), nullable=False),
        sa.Column('forwarded_by', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('received_at', app.types.UTCDateTime(), nullable=False),
        sa.Column('decided_at', app.types.UTCDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'],
                                name=op.f('fk_reply_review_ceremony_id_ceremony'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'],
                                name=op.f('fk_reply_review_invitation_id_invitation'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_reply_review_decided_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_review')),
    )
    with op.batch_alter_table('reply_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_review_ceremony_id'), ['ceremony_id'])
        batch_op.create_index(batch_op.f('ix_reply_review_invitation_id'), ['invitation_id'])
        batch_op.create_index(batch_op.f('ix_reply_review_status'), ['status'])


def downgrade() -> None:
    refuse_to_drop_rows("reply_review")
    with op.batch_alter_table('reply_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_review_status'))
        batch_op.drop_index(batch_op.f('ix_reply_review_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_reply_review_ceremony_id'))
    op.drop_table('reply_review')
