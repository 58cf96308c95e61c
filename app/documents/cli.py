"""`flask documents letters|lists|programme ...`: letters (with progress) or staff's lists
into a folder, or the printed programme."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import edition_for_command
from app.documents.letters import (
    LAYOUTS,
    Letter,
    SendLedger,
    chosen_invitations,
    commit_keeping_loaded,
    failure_cause,
    outcome,
    render_letters,
    send_by_letter,
)
from app.documents.lists import LIST_LANGUAGES, CardLayout, ListKind, printed_list
from app.documents.services import PROGRAMME_LANGUAGES, programme_pdf
from app.documents.workers import RenderError
from app.extensions import db
from app.files import write_atomically
from app.invitations.models import InvitationKind
from app.invitations.services import Actor, InvitationError, invitations_of

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
    "--send",
    is_flag=True,
    help="Issue personal links and mark drafts sent, each once its letter is written"
    " (default: a preview). Run again after a failure: it does the rest.",
)
@click.option(
    "--reissue",
    "reissue",
    multiple=True,
    metavar="INVITATION",
    help="With --send: this invitation, already sent, gets a letter with a new link (the old"
    " link stops working). An id or the name of its organisation or addressee; repeatable.",
)
def letters_command(
    edition_slug: str, out: Path, layout: str, send: bool, reissue: tuple[str, ...]
) -> None:
    """One PDF per invitation of EDITION_SLUG, and combined.pdf for the printer."""
    ceremony = edition_for_command(edition_slug)
    ledger: SendLedger | None = None
    if reissue and not send:
        raise click.UsageError("--reissue goes with --send.")
    if send:
        try:
            chosen = chosen_invitations(db.session, ceremony, reissue)
        except InvitationError as error:
            raise click.ClickException(str(error.message)) from error
        mailing = send_by_letter(db.session, ceremony, reissue=chosen)
        for invitation, reason in mailing.skipped:
            click.echo(f"skipped {invitation.organisation.name}: {reason}", err=True)
        letters = mailing.letters
        out.mkdir(parents=True, exist_ok=True)
        ledger = SendLedger(
            db.session,
            mailing,
            Actor(label="command line"),
            out,
            commit_keeping_loaded(db.session),
            every=int(current_app.config.get("LETTER_COMMIT_EVERY", 20)),
        )
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
                letters,
                layout,
                out,
                lambda done: bar.update(done - bar.pos),
                keep_workers=False,
                sink=ledger,
            )
        except (RenderError, OSError) as error:
            if ledger is None:
                raise click.ClickException(failure_cause(error)) from error
            ledger.close()
            raise click.ClickException(outcome(ledger, failure_cause(error))) from error
        finally:
            if ledger is not None:
                ledger.close()  # also on Ctrl-C: what is on disk counts as sent
    if ledger is not None:
        for invitation, reason in ledger.refused:
            click.echo(f"not sent {invitation.organisation.name}: {reason}", err=True)
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


@documents_cli.command("programme")
@click.argument("edition_slug")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF to write.",
)
@click.option(
    "--lang",
    type=click.Choice(PROGRAMME_LANGUAGES),
    default="nl",
    show_default=True,
    help="One language, or several for a mixed audience (the first leads).",
)
@click.option(
    "--booklet",
    is_flag=True,
    help="An A5 booklet: two pages on each side of A4 landscape, for folding and stapling.",
)
def programme_command(edition_slug: str, out: Path, lang: str, booklet: bool) -> None:
    """The printed programme of EDITION_SLUG, drafts included."""
    ceremony = edition_for_command(edition_slug)
    pdf = programme_pdf(db.session, ceremony, lang, booklet=booklet)
    write_atomically(out, pdf)
    click.echo(f"{out} written ({'booklet, ' if booklet else ''}{lang})")
