"""Calendar replies: an Outlook-style REPLY in the protocol mailbox (a real dovecot on
loopback) or dropped by hand updates the invitation it answers, and nothing else."""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.ceremonies.models import Ceremony, CeremonyStatus
from app.extensions import db
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.services import Actor
from app.mail.imap import KEYWORD, QUARANTINED, REASON_KEYWORDS, MailboxError, fetch_replies
from app.mail.models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    ReplyReview,
    ReviewReason,
    ReviewStatus,
)
from app.mail.replies import MAX_MESSAGE_BYTES, Outcome, Unreadable, apply_message
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
    *,
    sender: str | None = None,
    headers: str = "",
    calendar_part: str = 'Content-Type: text/calendar; charset="utf-8"; method=REPLY',
) -> bytes:
    """A reply as Outlook writes it: its own time zone names, LANGUAGE parameters, the
    address in another case, and the calendar only in a text/calendar alternative.
    ``sender``: the From address when it is not the attendee's own; ``headers``: more
    header lines (Authentication-Results); ``calendar_part``: the calendar part's
    Content-Type (and more header lines)."""
    return (
        f"{headers}"
        f"From: {name} <{sender or address}>\r\n"
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
        f"{calendar_part}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{reply_calendar(uid, sequence, partstat, address, name)}\r\n"
        "--b1--\r\n"
    ).encode()


def reply_calendar(
    uid: str,
    sequence: int,
    partstat: str = "ACCEPTED",
    address: str = "Ambassador@KZ-Embassy.example",
    name: str = "Kairat Nurlanuly",
) -> str:
    return "\r\n".join(
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


def reviews() -> list[ReplyReview]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(ReplyReview).order_by(ReplyReview.id)))


def apply_raw(app: Flask, raw: bytes) -> list[Outcome] | None:
    with app.test_request_context():
        outcomes = apply_message(db.session, raw)
        db.session.commit()
    return outcomes


def test_a_forged_reply_waits_for_review_and_puts_nobody_on_the_list(
    app: Flask, ceremony: Ceremony, invited: Invitation
) -> None:
    """The attack: From mallory@evil.example, ATTENDEE the embassy's public address. It
    accepted the invitation and put "Mallory Impostor" on the gate list and badges."""
    forged = outlook_reply(
        ceremony.uid, ceremony.sequence, name="Mallory Impostor", sender="mallory@evil.example"
    )
    outcomes = apply_raw(app, forged)
    assert outcomes is not None
    assert [o.applied for o in outcomes] == [False]
    assert status_of(invited.id) == InvitationStatus.SENT
    invitation = db.session.get(Invitation, invited.id)
    assert invitation is not None
    assert invitation.members == []
    [review] = reviews()
    assert review.reason == ReviewReason.SENDER_DIFFERS
    assert review.status == ReviewStatus.PENDING
    assert (review.from_address, review.attendee) == (
        "mallory@evil.example",
        "ambassador@kz-embassy.example",
    )
    assert review.invitation_id == invited.id
    assert review.name == "Mallory Impostor"


TRUSTED = "mx.sovjetereveld.example"


