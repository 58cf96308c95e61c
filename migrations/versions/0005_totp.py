"""An optional second factor for staff (TOTP).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:19:53.357810

"""
from alembic import op
import sqlalchemy as sa

import app.types  # noqa: F401  (custom column types appear in revisions)


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')

