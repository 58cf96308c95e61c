"""Forms of address as data: defaults per role, language and gender; each person's own
forms and their confirmation per language; the Russian genitive of a country.

Revision ID: 0011_forms_of_address
Revises: 0010
Create Date: 2026-12-05 16:40:00

Written by hand.
- form_of_address: seeded with DOMAIN.md's table (a frozen copy of
  app/contacts/addressing.DEFAULTS as it stood).
- person_address: the old person.honorific_nl/en/ru become the style override of that
  language (unconfirmed), then the columns go. The downgrade puts the style overrides
  back into honorific_* before it drops the new tables.
- person.gender (unknown for everyone: staff set it), organisation.country_genitive_ru.
"""
from alembic import op
import sqlalchemy as sa

import app.types


revision = '0011_forms_of_address'
down_revision = '0010'
branch_labels = None
depends_on = None

LANGUAGES = ('nl', 'en', 'ru')
# Staff's own mail texts that glued "Dear" to {addressee} open with {salutation} instead.
OPENINGS = {'en': 'Dear {addressee},', 'nl': 'Geachte {addressee},', 'ru': '{addressee},'}
SEED = [
    ('ambassador', 'nl', 'male', 'Zijne Excellentie de heer', 'Ambassadeur van {country}', 'Excellentie,', 'Zijne Excellentie de heer {name}'),
    ('ambassador', 'nl', 'female', 'Hare Excellentie mevrouw', 'Ambassadeur van {country}', 'Excellentie,', 'Hare Excellentie mevrouw {name}'),
    ('ambassador', 'nl', 'unknown', '', 'Ambassadeur van {country}', 'Excellentie,', '{name}'),
    ('ambassador', 'en', 'male', 'His Excellency Mr', 'Ambassador of {country}', 'Your Excellency,', 'His Excellency Mr {name}'),
    ('ambassador', 'en', 'female', 'Her Excellency Ms', 'Ambassador of {country}', 'Your Excellency,', 'Her Excellency Ms {name}'),
    ('ambassador', 'en', 'unknown', '', 'Ambassador of {country}', 'Your Excellency,', '{name}'),
    ('ambassador', 'ru', 'male', 'Его Превосходительству господину', 'Чрезвычайному и Полномочному Послу {country}', 'Уважаемый господин Посол!', 'Его Превосходительство господин {name}'),
    ('ambassador', 'ru', 'female', 'Её Превосходительству госпоже', 'Чрезвычайному и Полномочному Послу {country}', 'Уважаемая госпожа Посол!', 'Её Превосходительство госпожа {name}'),
    ('ambassador', 'ru', 'unknown', '', 'Чрезвычайному и Полномочному Послу {country}', 'Ваше Превосходительство!', '{name}'),
    ('charge_ad_interim', 'nl', 'male', 'De heer', 'Zaakgelastigde a.i. van {country}', 'Geachte heer {surname},', 'de heer {name}'),
    ('charge_ad_interim', 'nl', 'female', 'Mevrouw', 'Zaakgelastigde a.i. van {country}', 'Geachte mevrouw {surname},', 'mevrouw {name}'),
    ('charge_ad_interim', 'nl', 'unknown', '', 'Zaakgelastigde a.i. van {country}', 'Geachte {given} {surname},', '{name}'),
    ('charge_ad_interim', 'en', 'male', 'Mr', "Chargé d'Affaires a.i. of {country}", "Dear Chargé d'Affaires,", 'Mr {name}'),
    ('charge_ad_interim', 'en', 'female', 'Ms', "Chargé d'Affaires a.i. of {country}", "Dear Chargé d'Affaires,", 'Ms {name}'),
    ('charge_ad_interim', 'en', 'unknown', '', "Chargé d'Affaires a.i. of {country}", "Dear Chargé d'Affaires,", '{name}'),
    ('charge_ad_interim', 'ru', 'male', 'Господину', 'Временному поверенному в делах {country}', 'Уважаемый господин Временный поверенный!', 'господин {name}'),
    ('charge_ad_interim', 'ru', 'female', 'Госпоже', 'Временному поверенному в делах {country}', 'Уважаемая госпожа Временный поверенный!', 'госпожа {name}'),
    ('charge_ad_interim', 'ru', 'unknown', '', 'Временному поверенному в делах {country}', 'Здравствуйте, {name}!', '{name}'),
    ('charge_en_pied', 'nl', 'male', 'De heer', 'Zaakgelastigde van {country}', 'Geachte heer {surname},', 'de heer {name}'),
    ('charge_en_pied', 'nl', 'female', 'Mevrouw', 'Zaakgelastigde van {country}', 'Geachte mevrouw {surname},', 'mevrouw {name}'),
    ('charge_en_pied', 'nl', 'unknown', '', 'Zaakgelastigde van {country}', 'Geachte {given} {surname},', '{name}'),
    ('charge_en_pied', 'en', 'male', 'Mr', "Chargé d'Affaires of {country}", "Dear Chargé d'Affaires,", 'Mr {name}'),
    ('charge_en_pied', 'en', 'female', 'Ms', "Chargé d'Affaires of {country}", "Dear Chargé d'Affaires,", 'Ms {name}'),
    ('charge_en_pied', 'en', 'unknown', '', "Chargé d'Affaires of {country}", "Dear Chargé d'Affaires,", '{name}'),
    ('charge_en_pied', 'ru', 'male', 'Господину', 'Поверенному в делах {country}', 'Уважаемый господин Поверенный в делах!', 'господин {name}'),
    ('charge_en_pied', 'ru', 'female', 'Госпоже', 'Поверенному в делах {country}', 'Уважаемая госпожа Поверенный в делах!', 'госпожа {name}'),
    ('charge_en_pied', 'ru', 'unknown', '', 'Поверенному в делах {country}', 'Здравствуйте, {name}!', '{name}'),
    ('mayor', 'nl', 'male', 'De edelachtbare heer', 'burgemeester van Leusden', 'Geachte heer {surname},', 'de heer {name}'),
    ('mayor', 'nl', 'female', 'De edelachtbare vrouwe', 'burgemeester van Leusden', 'Geachte mevrouw {surname},', 'mevrouw {name}'),
    ('mayor', 'nl', 'unknown', '', 'burgemeester van Leusden', 'Geachte {given} {surname},', '{name}'),
    ('mayor', 'en', 'male', 'Mr', 'Mayor of Leusden', 'Dear Mayor,', 'Mr {name}'),
    ('mayor', 'en', 'female', 'Ms', 'Mayor of Leusden', 'Dear Mayor,', 'Ms {name}'),
    ('mayor', 'en', 'unknown', '', 'Mayor of Leusden', 'Dear Mayor,', '{name}'),
    ('mayor', 'ru', 'male', 'Господину', 'мэру г. Лёйсдена', 'Уважаемый господин мэр!', 'господин {name}'),
    ('mayor', 'ru', 'female', 'Госпоже', 'мэру г. Лёйсдена', 'Уважаемая госпожа мэр!', 'госпожа {name}'),
    ('mayor', 'ru', 'unknown', '', 'мэру г. Лёйсдена', 'Здравствуйте, {name}!', '{name}'),
    ('other', 'nl', 'male', 'De heer', '', 'Geachte heer {surname},', 'de heer {name}'),
    ('other', 'nl', 'female', 'Mevrouw', '', 'Geachte mevrouw {surname},', 'mevrouw {name}'),
    ('other', 'nl', 'unknown', '', '', 'Geachte {given} {surname},', '{name}'),
    ('other', 'en', 'male', 'Mr', '', 'Dear Mr {surname},', 'Mr {name}'),
    ('other', 'en', 'female', 'Ms', '', 'Dear Ms {surname},', 'Ms {name}'),
    ('other', 'en', 'unknown', '', '', 'Dear {given} {surname},', '{name}'),
    ('other', 'ru', 'male', 'Господину', '', 'Уважаемый господин {surname}!', 'господин {name}'),
    ('other', 'ru', 'female', 'Госпоже', '', 'Уважаемая госпожа {surname}!', 'госпожа {name}'),
    ('other', 'ru', 'unknown', '', '', 'Здравствуйте, {name}!', '{name}'),
]

