"""Calendar feeds: change stamp, staff feed links, first publication of an edition.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 08:39:35.711270

"""
from alembic import op
import sqlalchemy as sa

import app.types  # noqa: F401  (custom column types appear in revisions)
from app.database import refuse_to_drop_rows


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('changed_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_state'))
    )
    op.create_table('staff_feed_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_staff_feed_link_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_feed_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_feed_link_token_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_staff_feed_link_user_id'))
    )
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', app.types.UTCDateTime(timezone=True), nullable=True))

    # Editions published before this revision were announced; their last change is the
    # best date we have. Cancelled ones stay unannounced: we cannot know.
    op.execute(
        "UPDATE ceremony SET published_at = updated_at WHERE status IN ('published', 'held')"
    )



def downgrade() -> None:
    refuse_to_drop_rows("staff_feed_link", "calendar_state")
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.drop_column('published_at')

    op.drop_table('staff_feed_link')
    op.drop_table('calendar_state')
