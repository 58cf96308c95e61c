"""Database connection rules that hold for every engine the app creates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_installed = False


def install_sqlite_pragmas() -> None:
    """Turn on SQLite's safety pragmas on every new connection, once per process.

    SQLite forgets foreign keys per connection and a writer without a busy timeout fails
    at once under a second writer; WAL lets readers go on while one writes.
    """
    global _installed
    if _installed:
        return
    sa.event.listen(Engine, "connect", _on_connect)
    _installed = True


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
