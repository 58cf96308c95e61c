"""Database connection rules that hold for every engine the app creates."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

_installed = False


def install_sqlite_pragmas() -> None:
    """Turn on SQLite's safety pragmas on every new connection, once per process.

    SQLite forgets foreign keys per connection; WAL lets readers go on while one writes.
    The busy timeout (how long a writer waits for another's lock) is the engine's
    ``timeout`` connect argument, from SQLITE_BUSY_TIMEOUT (app/__init__.py).
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
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class RowsWouldBeLost(click.ClickException):
    """A downgrade would drop tables that still hold rows; `-x force=1` allows it."""


def refuse_to_drop_rows(*tables: str) -> None:
    """In a migration's downgrade: stop before dropping ``tables`` while any holds rows.

    `flask db downgrade` drops tables without a word; the outbox or the invitations would
    go with them. Call this first in every downgrade that drops a table; the operator
    who means it passes ``-x force=1`` (``flask db downgrade -x force=1 REVISION``).
    """
    from alembic import context, op

    if context.get_x_argument(as_dictionary=True).get("force") in {"1", "true", "yes"}:
        return
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    holding = []
    for table in tables:
        if table not in present:
            continue
        rows = bind.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar()
        if rows:
            holding.append(f"{table} ({rows} row(s))")
    if holding:
        raise RowsWouldBeLost(
            "Downgrade refused: it would drop "
            + ", ".join(holding)
            + ". Back up first (`flask backup`); to drop them anyway, run "
            "`flask db downgrade -x force=1 ...`."
        )
