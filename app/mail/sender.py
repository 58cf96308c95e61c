"""Sending the queue, after commit: SMTP with retries and backoff, or .eml files.

A worker, like app/documents/jobs.py: it owns its transactions. Each message is claimed
in a transaction of its own (status "sending", the personal link made), built, handed to
the server, and marked sent in a second transaction. So:
- a crash before the claim commits leaves the message queued: it is sent later, once;
- a crash after the claim leaves it "sending": it may have left, so it is never sent
  again on its own; `flask mail send` and the outbox page report it for staff to check;
- a temporary failure (4xx, a lost connection) puts it back in the queue with a later
  ``next_attempt_at``; a permanent one (5xx) fails it with the server's answer;
- a connection that fails ends the run: the rest stay queued, untouched; when the
  server was not there or went away (421 included) before it had the message, that
  message is not charged an attempt either.
Two senders never take the same message: the claim is an UPDATE guarded by the row's
version, and the loser moves on.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.invitations.models import InvitationStatus
from app.invitations.services import Actor, InvitationError, mark_sent, personal_url
from app.invitations.tokens import current_token, issue_token
from app.mail.compose import Attachment, Outgoing, Recipient, build, itip
from app.mail.compose import values as values_for
from app.mail.models import MessageKind, MessageStatus, OutboxMessage
from app.mail.services import LINK
from app.mail.texts import fill
from app.types import utcnow

SENDER = Actor(label="mail sender")


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class TemporaryFailure(Exception):
    """Try again later (4xx, a connection lost)."""


class PermanentFailure(Exception):
    """The server refused for good (5xx): the message fails with this answer."""


class ConnectionFailure(TemporaryFailure):
    """No server to talk to: this message waits, and so does the rest of the run."""


class NotHandedOver(ConnectionFailure):
    """The server was not there, or went away (421 included), before it had the message:
    the message was never tried, so the attempt is not charged to it."""


class _SMTP(smtplib.SMTP):
    """Knows whether the server has the message: it has once it answered 354 to DATA."""

    handed_over = False

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()
        if code == 354:
            self.handed_over = True
        return code, text


class _SMTPSSL(_SMTP, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """One connection for a run, opened when the first message needs it."""

    def __init__(self, app: Flask) -> None:
        self.config = app.config
        self.connection: _SMTP | None = None

    def _connect(self) -> _SMTP:
        config = self.config
        host, port = str(config["MAIL_SERVER"]), int(config["MAIL_PORT"])
        timeout = float(config["MAIL_TIMEOUT"])
        security = str(config["MAIL_SECURITY"]).lower()
        connection: _SMTP | None = None
        try:
            # Certificates are always verified; a private CA is named, never switched off.
            context = ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)
            if security == "ssl":
                connection = _SMTPSSL(host, port, timeout=timeout, context=context)
            else:
                connection = _SMTP(host, port, timeout=timeout)
                if security == "starttls":
                    connection.starttls(context=context)
            if config.get("MAIL_USERNAME"):
                connection.login(str(config["MAIL_USERNAME"]), str(config["MAIL_PASSWORD"] or ""))
        except (OSError, smtplib.SMTPException) as error:
            if connection is not None:
                connection.close()
            # Nothing of any message was said yet (a 421 greeting included): no attempt.
            if isinstance(error, smtplib.SMTPAuthenticationError):
                raise NotHandedOver(f"login refused: {error.smtp_code}") from error
            raise NotHandedOver(f"cannot reach {host}:{port}: {error}") from error
        return connection

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        connection = self.connection
        connection.handed_over = False
        try:
            refused = connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            detail = "; ".join(f"{code} {text!r}" for code, text in error.recipients.values())
            if 421 in codes:  # smtplib has closed the connection
                self.connection = None
                raise NotHandedOver(f"server closing: {detail}") from error
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {detail}") from error
            raise TemporaryFailure(f"recipient deferred: {detail}") from error
        except smtplib.SMTPResponseException as error:
            answer = f"{error.smtp_code} {error.smtp_error!r}"
            if error.smtp_code == 421:  # the server is closing the connection
                self.connection = None
                if connection.handed_over:
                    raise ConnectionFailure(answer) from error
                raise NotHandedOver(answer) from error
            if error.smtp_code >= 500:
                raise PermanentFailure(answer) from error
            raise TemporaryFailure(answer) from error
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            self.connection = None
            if connection.handed_over:
                raise ConnectionFailure(f"connection lost: {error}") from error
            raise NotHandedOver(f"connection lost: {error}") from error
        if refused:  # one recipient per message: a partial refusal cannot happen
            raise PermanentFailure(f"refused: {refused!r}")

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None


class DirectoryTransport:
    """Development without SMTP: each message becomes an .eml file in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        ident = str(message["Message-ID"]).strip("<>").partition("@")[0]
        path = self.folder / f"{stamp}-{ident}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(message.as_bytes(policy=SMTP))
        temporary.replace(path)

    def close(self) -> None:
        pass


