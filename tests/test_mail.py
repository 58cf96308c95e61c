"""Mail: the reviewed outbox, sending through a real SMTP server on loopback (aiosmtpd),
the iTIP calendar parts read by two parsers, retries, crashes, and hostile names."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
)
from app.extensions import db
from app.invitations.models import Invitation, InvitationKind, InvitationStatus
from app.invitations.services import Actor
from app.invitations.tokens import current_token, issue_token
from app.mail.models import MessageKind, MessageStatus, OutboxMessage
from app.mail.sender import SendReport, _claim, send_queued
from app.mail.services import draft_invitations, release
from app.types import local_today, utcnow
from tests.calendar_clients import check_wire_rules, ical_js, parse
from tests.mail_fixtures import Mailbox, TlsServer
from tests.pdf_tools import text as pdf_text

YEAR = local_today().year + 1
STAFF = Actor(label="test")
KAZAKH = "Қайрат Нұрланұлы"


# --- the world -----------------------------------------------------------------------


@pytest.fixture
def ceremony(mail_edition: Ceremony) -> Ceremony:
    return mail_edition


def invite(
    ceremony: Ceremony,
    name: str = "Embassy of the Republic of Kazakhstan",
    *,
    email: str = "ambassador@kz-embassy.example",
    language: str = "en",
    given: str = "Kairat",
    family: str = "Nurlanuly",
    status: InvitationStatus = InvitationStatus.DRAFT,
    kind: InvitationKind = InvitationKind.RSVP,
) -> Invitation:
    organisation = Organisation(name=name, kind=OrganisationKind.EMBASSY, country="KZ")
    person = Person(
        given_name=given,
        family_name=family,
        native_name=KAZAKH,
        gender=Gender.MALE,
        email=email,
        appointments=[Appointment(organisation=organisation, role=AppointmentRole.AMBASSADOR)],
    )
    invitation = Invitation(
        ceremony=ceremony,
        organisation=organisation,
        addressee=person,
        language=language,
        kind=kind,
        rsvp_deadline=ceremony.rsvp_deadline,
        status=status,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def send(app: Flask) -> SendReport:
    with app.test_request_context():
        return send_queued(app)


def queued_invitations(ceremony: Ceremony) -> list[OutboxMessage]:
    drafts = draft_invitations(db.session, ceremony).written
    release(db.session, drafts, STAFF)
    db.session.commit()
    return drafts


def parts(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def calendar_of(message: EmailMessage) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no text/calendar part")


def body_of(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    assert plain is not None
    content = plain.get_content()
    assert isinstance(content, str)
    return content


LINK = re.compile(r"https?://[^\s]+/rsvp/([A-Za-z0-9_-]{43})")


# --- draft, review, release, send --------------------------------------------------------


def test_drafts_wait_for_release_and_then_leave_once(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    invite(ceremony)
    drafts = draft_invitations(db.session, ceremony).written
    db.session.commit()
    assert [m.status for m in drafts] == [MessageStatus.DRAFT]
    assert send(app).sent == []
    assert smtp.received == []

    release(db.session, drafts, STAFF)
    db.session.commit()
    report = send(app)
    assert len(report.sent) == 1
    assert not report.failed
    assert len(smtp.received) == 1
    assert send(app).sent == []  # nothing twice
    assert len(smtp.received) == 1
    message = db.session.get(OutboxMessage, drafts[0].id)
    assert message is not None
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    # A second "write the invitations" writes nothing new for an invitation that has one.
    assert draft_invitations(db.session, ceremony).written == []


def test_the_invitation_email_is_an_itip_request_with_the_letter(
    app: Flask, client: FlaskClient, ceremony: Ceremony, smtp: Mailbox, tmp_path: Any
) -> None:
    invitation = invite(ceremony)
    queued_invitations(ceremony)
    send(app)
    received = smtp.received[0]
    message = received.message
    assert received.recipients == ["ambassador@kz-embassy.example"]

    # CALENDAR.md: mixed( alternative(plain, html, calendar), .ics, letter )
    assert parts(message) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
        "application/pdf",
    ]
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    attachment = next(p for p in message.walk() if p.get_content_type() == "application/ics")
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == calendar_of(message)

    # Headers: From the foundation, Reply-To the protocol mailbox, one Message-ID.
    assert message["From"].addresses[0].addr_spec == app.config["MAIL_FROM_ADDRESS"]
    assert message["Reply-To"].addresses[0].addr_spec == app.config["MAIL_PROTOCOL_ADDRESS"]
    assert message["To"].addresses[0].addr_spec == "ambassador@kz-embassy.example"
    assert message["To"].addresses[0].display_name == "Kairat Nurlanuly"
    assert re.fullmatch(r"<[^<>@\s]+@sovjetereveld\.example>", str(message["Message-ID"]))
    assert message["List-Unsubscribe"] is None
    db.session.rollback()
    stored = db.session.get(Invitation, invitation.id)
    assert stored is not None
    assert stored.status == InvitationStatus.SENT

    # The calendar part, read by icalendar and by Thunderbird's ical.js.
    body = calendar_of(message)
    check_wire_rules(body)
    calendar = parse(body)
    assert str(calendar["METHOD"]) == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == ceremony.uid
    stored_edition = db.session.get(Ceremony, ceremony.id)
    assert stored_edition is not None
    assert event.decoded("SEQUENCE") == stored_edition.sequence
    js = ical_js(body)
    assert js["method"] == "REQUEST"
    [seen] = js["events"]
    assert seen["uid"] == ceremony.uid
    assert seen["organizer"] == "mailto:" + app.config["MAIL_PROTOCOL_ADDRESS"]
    assert seen["attendees"] == [
        {
            "address": "mailto:ambassador@kz-embassy.example",
            "cn": "Kairat Nurlanuly",
            "partstat": "NEEDS-ACTION",
            "rsvp": "TRUE",
            "role": "REQ-PARTICIPANT",
        }
    ]
    assert seen["start_utc"].startswith(ceremony.starts_at.strftime("%Y-%m-%dT%H:%M"))
    assert seen["tzid"] == "Europe/Amsterdam"

    # The text names the addressee and the ceremony, and carries a live personal link.
    text = body_of(message)
    # An ambassador's salutation, never "Dear" glued to a style.
    assert text.splitlines()[0] == "Your Excellency,"
    assert "Dear His Excellency" not in text
    assert "{" not in text
    assert "}" not in text
    [token] = LINK.findall(text)
    assert client.get(f"/rsvp/{token}").status_code == 200
    html_part = message.get_body(("html",))
    assert html_part is not None
    assert f"/rsvp/{token}" in html_part.get_content()
    # The letter attached carries the same link.
    letter = next(p for p in message.walk() if p.get_content_type() == "application/pdf")
    pdf = letter.get_payload(decode=True)
    assert isinstance(pdf, bytes)
    assert token[:20] in pdf_text(pdf, tmp_path).replace("\n", "")


def test_each_language_has_its_own_text(app: Flask, ceremony: Ceremony, smtp: Mailbox) -> None:
    invite(ceremony, "Ambassade", email="nl@example.org", language="nl")
    invite(ceremony, "Посольство", email="ru@example.org", language="ru")
    queued_invitations(ceremony)
    send(app)
    by_address = {r.recipients[0]: r.message for r in smtp.received}
    dutch = body_of(by_address["nl@example.org"])
    russian = body_of(by_address["ru@example.org"])
    assert dutch.splitlines()[0] == "Excellentie,"
    assert "Geachte Zijne" not in dutch
    assert "Met de meeste hoogachting" in dutch
    assert russian.splitlines()[0] == "Уважаемый господин Посол!"
    assert "Приглашение" in str(by_address["ru@example.org"]["Subject"])
    assert by_address["ru@example.org"]["Content-Language"] == "ru"


def test_without_smtp_messages_become_eml_files(app: Flask, ceremony: Ceremony) -> None:
    assert not app.config.get("MAIL_SERVER")
    invite(ceremony)
    queued_invitations(ceremony)
    report = send(app)
    assert len(report.sent) == 1
    files = sorted((__import__("pathlib").Path(app.instance_path) / "outbox").glob("*.eml"))
    assert len(files) == 1
    from tests.mail_fixtures import Received

    message = Received("", [], files[0].read_bytes()).message
    assert message["To"].addresses[0].addr_spec == "ambassador@kz-embassy.example"
    assert "text/calendar" in parts(message)


def test_do_not_invite_and_proxy_get_no_mail_and_no_address_is_reported(
    app: Flask, ceremony: Ceremony
) -> None:
    from app.invitations.models import InvitationPolicy, PolicyDecision

    invite(ceremony, "Proxy embassy", email="proxy@example.org", kind=InvitationKind.PROXY)
    banned = invite(ceremony, "Banned embassy", email="banned@example.org")
    nobody = invite(ceremony, "Embassy without address", email="")
    db.session.add(
        InvitationPolicy(
            ceremony_id=ceremony.id,
            organisation_id=banned.organisation_id,
            decision=PolicyDecision.DO_NOT_INVITE,
        )
    )
    db.session.commit()
    result = draft_invitations(db.session, ceremony)
    assert result.written == []
    assert [i.organisation.name for i in result.without_address] == ["Embassy without address"]
    assert nobody.organisation.name == "Embassy without address"


def test_a_draft_whose_organisation_became_do_not_invite_is_withdrawn_on_release(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    from app.invitations.models import InvitationPolicy, PolicyDecision

    invitation = invite(ceremony)
    drafts = draft_invitations(db.session, ceremony).written
    db.session.add(
        InvitationPolicy(
            ceremony_id=ceremony.id,
            organisation_id=invitation.organisation_id,
            decision=PolicyDecision.DO_NOT_INVITE,
        )
    )
    db.session.commit()
    assert release(db.session, drafts, STAFF) == []
    db.session.commit()
    send(app)
    assert smtp.received == []
    assert db.session.get(OutboxMessage, drafts[0].id).status == MessageStatus.CANCELLED  # type: ignore[union-attr]


# --- hostile names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "Evil\r\nBcc: victim@example.org",
        'Quote" <attacker@example.org>, "x',
        "Line\nbreak\rSubject: spoofed",
        "Bidi\u202eexe.live",
    ],
)
def test_display_names_cannot_inject_headers(
    app: Flask, ceremony: Ceremony, smtp: Mailbox, given: str
) -> None:
    invite(ceremony, given=given)
    queued_invitations(ceremony)
    report = send(app)
    assert len(report.sent) == 1, report
    received = smtp.received[0]
    assert received.recipients == ["ambassador@kz-embassy.example"]
    message = received.message
    assert message["Bcc"] is None
    assert len(message.get_all("Subject") or []) == 1
    assert len(message.get_all("To") or []) == 1
    [to] = message["To"].addresses
    assert to.addr_spec == "ambassador@kz-embassy.example"
    assert "\n" not in to.display_name
    assert "\r" not in to.display_name
    assert "\u202e" not in to.display_name
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(Bcc|Subject: spoofed)", header_block, re.MULTILINE | re.IGNORECASE)
    # The calendar's CN parameter is as clean.
    calendar = calendar_of(message)
    check_wire_rules(calendar)
    assert ical_js(calendar)["events"][0]["attendees"][0]["address"] == (
        "mailto:ambassador@kz-embassy.example"
    )


# --- failures: retries, a server that goes away, a sender that dies ----------------------


def test_a_refused_recipient_fails_with_the_servers_answer(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    invite(ceremony, email="nobody@kz-embassy.example")
    smtp.refuse.add("nobody@kz-embassy.example")
    [message] = queued_invitations(ceremony)
    report = send(app)
    assert report.failed == [message.id]
    db.session.rollback()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored is not None
    assert stored.status == MessageStatus.FAILED
    assert "550" in stored.last_error


def test_a_deferred_recipient_is_retried_later_and_then_given_up(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    invite(ceremony, email="busy@kz-embassy.example")
    smtp.defer.add("busy@kz-embassy.example")
    [message] = queued_invitations(ceremony)
    report = send(app)
    assert report.retrying == [message.id]
    db.session.rollback()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored is not None
    assert stored.status == MessageStatus.QUEUED
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at > utcnow()
    assert "451" in stored.last_error
    assert send(app).retrying == []  # not due yet: nothing tried
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    stored.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    report = send(app)
    assert report.failed == [message.id]
    db.session.rollback()
    assert db.session.get(OutboxMessage, message.id).status == MessageStatus.FAILED  # type: ignore[union-attr]
    assert smtp.received == []


def test_a_server_that_goes_away_mid_batch_leaves_the_rest_queued_and_sends_nothing_twice(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    for n in range(6):
        invite(ceremony, f"Embassy {n}", email=f"e{n}@example.org")
    queued_invitations(ceremony)
    smtp.close_after = 2
    first = send(app)
    assert len(first.sent) == 2
    assert len(smtp.received) == 2
    assert first.stopped
    db.session.rollback()
    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert sorted(statuses) == sorted([MessageStatus.SENT] * 2 + [MessageStatus.QUEUED] * 4)
    # The third met the 421 after it was handed over: one attempt. The server had gone
    # away then: no other message was tried, and none is charged.
    attempts = db.session.scalars(
        sa.select(OutboxMessage.attempts)
        .where(OutboxMessage.status == MessageStatus.QUEUED)
        .order_by(OutboxMessage.id)
    ).all()
    assert attempts == [1, 0, 0, 0]
    # The server is back; the one that met the failure waits for its retry time.
    smtp.close_after = None
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=None))
    db.session.commit()
    second = send(app)
    assert len(second.sent) == 4
    ids = [str(r.message["Message-ID"]) for r in smtp.received]
    assert len(ids) == 6
    assert len(set(ids)) == 6
    assert sorted(r.recipients[0] for r in smtp.received) == [f"e{n}@example.org" for n in range(6)]


def test_with_no_server_at_all_the_run_stops_and_nothing_is_lost(
    app: Flask, ceremony: Ceremony
) -> None:
    from tests.mail_fixtures import free_port

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SECURITY="none")
    for n in range(3):
        invite(ceremony, f"Embassy {n}", email=f"e{n}@example.org")
    queued_invitations(ceremony)
    report = send(app)
    assert report.stopped
    assert report.sent == []
    db.session.rollback()
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.status for m in messages] == [MessageStatus.QUEUED] * 3
    # The server was never there: no message was tried, none is charged an attempt.
    assert [m.attempts for m in messages] == [0, 0, 0]
    assert "cannot reach" in messages[0].last_error


def test_a_421_greeting_or_a_server_closing_before_the_message_charges_no_attempt(
    app: Flask, ceremony: Ceremony, smtp: Mailbox, busy_smtp: list[bytes], runner: Any
) -> None:
    for n in range(2):
        invite(ceremony, f"Embassy {n}", email=f"e{n}@example.org")
    queued_invitations(ceremony)
    for _ in range(3):  # cron runs on while the server is busy
        report = send(app)
        assert "421" in report.stopped
    assert busy_smtp  # it was asked, and greeted with 421
    db.session.rollback()
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.status, m.attempts) for m in messages] == [(MessageStatus.QUEUED, 0)] * 2
    # The real server again, now shutting down: 421 to MAIL FROM, before the message.
    app.config["MAIL_PORT"] = smtp.port
    smtp.closing = True
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "421" in result.output
    db.session.rollback()
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.status, m.attempts) for m in messages] == [(MessageStatus.QUEUED, 0)] * 2
    smtp.closing = False
    assert len(send(app).sent) == 2
    assert len(smtp.received) == 2


def test_a_message_whose_sender_died_is_never_sent_again_on_its_own(
    app: Flask, client: FlaskClient, ceremony: Ceremony, smtp: Mailbox, login: Any
) -> None:
    invite(ceremony)
    [message] = queued_invitations(ceremony)
    with app.test_request_context():
        assert _claim(message.id, utcnow()) is not None  # ... and then the process died
    db.session.rollback()
    assert send(app).sent == []
    assert smtp.received == []
    app.config["MAIL_STALE_SENDING"] = 0
    report = send(app)
    assert report.stuck == [message.id]
    # Cron sees it in the exit status, not only in the output nobody may read.
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert f"check by hand: messages {message.id} " in result.output
    # Staff checked: it did not arrive. They send it again.
    login(Role.PLANNER)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}/mail")
    assert "check by hand" in page.text or "controleren" in page.text
    db.session.rollback()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored is not None
    response = client.post(f"/staff/mail/{message.id}/requeue", data={"version": stored.version})
    assert response.status_code == 302
    assert len(send(app).sent) == 1
    assert len(smtp.received) == 1


def test_two_senders_at_once_send_each_message_once(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    for n in range(8):
        invite(ceremony, f"Embassy {n}", email=f"e{n}@example.org")
    queued = sorted(message.id for message in queued_invitations(ceremony))
    db.session.remove()
    errors: list[BaseException] = []
    reports: list[SendReport] = []

    def run() -> None:
        try:
            with app.app_context():
                reports.append(send(app))
                db.session.remove()
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a sender hangs"
    assert errors == []
    assert len(reports) == 2
    assert sorted(i for report in reports for i in report.sent) == queued, reports
    recipients = sorted(r.recipients[0] for r in smtp.received)
    assert recipients == sorted(f"e{n}@example.org" for n in range(8))


# --- confirmations, updates, cancellations -----------------------------------------------


def accept_on_the_personal_page(client: FlaskClient, invitation: Invitation) -> str:
    """The delegation accepts with Kairat Nurlanuly at its head; returns its link's token."""
    token = issue_token(invitation)
    db.session.commit()
    response = client.post(
        f"/rsvp/{token}/reply",
        data={"answer": "accept", "head_name": "Kairat Nurlanuly", "version": invitation.version},
    )
    assert response.status_code in (302, 303), response.text[:500]
    return token


