"""The production setup as documented: gunicorn workers behind a reverse proxy."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from app import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
FLASK = Path(sys.executable).parent / "flask"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(tmp_path: Path, database: str | None = None, **extra: str) -> dict[str, str]:
    database = database or f"sqlite:///{tmp_path / 'prod.sqlite'}"
    env = {
        **os.environ,
        "EREVELD_INSTANCE_PATH": str(tmp_path / "instance"),
        "EREVELD_ENV_NAME": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-enough-1234",
        "DATABASE_URL": database,
        "EREVELD_PUBLIC_BASE_URL": "https://ereveld.example",
        "EREVELD_TRUSTED_HOSTS": '["ereveld.example", "127.0.0.1"]',
        "EREVELD_PROXY_FIX_X_FOR": "1",
    }
    env.pop("TEST_DATABASE_URL", None)
    return env | extra


@contextmanager
def own_database(tmp_path: Path) -> Iterator[str]:
    """An empty database for one server: a SQLite file, or a PostgreSQL database of its own
    (never the suite's, whose tables conftest made without migrations)."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'prod.sqlite'}"
        return
    name = f"ereveld_deploy_{uuid.uuid4().hex[:10]}"
    admin = make_conninfo(POSTGRES_URL, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            # A restore keeps the database it replaced as NAME_before_restore_STAMP.
            for (leftover,) in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{name}%",)
            ).fetchall():
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(leftover)
                    )
                )


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> CompletedProcess[str]:
    """The `flask` script as an operator runs it on the production host."""
    return subprocess.run(
        [str(FLASK), *args],
        cwd=ROOT,
        env={**env, "FLASK_APP": "app.wsgi"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[str]:
    """gunicorn with two workers as documented; its base URL once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--forwarded-allow-ips",
            "127.0.0.1",
            "app.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(
                        process.stderr.read().decode() if process.stderr else "gunicorn died"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("production")
    with own_database(tmp_path) as database:
        env = production_env(tmp_path, database)
        migrated = flask(env, "db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        with gunicorn(env) as base:
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

        with gunicorn(env) as base:
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
    with gunicorn(env) as base:
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
