"""Flask commands: thin, they parse, call a service, commit and print.

These names are an interface that scripts and tests rely on; keep them.
"""

from __future__ import annotations

import functools
import json
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from app.auth.models import Role, User
from app.auth.services import AccountError, create_user, find_by_email, verify_password
from app.ceremonies.checks import warnings
from app.ceremonies.errors import CeremonyError
from app.ceremonies.models import Ceremony
from app.ceremonies.seed import seed
from app.ceremonies.services import edition_by_slug, editions_in_year, schedule_year
from app.ceremonies.timing import timetable
from app.contacts.cli import contacts_cli
from app.demo import DemoError, load_demo_contacts
from app.extensions import db
from app.types import local_today

ceremonies_cli = AppGroup("ceremonies", help="Seed, schedule and list ceremonies.")
users_cli = AppGroup("users", help="Staff accounts.")

DEV_LOGIN_FILE = "dev-login.txt"


@ceremonies_cli.command("seed")
def seed_command() -> None:
    """Add the foundation's standard venues and series (idempotent)."""
    venues, series = seed(db.session)
    db.session.commit()
    click.echo(f"Seeded {venues} venue(s) and {series} series.")


@ceremonies_cli.command("schedule")
@click.argument("year", type=click.IntRange(1945, 2200))
@click.option("--publish", is_flag=True, help="Publish the editions as well.")
def schedule_command(year: int, publish: bool) -> None:
    """Create YEAR's editions of the active series with their default programmes."""
    try:
        result = schedule_year(db.session, year, publish=publish)
    except CeremonyError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    for ceremony in result.created:
        click.echo(f"created    {ceremony.slug} ({ceremony.status.value})")
    for ceremony in result.published:
        click.echo(f"published  {ceremony.slug}")
    click.echo(
        f"{len(result.created)} created, {len(result.published)} published, "
        f"{len(result.existing)} unchanged."
    )


def edition_json(ceremony: Ceremony) -> dict[str, Any]:
    """An edition as the JSON that `flask ceremonies list --json` prints."""
    return {
        "slug": ceremony.slug,
        "series": ceremony.series.slug if ceremony.series else None,
        "title": {"nl": ceremony.title_nl, "en": ceremony.title_en, "ru": ceremony.title_ru},
        "starts_at": ceremony.local_start.isoformat(),
        "ends_at": ceremony.local_end.isoformat(),
        "venue": ceremony.venue.name,
        "status": ceremony.status.value,
        "public": ceremony.public,
        "anniversary": ceremony.anniversary,
        "warnings": [w.message for w in warnings(ceremony)],
        "programme": [
            {
                "starts_at": entry.starts.isoformat(),
                "ends_at": entry.ends.isoformat(),
                "kind": entry.item.kind.value,
                "text": {
                    "nl": entry.item.text_nl,
                    "en": entry.item.text_en,
                    "ru": entry.item.text_ru,
                },
                "performer": {
                    "nl": entry.item.performer_nl,
                    "en": entry.item.performer_en,
                    "ru": entry.item.performer_ru,
                },
                "printable": entry.item.printable,
            }
            for entry in timetable(ceremony)
        ],
    }


@ceremonies_cli.command("list")
@click.option("--year", type=click.IntRange(1900, 2200), help="Only this year's editions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(year: int | None, as_json: bool) -> None:
    """List editions (all, or one year's) with their warnings."""
    if year is not None:
        rows = editions_in_year(db.session, year)
    else:
        rows = list(db.session.scalars(sa.select(Ceremony).order_by(Ceremony.starts_at)))
    with force_locale("en"):
        if as_json:
            click.echo(json.dumps([edition_json(c) for c in rows], ensure_ascii=False, indent=2))
            return
        for ceremony in rows:
            found = warnings(ceremony)
            flag = f"  [{len(found)} warning(s)]" if found else ""
            click.echo(
                f"{ceremony.local_start:%Y-%m-%d %H:%M}  {ceremony.status.value:<9}  "
                f"{ceremony.slug:<28} {ceremony.title_en}{flag}"
            )


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a staff account (the first admin of a fresh database, for one)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, email, password, Role(role), name=name)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


def ensure_dev_admin() -> Path:
    """Make the development admin if there is no account at all; where its login is kept."""
    path = Path(current_app.instance_path) / DEV_LOGIN_FILE
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        password = secrets.token_urlsafe(12)
        create_user(db.session, "admin@example.org", password, Role.ADMIN, name="Admin")
        db.session.commit()
        path.write_text(f"admin@example.org\n{password}\n")
        path.chmod(0o600)
    return path


