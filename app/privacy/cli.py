"""`flask privacy ...`: export, erase and purge from the command line (and cron)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask.cli import AppGroup

from app.contacts.models import Person
from app.documents.services import renderer
from app.extensions import db
from app.privacy.services import erase_person, export_person, purge_delegations
from app.types import local_today

privacy_cli = AppGroup("privacy", help="Personal data: export, erasure, retention.")


def _person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise click.ClickException(f"no person with id {person_id}")
    return person


@privacy_cli.command("export")
@click.argument("person_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def export_command(person_id: int, out: Path | None) -> None:
    """Everything held about one person, as JSON."""
    text = json.dumps(export_person(db.session, _person(person_id)), ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text)
        out.chmod(0o600)
        click.echo(f"Written to {out}")


@privacy_cli.command("erase")
@click.argument("person_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(person_id: int, yes: bool) -> None:
    """Erase one person (appointments, delegation entries, audit mentions)."""
    person = _person(person_id)
    if not yes:
        click.confirm(f"Erase {person.full_name} for good?", abort=True)
    report = erase_person(db.session, person)
    db.session.commit()
    renderer().forget()
    click.echo(
        f"Erased: {report.members_deleted} delegation entries, "
        f"{report.invitations_cleared} invitations cleared, "
        f"{report.audit_redacted} audit entries redacted."
    )


@privacy_cli.command("purge")
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=None,
    help="Keep this many months after a ceremony (default: RETENTION_MONTHS).",
)
def purge_command(months: int | None) -> None:
    """Delete delegation details of ceremonies older than the retention period."""
    keep = months or int(current_app.config["RETENTION_MONTHS"])
    before: date = local_today() - relativedelta(months=keep)
    count = purge_delegations(db.session, before)
    db.session.commit()
    if count:
        renderer().forget()  # printed guest and security lists held the purged details
    click.echo(f"Purged the delegation details of {count} invitation(s) before {before}.")
