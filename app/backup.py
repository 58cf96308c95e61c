"""Backups that can be restored: SQLite's backup API (never a file copy, which misses the
WAL) or pg_dump/pg_restore for PostgreSQL.

A backup is written to a temporary file beside its target (mode 0600), checked as a
restore would check it, flushed to disk, and only then renamed into place: a full disk or
a killed run leaves no file that looks like a good backup. A restore checks the file
before it touches anything (see ``check_backup``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3

# Runs pg_dump/pg_restore only, found with shutil.which, with arguments from our config.
import subprocess  # nosec B404
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from app.files import sync_folder

PG_TIMEOUT = 600
SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"
CHUNK = 1024 * 1024
# What a tool's death by signal says about the machine, for the operator.
SIGNAL_CAUSES = {
    "SIGXFSZ": " (File too large: the file size limit, ulimit -f, was reached)",
    "SIGKILL": " (out of memory, or stopped by hand)",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in plain words."""


def _tool(name: str) -> str:
    """The full path of a PostgreSQL client program (Debian: postgresql-client)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client)")
    return path


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def pg_arguments(url: str) -> tuple[list[str], dict[str, str]]:
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


def run_tool(args: list[str], env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL client program; its own last words of error when it fails."""
    try:
        result = subprocess.run(  # noqa: S603  # nosec B603
            args, env=env, timeout=PG_TIMEOUT, capture_output=True, text=True, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"{Path(args[0]).name} took longer than {PG_TIMEOUT} s") from error
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        why = SIGNAL_CAUSES.get(name, "")
        raise BackupError(f"{Path(args[0]).name} was killed by {name}{why}")
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        # "pg_dump: error: ... No space left on device", not the hint printed after it.
        errors = [line for line in lines if "error:" in line]
        reason = (errors or lines or [f"exit status {result.returncode}"])[0]
        raise BackupError(reason)
    return result.stdout


def os_reason(error: OSError) -> str:
    """'No space left on device' rather than '[Errno 28] No space left on device: ...'."""
    return error.strerror or str(error)


# --- checking a backup file -------------------------------------------------------------


