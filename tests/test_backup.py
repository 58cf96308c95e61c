"""A backup restored into a fresh instance has everything: rows, logins, links."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app import create_app, normalise_database_url
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.extensions import Base, db
from tests.conftest import FAST_ARGON2, PASSWORD, POSTGRES_URL, IsolatedClient


def counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's."""
    if POSTGRES_URL is None:
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    name = f"ereveld_restore_{uuid.uuid4().hex[:10]}"
    admin_url = re.sub(r"/[^/]*$", "/postgres", POSTGRES_URL)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield normalise_database_url(re.sub(r"/[^/]*$", f"/{name}", POSTGRES_URL))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore(
    app: Flask,
    runner: FlaskCliRunner,
    login: Callable[[Role], User],
    client: FlaskClient,
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner.invoke(args=["demo"])
    user = login(Role.PLANNER)
    feed_page = client.post("/staff/account/feed", follow_redirects=True)
    token = re.search(r"/calendar/staff/([\w-]+)\.ics", feed_page.get_data(as_text=True))
    assert token is not None
    before = counts()
    target = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o077 == 0

    monkeypatch.setenv("EREVELD_INSTANCE_PATH", str(tmp_path / "other-instance"))
    restored = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": fresh_database,
            "SECRET_KEY": "another-instance-key-0123456789abcdef",
            "WTF_CSRF_ENABLED": False,
            "CALENDAR_STAMP_TTL": 0,
            **FAST_ARGON2,
        }
    )
    restored.test_client_class = IsolatedClient
    with restored.app_context():
        if fresh_database.startswith("sqlite"):
            db.create_all()  # restore writes into an existing database file
        outcome = restored.test_cli_runner().invoke(args=["restore", str(target), "--yes"])
        assert outcome.exit_code == 0, outcome.output
        db.session.remove()
        assert counts() == before
        visitor = restored.test_client()
        assert (
            visitor.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        assert visitor.get("/staff/ceremonies").status_code == 200
        assert visitor.get(f"/calendar/staff/{token.group(1)}.ics").status_code == 200
        slugs = set(db.session.scalars(sa.select(Ceremony.slug)))
        assert len(slugs) == before["ceremony"]
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_text("not a database")
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code == 1
    assert "restore failed" in result.output
    assert os.path.exists(bogus)
