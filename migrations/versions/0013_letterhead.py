"""Settings hold longer text: the letter's body per invitation kind and language.

Revision ID: 0013_letterhead
Revises: 0012_guest_texts
Create Date: 2026-12-05 17:20:00

Written by hand. setting.value was VARCHAR(500), enough for a choice; a letter's body in
Russian runs past it. The downgrade refuses to cut text: it stops while a value is
longer than 500 characters (remove those letter bodies first).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_letterhead'
down_revision = '0012_guest_texts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('setting', schema=None) as batch_op:
        batch_op.alter_column(
            'value', existing_type=sa.String(length=500), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    setting = sa.table('setting', sa.column('key', sa.String), sa.column('value', sa.Text))
    long = op.get_bind().execute(
        sa.select(setting.c.key).where(sa.func.length(setting.c.value) > 500)
    ).scalars().all()
    if long:
        raise RuntimeError(f"settings longer than 500 characters: {', '.join(long)}; remove them first")
    with op.batch_alter_table('setting', schema=None) as batch_op:
        batch_op.alter_column(
            'value', existing_type=sa.Text(), type_=sa.String(length=500), existing_nullable=False
        )
