"""Ceremony planner: venues, series, editions, programme items, staff accounts, settings.

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 08:32:40.113976

"""
from alembic import op
import sqlalchemy as sa

import app.types  # noqa: F401  (custom column types appear in revisions)
from app.database import refuse_to_drop_rows


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('setting',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'planner', 'admin', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_user_account_session_token'))
    )
    op.create_table('venue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_venue')),
    sa.UniqueConstraint('name', name=op.f('uq_venue_name'))
    )
    op.create_table('ceremony_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('title_nl', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ru', sa.String(length=200), nullable=False),
    sa.Column('month', sa.SmallInteger(), nullable=False),
    sa.Column('day', sa.SmallInteger(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=True),
    sa.Column('base_year', sa.SmallInteger(), nullable=True),
    sa.Column('organiser_role', sa.Enum('organised', 'co_hosted', 'facilitated', name='organiserrole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('default_programme', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('day BETWEEN 1 AND 31', name=op.f('ck_ceremony_series_day_range')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_ceremony_series_duration_positive')),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_ceremony_series_month_range')),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_ceremony_series_venue_id_venue'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ceremony_series')),
    sa.UniqueConstraint('slug', name=op.f('uq_ceremony_series_slug'))
    )
    with op.batch_alter_table('ceremony_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ceremony_series_venue_id'), ['venue_id'], unique=False)

    op.create_table('ceremony',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=100), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('title_nl', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ru', sa.String(length=200), nullable=False),
    sa.Column('starts_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'cancelled', 'held', name='ceremonystatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('base_year', sa.SmallInteger(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_ceremony_ends_after_start')),
    sa.ForeignKeyConstraint(['series_id'], ['ceremony_series.id'], name=op.f('fk_ceremony_series_id_ceremony_series'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_ceremony_venue_id_venue'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ceremony')),
    sa.UniqueConstraint('slug', name=op.f('uq_ceremony_slug')),
    sa.UniqueConstraint('uid', name=op.f('uq_ceremony_uid'))
    )
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ceremony_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ceremony_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ceremony_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ceremony_venue_id'), ['venue_id'], unique=False)

    op.create_table('programme_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ceremony_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('assembly', 'march', 'bells', 'speech', 'poem', 'music', 'taptoe', 'silence', 'anthem', 'wreath_laying', 'candles', 'defile', 'procession', 'reception', 'other', name='itemkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('offset_minutes', sa.Integer(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('performer', sa.String(length=200), nullable=False),
    sa.Column('text_nl', sa.String(length=500), nullable=False),
    sa.Column('text_en', sa.String(length=500), nullable=False),
    sa.Column('text_ru', sa.String(length=500), nullable=False),
    sa.Column('printable', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('duration_minutes >= 0', name=op.f('ck_programme_item_duration_not_negative')),
    sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'], name=op.f('fk_programme_item_ceremony_id_ceremony'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_item'))
    )
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_item_ceremony_id'), ['ceremony_id'], unique=False)



def downgrade() -> None:
    refuse_to_drop_rows(
        "programme_item",
        "ceremony",
        "ceremony_series",
        "venue",
        "user_account",
        "setting",
    )
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_item_ceremony_id'))

    op.drop_table('programme_item')
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ceremony_venue_id'))
        batch_op.drop_index(batch_op.f('ix_ceremony_status'))
        batch_op.drop_index(batch_op.f('ix_ceremony_starts_at'))
        batch_op.drop_index(batch_op.f('ix_ceremony_series_id'))

    op.drop_table('ceremony')
    with op.batch_alter_table('ceremony_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ceremony_series_venue_id'))

    op.drop_table('ceremony_series')
    op.drop_table('venue')
    op.drop_table('user_account')
    op.drop_table('setting')
