"""Guest texts per language: hosts as rows, dress, practical notes, access, performers.

Revision ID: 0012_guest_texts
Revises: 0010
Create Date: 2026-12-05 16:30:00

Written by hand. What happens to the old single texts (chosen, see the upgrade):
- ceremony.cohosts becomes one host of the edition: the text goes into that host's
  Dutch function (staff wrote these in Dutch, e.g. "De burgemeester van Leusden en het
  bestuur ..."), or its Russian one when it is in Cyrillic; the other languages stay
  empty, so the edition page lists them as missing translations and letters in those
  languages leave the host out (the foundation alone invites) instead of printing Dutch.
- ceremony.dress_code goes to dress_code_nl (Cyrillic: dress_code_ru) by the same rule.
- Invitations had the edition's cohosts copied in at creation; where the copy still
  equals the edition's text it is cleared, so that the edition's hosts apply.
- venue.notes stays as the internal staff note; it was shown to guests as "parking and
  access" (an English text), so it is also copied into access_notes_en.
- programme_item.performer (a name) goes into all three languages.
The downgrade writes back the first non-empty language (nl, en, ru) of each text and the
hosts ("name, function") joined with the word for "and" of that language, before it drops
ceremony_host; no text is lost.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_guest_texts'
down_revision = '0011_forms_of_address'
branch_labels = None
depends_on = None

LANGS = ('nl', 'en', 'ru')


def _cyrillic(text: str) -> bool:
    return any('\u0400' <= ch <= '\u04ff' for ch in text)


def upgrade() -> None:
    op.create_table(
        'ceremony_host',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ceremony_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('function_nl', sa.String(length=300), nullable=False),
        sa.Column('function_en', sa.String(length=300), nullable=False),
        sa.Column('function_ru', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['ceremony_id'], ['ceremony.id'], name=op.f('fk_ceremony_host_ceremony_id_ceremony'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ceremony_host')),
    )
    with op.batch_alter_table('ceremony_host', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ceremony_host_ceremony_id'), ['ceremony_id'], unique=False)

    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        for lang in LANGS:
            batch_op.add_column(sa.Column(f'dress_code_{lang}', sa.String(length=200), nullable=False, server_default=''))
        for lang in LANGS:
            batch_op.add_column(sa.Column(f'practical_notes_{lang}', sa.String(length=1000), nullable=False, server_default=''))
    with op.batch_alter_table('ceremony_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_hosts', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('venue', schema=None) as batch_op:
        for lang in LANGS:
            batch_op.add_column(sa.Column(f'access_notes_{lang}', sa.String(length=1000), nullable=False, server_default=''))
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        for lang in LANGS:
            batch_op.add_column(sa.Column(f'performer_{lang}', sa.String(length=200), nullable=False, server_default=''))

    bind = op.get_bind()
    for ceremony_id, cohosts, dress in bind.execute(
        sa.text('SELECT id, cohosts, dress_code FROM ceremony')
    ).fetchall():
        if cohosts and cohosts.strip():
            text = cohosts.strip()[:300]
            lang = 'ru' if _cyrillic(text) else 'nl'
            values = {f'function_{code}': (text if code == lang else '') for code in LANGS}
            bind.execute(
                sa.text(
                    'INSERT INTO ceremony_host (ceremony_id, position, name, function_nl, '
                    'function_en, function_ru) VALUES (:c, 0, \'\', :function_nl, '
                    ':function_en, :function_ru)'
                ),
                {'c': ceremony_id, **values},
            )
            bind.execute(
                sa.text("UPDATE invitation SET cohosts = '' WHERE ceremony_id = :c AND cohosts = :t"),
                {'c': ceremony_id, 't': cohosts},
            )
        if dress and dress.strip():
            lang = 'ru' if _cyrillic(dress) else 'nl'
            bind.execute(
                sa.text(f'UPDATE ceremony SET dress_code_{lang} = :d WHERE id = :c'),
                {'d': dress.strip(), 'c': ceremony_id},
            )
    bind.execute(sa.text("UPDATE venue SET access_notes_en = substr(notes, 1, 1000) WHERE notes <> ''"))
    bind.execute(
        sa.text(
            'UPDATE programme_item SET performer_nl = performer, performer_en = performer, '
            'performer_ru = performer'
        )
    )

    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.drop_column('dress_code')
        batch_op.drop_column('cohosts')
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        batch_op.drop_column('performer')


def downgrade() -> None:
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohosts', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('dress_code', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('performer', sa.String(length=200), nullable=False, server_default=''))

    bind = op.get_bind()
    joiner = {'nl': ' en ', 'en': ' and ', 'ru': ' и '}
    for (ceremony_id,) in bind.execute(sa.text('SELECT id FROM ceremony')).fetchall():
        hosts = bind.execute(
            sa.text(
                'SELECT name, function_nl, function_en, function_ru FROM ceremony_host '
                'WHERE ceremony_id = :c ORDER BY position, id'
            ),
            {'c': ceremony_id},
        ).fetchall()
        if hosts:
            # The first language any host has a function in; a host without one by name.
            lang = next((code for code in LANGS if any(h[1 + LANGS.index(code)] for h in hosts)), 'nl')
            parts = [
                ', '.join(p for p in (h[0].strip(), h[1 + LANGS.index(lang)].strip()) if p)
                for h in hosts
            ]
            text = joiner[lang].join(p for p in parts if p)[:500]
            bind.execute(
                sa.text('UPDATE ceremony SET cohosts = :t WHERE id = :c'), {'t': text, 'c': ceremony_id}
            )
    bind.execute(
        sa.text(
            "UPDATE ceremony SET dress_code = CASE WHEN dress_code_nl <> '' THEN dress_code_nl "
            "WHEN dress_code_en <> '' THEN dress_code_en ELSE dress_code_ru END"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE programme_item SET performer = CASE WHEN performer_nl <> '' THEN performer_nl "
            "WHEN performer_en <> '' THEN performer_en ELSE performer_ru END"
        )
    )

    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        for lang in reversed(LANGS):
            batch_op.drop_column(f'performer_{lang}')
    with op.batch_alter_table('venue', schema=None) as batch_op:
        for lang in reversed(LANGS):
            batch_op.drop_column(f'access_notes_{lang}')
    with op.batch_alter_table('ceremony_series', schema=None) as batch_op:
        batch_op.drop_column('default_hosts')
    with op.batch_alter_table('ceremony', schema=None) as batch_op:
        for lang in reversed(LANGS):
            batch_op.drop_column(f'practical_notes_{lang}')
        for lang in reversed(LANGS):
            batch_op.drop_column(f'dress_code_{lang}')
    with op.batch_alter_table('ceremony_host', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ceremony_host_ceremony_id'))
    op.drop_table('ceremony_host')
