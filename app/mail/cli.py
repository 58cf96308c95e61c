"""`flask mail ...`: the outbox from the command line and from cron.

    flask mail send             send what is queued (every minute from cron)
    flask mail remind           write the reminders that are due, as drafts (daily)
    flask mail fetch-replies    apply calendar replies from the protocol mailbox
    flask mail draft EDITION    write the invitation emails of an edition, as drafts
    flask mail release EDITION  release an edition's drafts to the queue
    flask mail outbox EDITION   list an edition's messages and their fate

Commands speak English (scripts read their output).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import edition_for_command
from app.extensions import db
from app.invitations.services import Actor
from app.mail.imap import MailboxError, fetch_replies
from app.mail.models import MessageStatus
from app.mail.sender import send_queued
from app.mail.services import draft_invitations, due_reminders, messages_of, release
from app.types import local_today

mail_cli = AppGroup("mail", help="The outbox: draft, release, send; reminders and replies.")
COMMAND = Actor(label="command line")


@mail_cli.command("send")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many.")
def send_command(limit: int | None) -> None:
    """Send the queued messages that are due (safe to run often, and twice at once)."""
    report = send_queued(current_app._get_current_object(), limit=limit)  # type: ignore[attr-defined]
    click.echo(
        f"sent {len(report.sent)}, failed {len(report.failed)}, to retry {len(report.retrying)}"
    )
    if report.stopped:
        click.echo(f"stopped: {report.stopped}", err=True)
    if report.stuck:
        ids = ", ".join(str(i) for i in report.stuck)
        click.echo(
            f"check by hand: messages {ids} were being sent when a sender stopped; "
            "they may have left. Requeue them on the outbox page if they did not.",
            err=True,
        )
    # Cron mails a command's output only when asked to; an exit status it always sees.
    if report.stopped or report.failed or report.stuck:
        raise SystemExit(1)


@mail_cli.command("remind")
def remind_command() -> None:
    """Write the reminders and practical notes that are due, as drafts for review."""
    written = due_reminders(db.session, local_today())
    db.session.commit()
    click.echo(f"{len(written)} reminder(s) written as drafts")


@mail_cli.command("fetch-replies")
def fetch_replies_command() -> None:
    """Apply the calendar replies (Accept/Decline) waiting in the protocol mailbox."""
    try:
        report = fetch_replies(current_app._get_current_object())  # type: ignore[attr-defined]
    except MailboxError as error:
        raise click.ClickException(str(error)) from error
    for outcome in report.applied:
        click.echo(f"applied: {outcome.reply.attendee} {outcome.reason}")
    for outcome in report.to_review:
        click.echo(f"to review: {outcome.reply.attendee}: {outcome.reason}")
    for outcome in report.ignored:
        click.echo(f"ignored: {outcome.reply.attendee}: {outcome.reason}")
    for uid, reason in report.quarantined:
        click.echo(f"quarantined: message {uid}: {reason}", err=True)
    click.echo(
        f"{len(report.applied)} applied, {len(report.to_review)} to review, "
        f"{len(report.ignored)} ignored, {len(report.quarantined)} quarantined, "
        f"{report.others} other message(s) left alone"
    )


@mail_cli.command("draft")
@click.argument("edition_slug")
def draft_command(edition_slug: str) -> None:
    """Write invitation emails for the edition's draft invitations (for review)."""
    result = draft_invitations(db.session, edition_for_command(edition_slug))
    db.session.commit()
    click.echo(f"{len(result.written)} invitation email(s) ready for review")
    for invitation in result.without_address:
        click.echo(f"no email address: {invitation.organisation.name}", err=True)


@mail_cli.command("release")
@click.argument("edition_slug")
def release_command(edition_slug: str) -> None:
    """Release all reviewed drafts of the edition to the queue."""
    drafts = [
        m
        for m in messages_of(db.session, edition_for_command(edition_slug))
        if m.status == MessageStatus.DRAFT
    ]
    released = release(db.session, drafts, COMMAND)
    db.session.commit()
    click.echo(f"{len(released)} message(s) queued")


@mail_cli.command("outbox")
@click.argument("edition_slug")
def outbox_command(edition_slug: str) -> None:
    """Every message of the edition and its fate."""
    for message in messages_of(db.session, edition_for_command(edition_slug)):
        error = f"  ({message.last_error})" if message.last_error else ""
        click.echo(
            f"{message.id:6d}  {message.status.value:9s} {message.kind.value:12s} "
            f"{message.to_address}{error}"
        )