@pytest.mark.parametrize(
    ("header", "applied"),
    [
        ("", False),
        # A header the sender wrote itself, or another server's: not ours, ignored.
        ("Authentication-Results: mx.evil.example; dkim=pass header.d=kz-embassy.example", False),
        (f"Authentication-Results: {TRUSTED}; dkim=fail header.d=kz-embassy.example", False),
        (f"Authentication-Results: {TRUSTED}; dkim=pass header.d=evil.example", False),
        (f"Authentication-Results: {TRUSTED}; spf=pass smtp.mailfrom=kz-embassy.example", False),
        (f"Authentication-Results: {TRUSTED};;; dkim=pass ===", False),
        (f"Authentication-Results: {TRUSTED}; dkim=pass header.d=kz-embassy.example", True),
        (
            f"Authentication-Results: {TRUSTED.upper()}; dmarc=pass header.from=kz-embassy.example",
            True,
        ),
        (
            "Authentication-Results: mx.evil.example; dkim=pass header.d=kz-embassy.example\r\n"
            f"Authentication-Results: {TRUSTED} 1; dkim=pass (2048-bit key)\r\n"
            " header.d=kz-embassy.example header.i=@kz-embassy.example",
            True,
        ),
    ],
)
def test_with_authentication_required_only_our_servers_pass_counts(
    app: Flask, ceremony: Ceremony, invited: Invitation, header: str, applied: bool
) -> None:
    app.config.update(REPLY_REQUIRE_AUTHENTICATION=True, REPLY_AUTHSERV_ID=TRUSTED)
    raw = outlook_reply(ceremony.uid, ceremony.sequence, headers=header + "\r\n" if header else "")
    outcomes = apply_raw(app, raw)
    assert outcomes is not None
    assert [o.applied for o in outcomes] == [applied]
    if applied:
        assert status_of(invited.id) == InvitationStatus.ACCEPTED
        assert reviews() == []
    else:
        assert status_of(invited.id) == InvitationStatus.SENT
        assert [r.reason for r in reviews()] == [ReviewReason.NOT_AUTHENTICATED]


def test_authentication_is_required_in_production_and_flask_check_names_it(
    app: Flask, runner: Any, ceremony: Ceremony, invited: Invitation
) -> None:
    app.config["ENV_NAME"] = "production"
    outcomes = apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence))
    assert outcomes is not None
    assert not outcomes[0].applied
    assert [r.reason for r in reviews()] == [ReviewReason.NOT_AUTHENTICATED]
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "REPLY_AUTHSERV_ID is not set" in result.output
    app.config["REPLY_AUTHSERV_ID"] = TRUSTED
    assert "REPLY_AUTHSERV_ID" not in runner.invoke(args=["check"]).output
    app.config["REPLY_REQUIRE_AUTHENTICATION"] = False
    assert "REPLY_REQUIRE_AUTHENTICATION is off" in runner.invoke(args=["check"]).output


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sequence": -1}, ReviewReason.OLDER_SEQUENCE),
        ({"sequence": +1}, ReviewReason.NEWER_SEQUENCE),
        ({"address": "someone.else@example.org"}, ReviewReason.NOT_INVITED),
        ({"partstat": "TENTATIVE"}, ReviewReason.TENTATIVE),
        ({"partstat": "DELEGATED"}, ReviewReason.NOT_AN_ANSWER),
        ({"deadline": True}, ReviewReason.DEADLINE_PASSED),
        ({"cancelled": True}, ReviewReason.CANCELLED),
    ],
)
def test_replies_that_do_not_fit_wait_for_review_with_their_reason(
    app: Flask,
    ceremony: Ceremony,
    invited: Invitation,
    change: dict[str, Any],
    reason: ReviewReason,
) -> None:
    arguments: dict[str, Any] = {"uid": ceremony.uid, "sequence": ceremony.sequence}
    if change.get("sequence") == -1:
        # The edition moved on since: a reply to the older version must not count.
        ceremony.sequence += 1
    elif change.get("sequence") == 1:
        arguments["sequence"] = ceremony.sequence + 1  # a version we never sent
    elif change.get("deadline"):
        ceremony.rsvp_deadline = invited.rsvp_deadline = local_today() - timedelta(days=1)
    elif change.get("cancelled"):
        ceremony.status = CeremonyStatus.CANCELLED
    else:
        arguments.update(change)
    db.session.commit()
    outcomes = apply_raw(app, outlook_reply(**arguments))
    assert outcomes is not None
    assert not outcomes[0].applied
    assert status_of(invited.id) == InvitationStatus.SENT
    [review] = reviews()
    assert review.reason == reason
    assert review.status == ReviewStatus.PENDING


def test_a_reply_to_no_edition_of_ours_is_reported_not_kept(
    app: Flask, ceremony: Ceremony, invited: Invitation
) -> None:
    outcomes = apply_raw(app, outlook_reply("unknown-uid@elsewhere", 0))
    assert outcomes is not None
    assert [(o.applied, o.reason) for o in outcomes] == [(False, "no edition has this UID")]
    assert reviews() == []