def test_a_delegations_own_reply_is_confirmed_without_review(
    app: Flask, client: FlaskClient, ceremony: Ceremony, smtp: Mailbox
) -> None:
    invitation = invite(ceremony, status=InvitationStatus.SENT)
    token = accept_on_the_personal_page(client, invitation)
    db.session.rollback()
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.kind == MessageKind.CONFIRMATION
    assert message.status == MessageStatus.QUEUED
    send(app)
    [received] = smtp.received
    text = body_of(received.message)
    assert "Kairat Nurlanuly" in text
    assert "accepted" in text.lower()
    assert received.message["Auto-Submitted"] == "auto-replied"
    # The confirmation carries the link the delegation already has: it keeps working.
    [sent_token] = LINK.findall(text)
    assert sent_token == token
    assert "text/calendar" not in parts(received.message)


@pytest.mark.parametrize(
    ("language", "reply", "english"), [("nl", "Antwoord:", "Reply:"), ("ru", "Ответ:", "Reply:")]
)
def test_a_confirmation_states_the_reply_in_the_delegations_language(
    app: Flask,
    client: FlaskClient,
    ceremony: Ceremony,
    smtp: Mailbox,
    language: str,
    reply: str,
    english: str,
) -> None:
    """The reply summary was an f-string around _(): never extracted, English everywhere."""
    invitation = invite(ceremony, status=InvitationStatus.SENT, language=language)
    accept_on_the_personal_page(client, invitation)
    send(app)
    [received] = smtp.received
    text = body_of(received.message)
    assert reply in text
    assert english not in text