def check_backup(url: str, path: Path) -> str:
    """The Alembic revision of the backup in ``path``, or BackupError saying what is wrong.

    SQLite: the file opens read-only, passes ``integrity_check`` and has a revision.
    PostgreSQL: ``pg_restore --list`` reads it and it holds the alembic_version table.
    Whether the revision is one this code knows is for the caller (restore) to judge.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {os_reason(error)}") from error
    if size == 0:
        raise BackupError(f"{path} is empty (0 bytes): not a backup")
    if is_sqlite(url):
        if head != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database")
        return _check_sqlite(path)
    if not head.startswith(PG_CUSTOM_HEADER):
        raise BackupError(f"{path} is not a pg_dump archive (custom format)")
    return _check_pg(url, path)


def _read_only(path: Path) -> sqlite3.Connection:
    """A file nobody else writes, opened so that reading it leaves nothing beside it.

    Without ``immutable`` a file copied from a WAL database would get -wal and -shm files.
    """
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _check_sqlite(path: Path) -> str:
    try:
        connection = _read_only(path)
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be opened: {error}") from error
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"{path} is damaged: {'; '.join(problems[:3])}")
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError as error:
            raise BackupError(f"{path} is not an Ereveld database (no alembic_version)") from error
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is damaged: {error}") from error
    finally:
        connection.close()
    if row is None:
        raise BackupError(f"{path} has no Alembic revision: not an Ereveld database")
    return str(row[0])


def _check_pg(url: str, path: Path) -> str:
    _, env = pg_arguments(url)
    restore = _tool("pg_restore")
    try:
        listing = run_tool([restore, "--list", str(path)], env)
    except BackupError as error:
        raise BackupError(f"{path} cannot be read by pg_restore: {error}") from error
    if not re.search(r"TABLE DATA \S+ alembic_version ", listing):
        raise BackupError(f"{path} holds no alembic_version table: not an Ereveld database")
    # The table's rows as the COPY script pg_restore would run, read without restoring.
    script = run_tool(
        [restore, "--data-only", "--table=alembic_version", "--file=-", str(path)], env
    )
    match = re.search(r"^COPY \S*alembic_version .*FROM stdin;\n(\w+)\n", script, re.MULTILINE)
    if match is None:
        raise BackupError(f"{path} has no Alembic revision: not an Ereveld database")
    return match.group(1)


# --- backup -----------------------------------------------------------------------------


def backup(url: str, target: Path) -> Path:
    """Write a consistent, checked copy of the database at ``url`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file 0600 (personal data) before a byte is written.
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    partial = Path(name)
    try:
        try:
            if is_sqlite(url):
                _write_sqlite(url, handle)
            else:
                args, env = pg_arguments(url)
                run_tool(
                    [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", name, *args],
                    env,
                )
                os.fsync(handle)  # the same file, written by pg_dump
        finally:
            os.close(handle)
        check_backup(url, partial)
        os.replace(partial, target)
        sync_folder(target.parent)
    except OSError as error:
        raise BackupError(os_reason(error)) from error
    finally:
        partial.unlink(missing_ok=True)
    return target


def _write_sqlite(url: str, handle: int) -> None:
    """Snapshot through the backup API into memory, then write it with plain file I/O.

    SQLite reports a failed write as "disk I/O error"; writing the bytes ourselves keeps the
    operating system's own reason (No space left on device, File too large).
    """
    source = sqlite3.connect(f"{sqlite_path(url).resolve().as_uri()}?mode=ro", uri=True)
    memory = sqlite3.connect(":memory:")
    try:
        source.backup(memory)
        data = memory.serialize()
    except sqlite3.Error as error:
        raise BackupError(f"cannot read the database: {error}") from error
    finally:
        source.close()
        memory.close()
    view = memory_view = memoryview(data)
    while view:
        written = os.write(handle, view[:CHUNK])
        view = view[written:]
    memory_view.release()
    os.fsync(handle)


# --- restore ----------------------------------------------------------------------------


def restore(
    url: str,
    source: Path,
    known: Callable[[str], bool],
    upgrade: Callable[[str], None],
) -> str:
    """Replace the database at ``url`` with the backup in ``source``; what was done.

    Nothing is touched until the file has passed ``check_backup`` and its revision is one
    ``known`` to this code. The backup is then restored beside the live database, brought
    to the current schema by ``upgrade(url_of_the_copy)`` (which also checks the tables),
    and only a complete copy replaces the live database.
    """
    revision = check_backup(url, source)
    if not known(revision):
        raise BackupError(
            f"{source} is at schema revision {revision}, which this version of Ereveld "
            "does not know (made by a newer release?): nothing was changed"
        )
    if is_sqlite(url):
        return _restore_sqlite(url, source, upgrade)
    return _restore_pg(url, source, upgrade)


def _restore_sqlite(url: str, source: Path, upgrade: Callable[[str], None]) -> str:
    live = sqlite_path(url).resolve()
    live.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{live.name}.restore.", suffix=".tmp", dir=live.parent)
    os.close(handle)
    copy = Path(name)
    try:
        _sqlite_copy(source, copy)
        upgrade(f"sqlite:///{copy}")
        check_backup(url, copy)
        # The swap: one SQLite transaction over the live file. Renaming the copy over it
        # would leave connections that workers keep open on the old file (and its WAL).
        _sqlite_copy(copy, live)
    except sqlite3.Error as error:
        raise BackupError(f"restore failed, the live database is unchanged: {error}") from error
    except OSError as error:
        raise BackupError(
            f"restore failed, the live database is unchanged: {os_reason(error)}"
        ) from error
    finally:
        for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            leftover.unlink(missing_ok=True)
    return f"{live} replaced"


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy a database through the backup API: all pages in one step, one transaction."""
    reader = _read_only(source)
    writer = sqlite3.connect(destination, timeout=30)
    try:
        reader.backup(writer)
    finally:
        reader.close()
        writer.close()


def _restore_pg(url: str, source: Path, upgrade: Callable[[str], None]) -> str:
    parsed = make_url(url)
    live = str(parsed.database)
    stamp = f"{int(time.time())}"
    fresh = f"{live[:40]}_restore_{stamp}"
    kept = f"{live[:40]}_before_restore_{stamp}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quote = admin.dialect.identifier_preparer.quote
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE {quote(fresh)}")
        except sa.exc.DBAPIError as error:
            raise BackupError(
                "cannot make a database beside the live one to restore into (the "
                f"database user needs CREATEDB): {error.orig or error}; nothing was changed"
            ) from error
        fresh_url = parsed.set(database=fresh).render_as_string(hide_password=False)
        try:
            args, env = pg_arguments(fresh_url)
            run_tool(
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    *args,
                    str(source),
                ],
                env,
            )
            upgrade(fresh_url)
            _swap_pg(admin, live, fresh, kept)
        except BaseException:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(fresh)} WITH (FORCE)")
            raise
    finally:
        admin.dispose()
    return f"database {live} replaced; the old one is kept as {kept} (drop it when satisfied)"


def _swap_pg(admin: Engine, live: str, fresh: str, kept: str) -> None:
    """Rename the live database away and the restored one into its place.

    A database with sessions cannot be renamed: the app's (idle, in maintenance) are ended
    first, and the rename is tried again if a worker reconnected in between.
    """
    quote = admin.dialect.identifier_preparer.quote
    for attempt in range(10):
        try:
            with admin.connect() as connection:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": live},
                )
                connection.exec_driver_sql(f"ALTER DATABASE {quote(live)} RENAME TO {quote(kept)}")
                try:
                    connection.exec_driver_sql(
                        f"ALTER DATABASE {quote(fresh)} RENAME TO {quote(live)}"
                    )
                except sa.exc.SQLAlchemyError:
                    connection.exec_driver_sql(
                        f"ALTER DATABASE {quote(kept)} RENAME TO {quote(live)}"
                    )
                    raise
            return
        except sa.exc.OperationalError as error:
            if attempt == 9:
                raise BackupError(f"cannot swap the databases: {error.orig or error}") from error
            time.sleep(0.5)