def _generic(kind: str, calendar: str) -> bytes:
    """A reply whose calendar is an attachment of a generic type."""
    if kind == "octet-stream":
        encoded = base64.encodebytes(calendar.encode()).decode()
        part = (
            'Content-Type: application/octet-stream; name="invite.ics"\r\n'
            'Content-Disposition: attachment; filename="invite.ics"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n" + encoded
        )
    else:
        part = "Content-Type: text/plain; charset=utf-8\r\n\r\n" + calendar
    return (
        "From: Kairat Nurlanuly <ambassador@kz-embassy.example>\r\n"
        "Subject: Accepted\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        "--m\r\nContent-Type: text/plain\r\n\r\nAccepted.\r\n"
        f"--m\r\n{part}\r\n--m--\r\n"
    ).encode()


@pytest.mark.parametrize("kind", ["octet-stream", "text/plain"])
def test_a_reply_in_a_generic_attachment_is_recognised(
    app: Flask, ceremony: Ceremony, invited: Invitation, kind: str
) -> None:
    raw = _generic(kind, reply_calendar(ceremony.uid, ceremony.sequence, "DECLINED"))
    outcomes = apply_raw(app, raw)
    assert outcomes is not None
    assert [o.applied for o in outcomes] == [True]
    assert status_of(invited.id) == InvitationStatus.DECLINED


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
    imap_server.append(outlook_reply("unknown-uid@elsewhere", 0))
    with app.test_request_context():
        report = fetch_replies(app)
    assert len(report.applied) == 1
    assert [o.reason for o in report.to_review] == ["to review: not_invited"]
    assert [o.reason for o in report.ignored] == ["no edition has this UID"]
    assert report.others == 1
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
    assert [r.attendee for r in reviews()] == ["x@example.org"]
    flags = imap_server.flags()
    assert KEYWORD not in flags[0]  # the letter: untouched, still unread
    assert "\\Seen" not in flags[0]
    assert all(KEYWORD in f for f in flags[1:])
    # A second run reads nothing again.
    with app.test_request_context():
        again = fetch_replies(app)
    assert (again.applied, again.to_review, again.ignored, again.others) == ([], [], [], 1)


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
    assert (
        "1 applied, 0 to review, 0 ignored, 0 quarantined, 0 other message(s) left alone"
        in result.output
    )
    assert status_of(invited.id) == InvitationStatus.DECLINED


def test_without_an_imap_server_fetch_replies_says_so(app: Flask) -> None:
    with pytest.raises(MailboxError, match="No IMAP server"):
        fetch_replies(app)


# --- hostile mail -----------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """The attack: about 100 kB, 1,500 multiparts one inside the other."""
    head = "From: x@evil.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n' for n in range(depth)
    )
    closing = "".join(f"--b{n}--\r\n" for n in reversed(range(depth)))
    return (head + opening + "Content-Type: text/plain\r\n\r\nhi\r\n" + closing).encode()


def deep_digest(depth: int) -> bytes:
    """Attached emails one inside the other (message/rfc822), each a level of recursion."""
    inner = "From: x@evil.example\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    for _ in range(depth):
        inner = f"From: x@evil.example\r\nContent-Type: message/rfc822\r\n\r\n{inner}"
    return inner.encode()


HOSTILE = {
    "nested multiparts": nested(1500),
    "nested emails": deep_digest(400),
    "too many parts": (
        'From: x@evil.example\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        + "".join("--m\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(5000))
        + "--m--\r\n"
    ).encode(),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_message_is_quarantined_and_the_reply_behind_it_applied(
    app: Flask,
    runner: Any,
    ceremony: Ceremony,
    invited: Invitation,
    imap_server: ImapServer,
    name: str,
) -> None:
    use_mailbox(app, imap_server)
    imap_server.append(HOSTILE[name])
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence))
    result = runner.invoke(args=["mail", "fetch-replies"])
    assert result.exit_code == 0, result.output
    assert "1 applied, 0 to review, 0 ignored, 1 quarantined" in result.output
    assert "quarantined: message 1:" in result.output
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
    flags = imap_server.flags()
    assert QUARANTINED in flags[0]
    assert KEYWORD in flags[0]
    assert any(keyword in flags[0] for keyword in REASON_KEYWORDS.values())
    # The next run does not trip on it again.
    again = runner.invoke(args=["mail", "fetch-replies"])
    assert again.exit_code == 0, again.output
    assert "0 applied, 0 to review, 0 ignored, 0 quarantined, 0 other" in again.output