@users_cli.command("dev-login")
def dev_login_command() -> None:
    """Development only: make an admin if there is no account, and say how to log in.

    The generated password is kept in instance/dev-login.txt so that every `make run`
    can print it again; production refuses this command.
    """
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("dev-login is for development; use `flask users create`.")
    path = ensure_dev_admin()
    if path.exists():
        email, password = path.read_text().split("\n")[:2]
        user = find_by_email(db.session, email)
        if user is not None and user.active and verify_password(user, password):
            click.echo(f"Log in as {email} with password {password}")
            return
    click.echo("Log in with your own account (`flask users create EMAIL --role admin` makes one).")


@click.command("demo")
def demo_command() -> None:
    """A ready-to-explore instance: seed, this and next year's editions published."""
    seed(db.session)
    this_year = local_today().year
    for year in (this_year, this_year + 1):
        schedule_year(db.session, year, publish=True)
    db.session.commit()
    if current_app.config["ENV_NAME"] != "production":
        ensure_dev_admin()  # approves the demo's invitation policies, as `dev-login` shows
    try:
        demo = load_demo_contacts(db.session)
    except DemoError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    count = len(editions_in_year(db.session, this_year)) + len(
        editions_in_year(db.session, this_year + 1)
    )
    click.echo(f"Demo ready: {count} editions in {this_year} and {this_year + 1}.")
    click.echo(
        f"Demo contacts: {demo.organisations} organisation(s), {demo.persons} person(s), "
        f"{demo.policies} policy(ies) and {demo.invitations} invitation(s) created."
    )


def configuration_problems(app: Flask) -> list[str]:
    """What would make this instance unsafe or broken in production, in plain words."""
    config = app.config
    problems = []
    if config["ENV_NAME"] != "production":
        problems.append("EREVELD_ENV_NAME is not 'production': development defaults apply.")
    base = str(config.get("PUBLIC_BASE_URL") or "")
    if not base.startswith("https://"):
        problems.append(
            "PUBLIC_BASE_URL is not an https:// address: links in feeds, letters "
            "and emails would point to whatever host a request named."
        )
    if not config.get("TRUSTED_HOSTS"):
        problems.append("TRUSTED_HOSTS is not set: the app answers any Host header.")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append(
            "The database is SQLite: use PostgreSQL (DATABASE_URL) for several workers."
        )
    if not config.get("MAIL_SERVER"):
        problems.append("No SMTP server (EREVELD_MAIL_SERVER): mail stays in instance/outbox/.")
    elif str(config.get("MAIL_SECURITY", "")).lower() == "none":
        problems.append("MAIL_SECURITY is 'none': mail and the SMTP password travel in clear.")
    if not config.get("IMAP_SERVER"):
        problems.append(
            "No IMAP server (EREVELD_IMAP_SERVER): calendar replies in the protocol "
            "mailbox are not applied; staff drop them on the invitation page."
        )
    require = config.get("REPLY_REQUIRE_AUTHENTICATION")
    if require is False:
        problems.append(
            "REPLY_REQUIRE_AUTHENTICATION is off: a forged calendar reply (From and "
            "ATTENDEE set to an invited address) is applied without DKIM or DMARC."
        )
    elif not config.get("REPLY_AUTHSERV_ID"):
        problems.append(
            "REPLY_AUTHSERV_ID is not set: no calendar reply can be authenticated "
            "(DKIM/DMARC), so every one waits for review by a planner."
        )
    if str(config.get("MAIL_FROM_ADDRESS", "")).endswith(".example"):
        problems.append("MAIL_FROM_ADDRESS and MAIL_PROTOCOL_ADDRESS are still the examples.")
    problems.extend(session_problems(config))
    from app.maintenance import maintenance_file, maintenance_reason

    if maintenance_reason(app) is not None:
        problems.append(
            f"Maintenance mode is on ({maintenance_file(app)}): every request is answered "
            "503. `flask maintenance off` when the work is done."
        )
    if not config.get("PROXY_FIX_X_FOR"):
        problems.append(
            "PROXY_FIX_X_FOR is 0: behind a reverse proxy every client would "
            "look like the proxy (login throttling, logs)."
        )
    return problems


def session_problems(config: Mapping[str, Any]) -> list[str]:
    """Staff sessions that would outlive a shift (issue #12, Security 8)."""
    problems = []
    idle = float(config.get("SESSION_IDLE_TIMEOUT") or 0)
    lifetime = float(config.get("SESSION_LIFETIME") or 0)
    if not 0 < idle <= 8 * 3600:
        problems.append(
            f"SESSION_IDLE_TIMEOUT is {idle:.0f} s: a staff session left open should end "
            "within a few hours (default 3 h = 10800)."
        )
    if not 0 < lifetime <= 24 * 3600:
        problems.append(
            f"SESSION_LIFETIME is {lifetime:.0f} s: a staff session should end within a "
            "day of its login however busy (default 12 h = 43200)."
        )
    return problems


