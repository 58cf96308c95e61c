"""Calendar replies: an Outlook-style REPLY in the protocol mailbox (a real dovecot on
loopback) or dropped by hand updates the invitation it answers, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.ceremonies.models import Ceremony
from app.extensions import db
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.services import Actor
from app.mail.imap import KEYWORD, MailboxError, fetch_replies
from app.mail.models import MessageKind, MessageStatus, OutboxMessage
from app.mail.replies import apply_message
from app.mail.sender import send_queued
from app.mail.services import draft_invitations, release
from app.types import local_today
from tests.mail_fixtures import ImapServer
from tests.test_mail import invite

YEAR = local_today().year + 1
ADDRESS = "ambassador@kz-embassy.example"


@pytest.fixture
def ceremony(mail_edition: Ceremony) -> Ceremony:
    return mail_edition


@pytest.fixture
def invited(app: Flask, ceremony: Ceremony) -> Invitation:
    """An embassy whose calendar invitation has gone out (to .eml files: no SMTP here)."""
    invitation = invite(ceremony, email=ADDRESS)
    release(db.session, draft_invitations(db.session, ceremony).written, Actor(label="test"))
    db.session.commit()
    with app.test_request_context():
        assert len(send_queued(app).sent) == 1
    db.session.rollback()
    stored = db.session.get(Invitation, invitation.id)
    assert stored is not None
    assert stored.status == InvitationStatus.SENT
    return stored


def outlook_reply(
    uid: str,
    sequence: int,
    partstat: str = "ACCEPTED",
    address: str = "Ambassador@KZ-Embassy.example",
    name: str = "Kairat Nurlanuly",
) -> bytes:
    """A reply as Outlook writes it: its own time zone names, LANGUAGE parameters, the
    address in another case, and the calendar only in a text/calendar alternative."""
    calendar = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "METHOD:REPLY",
            "PRODID:Microsoft Exchange Server 2010",
            "VERSION:2.0",
            "BEGIN:VTIMEZONE",
            "TZID:W. Europe Standard Time",
            "BEGIN:STANDARD",
            "DTSTART:16010101T030000",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:16010101T020000",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
            f"ATTENDEE;PARTSTAT={partstat};CN={name}:MAILTO:{address}",
            "COMMENT;LANGUAGE=en-US:\\n",
            "SUMMARY;LANGUAGE=en-US:Accepted: Victory Day",
            f"DTSTART;TZID=W. Europe Standard Time:{YEAR}0509T100000",
            f"DTEND;TZID=W. Europe Standard Time:{YEAR}0509T113000",
            f"UID:{uid}",
            "CLASS:PUBLIC",
            "PRIORITY:5",
            "DTSTAMP:20261127T120000Z",
            "TRANSP:OPAQUE",
            "STATUS:CONFIRMED",
            f"SEQUENCE:{sequence}",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    return (
        f"From: {name} <{address}>\r\n"
        "To: Protocol <protocol@sovjetereveld.example>\r\n"
        "Subject: Accepted: Victory Day\r\n"
        "Message-ID: <reply-1@kz-embassy.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Accepted.\r\n"
        "--b1\r\n"
        'Content-Type: text/calendar; charset="utf-8"; method=REPLY\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{calendar}\r\n"
        "--b1--\r\n"
    ).encode()


def use_mailbox(app: Flask, server: ImapServer, password: str | None = None) -> None:
    app.config.update(
        IMAP_SERVER="127.0.0.1",
        IMAP_PORT=server.port,
        IMAP_SSL=False,
        IMAP_USERNAME=server.user,
        IMAP_PASSWORD=password or server.password,
    )


def status_of(invitation_id: int) -> InvitationStatus:
    db.session.rollback()
    invitation = db.session.get(Invitation, invitation_id)
    assert invitation is not None
    return invitation.status


# --- applying one reply ----------------------------------------------------------------


def test_an_outlook_accept_accepts_and_names_the_head(
    app: Flask, ceremony: Ceremony, invited: Invitation
) -> None:
    with app.test_request_context():
        outcomes = apply_message(db.session, outlook_reply(ceremony.uid, ceremony.sequence))
        db.session.commit()
    assert outcomes is not None
    assert [(o.applied, o.reason) for o in outcomes] == [(True, "accepted")]
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
    invitation = db.session.get(Invitation, invited.id)
    assert invitation is not None
    assert invitation.replied_by == "calendar"
    assert [m.name for m in invitation.members] == ["Kairat Nurlanuly"]
    # ... and the delegation is told so, with a link to name the others.
    confirmation = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.CONFIRMATION)
    ).one()
    assert confirmation.status == MessageStatus.QUEUED


def test_a_decline_declines(app: Flask, ceremony: Ceremony, invited: Invitation) -> None:
    with app.test_request_context():
        outcomes = apply_message(
            db.session, outlook_reply(ceremony.uid, ceremony.sequence, "DECLINED")
        )
        db.session.commit()
    assert outcomes is not None
    assert outcomes[0].applied
    assert status_of(invited.id) == InvitationStatus.DECLINED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sequence": -1}, "answers SEQUENCE"),
        ({"address": "someone.else@example.org"}, "was not invited"),
        ({"uid": "unknown-uid@elsewhere"}, "no edition has this UID"),
        ({"partstat": "TENTATIVE"}, "is not an answer"),
    ],
)
def test_replies_that_do_not_fit_are_ignored(
    app: Flask, ceremony: Ceremony, invited: Invitation, change: dict[str, Any], reason: str
) -> None:
    arguments: dict[str, Any] = {"uid": ceremony.uid, "sequence": ceremony.sequence}
    if change.get("sequence") == -1:
        # The edition moved on since: a reply to the older version must not count.
        ceremony.sequence += 1
        db.session.commit()
        change = {}
    arguments.update(change)
    with app.test_request_context():
        outcomes = apply_message(db.session, outlook_reply(**arguments))
        db.session.commit()
    assert outcomes is not None
    assert not outcomes[0].applied
    assert reason in outcomes[0].reason
    assert status_of(invited.id) == InvitationStatus.SENT


def test_a_message_that_is_no_calendar_reply_is_not_one(app: Flask) -> None:
    plain = b"From: a@example.org\r\nSubject: Thank you\r\n\r\nSee you on 9 May.\r\n"
    assert apply_message(db.session, plain) is None
    garbage = outlook_reply("x", 0).replace(b"BEGIN:VCALENDAR", b"BEGIN:NONSENSE{{7*7}}")
    assert apply_message(db.session, garbage) is None
    # A calendar a parser reads leniently is matched like any other, and refused here.
    odd = outlook_reply("x", 0).replace(b"BEGIN:VEVENT", b"BEGIN:VEVENT\r\nDTSTART:nonsense")
    outcomes = apply_message(db.session, odd)
    assert outcomes is not None
    assert not any(o.applied for o in outcomes)


# --- the mailbox -----------------------------------------------------------------------


def test_fetch_replies_applies_replies_and_leaves_the_rest_alone(
    app: Flask,
    ceremony: Ceremony,
    invited: Invitation,
    imap_server: ImapServer,
) -> None:
    use_mailbox(app, imap_server)
    imap_server.append(b"From: a@example.org\r\nSubject: Hello\r\n\r\nJust a letter.\r\n")
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence))
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence, address="x@example.org"))
    with app.test_request_context():
        report = fetch_replies(app)
    assert len(report.applied) == 1
    assert [o.reason for o in report.ignored] == ["this address was not invited to the edition"]
    assert report.others == 1
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
    flags = imap_server.flags()
    assert KEYWORD not in flags[0]  # the letter: untouched, still unread
    assert "\\Seen" not in flags[0]
    assert KEYWORD in flags[1]
    assert KEYWORD in flags[2]
    # A second run reads nothing again.
    with app.test_request_context():
        again = fetch_replies(app)
    assert (again.applied, again.ignored, again.others) == ([], [], 1)


def test_fetch_replies_command_reports_and_a_bad_login_is_a_clear_error(
    app: Flask,
    runner: Any,
    ceremony: Ceremony,
    invited: Invitation,
    imap_server: ImapServer,
) -> None:
    use_mailbox(app, imap_server, password="wrong")
    result = runner.invoke(args=["mail", "fetch-replies"])
    assert result.exit_code == 1
    assert "cannot read the mailbox" in result.output
    app.config["IMAP_PASSWORD"] = imap_server.password
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence, "DECLINED"))
    result = runner.invoke(args=["mail", "fetch-replies"])
    assert result.exit_code == 0, result.output
    assert "1 applied, 0 ignored, 0 other message(s) left alone" in result.output
    assert status_of(invited.id) == InvitationStatus.DECLINED


def test_without_an_imap_server_fetch_replies_says_so(app: Flask) -> None:
    with pytest.raises(MailboxError, match="No IMAP server"):
        fetch_replies(app)


# --- dropped by hand -------------------------------------------------------------------


def test_staff_drop_a_forwarded_reply_on_the_invitation_page(
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    invited: Invitation,
) -> None:
    import io

    login(Role.PLANNER)
    url = f"/staff/invitations/{invited.id}/calendar-reply"
    assert client.get(url).status_code == 200
    empty = client.post(url, data={})
    assert empty.status_code == 400
    assert "Choose the .eml file" in empty.text or "Kies het .eml-bestand" in empty.text
    plain = client.post(
        url,
        data={"message": (io.BytesIO(b"Subject: hi\r\n\r\nhello\r\n"), "hello.eml")},
        content_type="multipart/form-data",
    )
    assert plain.status_code == 400
    assert status_of(invited.id) == InvitationStatus.SENT
    response = client.post(
        url,
        data={"message": (io.BytesIO(outlook_reply(ceremony.uid, ceremony.sequence)), "reply.eml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