def test_a_change_of_time_sends_updates_to_those_who_accepted(
    app: Flask, client: FlaskClient, ceremony: Ceremony, smtp: Mailbox, login: Any
) -> None:
    coming = invite(
        ceremony, "Coming", email="coming@example.org", status=InvitationStatus.ACCEPTED
    )
    invite(ceremony, "Declined", email="declined@example.org", status=InvitationStatus.DECLINED)
    issue_token(coming)
    db.session.commit()
    before = ceremony.sequence
    login(Role.PLANNER)
    form = client.get(f"/staff/ceremonies/{ceremony.slug}/edit").text
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    fields.update(start_time="10:30", end_time="11:45")
    fields.pop("csrf_token", None)
    fields["venue_id"] = str(ceremony.venue_id)
    if "public" in fields:
        fields["public"] = "y"
    response = client.post(f"/staff/ceremonies/{ceremony.slug}/edit", data=fields)
    assert response.status_code == 302, response.text[:2000]
    db.session.rollback()
    updates = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [(m.kind, m.to_address, m.status) for m in updates] == [
        (MessageKind.UPDATE, "coming@example.org", MessageStatus.DRAFT)
    ]
    release(db.session, updates, STAFF)
    db.session.commit()
    send(app)
    [received] = smtp.received
    calendar = calendar_of(received.message)
    js = ical_js(calendar)
    assert js["method"] == "REQUEST"
    [event] = js["events"]
    stored = db.session.get(Ceremony, ceremony.id)
    assert stored is not None
    assert event["uid"] == stored.uid
    assert event["sequence"] == stored.sequence > before
    assert "10:30" in body_of(received.message)