GENDER = sa.Enum('male', 'female', 'unknown', name='gender', native_enum=False, create_constraint=True, length=20)
ROLE = sa.Enum('ambassador', 'charge_ad_interim', 'charge_en_pied', 'mayor', 'other', name='addressrole', native_enum=False, create_constraint=True, length=30)


def upgrade() -> None:
    form = op.create_table(
        'form_of_address',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role', ROLE, nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('gender', GENDER, nullable=False),
        sa.Column('style', sa.String(length=200), nullable=False),
        sa.Column('function_line', sa.String(length=300), nullable=False),
        sa.Column('salutation', sa.String(length=300), nullable=False),
        sa.Column('mention', sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_of_address')),
        sa.UniqueConstraint('role', 'language', 'gender', name=op.f('uq_form_of_address_role')),
    )
    op.bulk_insert(form, [
        dict(role=r, language=l, gender=g, style=s, function_line=f, salutation=sal, mention=m)
        for r, l, g, s, f, sal, m in SEED
    ])
    address = op.create_table(
        'person_address',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('style', sa.String(length=200), nullable=False),
        sa.Column('address_block', sa.Text(), nullable=False),
        sa.Column('salutation', sa.String(length=300), nullable=False),
        sa.Column('mention', sa.String(length=300), nullable=False),
        sa.Column('name_dative', sa.String(length=300), nullable=False),
        sa.Column('confirmed_at', app.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'], name=op.f('fk_person_address_confirmed_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_address_person_id_person'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_person_address')),
        sa.UniqueConstraint('person_id', 'language', name=op.f('uq_person_address_person_id')),
    )
    with op.batch_alter_table('person_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_address_confirmed_by_id'), ['confirmed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_address_person_id'), ['person_id'], unique=False)

    connection = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer), *(sa.column(f'honorific_{l}', sa.String) for l in LANGUAGES))
    rows = []
    for found in connection.execute(sa.select(person)).mappings():
        for lang in LANGUAGES:
            old = (found[f'honorific_{lang}'] or '').strip()
            if old:
                rows.append(dict(person_id=found['id'], language=lang, style=old, address_block='', salutation='', mention='', name_dative=''))
    if rows:
        op.bulk_insert(address, rows)

    _rewrite_openings(connection, forward=True)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender', GENDER, nullable=False, server_default='unknown'))
        for lang in LANGUAGES:
            batch_op.drop_column(f'honorific_{lang}')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.alter_column('gender', server_default=None)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country_genitive_ru', sa.String(length=300), nullable=False, server_default=''))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.alter_column('country_genitive_ru', server_default=None)