def test_a_quarantine_folder_takes_the_hostile_message_and_a_huge_one_is_not_downloaded(
    app: Flask, ceremony: Ceremony, invited: Invitation, imap_server: ImapServer
) -> None:
    use_mailbox(app, imap_server)
    app.config["IMAP_QUARANTINE_FOLDER"] = "Ereveld quarantine"
    huge = b"From: x@evil.example\r\nSubject: big\r\n\r\n" + b"x" * (MAX_MESSAGE_BYTES + 10)
    imap_server.append(huge)
    imap_server.append(nested(1500))
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence))
    with app.test_request_context():
        report = fetch_replies(app)
    assert [reason for _uid, reason in report.quarantined] == [
        Unreadable.TOO_LARGE.value,
        Unreadable.TOO_MANY_PARTS.value,
    ]
    assert len(report.applied) == 1
    moved = imap_server.flags('"Ereveld quarantine"')
    assert len(moved) == 2
    assert REASON_KEYWORDS[Unreadable.TOO_LARGE] in moved[0]
    assert REASON_KEYWORDS[Unreadable.TOO_MANY_PARTS] in moved[1]
    assert len(imap_server.flags()) == 1  # the reply stays where it was
    # With a folder for handled replies it moves there (MOVE is named only after login).
    app.config["IMAP_DONE_FOLDER"] = "Done"
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence, "DECLINED"))
    with app.test_request_context():
        assert len(fetch_replies(app).applied) == 1
    assert len(imap_server.flags("Done")) == 1
    assert len(imap_server.flags()) == 1


