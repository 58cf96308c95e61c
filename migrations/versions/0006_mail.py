"""Mail: the outbox, staff's mail texts, reminder days per edition, derivable link tokens.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 11:20:00

Written by hand. Existing editions get the defaults (7 days before the deadline, 3 days
before the ceremony); existing links keep working but have no nonce, so the first
message that needs one issues a new link (app/invitations/tokens.py).
"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.database import refuse_to_drop_rows


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KINDS = ('invitation', 'reminder', 'confirmation', 'update', 'cancellation', 'practical')
STATUSES = ('draft', 'queued', 'sending', 'sent', 'failed', 'cancelled')


def upgrade() -> None:
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='messagekind', native_enum=False, length=20,
                                  create_constraint=True), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='messagestatus', native_enum=False,
                                    length=20, create_constraint=True), nullable=False),
        sa.Column('ceremony_id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('to_name', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('calendar_method', sa.String(length=10), nullable=False),
        sa.Column('attach_letter', sa.Boolean(), nullable=False),
        sa.Column('message_id', sa.String(length=250), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', app.types.UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', app.types.UTCDateTime(), nullable=False),
        sa.Column('updated_at', app.types.UTCDateTime(), nullable=False),
        sa.Column('queued_at', app.types.UTCDateTime(), nullable=True),
        sa.Column('claimed_at', app.types.UTCDateTime(), nullable=True),
        sa.Column('sent_at', app.types.UTCDateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'],
                                name=op.f('fk_outbox_message_ceremony_id_ceremony'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'],
                                name=op.f('fk_outbox_message_invitation_id_invitation'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
        sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_message_id')),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_ceremony_id'), ['ceremony_id'])
        batch_op.create_index(batch_op.f('ix_outbox_message_invitation_id'), ['invitation_id'])
        batch_op.create_index(batch_op.f('ix_outbox_message_status'), ['status'])

    op.create_table(
        'mail_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='messagekind', native_enum=False, length=20,
                                  create_constraint=True), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', app.types.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name=op.f('fk_mail_text_updated_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_text')),
        sa.UniqueConstraint('kind', 'language', name='uq_mail_text_kind_language'),
    )

    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_days', sa.Integer(), nullable=True,
                                      server_default='7'))
        batch_op.add_column(sa.Column('practical_days', sa.Integer(), nullable=True,
                                      server_default='3'))
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_nonce', sa.String(length=32), nullable=True))


def downgrade() -> None:
    refuse_to_drop_rows("mail_text", "outbox_message")
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('token_nonce')
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.drop_column('practical_days')
        batch_op.drop_column('reminder_days')
    op.drop_table('mail_text')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_ceremony_id'))
    op.drop_table('outbox_message')
