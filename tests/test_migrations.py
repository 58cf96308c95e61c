"""Migrations on real, empty databases: no drift from the models, down and up again, and
table rebuilds on a populated database that keep every row.

SQLite runs on files in tmp_path. With TEST_DATABASE_URL set, each test gets a throwaway
PostgreSQL database of its own (the suite's database holds the tables that conftest made
with create_all, so migrations could not start from empty there). Tests about SQLite
itself (the env.py guard, the connection pragmas) always run on a SQLite file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from app import PROJECT_ROOT, create_app
from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from tests.production import own_database

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
MIGRATIONS = PROJECT_ROOT / "migrations"
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}

# (table, column, old length, new length): widening a column makes batch mode rebuild the
# table on SQLite (create a copy, copy the rows, drop the old table, rename). With foreign
# keys on, dropping `venue` nulls or refuses the rows that point at it, and dropping
# `ceremony` deletes every programme item through ON DELETE CASCADE.
VENUE = ("venue", "address", 500, 600)
CEREMONY = ("ceremony", "title_ru", 200, 250)

REVISION = '''"""Synthetic: widen columns, rebuilding the tables on SQLite.

Revision ID: 9999
Revises: {head}
"""
from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL alters in place; it cannot drop a table that others reference.
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
{upgrade}


def downgrade() -> None:
{downgrade}
'''

ALTER = """    with op.batch_alter_table("{table}", recreate={recreate}) as b:
        b.alter_column("{column}", existing_type=sa.String({old}), type_=sa.String({new}))"""

FAILING_REVISION = '''"""Synthetic: a migration that fails half-way.

Revision ID: 9999
Revises: {head}
"""
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")
    raise ValueError("this migration fails")


def downgrade() -> None:
    pass
'''


# --- databases and apps ---------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'migrated.sqlite'}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL database made for this test."""
    with own_database(tmp_path, "migrated.sqlite") as url:
        yield url


