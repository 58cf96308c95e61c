"""`flask mail fetch-replies`: read the protocol mailbox over IMAP and apply calendar
REPLYs. Everything else in the mailbox is left alone: messages are read with BODY.PEEK
(no \\Seen flag set), and only applied or refused REPLYs get Ereveld's keyword (and are
moved to IMAP_DONE_FOLDER when one is set), so no reply is read twice.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask

from app.extensions import db
from app.mail.replies import Outcome, apply_message
from app.types import utcnow

KEYWORD = "$Ereveld"
LOOK_BACK_DAYS = 120  # older mail is never a reply to an edition still to come


class MailboxError(Exception):
    """The mailbox could not be read: no server, a refused login, a missing folder."""


@dataclass
class FetchReport:
    applied: list[Outcome] = field(default_factory=list)
    ignored: list[Outcome] = field(default_factory=list)
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
            raw = _fetch(connection, uid)
            if raw is None:
                continue
            outcomes = apply_message(db.session, raw)
            if outcomes is None:
                report.others += 1
                continue
            db.session.commit()
            for outcome in outcomes:
                (report.applied if outcome.applied else report.ignored).append(outcome)
            _done(connection, uid, app.config.get("IMAP_DONE_FOLDER"))
    except imaplib.IMAP4.error as error:
        db.session.rollback()
        raise MailboxError(str(error)) from error
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
    return report


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
        connection.uid("MOVE", uid.decode(), _quoted(str(done_folder)))