BROKEN = {
    # NUL bytes in the name, the address and the subject; PostgreSQL refuses NUL in text.
    "nul": outlook_reply(
        "{uid}", 0, name="Mallory\x00Impostor", sender="mallory@evil.example"
    ).replace(b"Subject: Accepted", b"Subject: Accepted\x00"),
    # Bytes that are no UTF-8 in headers and in the calendar, and an unknown charset.
    "encoding": outlook_reply(
        "{uid}",
        0,
        sender="mallory@evil.example",
        calendar_part='Content-Type: text/calendar; charset="x-unknown-8bit"; method=REPLY',
    )
    .replace(b"Subject: Accepted", b"Subject: =?utf-8?b?/w==?= \xff\xfe Accepted")
    .replace(b"CN=Kairat Nurlanuly", b"CN=Kairat \xc3\x28 Nurlanuly")
    .replace(b"From: Kairat Nurlanuly", b"From: Kairat \xff Nurlanuly"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_nul_bytes_and_broken_encodings_are_stored_clean(
    app: Flask, ceremony: Ceremony, invited: Invitation, imap_server: ImapServer, name: str
) -> None:
    use_mailbox(app, imap_server)
    imap_server.append(BROKEN[name].replace(b"{uid}", ceremony.uid.encode()))
    imap_server.append(outlook_reply(ceremony.uid, ceremony.sequence))
    with app.test_request_context():
        report = fetch_replies(app)
    assert report.quarantined == []
    assert len(report.applied) == 1
    [review] = reviews()
    assert review.from_address == "mallory@evil.example"
    for text in (review.name, review.subject, review.attendee, review.from_address):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: PostgreSQL would refuse them
    assert review.name.startswith(("Mallory", "Kairat"))


# --- staff review -----------------------------------------------------------------------


def test_planners_apply_or_discard_replies_to_review_and_viewers_only_look(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    invited: Invitation,
) -> None:
    forged = outlook_reply(
        ceremony.uid, ceremony.sequence, name="Mallory Impostor", sender="mallory@evil.example"
    )
    apply_raw(app, forged)
    # The real one, forwarded by a secretary: waits too (the sender differs).
    apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence, sender="secretary@kz.example"))
    apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence, "TENTATIVE"))
    forged_review, real_review, tentative = reviews()

    login(Role.VIEWER)
    outbox = client.get(f"/staff/ceremonies/{ceremony.slug}/mail")
    assert re.search(r'id="replies-to-review"><a [^>]+>[^<]*: 3<', outbox.text)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}/mail/replies")
    assert page.status_code == 200
    assert "mallory@evil.example" in page.text
    assert f'data-review="{forged_review.id}"' in page.text
    assert "/apply" not in page.text
    assert "/discard" not in page.text
    refused = client.post(f"/staff/mail/replies/{forged_review.id}/apply", data={"version": "1"})
    assert refused.status_code == 403
    # The tentative one shows on the invitation, for someone to phone them.
    invitation_page = client.get(f"/staff/invitations/{invited.id}")
    assert f'data-review="{tentative.id}"' in invitation_page.text

    assert client.post("/logout").status_code == 302
    login(Role.PLANNER)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}/mail/replies")
    assert f"/staff/mail/replies/{forged_review.id}/apply" in page.text
    assert f"/staff/mail/replies/{tentative.id}/apply" not in page.text  # nothing to record
    assert f"/staff/mail/replies/{tentative.id}/discard" in page.text
    discarded = client.post(
        f"/staff/mail/replies/{forged_review.id}/discard", data={"version": "1"}
    )
    assert discarded.status_code == 302
    applied = client.post(f"/staff/mail/replies/{real_review.id}/apply", data={"version": "1"})
    assert applied.status_code == 302
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
    invitation = db.session.get(Invitation, invited.id)
    assert invitation is not None
    assert [m.name for m in invitation.members] == ["Kairat Nurlanuly"]
    assert [r.status for r in reviews()] == [
        ReviewStatus.DISCARDED,
        ReviewStatus.APPLIED,
        ReviewStatus.PENDING,
    ]
    # Both decisions are audited, with who sent the reply.
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action.like("calendar_reply.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["calendar_reply.discarded", "calendar_reply.applied"]
    assert entries[0].changes["from"] == "mallory@evil.example"
    assert entries[1].changes["from"] == "secretary@kz.example"
    assert all(e.actor_user_id is not None for e in entries)
    # A decided reply cannot be decided again (a second tab).
    again = client.post(f"/staff/mail/replies/{real_review.id}/discard", data={"version": "2"})
    assert again.status_code in (400, 409)
    # The tentative one cannot be applied, only marked as dealt with.
    tentative_apply = client.post(
        f"/staff/mail/replies/{tentative.id}/apply", data={"version": "1"}
    )
    assert tentative_apply.status_code == 400
    assert status_of(invited.id) == InvitationStatus.ACCEPTED


def test_a_reply_to_a_cancelled_edition_says_so_and_cannot_be_applied(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    invited: Invitation,
) -> None:
    ceremony.status = CeremonyStatus.CANCELLED
    db.session.commit()
    apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence))
    [review] = reviews()
    assert review.reason == ReviewReason.CANCELLED
    login(Role.PLANNER)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}/mail/replies?lang=en")
    assert "the ceremony is cancelled" in page.text or "de plechtigheid is afgelast" in page.text
    assert f"/staff/mail/replies/{review.id}/apply" not in page.text


# --- dropped by hand -------------------------------------------------------------------


def drop(client: FlaskClient, invitation_id: int, raw: bytes) -> Any:
    return client.post(
        f"/staff/invitations/{invitation_id}/calendar-reply",
        data={"message": (io.BytesIO(raw), "reply.eml")},
        content_type="multipart/form-data",
    )


def forwarded(original: bytes, by: str = "secretary@kz-embassy.example") -> bytes:
    """An email that forwards the reply as an attachment (what Outlook's Forward does)."""
    return (
        f"From: Embassy secretary <{by}>\r\n".encode()
        + b"To: protocol@sovjetereveld.example\r\nSubject: FW: Accepted\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="fw"\r\n\r\n'
        b"--fw\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        b"--fw\r\nContent-Type: message/rfc822\r\n\r\n" + original + b"\r\n--fw--\r\n"
    )