@click.command("backup")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: instance/backups/ereveld-TIMESTAMP).",
)
def backup_command(out: Path | None) -> None:
    """Back up the database (SQLite backup API or pg_dump), checked before it is kept."""
    from app.backup import BackupError, backup
    from app.types import utcnow

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if out is None:
        suffix = "sqlite" if url.startswith("sqlite") else "pgdump"
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        out = Path(current_app.instance_path) / "backups" / f"ereveld-{stamp}.{suffix}"
    try:
        backup(url, out)
    except BackupError as error:
        raise click.ClickException(f"backup failed, no file written: {error}") from error
    click.echo(f"Backup written to {out}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup (`flask maintenance on` first).

    The file is checked before anything is touched, restored beside the live database,
    migrated to this code's schema, and only then put in its place.
    """
    from app.backup import BackupError, check_backup, restore
    from app.maintenance import maintenance_reason

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if maintenance_reason(current_app) is None:
        raise click.ClickException(
            "restore refused: the instance may be serving. Run `flask maintenance on` "
            "first (every request then gets 503), and `flask maintenance off` after."
        )
    try:
        revision = check_backup(url, source)
    except BackupError as error:
        raise click.ClickException(f"restore refused, nothing was changed: {error}") from error
    if not known_revision(revision):
        raise click.ClickException(
            f"restore refused, nothing was changed: {source} is at schema revision "
            f"{revision}, which this version of Ereveld does not know (a newer release?)"
        )
    if not yes:
        click.confirm(
            f"This replaces every row of the database with {source} (revision {revision}). Go on?",
            abort=True,
        )
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    try:
        done = restore(url, source, known_revision, upgrade_copy)
    except BackupError as error:
        raise click.ClickException(f"restore failed: {error}") from error
    finally:
        db.engine.dispose()
    click.echo(f"Restored from {source}: {done}.")


def known_revision(revision: str) -> bool:
    """Whether this code's migrations know ``revision`` (an older one is upgraded)."""
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    return revision in {
        script.revision for script in ScriptDirectory.from_config(config).walk_revisions()
    }


def upgrade_copy(url: str) -> None:
    """Migrate the restored copy at ``url`` to this code's head and check its tables."""
    import flask_migrate

    from app import create_app
    from app.backup import BackupError

    other = create_app({**current_app.config, "SQLALCHEMY_DATABASE_URI": url})
    with other.app_context():
        try:
            flask_migrate.upgrade()
            present = set(sa.inspect(db.engine).get_table_names())
        except (sa.exc.SQLAlchemyError, RuntimeError) as error:
            raise BackupError(f"the restored copy could not be migrated: {error}") from error
        finally:
            db.session.remove()
            db.engine.dispose()
    missing = sorted({table.name for table in db.metadata.sorted_tables} - present)
    if missing:
        raise BackupError(f"the restored copy lacks tables: {', '.join(missing)}")


@click.command("check")
def check_command() -> None:
    """Report misconfiguration for production; exit 1 if there is any."""
    problems = configuration_problems(current_app)
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        raise click.exceptions.Exit(1)
    click.echo("Configuration looks ready for production.")


def edition_for_command(slug: str) -> Ceremony:
    """The edition a command names, or a clear error (exit 1) when there is none."""
    ceremony = edition_by_slug(db.session, slug)
    if ceremony is None:
        raise click.ClickException(f"No edition with the slug {slug}.")
    return ceremony


def database_errors_in_one_line(command: click.Command) -> None:
    """A command run while the database is down says so in one line and exits 1.

    Without this every command would end in a traceback that hides the one line that
    matters (connection refused, database is locked).
    """
    from app.errors import UNAVAILABLE, first_line

    if isinstance(command, click.Group):
        for sub in command.commands.values():
            database_errors_in_one_line(sub)
    callback = command.callback
    if callback is None or getattr(callback, "_one_line", False):
        return

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except UNAVAILABLE as error:
            raise click.ClickException(
                f"the database is unavailable: {first_line(error)}"
            ) from error

    wrapper._one_line = True  # type: ignore[attr-defined]
    command.callback = wrapper


def register(app: Flask) -> None:
    app.cli.add_command(ceremonies_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(check_command)

    from app.documents.cli import documents_cli
    from app.privacy.cli import privacy_cli

    app.cli.add_command(documents_cli)

    app.cli.add_command(privacy_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from app.wreaths.cli import wreaths_cli

    app.cli.add_command(wreaths_cli)
    app.cli.add_command(contacts_cli)
    from app.invitations.cli import invitations_cli
    from app.mail.cli import mail_cli

    app.cli.add_command(mail_cli)

    app.cli.add_command(invitations_cli)
    database_errors_in_one_line(app.cli)
