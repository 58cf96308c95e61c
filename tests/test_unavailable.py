"""The database down or locked: friendly 503s in the visitor's language, never a bare 500.

PostgreSQL is pointed at a port where nothing listens (no server needed, so this runs on
every backend); SQLite is a real file locked by another process holding BEGIN EXCLUSIVE.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from tests.conftest import FAST_ARGON2, PASSWORD, IsolatedClient, stamp_head

TRY_AGAIN = {"nl": "probeer het", "en": "try again", "ru": "попробуйте"}
FLASK = str(Path(sys.executable).with_name("flask"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is


def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, **config: object) -> Flask:
    monkeypatch.setenv("EREVELD_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "WTF_CSRF_ENABLED": False,
            "MAIL_SEND_IN_BACKGROUND": False,
            **FAST_ARGON2,
            **config,
        }
    )
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def postgres_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    url = f"postgresql://ereveld@127.0.0.1:{closed_port()}/ereveld"
    app = make_app(tmp_path, monkeypatch, url, DATABASE_CONNECT_TIMEOUT=2)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("language", ["nl", "en", "ru"])
def test_pages_say_try_again_in_the_visitors_language(postgres_down: Flask, language: str) -> None:
    client = postgres_down.test_client()
    for path in ("/", "/ceremonies/2026-9-mei", "/calendar.ics"):
        response = client.get(path, headers={"Accept-Language": language})
        page = response.get_data(as_text=True)
        assert response.status_code == 503, (path, page[:300])
        assert int(response.headers["Retry-After"]) > 0
        assert f'lang="{language}"' in page
        assert TRY_AGAIN[language] in page.lower()
        assert "Traceback" not in page


def test_a_login_attempt_and_the_api_get_503_not_500(postgres_down: Flask) -> None:
    client = postgres_down.test_client()
    response = client.post(
        "/login",
        data={"email": "planner@example.org", "password": PASSWORD},
        headers={"Accept-Language": "nl"},
    )
    assert response.status_code == 503
    assert TRY_AGAIN["nl"] in response.get_data(as_text=True).lower()

    api = client.get("/api/ceremonies.json")
    assert api.status_code == 503
    assert api.get_json()["status"] == "unavailable"
    assert "Retry-After" in api.headers
    health = client.get("/healthz")
    assert health.status_code == 503


def test_a_logged_in_visitor_gets_the_page_too(postgres_down: Flask) -> None:
    """The usual layout asks the database who is logged in; the 404 and the staff pages of
    someone with a session cookie must not turn into a bare 500 when it is down."""
    from flask_login.utils import _create_identifier

    client = postgres_down.test_client()
    browser = {"Accept-Language": "en"}
    # What Flask-Login's strong protection checks: the client's address and agent.
    with postgres_down.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = "a-session-token"
        session["_fresh"] = True
        session["_id"] = identifier
    for path in ("/no/such/page", "/staff/ceremonies", "/"):
        response = client.get(path, headers=browser)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, (path, page)
        assert TRY_AGAIN["en"] in page.lower()


def test_a_command_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FLASK_APP": "app",
        "EREVELD_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"postgresql://ereveld@127.0.0.1:{closed_port()}/ereveld",
        "EREVELD_DATABASE_CONNECT_TIMEOUT": "2",
    }
    env.pop("TEST_DATABASE_URL", None)
    for command in (["ceremonies", "list"], ["mail", "outbox", "2026-9-mei"], ["demo"]):
        done = subprocess.run(
            [FLASK, *command], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, command
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (command, done.stderr)
        assert "the database is unavailable" in lines[0]
        assert "Connection refused" in lines[0] or "connection" in lines[0].lower()

    target = tmp_path / "nightly.backup"
    done = subprocess.run(
        [FLASK, "backup", "--out", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "Connection refused" in done.stderr  # pg_dump's error, not its hint after it
    assert not target.exists()
    assert list(tmp_path.glob(".nightly*")) == []


@pytest.fixture
def sqlite_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on a SQLite file (whatever TEST_DATABASE_URL says) that waits 0.2 s for a
    lock before giving up, with a planner."""
    url = f"sqlite:///{tmp_path / 'locked.sqlite'}"
    app = make_app(tmp_path, monkeypatch, url, SQLITE_BUSY_TIMEOUT=0.2)
    with app.app_context():
        db.create_all()
        stamp_head(db.engine)
        create_user(db.session, "planner@example.org", PASSWORD, Role.PLANNER)
        db.session.commit()
        db.session.remove()
        yield app
        db.session.remove()
        db.engine.dispose()


LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


def test_a_write_blocked_by_another_process_gets_the_friendly_503(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    client = sqlite_app.test_client()
    wrong = {"email": "planner@example.org", "password": "wrong password"}
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(tmp_path / "locked.sqlite")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        # Reading goes on (WAL); the failed login's count is a write and waits in vain.
        assert client.get("/", headers={"Accept-Language": "ru"}).status_code == 200
        response = client.post("/login", data=wrong, headers={"Accept-Language": "nl"})
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page[:500]
        assert int(response.headers["Retry-After"]) > 0
        assert TRY_AGAIN["nl"] in page.lower()
    finally:
        assert locker.stdin is not None
        locker.stdin.close()
        locker.wait(timeout=30)
        if locker.stdout:
            locker.stdout.close()

    # The lock gone, the same request is an ordinary refused login (the form again, 400).
    response = client.post("/login", data=wrong, headers={"Accept-Language": "nl"})
    assert response.status_code == 400
    assert 'name="password"' in response.get_data(as_text=True)
