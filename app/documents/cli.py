"""`flask documents letters|lists ...`: letters (with progress) or staff's lists into a folder."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli import edition_for_command
from app.documents.letters import LAYOUTS, Letter, render_letters, send_by_letter
from app.documents.lists import LIST_LANGUAGES, CardLayout, ListKind, printed_list
from app.documents.workers import RenderError
from app.extensions import db
from app.invitations.models import InvitationKind
from app.invitations.services import Actor, invitations_of

documents_cli = AppGroup("documents", help="Printed documents.")


@documents_cli.command("letters")
@click.argument("edition_slug")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PDFs.",
)
@click.option("--layout", type=click.Choice(LAYOUTS), default="letter", show_default=True)
@click.option(
    "--send", is_flag=True, help="Issue personal links and mark drafts sent (default: a preview)."
)
@click.option(
    "--reissue", is_flag=True, help="With --send: also invitations already sent, with a new link."
)
def letters_command(edition_slug: str, out: Path, layout: str, send: bool, reissue: bool) -> None:
    """One PDF per invitation of EDITION_SLUG, and combined.pdf for the printer."""
    ceremony = edition_for_command(edition_slug)
    if send:
        mailing = send_by_letter(db.session, ceremony, Actor(label="command line"), reissue=reissue)
        db.session.commit()
        letters = mailing.letters
        for invitation, reason in mailing.skipped:
            click.echo(f"skipped {invitation.organisation.name}: {reason}", err=True)
    else:
        letters = [
            Letter(i, None)
            for i in invitations_of(db.session, ceremony)
            if i.kind != InvitationKind.PROXY
        ]
    if not letters:
        click.echo("No invitation needs a letter.")
        return
    with click.progressbar(length=len(letters), label="Rendering letters") as bar:
        try:
            batch = render_letters(
                letters, layout, out, lambda done: bar.update(done - bar.pos), keep_workers=False
            )
        except RenderError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{len(batch.each)} letters and combined.pdf written to {out}")


@documents_cli.command("lists")
@click.argument("edition_slug")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PDFs.",
)
@click.option("--lang", type=click.Choice(LIST_LANGUAGES), default="nl", show_default=True)
def lists_command(edition_slug: str, out: Path, lang: str) -> None:
    """Guest list, security list, wreath run sheet, name badges and place cards of
    EDITION_SLUG (reading them changes nothing)."""
    ceremony = edition_for_command(edition_slug)
    out.mkdir(parents=True, exist_ok=True)
    wanted: list[tuple[ListKind, CardLayout]] = [
        (kind, CardLayout.BADGES) for kind in ListKind if kind != ListKind.CARDS
    ]
    wanted += [(ListKind.CARDS, layout) for layout in CardLayout]
    for kind, layout in wanted:
        printed = printed_list(db.session, ceremony, kind, lang, layout)
        (out / printed.file_name).write_bytes(printed.pdf)
        click.echo(printed.file_name)
    click.echo(f"{len(wanted)} lists written to {out}")
