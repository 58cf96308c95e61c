"""`flask contacts ...`: import, precedence, export. Thin: parse, call a service, commit,
print. Output is English: scripts read it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.contacts.export import to_csv, to_vcards
from app.contacts.importer import MAX_IMPORT_BYTES, ImportRefused, import_contacts
from app.contacts.precedence import RankedHead, precedence
from app.contacts.services import as_local
from app.extensions import db
from app.types import local_today

contacts_cli = AppGroup("contacts", help="Organisations, people and diplomatic precedence.")


@contacts_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import contacts from a CSV file: every row checked first, all or nothing."""
    with file.open("rb") as handle:
        data = handle.read(MAX_IMPORT_BYTES + 1)
    with force_locale("en"):
        try:
            result = import_contacts(
                db.session,
                data,
                actor_user_id=None,
                actor_label=f"flask contacts import {file.name}",
            )
        except ImportRefused as refused:
            db.session.rollback()
            for error in refused.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(
                f"nothing imported: {len(refused.errors)} problem(s) in {file.name}"
            ) from refused
    db.session.commit()
    summary = result.summary()
    click.echo(
        f"{summary['rows']} row(s): "
        f"{summary['organisations_created']} organisation(s) created, "
        f"{summary['organisations_updated']} updated; "
        f"{summary['persons_created']} person(s) created, {summary['persons_updated']} updated; "
        f"{summary['appointments_created']} appointment(s) created, "
        f"{summary['appointments_updated']} updated; "
        f"{summary['groups_created']} group(s) created, "
        f"{summary['memberships_added']} membership(s) added."
    )


def head_json(head: RankedHead) -> dict[str, Any]:
    """A row of `flask contacts precedence --json`."""
    appointment = head.appointment
    person = appointment.person
    organisation = appointment.organisation
    taken_up = as_local(appointment.taken_up_at)
    return {
        "rank": head.rank,
        "class": head.class_,
        "dean": head.is_dean,
        "organisation": organisation.name,
        "organisation_id": organisation.id,
        "country": organisation.country,
        "resident": organisation.resident,
        "person": person.full_name,
        "person_id": person.id,
        "role": appointment.role.value,
        "taken_up_at": taken_up.isoformat() if taken_up else None,
    }


@contacts_cli.command("precedence")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="As of this date (default: today in Amsterdam).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def precedence_command(on: Any, as_json: bool) -> None:
    """The diplomatic corps in order of precedence."""
    day: date = on.date() if on is not None else local_today()
    ranked = precedence(db.session, day)
    if as_json:
        click.echo(json.dumps([head_json(h) for h in ranked], ensure_ascii=False, indent=2))
        return
    click.echo(f"Diplomatic corps on {day.isoformat()}: {len(ranked)} mission(s)")
    for head in ranked:
        row = head_json(head)
        dean = "  (dean)" if head.is_dean else ""
        taken_up = (row["taken_up_at"] or "")[:16].replace("T", " ")
        click.echo(
            f"{head.rank:>3}. {row['role']:<18} {taken_up:<16}  {row['person']} "
            f"- {row['organisation']}{dean}"
        )


@contacts_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "vcard"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
def export_command(fmt: str, out: Path | None) -> None:
    """Export every contact as CSV (formula-safe) or vCard 4.0."""
    with force_locale("en"):
        body = to_csv(db.session) if fmt == "csv" else to_vcards(db.session)
    if out is None:
        click.echo(body, nl=False)
        return
    out.write_text(body, encoding="utf-8", newline="")
    click.echo(f"Wrote {out}.")