def test_cancelling_withdraws_what_has_not_left_and_cancels_everyone_invited(
    app: Flask, client: FlaskClient, ceremony: Ceremony, smtp: Mailbox, login: Any
) -> None:
    invite(ceremony, "Accepted", email="a@example.org", status=InvitationStatus.ACCEPTED)
    invite(ceremony, "Sent", email="s@example.org", status=InvitationStatus.SENT)
    invite(ceremony, "Draft", email="d@example.org")
    [draft] = draft_invitations(db.session, ceremony).written
    db.session.commit()
    login(Role.PLANNER)
    response = client.post(
        f"/staff/ceremonies/{ceremony.slug}/status/cancel", data={"version": ceremony.version}
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(OutboxMessage, draft.id).status == MessageStatus.CANCELLED  # type: ignore[union-attr]
    cancellations = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.CANCELLATION)
    ).all()
    assert sorted(m.to_address for m in cancellations) == ["a@example.org", "s@example.org"]
    release(db.session, cancellations, STAFF)
    db.session.commit()
    send(app)
    assert len(smtp.received) == 2
    for received in smtp.received:
        calendar = calendar_of(received.message)
        parsed = parse(calendar)
        assert str(parsed["METHOD"]) == "CANCEL"
        event = parsed.walk("VEVENT")[0]
        assert str(event["STATUS"]) == "CANCELLED"
        assert ical_js(calendar)["events"][0]["status"] == "CANCELLED"
        assert "LINK" not in body_of(received.message)