def test_staff_drop_a_forwarded_reply_see_who_sent_it_and_then_apply_it(
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    invited: Invitation,
) -> None:
    login(Role.PLANNER)
    url = f"/staff/invitations/{invited.id}/calendar-reply"
    assert client.get(url).status_code == 200
    empty = client.post(url, data={})
    assert empty.status_code == 400
    assert "Choose the .eml file" in empty.text or "Kies het .eml-bestand" in empty.text
    plain = drop(client, invited.id, b"Subject: hi\r\n\r\nhello\r\n")
    assert plain.status_code == 400
    # Read, not applied: the forwarder and the original sender are shown first.
    shown = drop(client, invited.id, forwarded(outlook_reply(ceremony.uid, ceremony.sequence)))
    assert shown.status_code == 200
    assert '<dd id="forwarded-by">secretary@kz-embassy.example</dd>' in shown.text
    assert '<dd id="original-sender">ambassador@kz-embassy.example</dd>' in shown.text
    assert status_of(invited.id) == InvitationStatus.SENT
    token = re.search(r'name="reply" type="hidden" value="([^"]+)"', shown.text)
    assert token is not None
    confirmed = client.post(f"{url}/confirm", data={"reply": html.unescape(token.group(1))})
    assert confirmed.status_code == 302
    assert status_of(invited.id) == InvitationStatus.ACCEPTED
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "calendar_reply.applied")
    ).one()
    assert entry.changes["forwarded_by"] == "secretary@kz-embassy.example"
    assert entry.changes["from"] == "ambassador@kz-embassy.example"
    # A confirmation made for this invitation does nothing on another's page.
    other = invite(ceremony, "Embassy of Elsewhere", email="other@elsewhere.example")
    assert (
        client.post(
            f"/staff/invitations/{other.id}/calendar-reply/confirm",
            data={"reply": html.unescape(token.group(1))},
        ).status_code
        == 400
    )
    forged = client.post(f"{url}/confirm", data={"reply": "not-signed"})
    assert forged.status_code == 400


def test_a_dropped_reply_for_another_invitation_is_refused_and_nothing_saved(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    invited: Invitation,
) -> None:
    other = invite(ceremony, "Embassy of Elsewhere", email="other@elsewhere.example")
    login(Role.PLANNER)
    response = drop(client, other.id, outlook_reply(ceremony.uid, ceremony.sequence))
    assert response.status_code == 400
    assert "Embassy of the Republic of Kazakhstan" in response.text
    assert status_of(invited.id) == InvitationStatus.SENT
    assert status_of(other.id) == InvitationStatus.DRAFT
    assert reviews() == []


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_dropped_by_hand_is_a_form_error(
    client: FlaskClient,
    login: Callable[[Role], Any],
    invited: Invitation,
    name: str,
) -> None:
    login(Role.PLANNER)
    response = drop(client, invited.id, HOSTILE[name])
    assert response.status_code == 400
    assert 'class="error"' in response.text


def test_replies_kept_for_review_are_exported_erased_and_purged(
    app: Flask, ceremony: Ceremony, invited: Invitation
) -> None:
    from app.contacts.models import Person
    from app.privacy.services import erase_person, export_person, purge_delegations

    apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence, "TENTATIVE"))
    apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence, sender="mallory@evil.example"))
    assert len(reviews()) == 2
    person = db.session.scalar(sa.select(Person).where(Person.email == ADDRESS))
    assert person is not None
    exported = export_person(db.session, person)
    assert sorted(r["reason"] for r in exported["calendar_replies"]) == [
        "sender_differs",
        "tentative",
    ]
    assert {r["attendee"] for r in exported["calendar_replies"]} == {ADDRESS}
    erasure = erase_person(db.session, person)
    db.session.commit()
    assert erasure.replies_deleted == 2
    assert reviews() == []
    # The retention purge takes them with the edition's outbox.
    apply_raw(app, outlook_reply(ceremony.uid, ceremony.sequence, sender="mallory@evil.example"))
    assert len(reviews()) == 1
    purge_delegations(db.session, ceremony.local_start.date() + timedelta(days=2))
    db.session.commit()
    assert reviews() == []
