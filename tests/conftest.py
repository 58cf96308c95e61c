"""Fixtures: an app on a real database (SQLite file per test, or PostgreSQL).

Set TEST_DATABASE_URL to run the suite on PostgreSQL: the tables are made once per run
and emptied after every test; on SQLite each test gets a fresh file.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from psycopg import sql
from werkzeug.test import TestResponse

from app import create_app, models, normalise_database_url
from app.auth.models import Role, User
from app.auth.services import create_user
from app.ceremonies.models import Ceremony, CeremonySeries
from app.ceremonies.seed import seed
from app.ceremonies.services import create_from_series
from app.extensions import Base, db

pytest_plugins = [
    "tests.browser_fixtures",  # server and browser fixtures
    "tests.mail_fixtures",  # SMTP, IMAP and TLS servers on loopback, a 9 May to write about
]
del models  # imported for its side effect: every table is in the metadata
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery"

# Cheap hashing in tests; the production parameters are tested on their own.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}"


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own application context.

    The test holds one app context open for its own database work, and Flask would reuse
    it for every request: `g` (the logged-in user, the locale) and the database session
    would carry over from one request, or one client, to the next. In production each
    request has a fresh context; so does each request here.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """On PostgreSQL: make the tables once for the run, in an emptied schema.

    The whole schema goes, not only this checkout's tables: a run of another branch may
    have left tables (with keys into ours) that a drop_all of our models cannot drop."""
    if not POSTGRES_URL:
        yield None
        return
    url = normalise_database_url(worker_database(POSTGRES_URL))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    Base.metadata.create_all(engine)
    stamp_head(engine)
    engine.dispose()
    yield url


def stamp_head(engine: sa.Engine) -> None:
    """Mark tables made with create_all as being at the migrations' head, as `flask db
    upgrade` would: /healthz and backups ask for the revision."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app import PROJECT_ROOT

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        connection.exec_driver_sql(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
        )
        connection.execute(sa.text("INSERT INTO alembic_version VALUES (:head)"), {"head": head})


def worker_database(url: str) -> str:
    """With pytest-xdist each worker gets a database of its own beside the given one
    (test -> test_gw0, test_gw1), made on first use: the tables are emptied after every
    test, so two workers must never share them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"
    with psycopg.connect(url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (own,)
        ).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(own)))
    return f"{base}/{own}"


def test_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "CALENDAR_STAMP_TTL": 0,  # every request sees the latest change
        "LETTER_JOBS_INLINE": True,  # no thread outlives a test; test_letters turns it off
        "MAIL_SEND_IN_BACKGROUND": False,  # the tests send when they mean to
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        **FAST_ARGON2,
    }


@pytest.fixture
def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str | None
) -> Iterator[Flask]:
    monkeypatch.setenv("EREVELD_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    url = postgres_url or f"sqlite:///{tmp_path / 'test.sqlite'}"
    application = create_app(test_config(tmp_path, url))
    application.test_client_class = IsolatedClient

    with application.app_context():
        if postgres_url is None:
            db.create_all()
            stamp_head(db.engine)
        yield application
        db.session.remove()
        if postgres_url is not None:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    def make(role: Role = Role.PLANNER, email: str | None = None) -> User:
        user = create_user(db.session, email or f"{role.value}@example.org", PASSWORD, role)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., User]) -> Callable[[Role], User]:
    """Log the test client in as a new user of the given role."""

    def log_in(role: Role = Role.PLANNER) -> User:
        user = make_user(role)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return log_in


@pytest.fixture
def seeded(app: Flask) -> None:
    seed(db.session)
    db.session.commit()


def series(slug: str) -> CeremonySeries:
    found = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == slug))
    assert found is not None
    return found


@pytest.fixture
def edition(seeded: None) -> Callable[..., Ceremony]:
    """Make the edition of a seeded series in a year: ``edition("4-mei", 2026)``."""

    def make(slug: str = "9-mei", year: int = 2026, **changes: Any) -> Ceremony:
        ceremony = create_from_series(db.session, series(slug), year)
        for name, value in changes.items():
            setattr(ceremony, name, value)
        db.session.commit()
        return ceremony

    return make
