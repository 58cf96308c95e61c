"""A backup restored into a fresh instance has everything: rows, logins, links."""

from __future__ import annotations

import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
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
        # The restore keeps the replaced database as NAME_before_restore_STAMP.
        for (leftover,) in connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{name}%",)
        ).fetchall():
            connection.execute(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)')


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
        restored_cli = restored.test_cli_runner()
        assert restored_cli.invoke(args=["maintenance", "on"]).exit_code == 0
        outcome = restored_cli.invoke(args=["restore", str(target), "--yes"])
        assert outcome.exit_code == 0, outcome.output
        assert restored_cli.invoke(args=["maintenance", "off"]).exit_code == 0
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


def cli_env(app: Flask) -> dict[str, str]:
    """The environment for the real `flask` script on the test's database and instance."""
    env = {
        **os.environ,
        "FLASK_APP": "app",
        "EREVELD_INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
    }
    env.pop("TEST_DATABASE_URL", None)
    return env


FLASK = str(Path(sys.executable).with_name("flask"))


def limit_file_size(limit: int) -> Callable[[], None]:
    """For preexec_fn: no file may grow past ``limit`` bytes, as on a nearly full disk.

    SIGXFSZ ignored (as a full disk would not kill the process): the write fails with
    EFBIG, which pg_dump, a child, inherits as well.
    """

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_backup_that_runs_out_of_space_leaves_no_file(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    folder = tmp_path / "backups"
    folder.mkdir()
    target = folder / "nightly.backup"

    done = subprocess.run(
        [FLASK, "backup", "--out", str(target)],
        env=cli_env(app),
        preexec_fn=limit_file_size(48 * 1024),  # the demo needs more
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "File too large" in done.stderr  # the operating system's own reason
    assert "Traceback" not in done.stderr
    assert list(folder.iterdir()) == []  # neither the target nor a partial file

    # Without the limit the same command writes a backup that restores.
    done = subprocess.run(
        [FLASK, "backup", "--out", str(target)],
        env=cli_env(app),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in folder.iterdir()] == ["nightly.backup"]
    assert target.stat().st_mode & 0o777 == 0o600


def set_revision(revision: str) -> None:
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.session.commit()


def bad_backup(kind: str, runner: FlaskCliRunner, folder: Path) -> Path:
    """A file that must never be restored, of the given kind."""
    path = folder / f"{kind}.backup"
    if kind == "empty":
        path.touch()
    elif kind == "garbage":
        path.write_text("not a database")
    elif kind in {"truncated", "unknown revision"}:
        if kind == "unknown revision":
            head = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
            set_revision("ffffffff")  # as a newer release would leave it
        result = runner.invoke(args=["backup", "--out", str(path)])
        if kind == "unknown revision":
            set_revision(str(head))
        assert result.exit_code == 0, result.output
        if kind == "truncated":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
    elif kind == "another schema":
        if POSTGRES_URL is None:
            other = sqlite3.connect(path)
            other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
            other.execute("INSERT INTO notes (text) VALUES ('hello')")
            other.commit()
            other.close()
        else:
            db.session.execute(sa.text("ALTER TABLE alembic_version RENAME TO not_alembic"))
            db.session.commit()
            try:
                assert runner.invoke(args=["backup", "--out", str(path)]).exit_code == 1
                # A dump without our revision table: made by pg_dump itself.
                dumped = subprocess.run(
                    [
                        "pg_dump",
                        "--format=custom",
                        "--file",
                        str(path),
                        re.sub(r"\+psycopg", "", str(db.engine.url.render_as_string(False))),
                    ],
                    capture_output=True,
                    check=False,
                )
                assert dumped.returncode == 0, dumped.stderr
            finally:
                db.session.execute(sa.text("ALTER TABLE not_alembic RENAME TO alembic_version"))
                db.session.commit()
    return path


@pytest.mark.parametrize(
    "kind", ["empty", "garbage", "truncated", "another schema", "unknown revision"]
)
def test_restore_refuses_a_file_that_is_not_a_good_backup(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    tmp_path: Path,
    kind: str,
) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    bogus = bad_backup(kind, runner, tmp_path)
    before = counts()
    assert client.get("/healthz").status_code == 200
    assert runner.invoke(args=["maintenance", "on"]).exit_code == 0

    result = runner.invoke(args=["restore", str(bogus), "--yes"])

    assert result.exit_code == 1
    assert "restore refused" in result.output or "restore failed" in result.output
    assert "Restored" not in result.output
    db.session.remove()
    assert counts() == before  # the live database untouched
    assert runner.invoke(args=["maintenance", "off"]).exit_code == 0
    assert client.get("/healthz").status_code == 200
    assert [p.name for p in tmp_path.glob(".*restore*")] == []


def test_restore_is_refused_while_the_instance_serves(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "good.backup"
    assert runner.invoke(args=["backup", "--out", str(target)]).exit_code == 0
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 1
    assert "flask maintenance on" in result.output
