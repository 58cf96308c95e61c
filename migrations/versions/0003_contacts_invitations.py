"""Contacts, invitation policies, invitations, delegations, wreath groups, audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:56:50.951013

"""
from alembic import op
import sqlalchemy as sa

import app.types  # noqa: F401  (custom column types appear in revisions)
from app.database import refuse_to_drop_rows


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_group')),
    sa.UniqueConstraint('name', name=op.f('uq_contact_group_name'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_nl', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('name_ru', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('embassy', 'consulate', 'municipality', 'province', 'ministry', 'armed_forces', 'school', 'veterans', 'museum', 'foundation', 'family', 'other', name='organisationkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('resident', sa.Boolean(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('protocol_contact', sa.String(length=300), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('given_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=False),
    sa.Column('native_name', sa.String(length=300), nullable=False),
    sa.Column('patronymic', sa.String(length=200), nullable=False),
    sa.Column('honorific_nl', sa.String(length=200), nullable=False),
    sa.Column('honorific_en', sa.String(length=200), nullable=False),
    sa.Column('honorific_ru', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('relation', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_email'), ['email'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('ambassador', 'envoy', 'charge_en_pied', 'charge_ad_interim', 'representative', 'consul', 'mayor', 'deputy_mayor', 'kings_commissioner', 'minister', 'official', 'director', 'relative', 'other', name='appointmentrole', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('taken_up_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('tie_break', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_appointment_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_appointment_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_person_id'), ['person_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_audit_entry_actor_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entry_object', ['object_type', 'object_id'], unique=False)

    op.create_table('organisation_group',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['contact_group.id'], name=op.f('fk_organisation_group_group_id_contact_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_group_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'group_id', name=op.f('pk_organisation_group'))
    )
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ceremony_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('addressee_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.Enum('rsvp', 'regrets_only', 'pm', 'proxy', name='invitationkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('rsvp_deadline', sa.Date(), nullable=True),
    sa.Column('cohosts', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('draft', 'sent', 'viewed', 'accepted', 'declined', 'no_reply', name='invitationstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_issued_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replied_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replied_by', sa.String(length=10), nullable=False),
    sa.Column('reply_note', sa.Text(), nullable=False),
    sa.Column('document_name', sa.String(length=255), nullable=False),
    sa.Column('wreath', sa.Enum('none', 'own', 'order', 'proxy', name='wreathchoice', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('ribbon_text', sa.String(length=300), nullable=False),
    sa.Column('ribbon_colours', sa.String(length=100), nullable=False),
    sa.Column('accessibility', sa.Text(), nullable=False),
    sa.Column('remark', sa.Text(), nullable=False),
    sa.Column('wreath_position', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['addressee_id'], ['person.id'], name=op.f('fk_invitation_addressee_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'], name=op.f('fk_invitation_ceremony_id_ceremony'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_invitation_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('ceremony_id', 'organisation_id', name='uq_invitation_per_edition'),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_addressee_id'), ['addressee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_ceremony_id'), ['ceremony_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_status'), ['status'], unique=False)

    op.create_table('invitation_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ceremony_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('decision', sa.Enum('invite', 'proxy_only', 'do_not_invite', name='policydecision', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(organisation_id IS NULL) <> (country IS NULL)', name=op.f('ck_invitation_policy_one_target')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_invitation_policy_approved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'], name=op.f('fk_invitation_policy_ceremony_id_ceremony'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_invitation_policy_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_policy')),
    sa.UniqueConstraint('ceremony_id', 'country', name='uq_policy_country'),
    sa.UniqueConstraint('ceremony_id', 'organisation_id', name='uq_policy_organisation')
    )
    with op.batch_alter_table('invitation_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_policy_ceremony_id'), ['ceremony_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_policy_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('wreath_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ceremony_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_nl', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_ru', sa.String(length=200), nullable=False),
    sa.Column('sort', sa.Enum('precedence', 'office', 'alphabetical', 'manual', name='wreathsort', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('public_defile', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'], name=op.f('fk_wreath_group_ceremony_id_ceremony'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wreath_group'))
    )
    with op.batch_alter_table('wreath_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wreath_group_ceremony_id'), ['ceremony_id'], unique=False)

    op.create_table('delegation_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('function', sa.String(length=300), nullable=False),
    sa.Column('role', sa.Enum('wreath_layer', 'wreath_bearer', 'speaker', 'attendee', name='memberrole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('car_plate', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_delegation_member_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation_member'))
    )
    with op.batch_alter_table('delegation_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_member_invitation_id'), ['invitation_id'], unique=False)

    # Existing editions and series get empty values through server defaults.
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rsvp_deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cohosts', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('dress_code', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('ceremony_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_wreath_groups', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('rsvp_days_before', sa.Integer(), nullable=False, server_default='14'))



def downgrade() -> None:
    refuse_to_drop_rows(
        "delegation_member",
        "wreath_group",
        "invitation_policy",
        "invitation",
        "organisation_group",
        "audit_entry",
        "appointment",
        "person",
        "organisation",
        "contact_group",
    )
    with op.batch_alter_table('ceremony_series', schema=None) as batch_op:
        batch_op.drop_column('rsvp_days_before')
        batch_op.drop_column('default_wreath_groups')

    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.drop_column('dress_code')
        batch_op.drop_column('cohosts')
        batch_op.drop_column('rsvp_deadline')

    with op.batch_alter_table('delegation_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_member_invitation_id'))

    op.drop_table('delegation_member')
    with op.batch_alter_table('wreath_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wreath_group_ceremony_id'))

    op.drop_table('wreath_group')
    with op.batch_alter_table('invitation_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_policy_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_policy_ceremony_id'))

    op.drop_table('invitation_policy')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_status'))
        batch_op.drop_index(batch_op.f('ix_invitation_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_ceremony_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_addressee_id'))

    op.drop_table('invitation')
    op.drop_table('organisation_group')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_object')
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_user_id'))

    op.drop_table('audit_entry')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_person_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_organisation_id'))

    op.drop_table('appointment')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_email'))

    op.drop_table('person')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))
        batch_op.drop_index(batch_op.f('ix_organisation_country'))

    op.drop_table('organisation')
    op.drop_table('contact_group')
