"""The production setup as documented: gunicorn workers behind a reverse proxy."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import normalise_database_url
from tests.production import (
    ROOT,
    flask,
    free_port,
    gunicorn,
    own_database,
    production_env,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("production")
    with own_database(tmp_path) as database:
        env = production_env(tmp_path, database)
        migrated = flask(env, "db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        with gunicorn(env) as (base, _log):
            yield base


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_behind_a_proxy(server: str) -> None:
    status, headers = get(
        server + "/healthz",
        {"Host": "ereveld.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    assert status == 200
    # The proxy said https: the app knows, and tells browsers to stay on https.
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_unknown_hosts_are_refused(server: str) -> None:
    status, _ = get(server + "/healthz", {"Host": "evil.example"})
    assert status == 400


def test_refuses_to_start_with_a_development_key(tmp_path: Path) -> None:
    env = production_env(tmp_path, SECRET_KEY="dev")
    result = subprocess.run(
        [sys.executable, "-c", "import app.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def staff_emails(database: str) -> set[str]:
    engine = sa.create_engine(normalise_database_url(database))
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.text("SELECT email FROM user_account")).scalars())
    finally:
        engine.dispose()


def test_restore_while_serving(tmp_path: Path) -> None:
    """gunicorn serving: a restore is refused until maintenance is on, then answers 503
    (pages in the visitor's language, /healthz with the reason) and goes through."""
    with own_database(tmp_path) as database:
        env = production_env(tmp_path, database)
        assert flask(env, "db", "upgrade").returncode == 0
        password = "correct horse battery staple"
        for email in ("kept@example.org", "later@example.org"):
            made = flask(
                env,
                "users",
                "create",
                email,
                "--role",
                "admin",
                "--password-stdin",
                stdin=password + "\n",
            )
            assert made.returncode == 0, made.stderr
            if email == "kept@example.org":
                backup_file = tmp_path / "before.backup"
                done = flask(env, "backup", "--out", str(backup_file))
                assert done.returncode == 0, done.stderr
        host = {"Host": "ereveld.example"}

        with gunicorn(env) as (base, _log):
            assert fetch(base + "/healthz", host)[0] == 200

            refused = flask(env, "restore", str(backup_file), "--yes")
            assert refused.returncode == 1
            assert "flask maintenance on" in refused.stderr
            assert "Traceback" not in refused.stderr
            assert staff_emails(database) == {"kept@example.org", "later@example.org"}

            assert flask(env, "maintenance", "on").returncode == 0
            status, headers, body = fetch(base + "/healthz", host)
            assert status == 503
            assert json.loads(body)["reason"] == "maintenance"
            status, headers, body = fetch(base + "/", {**host, "Accept-Language": "ru"})
            assert status == 503
            assert int(headers["Retry-After"]) > 0
            assert "попробуйте" in body.lower()

            done = flask(env, "restore", str(backup_file), "--yes")
            assert done.returncode == 0, done.stderr
            assert flask(env, "maintenance", "off").returncode == 0

            status, _, body = fetch(base + "/healthz", host)
            assert status == 200, body
            assert fetch(base + "/login", host)[0] == 200
            assert staff_emails(database) == {"kept@example.org"}


def test_database_down_under_gunicorn(tmp_path: Path) -> None:
    """PostgreSQL not listening: every page is a 503 in the visitor's language that says
    to try again (never a bare English "Internal Server Error"); the API answers JSON."""
    env = production_env(
        tmp_path,
        f"postgresql://ereveld@127.0.0.1:{free_port()}/ereveld",
        EREVELD_DATABASE_CONNECT_TIMEOUT="2",
    )
    host = {"Host": "ereveld.example"}
    with gunicorn(env) as (base, _log):
        for language, words in (("nl", "probeer het"), ("en", "try again"), ("ru", "попробуйте")):
            status, headers, body = fetch(base + "/", {**host, "Accept-Language": language})
            assert status == 503, body[:300]
            assert int(headers["Retry-After"]) > 0
            assert words in body.lower()
            assert "Internal Server Error" not in body
        status, headers, body = fetch(base + "/api/ceremonies.json", host)
        assert status == 503
        assert json.loads(body)["status"] == "unavailable"
        status, _, body = fetch(base + "/healthz", host)
        assert status == 503
        assert json.loads(body)["database"] == "unreachable"
        status, _, body = fetch(base + "/login", {**host, "Accept-Language": "en"})
        assert status != 500  # the form itself needs no database; a 503 would do
