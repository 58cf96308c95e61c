"""`flask mail fetch-replies`: read the protocol mailbox over IMAP and apply calendar
REPLYs. Everything else in the mailbox is left alone: messages are read with BODY.PEEK
(no \\Seen flag set), and only REPLYs that were applied, kept for review or refused get
Ereveld's keyword (and are moved to IMAP_DONE_FOLDER when one is set), so no reply is
read twice.

A message that cannot be read safely (too large, too many parts, nested too deeply,
unparseable) is quarantined: it gets the keyword, a second one naming the reason, and
moves to IMAP_QUARANTINE_FOLDER when one is set. The run goes on with the next message,
and the next run does not read it again: one hostile message once stopped every run
before the replies behind it.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.mail.replies import (
    MAX_MESSAGE_BYTES,
    Outcome,
    Unreadable,
    UnreadableMessage,
    apply_message,
)
from app.types import utcnow

KEYWORD = "$Ereveld"
QUARANTINED = "$EreveldQuarantine"
# The reason, as a keyword a mail program shows beside the message (IMAP keywords are
# atoms: no spaces).
REASON_KEYWORDS = {
    Unreadable.TOO_LARGE: "$EreveldTooLarge",
    Unreadable.TOO_MANY_PARTS: "$EreveldTooManyParts",
    Unreadable.TOO_DEEP: "$EreveldTooDeep",
    Unreadable.BROKEN: "$EreveldUnreadable",
}
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
LOOK_BACK_DAYS = 120  # older mail is never a reply to an edition still to come


class MailboxError(Exception):
    """The mailbox could not be read: no server, a refused login, a missing folder."""


@dataclass
class FetchReport:
    applied: list[Outcome] = field(default_factory=list)
    to_review: list[Outcome] = field(default_factory=list)  # waiting for a planner
    ignored: list[Outcome] = field(default_factory=list)  # no edition, or nothing to change
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (IMAP UID, reason)
    others: int = 0  # messages that are no calendar reply, left as they were


def _connect(app: Flask) -> imaplib.IMAP4:
    config = app.config
    host = config.get("IMAP_SERVER")
    if not host:
        raise MailboxError("No IMAP server (EREVELD_IMAP_SERVER) is configured.")
    port = int(config["IMAP_PORT"])
    try:
        connection: imaplib.IMAP4
        if config.get("IMAP_SSL"):
            connection = imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=30
            )
        else:
            connection = imaplib.IMAP4(host, port, timeout=30)
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"cannot reach the mailbox at {host}:{port}: {error}") from error
    try:
        connection.login(
            str(config.get("IMAP_USERNAME") or ""), str(config.get("IMAP_PASSWORD") or "")
        )
    except (OSError, imaplib.IMAP4.error) as error:
        connection.shutdown()
        raise MailboxError(f"cannot read the mailbox at {host}:{port}: {error}") from error
    # Servers name some capabilities (MOVE among them, on dovecot) only once logged in;
    # imaplib keeps the list it got before.
    status, data = connection.capability()
    if status == "OK" and data and isinstance(data[-1], bytes):
        connection.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
    return connection


def fetch_replies(app: Flask) -> FetchReport:
    """Apply every new calendar REPLY in the mailbox; commits once per message."""
    report = FetchReport()
    connection = _connect(app)
    try:
        folder = str(app.config["IMAP_FOLDER"])
        status, _ = connection.select(_quoted(folder))
        if status != "OK":
            raise MailboxError(f"no folder {folder!r} in the mailbox")
        since = (utcnow() - timedelta(days=LOOK_BACK_DAYS)).strftime("%d-%b-%Y")
        status, data = connection.uid("SEARCH", "UNKEYWORD", KEYWORD, "SINCE", since)
        if status != "OK":
            raise MailboxError("the mailbox refused the search")
        for uid in (data[0] or b"").split():
            _one(app, connection, uid, report)
    except imaplib.IMAP4.error as error:
        db.session.rollback()
        raise MailboxError(str(error)) from error
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
    return report


def _one(app: Flask, connection: imaplib.IMAP4, uid: bytes, report: FetchReport) -> None:
    """Read one message and apply its replies (committed), or quarantine it."""
    size = _size(connection, uid)
    if size is not None and size > MAX_MESSAGE_BYTES:  # not even downloaded
        _quarantine(app, connection, uid, Unreadable.TOO_LARGE, report)
        return
    raw = _fetch(connection, uid)
    if raw is None:
        return
    try:
        outcomes = apply_message(db.session, raw)
    except UnreadableMessage as error:
        db.session.rollback()
        _quarantine(app, connection, uid, error.reason, report)
        return
    except sa.exc.DataError:  # a value the database refuses (cleaned, so never seen)
        db.session.rollback()
        app.logger.exception("calendar reply %s could not be stored", uid.decode())
        _quarantine(app, connection, uid, Unreadable.BROKEN, report)
        return
    if outcomes is None:
        report.others += 1
        return
    db.session.commit()
    for outcome in outcomes:
        if outcome.applied:
            report.applied.append(outcome)
        elif outcome.review is not None:
            report.to_review.append(outcome)
        else:
            report.ignored.append(outcome)
    _done(connection, uid, app.config.get("IMAP_DONE_FOLDER"))


def _size(connection: imaplib.IMAP4, uid: bytes) -> int | None:
    status, data = connection.uid("FETCH", uid.decode(), "(RFC822.SIZE)")
    if status != "OK":
        return None
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (match := SIZE.search(line)):
            return int(match.group(1))
    return None


def _quarantine(
    app: Flask, connection: imaplib.IMAP4, uid: bytes, reason: Unreadable, report: FetchReport
) -> None:
    """Mark a message that cannot be read, with its reason, so no run reads it again."""
    app.logger.warning("calendar reply %s quarantined: %s", uid.decode(), reason.value)
    report.quarantined.append((uid.decode(), reason.value))
    flags = f"({KEYWORD} {QUARANTINED} {REASON_KEYWORDS[reason]})"
    connection.uid("STORE", uid.decode(), "+FLAGS", flags)
    folder = app.config.get("IMAP_QUARANTINE_FOLDER")
    if folder and "MOVE" in connection.capabilities:
        _move(connection, uid, str(folder))


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = connection.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _done(connection: imaplib.IMAP4, uid: bytes, done_folder: object) -> None:
    connection.uid("STORE", uid.decode(), "+FLAGS", f"({KEYWORD})")
    # Moved only where the server can move this one message: a plain EXPUNGE would also
    # remove whatever someone else had marked deleted.
    if done_folder and "MOVE" in connection.capabilities:
        _move(connection, uid, str(done_folder))


def _move(connection: imaplib.IMAP4, uid: bytes, folder: str) -> None:
    # CREATE answers NO when the folder exists already: that is fine.
    connection.create(_quoted(folder))
    connection.uid("MOVE", uid.decode(), _quoted(folder))
