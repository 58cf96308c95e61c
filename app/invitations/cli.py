"""`flask invitations ...`: bulk create, list and new personal links; thin like app.cli.

Commands speak English (scripts read their output); changes are audited as made by
"command line".
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from app.cli import edition_for_command
from app.contacts.models import OrganisationKind
from app.extensions import db
from app.invitations.models import Invitation
from app.invitations.services import (
    Actor,
    InvitationError,
    create_bulk,
    delegation_size,
    invitations_of,
    new_link,
    personal_url,
    resolve_groups,
    wreath_coming,
)

invitations_cli = AppGroup("invitations", help="Invite organisations to an edition.")
COMMAND = Actor(label="command line")


@invitations_cli.command("create")
@click.argument("edition_slug")
@click.option("--group", "groups", multiple=True, help="A contact group's name (repeatable).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([k.value for k in OrganisationKind]),
    help="A kind of organisation (repeatable).",
)
def create_command(edition_slug: str, groups: tuple[str, ...], kinds: tuple[str, ...]) -> None:
    """Invite every organisation of the groups and kinds (idempotent).

    Organisations invited already are left alone; do-not-invite ones are skipped and
    listed.
    """
    ceremony = edition_for_command(edition_slug)
    with force_locale("en"):
        try:
            result = create_bulk(
                db.session,
                ceremony,
                COMMAND,
                groups=resolve_groups(db.session, groups),
                kinds=[OrganisationKind(k) for k in kinds],
            )
        except InvitationError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message)) from error
        except IntegrityError as error:  # a concurrent run invited one of them first
            db.session.rollback()
            raise click.ClickException("Invitations changed meanwhile; run again.") from error
    db.session.commit()
    for invitation in result.created:
        click.echo(f"invited       {invitation.organisation.name} (#{invitation.id})")
    for organisation in result.existing:
        click.echo(f"already       {organisation.name}")
    for organisation in result.refused:
        click.echo(f"not invited   {organisation.name} (policy: do not invite)")
    click.echo(
        f"{len(result.created)} invited, {len(result.existing)} invited already, "
        f"{len(result.refused)} not to be invited."
    )


def invitation_json(invitation: Invitation) -> dict[str, Any]:
    """An invitation as `flask invitations list --json` prints it."""
    return {
        "id": invitation.id,
        "organisation": invitation.organisation.name,
        "addressee": invitation.addressee.full_name if invitation.addressee else None,
        "status": invitation.status.value,
        "delegation_size": delegation_size(invitation),
        "wreath": wreath_coming(invitation),
    }


@invitations_cli.command("list")
@click.argument("edition_slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(edition_slug: str, as_json: bool) -> None:
    """An edition's invitations: id, organisation, addressee, status, size, wreath."""
    rows = invitations_of(db.session, edition_for_command(edition_slug))
    if as_json:
        click.echo(json.dumps([invitation_json(i) for i in rows], ensure_ascii=False, indent=2))
        return
    for invitation in rows:
        data = invitation_json(invitation)
        click.echo(
            f"{data['id']:>5}  {data['status']:<9}  {data['delegation_size']:>3}  "
            f"{'wreath' if data['wreath'] else '-':<6}  {data['organisation']}"
            f"{' / ' + data['addressee'] if data['addressee'] else ''}"
        )


@invitations_cli.command("link")
@click.argument("invitation_id", type=int)
def link_command(invitation_id: int) -> None:
    """Print a new personal URL of the invitation; the old one stops working."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise click.ClickException(f"No invitation {invitation_id}.")
    with force_locale("en"):
        try:
            token = new_link(db.session, invitation, COMMAND)
        except InvitationError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message)) from error
    db.session.commit()
    if not current_app.config.get("PUBLIC_BASE_URL"):
        click.echo("PUBLIC_BASE_URL is not set: the address below names localhost.", err=True)
    click.echo(personal_url(token))
