"""Maintenance mode: while a file exists, every request is answered 503 without the database.

The switch is a file (MAINTENANCE_FILE, default instance/maintenance) so that every
gunicorn worker, and a `flask restore` in another process, see the same state at once;
its text is the reason shown by /healthz. `flask maintenance on|off|status`.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app, request
from flask.cli import AppGroup
from werkzeug.wrappers import Response

maintenance_cli = AppGroup("maintenance", help="Answer every request with 503 (for a restore).")

# Seconds a client is told to wait (Retry-After) while the instance is in maintenance.
RETRY_AFTER = 300


def maintenance_file(app: Flask) -> Path:
    configured = app.config.get("MAINTENANCE_FILE")
    return Path(configured) if configured else Path(app.instance_path) / "maintenance"


def maintenance_reason(app: Flask) -> str | None:
    """Why the instance is in maintenance, or None when it is serving."""
    try:
        text = maintenance_file(app).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as error:  # unreadable: err on the side of not serving
        return f"maintenance file unreadable: {error.strerror}"
    return text.strip() or "maintenance"


def _during_maintenance() -> Response | None:
    """Before anything else (the user, the database): 503 while maintenance is on."""
    if request.endpoint == "static":
        return None  # the page's stylesheet
    reason = maintenance_reason(current_app)
    if reason is None:
        return None
    from app.errors import unavailable

    return unavailable("maintenance", reason, RETRY_AFTER)


@maintenance_cli.command("on")
@click.option("--reason", default="restoring a backup", show_default=True)
def on_command(reason: str) -> None:
    """Answer every request with 503 until `flask maintenance off`."""
    path = maintenance_file(current_app)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reason + "\n", encoding="utf-8")
    click.echo(f"Maintenance on ({path}): every request is answered 503.")


@maintenance_cli.command("off")
def off_command() -> None:
    """Serve again."""
    maintenance_file(current_app).unlink(missing_ok=True)
    click.echo("Maintenance off: serving.")


@maintenance_cli.command("status")
def status_command() -> None:
    """Say whether the instance is in maintenance or serving."""
    reason = maintenance_reason(current_app)
    if reason is None:
        click.echo("Serving.")
        return
    click.echo(f"Maintenance on: {reason}")


def register(app: Flask) -> None:
    # First of all before-request functions: none of the others may touch the database.
    app.before_request_funcs.setdefault(None, []).insert(0, _during_maintenance)
    app.cli.add_command(maintenance_cli)