def _rewrite_openings(connection: sa.Connection, *, forward: bool) -> None:
    mail_text = sa.table('mail_text', sa.column('id', sa.Integer), sa.column('language', sa.String), sa.column('body', sa.Text))
    for row in connection.execute(sa.select(mail_text.c.id, mail_text.c.language, mail_text.c.body)).all():
        old = OPENINGS.get(row.language, OPENINGS['en'])
        before, after = (old, '{salutation}') if forward else ('{salutation}', old)
        if row.body.startswith(before):
            connection.execute(
                mail_text.update().where(mail_text.c.id == row.id).values(body=after + row.body[len(before):])
            )


def lossy_refuse_to_drop_rows(*tables: str) -> None:
    """refuse_to_drop_rows for the two tables this downgrade drops, counting only the
    rows it cannot keep: a person_address holding more than a style (which goes back
    into honorific_*) or confirmed, and a form_of_address that staff changed from the
    seed. The operator who means it passes ``-x force=1``."""
    from alembic import context

    from app.database import RowsWouldBeLost

    if context.get_x_argument(as_dictionary=True).get('force') in {'1', 'true', 'yes'}:
        return
    bind = op.get_bind()
    holding = []
    if 'person_address' in tables:
        lost = bind.execute(sa.text(
            "SELECT count(*) FROM person_address WHERE address_block != '' OR salutation != ''"
            " OR mention != '' OR name_dative != '' OR confirmed_at IS NOT NULL"
        )).scalar()
        if lost:
            holding.append(f'person_address ({lost} row(s))')
    if 'form_of_address' in tables:
        seeded = {row[:3]: row[3:] for row in SEED}
        changed = sum(
            1
            for row in bind.execute(sa.text(
                'SELECT role, language, gender, style, function_line, salutation, mention'
                ' FROM form_of_address'
            ))
            if seeded.get(tuple(row[:3])) != tuple(row[3:])
        )
        if changed:
            holding.append(f'form_of_address ({changed} row(s))')
    if holding:
        raise RowsWouldBeLost(
            'Downgrade refused: it would drop ' + ', '.join(holding)
            + '. Back up first (`flask backup`); to drop them anyway, run '
            '`flask db downgrade -x force=1 ...`.'
        )


def downgrade() -> None:
    lossy_refuse_to_drop_rows('person_address', 'form_of_address')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('country_genitive_ru')
    with op.batch_alter_table('person', schema=None) as batch_op:
        for lang in LANGUAGES:
            batch_op.add_column(sa.Column(f'honorific_{lang}', sa.String(length=200), nullable=False, server_default=''))
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite's batch copy would keep the CHECK on a column it no longer has
            # (the metadata's naming convention makes 'gender' ck_person_gender).
            batch_op.drop_constraint('gender', type_='check')
        batch_op.drop_column('gender')
    with op.batch_alter_table('person', schema=None) as batch_op:
        for lang in LANGUAGES:
            batch_op.alter_column(f'honorific_{lang}', server_default=None)

    connection = op.get_bind()
    _rewrite_openings(connection, forward=False)
    address = sa.table('person_address', sa.column('person_id', sa.Integer), sa.column('language', sa.String), sa.column('style', sa.String))
    person = sa.table('person', sa.column('id', sa.Integer), *(sa.column(f'honorific_{l}', sa.String) for l in LANGUAGES))
    for found in connection.execute(sa.select(address).where(address.c.style != '')).mappings():
        if found['language'] in LANGUAGES:
            connection.execute(
                person.update().where(person.c.id == found['person_id']).values({f"honorific_{found['language']}": found['style'][:200]})
            )

    with op.batch_alter_table('person_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_address_person_id'))
        batch_op.drop_index(batch_op.f('ix_person_address_confirmed_by_id'))
    op.drop_table('person_address')
    op.drop_table('form_of_address')