# --- tokens ------------------------------------------------------------------------------


def test_a_link_can_be_made_again_but_not_from_the_database_alone(
    app: Flask, ceremony: Ceremony
) -> None:
    invitation = invite(ceremony)
    token = issue_token(invitation)
    db.session.commit()
    assert current_token(invitation) == token
    assert token not in str(invitation.token_nonce)
    assert invitation.token_hash != token
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-987654"
    assert current_token(invitation) is None  # rotated key: a new link is issued instead


# --- transport security ----------------------------------------------------------------


def test_sending_over_tls_with_a_password(
    app: Flask,
    ceremony: Ceremony,
    tls_smtp_server: TlsServer,
) -> None:
    server = tls_smtp_server
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=server.port,
        MAIL_SECURITY=server.security,  # type: ignore[attr-defined]
        MAIL_USERNAME=server.user,
        MAIL_PASSWORD="wrong",
        MAIL_CA_FILE=server.ca_file,
    )
    invite(ceremony)
    queued_invitations(ceremony)
    refused = send(app)
    assert refused.stopped.startswith("login refused")
    assert server.mailbox.received == []
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=None))
    db.session.commit()
    app.config["MAIL_CA_FILE"] = None  # the system's CAs do not know this certificate
    app.config["MAIL_PASSWORD"] = server.password
    untrusted = send(app)
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stopped
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=None))
    db.session.commit()
    app.config["MAIL_CA_FILE"] = server.ca_file
    assert len(send(app).sent) == 1
    assert len(server.mailbox.received) == 1
