"""Backups that can be restored: SQLite's backup API (never a file copy, which misses the
WAL) or pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3

# Runs pg_dump/pg_restore only, found with shutil.which, with arguments from our config.
import subprocess  # nosec B404
from pathlib import Path

from sqlalchemy.engine import make_url

PG_TIMEOUT = 600


def _tool(name: str) -> str:
    """The full path of a PostgreSQL client program (Debian: postgresql-client)."""
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not installed (Debian package postgresql-client)")
    return path


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise ValueError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_arguments(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password goes by environment."""
    parsed = make_url(url)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return [*args, "--dbname", str(parsed.database)], env


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at ``url`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            source.close()
            destination.close()
    else:
        args, env = _pg_arguments(url)
        subprocess.run(  # noqa: S603  # nosec B603
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
            check=True,
            env=env,
            timeout=PG_TIMEOUT,
            capture_output=True,
        )
    target.chmod(0o600)  # personal data
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup in ``source``.

    Stop the app first: running workers would keep writing to what is being replaced.
    """
    if not source.is_file():
        raise FileNotFoundError(source)
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_path(url))
        try:
            with live:
                backup_db.backup(live)
        finally:
            backup_db.close()
            live.close()
    else:
        args, env = _pg_arguments(url)
        subprocess.run(  # noqa: S603  # nosec B603
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(source),
            ],
            check=True,
            env=env,
            timeout=PG_TIMEOUT,
            capture_output=True,
        )
