"""Ereveld as an operator runs it: gunicorn in production mode, the `flask` script, and a
database of its own for each server (shared by the deployment test files)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

import psycopg
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
    """The environment of a production host behind a proxy for ereveld.example."""
    env = {
        **os.environ,
        "EREVELD_INSTANCE_PATH": str(tmp_path / "instance"),
        "EREVELD_ENV_NAME": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-enough-1234",
        "DATABASE_URL": database or f"sqlite:///{tmp_path / 'prod.sqlite'}",
        "EREVELD_PUBLIC_BASE_URL": "https://ereveld.example",
        "EREVELD_TRUSTED_HOSTS": '["ereveld.example", "127.0.0.1"]',
        "EREVELD_PROXY_FIX_X_FOR": "1",
    }
    env.pop("TEST_DATABASE_URL", None)
    return env | extra


@contextmanager
def own_database(tmp_path: Path, sqlite_name: str = "prod.sqlite") -> Iterator[str]:
    """An empty database for one server, of the suite's kind: a SQLite file, or a
    PostgreSQL database of its own (never the suite's, whose tables conftest made without
    migrations), made through the server's maintenance database."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / sqlite_name}"
        return
    name = f"ereveld_deploy_{uuid.uuid4().hex[:10]}"
    admin = make_conninfo(POSTGRES_URL, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_url(normalise_database_url(POSTGRES_URL)).set(database=name)
        yield url.render_as_string(hide_password=False)
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
def gunicorn(env: dict[str, str], *options: str) -> Iterator[tuple[str, Path]]:
    """gunicorn as documented (two workers unless told), on a free port, once it accepts
    connections; yields its base URL and its log file."""
    port = free_port()
    log = Path(env["EREVELD_INSTANCE_PATH"]).parent / f"gunicorn-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                str(GUNICORN),
                *(options or ("-w", "2")),
                "-b",
                f"127.0.0.1:{port}",
                "--forwarded-allow-ips",
                "127.0.0.1",
                "app.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=30)