def transport_for(app: Flask) -> Transport:
    if app.config.get("MAIL_SERVER"):
        return SmtpTransport(app)
    return DirectoryTransport(Path(app.instance_path) / "outbox")


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    stuck: list[int] = field(default_factory=list)  # "sending" for too long: check them
    stopped: str = ""  # why the run ended early, if it did


def _due(now: datetime) -> sa.Select[Any]:
    return (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status == MessageStatus.QUEUED,
            sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.queued_at, OutboxMessage.id)
    )


def stuck_messages(now: datetime | None = None) -> list[int]:
    limit = (now or utcnow()) - timedelta(seconds=int(current_app.config["MAIL_STALE_SENDING"]))
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.id).where(
                OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.claimed_at < limit
            )
        )
    )


def _claim(message_id: int, now: datetime) -> tuple[OutboxMessage, str | None] | None:
    """Take one queued message for this run (committed), with its personal link."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != MessageStatus.QUEUED:
        return None
    link = None
    try:
        message.status = MessageStatus.SENDING
        message.attempts += 1
        message.claimed_at = now
        invitation = message.invitation
        if invitation is not None and "{" + LINK + "}" in message.body:
            token = current_token(invitation) or issue_token(invitation)
            link = personal_url(token)
        db.session.commit()
    except StaleDataError:  # another sender took it, or staff changed it meanwhile
        db.session.rollback()
        return None
    return message, link


def _letter(message: OutboxMessage, link: str | None) -> list[Attachment]:
    if not message.attach_letter or message.invitation is None:
        return []
    from app.documents.letters import Letter, file_name, render_letter

    letter = Letter(message.invitation, link)
    pdf = render_letter(letter, "letter")
    return [Attachment(file_name(letter, "letter"), pdf, "application", "pdf")]


def outgoing(message: OutboxMessage, link: str | None, *, with_letter: bool = True) -> Outgoing:
    """The message as it leaves: its placeholders filled from the invitation as it is now,
    the link, the calendar part and the letter."""
    values = values_for(message.invitation, message.language) if message.invitation else {}
    values[LINK] = link or ""
    calendar = None
    to = Recipient(message.to_name, message.to_address)
    if message.calendar_method:
        calendar = itip(message.ceremony, message.calendar_method, to, message.language)
    return Outgoing(
        kind=message.kind,
        language=message.language,
        to=to,
        subject=fill(message.subject, values),
        body=fill(message.body, values),
        message_id=message.message_id,
        calendar=calendar,
        calendar_method=message.calendar_method,
        attachments=_letter(message, link) if with_letter else [],
    )


def _invitation_sent(message_id: int) -> None:
    """The invitation email has left: the invitation counts as sent. In a transaction of
    its own after the message's, so that a planner's edit racing it cannot undo the
    record that the message left."""
    message = db.session.get(OutboxMessage, message_id)
    invitation = message.invitation if message is not None else None
    if invitation is None or invitation.status != InvitationStatus.DRAFT:
        return
    try:
        mark_sent(db.session, invitation, None, SENDER)
        db.session.commit()
    except (InvitationError, StaleDataError) as error:  # it left all the same: say so
        db.session.rollback()
        current_app.logger.warning("invitation %s not marked sent: %s", invitation.id, error)


def _finish(message_id: int, outcome: Callable[[OutboxMessage], None]) -> None:
    """Record what happened to a claimed message, in a transaction of its own."""
    db.session.rollback()
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return
    outcome(message)
    message.updated_at = utcnow()
    db.session.commit()


def send_queued(
    app: Flask, *, limit: int | None = None, transport: Transport | None = None
) -> SendReport:
    """Send what is due in the queue; call within an app context (CLI, thread)."""
    report = SendReport()
    transport = transport or transport_for(app)
    retry_delays = [int(d) for d in app.config["MAIL_RETRY_DELAYS"]]
    max_attempts = int(app.config["MAIL_MAX_ATTEMPTS"])
    try:
        while limit is None or len(report.sent) + len(report.failed) < limit:
            now = utcnow()
            ids: list[int] = list(db.session.scalars(_due(now).limit(20)))
            db.session.rollback()
            if not ids:
                break
            claimed_any = False
            for message_id in ids:
                claimed = _claim(message_id, now)
                if claimed is None:
                    continue
                claimed_any = True
                message, link = claimed
                try:
                    email = build(outgoing(message, link))
                    transport.send(email)
                except NotHandedOver as error:
                    _untouched(message_id, str(error))
                    report.stopped = str(error)
                    return report
                except ConnectionFailure as error:
                    _retry(message_id, str(error), retry_delays, max_attempts, report)
                    report.stopped = str(error)
                    return report
                except TemporaryFailure as error:
                    _retry(message_id, str(error), retry_delays, max_attempts, report)
                    continue
                except PermanentFailure as error:
                    _fail(message_id, str(error), report)
                    continue
                except Exception as error:  # a message that cannot be built fails alone
                    app.logger.exception("message %s could not be built", message_id)
                    _fail(message_id, f"{type(error).__name__}: {error}", report)
                    continue

                def sent(message: OutboxMessage) -> None:
                    message.status = MessageStatus.SENT
                    message.sent_at = utcnow()
                    message.last_error = ""

                _finish(message_id, sent)
                report.sent.append(message_id)
                if message.kind == MessageKind.INVITATION:
                    _invitation_sent(message_id)
                if limit is not None and len(report.sent) + len(report.failed) >= limit:
                    break
            if not claimed_any:
                break
    finally:
        transport.close()
        report.stuck = stuck_messages()
        db.session.rollback()
    return report


def _retry(
    message_id: int, error: str, delays: list[int], max_attempts: int, report: SendReport
) -> None:
    def later(message: OutboxMessage) -> None:
        message.last_error = error[:2000]
        if message.attempts >= max_attempts:
            message.status = MessageStatus.FAILED
            report.failed.append(message_id)
            return
        wait = delays[min(message.attempts - 1, len(delays) - 1)] if delays else 60
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = utcnow() + timedelta(seconds=wait)
        report.retrying.append(message_id)

    _finish(message_id, later)


def _untouched(message_id: int, error: str) -> None:
    """Back to the queue as it was: the server never had it, so no attempt counts."""

    def back(message: OutboxMessage) -> None:
        message.status = MessageStatus.QUEUED
        message.attempts = max(0, message.attempts - 1)
        message.last_error = error[:2000]

    _finish(message_id, back)


def _fail(message_id: int, error: str, report: SendReport) -> None:
    def failed(message: OutboxMessage) -> None:
        message.status = MessageStatus.FAILED
        message.last_error = error[:2000]

    _finish(message_id, failed)
    report.failed.append(message_id)


_background = threading.Lock()


def start_background_send(app: Flask) -> None:
    """Send the queue from a thread of the web app, after a release; one such thread at a
    time (a second release while it runs is picked up by its next round or by cron)."""
    if not _background.acquire(blocking=False):
        return

    def run() -> None:
        try:
            with app.app_context(), app.test_request_context():
                try:
                    send_queued(app)
                except Exception:  # logged, never lost in a thread; cron sends later
                    app.logger.exception("background sending failed")
                finally:
                    db.session.remove()
        finally:
            _background.release()

    global _thread  # the one background sender of this process
    _thread = threading.Thread(target=run, name="mail-sender", daemon=True)
    _thread.start()


_thread: threading.Thread | None = None


def wait_for_background(timeout: float = 60) -> None:
    """For tests and shutdown: until the background sender (if any) has finished."""
    if _thread is not None:
        _thread.join(timeout)