def in_app_context(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on ``url``, inside its app context; its engine closed afterwards."""
    monkeypatch.setenv("EREVELD_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "x" * 40, **FAST_ARGON2}
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def migrated_app(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """An app on an empty database of the backend under test (nothing migrated yet)."""
    yield from in_app_context(database_url, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_app(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on an empty SQLite file, whatever TEST_DATABASE_URL says."""
    yield from in_app_context(sqlite_url, tmp_path, monkeypatch)


# --- helpers --------------------------------------------------------------------------


def current_head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def migrations_with(tmp_path: Path, revision: str, env_py: str | None = None) -> str:
    """A copy of migrations/ with one extra revision on top of the head (and another env.py)."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_synthetic.py").write_text(revision.format(head=current_head()))
    if env_py is not None:
        (copy / "env.py").write_text(env_py)
    return str(copy)


def rebuild_revision(*changes: tuple[str, str, int, int]) -> str:
    def alters(direction: str) -> str:
        return "\n".join(
            ALTER.format(
                table=table,
                column=column,
                recreate="recreate" if direction == "up" else '"auto"',
                old=old if direction == "up" else new,
                new=new if direction == "up" else old,
            )
            for table, column, old, new in changes
        )

    # The template's own braces are the revision's; only {head} is filled in later.
    return REVISION.replace("{upgrade}", alters("up")).replace("{downgrade}", alters("down"))


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def model_tables() -> set[str]:
    return {table.name for table in db.metadata.sorted_tables}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but alembic_version, in primary-key order."""
    metadata = sa.MetaData()
    metadata.reflect(db.engine)
    found: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as connection:
        for name in sorted(metadata.tables):
            if name == "alembic_version":
                continue
            table = metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            found[name] = [tuple(r) for r in connection.execute(sa.select(table).order_by(*order))]
    return found


def row_counts(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, int]:
    return {name: len(table_rows) for name, table_rows in rows.items()}


def populate(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Demo data (venues, series, two years of editions with programmes) and a user."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    create_user(db.session, "planner@example.org", "correct horse battery", Role.PLANNER)
    db.session.commit()
    db.session.remove()
    rows = snapshot()
    for table in ("venue", "ceremony_series", "ceremony", "programme_item", "user_account"):
        assert rows[table], f"no rows in {table}: the test would prove nothing"
    return rows


def column_length(table: str, column: str) -> int | None:
    columns = {c["name"]: c for c in sa.inspect(db.engine).get_columns(table)}
    return getattr(columns[column]["type"], "length", None)


def pragma(name: str) -> Any:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def foreign_key_problems() -> list[Any]:
    with db.engine.connect() as connection:
        return list(connection.exec_driver_sql("PRAGMA foreign_key_check").all())


# --- tests ----------------------------------------------------------------------------


def test_upgrade_matches_models_and_downgrades(migrated_app: Flask) -> None:
    flask_migrate.upgrade()
    assert table_names() == model_tables() | {"alembic_version"}

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "models and migrations differ: write a revision"

    flask_migrate.downgrade(revision="base")
    assert table_names() == {"alembic_version"}

    flask_migrate.upgrade()
    assert table_names() == model_tables() | {"alembic_version"}
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == current_head()


def test_table_rebuild_keeps_every_row(migrated_app: Flask, tmp_path: Path) -> None:
    flask_migrate.upgrade()
    before = populate(migrated_app)

    flask_migrate.upgrade(directory=migrations_with(tmp_path, rebuild_revision(VENUE, CEREMONY)))

    after = snapshot()
    assert row_counts(after) == row_counts(before)
    assert after == before  # not a row lost, not a foreign key nulled
    assert column_length("venue", "address") == 600
    assert column_length("ceremony", "title_ru") == 250
    if db.engine.dialect.name == "sqlite":
        assert foreign_key_problems() == []
        assert pragma("foreign_keys") == 1


def test_the_env_guard_is_what_keeps_the_rows(sqlite_app: Flask, tmp_path: Path) -> None:
    """Without env.py's foreign-keys-off guard the same rebuild loses the programmes.

    This proves that the test above can fail: it is the guard, not luck, that passes it.
    """
    flask_migrate.upgrade()
    before = populate(sqlite_app)
    env_py = (MIGRATIONS / "env.py").read_text()
    unguarded = env_py.replace('"PRAGMA foreign_keys=OFF"', '"PRAGMA foreign_keys=ON"')
    assert unguarded != env_py, "env.py no longer switches foreign keys off: update this test"

    flask_migrate.upgrade(
        directory=migrations_with(tmp_path, rebuild_revision(CEREMONY), unguarded)
    )

    after = snapshot()
    assert row_counts(after) != row_counts(before)
    assert row_counts(after)["programme_item"] == 0  # cascaded away with the old table
    assert row_counts(after)["ceremony"] == row_counts(before)["ceremony"]


def test_app_connections_have_the_sqlite_pragmas(sqlite_app: Flask) -> None:
    flask_migrate.upgrade()  # migrating switches foreign keys off on its connection
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    # The session's connection, the one views and services use.
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() == 5000
    db.session.rollback()


def test_failed_migration_leaves_foreign_keys_on(sqlite_app: Flask, tmp_path: Path) -> None:
    """A migration that raises must not hand its foreign-keys-off connection to the app."""
    flask_migrate.upgrade()
    with pytest.raises(ValueError, match="this migration fails"):
        flask_migrate.upgrade(directory=migrations_with(tmp_path, FAILING_REVISION))
    assert pragma("foreign_keys") == 1


# --- downgrades that would drop rows --------------------------------------------------

# Tables a downgrade may drop without asking: none yet. A throttle table (login failures
# counted for a few minutes) could be listed here, with the reason beside it.
# Login throttle lanes and pending second-factor steps live minutes: losing them on a
# downgrade costs nothing (0009 says so), so no one is asked.
# ceremony_host: 0012's downgrade first writes every host (name and function) back into
# ceremony.cohosts, the column it came from.
DROPPED_WITHOUT_ASKING: set[str] = {"login_throttle", "pending_login", "ceremony_host"}


def queue_a_message() -> None:
    from app.ceremonies.models import Ceremony
    from app.mail.models import MessageKind, MessageStatus, OutboxMessage

    ceremony = db.session.scalars(sa.select(Ceremony)).first()
    assert ceremony is not None
    message = OutboxMessage(
        kind=MessageKind.INVITATION,
        status=MessageStatus.QUEUED,
        ceremony=ceremony,
        language="nl",
        to_address="embassy@example.org",
        subject="Uitnodiging",
        body="Wij nodigen u uit.",
        message_id="<downgrade-test@ereveld.example>",
    )
    db.session.add(message)
    db.session.commit()
    db.session.remove()


def outbox_subjects() -> list[str]:
    with db.engine.connect() as connection:
        query = sa.text("SELECT subject FROM outbox_message ORDER BY id")
        return list(connection.execute(query).scalars())


def test_downgrade_past_the_outbox_is_refused_while_it_holds_mail(migrated_app: Flask) -> None:
    from app.database import RowsWouldBeLost

    flask_migrate.upgrade()
    populate(migrated_app)
    queue_a_message()
    outbox = outbox_subjects()
    assert "Uitnodiging" in outbox

    with pytest.raises(RowsWouldBeLost, match=rf"outbox_message \({len(outbox)} row"):
        flask_migrate.downgrade(revision="0005")
    assert "outbox_message" in table_names()
    assert outbox_subjects() == outbox

    # The command line says it in one line and exits 1, without a traceback.
    result = migrated_app.test_cli_runner().invoke(args=["db", "downgrade", "0005"])
    assert result.exit_code == 1
    assert "Downgrade refused" in result.output
    assert "force=1" in result.output
    assert outbox_subjects() == outbox

    flask_migrate.downgrade(revision="0005", x_arg=["force=1"])
    assert "outbox_message" not in table_names()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0005"


def test_every_table_dropping_downgrade_refuses_to_drop_rows() -> None:
    """Read every revision: a downgrade that drops a table names it to refuse_to_drop_rows."""
    import ast

    checked = 0
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        tree = ast.parse(path.read_text())
        downgrade = next(
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name == "downgrade"
        )
        dropped: set[str] = set()
        guarded: set[str] = set()
        for node in ast.walk(downgrade):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            strings = {
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            }
            if name == "op.drop_table":
                dropped |= strings
            elif name.endswith("refuse_to_drop_rows"):
                guarded |= strings
        unguarded = dropped - guarded - DROPPED_WITHOUT_ASKING
        assert not unguarded, f"{path.name}: downgrade drops {sorted(unguarded)} unguarded"
        checked += bool(dropped)
    assert checked >= 6


def test_forms_of_address_keep_the_old_honorifics_both_ways(migrated_app: Flask) -> None:
    """0011 turns honorific_nl/en/ru into style overrides, and its downgrade puts them
    back; a confirmation the downgrade could not keep makes it refuse."""
    from app.database import RowsWouldBeLost

    flask_migrate.upgrade(revision="0010")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO person (given_name, family_name, native_name, patronymic,"
                " honorific_nl, honorific_en, honorific_ru, email, phone, language, relation,"
                " notes, created_at, updated_at) VALUES ('Ion', 'Popescu', '', '',"
                " 'Zijne Excellentie', 'H.E.', '', '', '', 'en', '', '', :now, :now)"
            ),
            {"now": "2026-12-05 12:00:00+00:00"},
        )
        connection.execute(
            sa.text(
                "INSERT INTO mail_text (kind, language, subject, body, updated_at, version)"
                " VALUES ('invitation', 'nl', 'U', :body, :now, 1)"
            ),
            {"body": "Geachte {addressee},\n\nTot ziens. {rsvp_link}", "now": "2026-12-05"},
        )
    flask_migrate.upgrade(revision="0011_forms_of_address")
    with db.engine.connect() as connection:
        styles = connection.execute(
            sa.text("SELECT language, style, confirmed_at FROM person_address ORDER BY language")
        ).all()
        seeded = connection.execute(sa.text("SELECT count(*) FROM form_of_address")).scalar()
        gender = connection.execute(sa.text("SELECT gender FROM person")).scalar()
        body = connection.execute(sa.text("SELECT body FROM mail_text")).scalar()
    # Staff's own text no longer glues "Geachte" to a form of address.
    assert body == "{salutation}\n\nTot ziens. {rsvp_link}"
    assert [tuple(row) for row in styles] == [
        ("en", "H.E.", None),
        ("nl", "Zijne Excellentie", None),
    ]
    assert seeded == 45  # 5 roles x 3 languages x 3 genders
    assert gender == "unknown"
    assert "honorific_en" not in {c["name"] for c in sa.inspect(db.engine).get_columns("person")}

    with db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE person_address SET confirmed_at = :now WHERE language = 'en'"),
            {"now": "2026-12-05 12:00:00+00:00"},
        )
    with pytest.raises(RowsWouldBeLost, match=r"person_address \(1 row"):
        flask_migrate.downgrade(revision="0010")
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE person_address SET confirmed_at = NULL"))

    flask_migrate.downgrade(revision="0010")
    with db.engine.connect() as connection:
        back = connection.execute(
            sa.text("SELECT honorific_nl, honorific_en, honorific_ru FROM person")
        ).one()
        body = connection.execute(sa.text("SELECT body FROM mail_text")).scalar()
    assert tuple(back) == ("Zijne Excellentie", "H.E.", "")
    assert body == "Geachte {addressee},\n\nTot ziens. {rsvp_link}"
    assert "person_address" not in table_names()
