"""Invitation emails as calendar clients read them: each iTIP method against RFC 5546's
property tables, cancelled editions named as such, and republication (issue #12)."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar, Component

from app.auth.models import Role
from app.ceremonies.models import Ceremony, CeremonyStatus
from app.ceremonies.services import set_status
from app.extensions import db
from app.invitations.models import InvitationStatus
from app.mail.models import MessageKind, MessageStatus, OutboxMessage
from app.mail.services import release
from app.types import local_today
from tests.calendar_clients import check_wire_rules, ical_js, parse, unfolded
from tests.mail_fixtures import Mailbox
from tests.test_mail import STAFF, calendar_of, invite, queued_invitations, send
from tests.test_rsvp import invite as delegation_invite

# RFC 5546 3.2.2 (REQUEST) and 3.2.5 (CANCEL), VEVENT: how often each property occurs.
# (low, high); high None: any number. Properties not named here may occur 0+ times.
TABLES: dict[str, dict[str, tuple[int, int | None]]] = {
    "REQUEST": {
        "ATTENDEE": (1, None),
        "DTSTAMP": (1, 1),
        "DTSTART": (1, 1),
        "ORGANIZER": (1, 1),
        "SEQUENCE": (0, 1),
        "SUMMARY": (1, 1),
        "UID": (1, 1),
        "STATUS": (0, 1),
        "DTEND": (0, 1),
        "DURATION": (0, 0),  # not with DTEND
        "REQUEST-STATUS": (0, 0),
    },
    "CANCEL": {
        "ATTENDEE": (1, None),  # 0+, but all of them when the whole event is cancelled
        "DTSTAMP": (1, 1),
        "ORGANIZER": (1, 1),
        "SEQUENCE": (1, 1),
        "UID": (1, 1),
        "STATUS": (0, 1),
        "REQUEST-STATUS": (0, 0),
    },
}
ALLOWED_STATUS = {"REQUEST": {"TENTATIVE", "CONFIRMED"}, "CANCEL": {"CANCELLED"}}


def check_itip(message: EmailMessage, method: str) -> Component:
    """One invitation email against the RFC 5546 table of its method; the event."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == method
    body = calendar_of(message)
    check_wire_rules(body)
    calendar = Calendar.from_ical(body)
    assert str(calendar["METHOD"]) == method
    assert calendar.get("PRODID")
    assert str(calendar["VERSION"]) == "2.0"
    [event] = calendar.walk("VEVENT")
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in event_lines(body)]
    for name, (low, high) in TABLES[method].items():
        count = names.count(name)
        assert count >= low, f"{method}: {name} x{count}"
        assert high is None or count <= high, f"{method}: {name} x{count}"
    if "STATUS" in event:
        assert str(event["STATUS"]) in ALLOWED_STATUS[method]
    attendees = [line for line in event_lines(body) if line.startswith("ATTENDEE")]
    for attendee in attendees:
        params = attendee.split(":", 1)[0].upper()
        if method == "REQUEST":
            assert "RSVP=TRUE" in params
            assert "PARTSTAT=NEEDS-ACTION" in params
        else:  # nothing to answer: no RSVP, no "needs action"
            assert "RSVP" not in params
            assert "PARTSTAT" not in params
    js = ical_js(body)  # and Thunderbird's parser agrees
    assert js["method"] == method
    return event


def event_lines(body: bytes) -> list[str]:
    lines = unfolded(body)
    return lines[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]


def cancel(client: FlaskClient, ceremony: Ceremony) -> list[OutboxMessage]:
    response = client.post(
        f"/staff/ceremonies/{ceremony.slug}/status/cancel", data={"version": ceremony.version}
    )
    assert response.status_code == 302
    db.session.rollback()
    notices = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.CANCELLATION)
    ).all()
    release(db.session, notices, STAFF)
    db.session.commit()
    return list(notices)


def test_each_itip_method_follows_rfc_5546(
    app: Flask, client: FlaskClient, mail_edition: Ceremony, smtp: Mailbox, login: Any
) -> None:
    """Issue #12, calendar 6 (cancellations asked for a reply, RSVP=TRUE) and 1 (a
    cancelled edition looked like one that happens): every method against its table."""
    ceremony = mail_edition
    invite(ceremony, "Ambassade", email="nl@example.org", language="nl")
    invite(ceremony, "Embassy", email="en@example.org", language="en")
    invite(ceremony, "Посольство", email="ru@example.org", language="ru")
    queued_invitations(ceremony)
    send(app)
    requests = {r.recipients[0]: r.message for r in smtp.received}
    assert len(requests) == 3
    sequences = {}
    for address, message in requests.items():
        event = check_itip(message, "REQUEST")
        assert str(event["TRANSP"]) == "OPAQUE"
        assert str(event["SUMMARY"]) == ceremony.title(address[:2])
        sequences[address] = event.decoded("SEQUENCE")

    login(Role.PLANNER)
    assert len(cancel(client, ceremony)) == 3
    smtp.received.clear()
    send(app)
    expected = {"nl": "Afgelast: ", "en": "Cancelled: ", "ru": "Отменено: "}
    for received in smtp.received:
        address = received.recipients[0]
        event = check_itip(received.message, "CANCEL")
        assert event.decoded("SEQUENCE") > sequences[address]
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["TRANSP"]) == "TRANSPARENT"
        lang = address[:2]
        assert str(event["SUMMARY"]) == expected[lang] + ceremony.title(lang)
        assert str(event["ATTENDEE"]).lower() == f"mailto:{address}"
    assert len(smtp.received) == 3


def test_cancelled_edition_is_named_and_transparent_in_feeds(
    client: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    """Issue #12, calendar 1: Outlook ignores STATUS:CANCELLED in a subscription."""
    ceremony = edition("9-mei", local_today().year + 1)
    set_status(ceremony, CeremonyStatus.PUBLISHED)
    db.session.commit()
    set_status(ceremony, CeremonyStatus.CANCELLED)
    db.session.commit()
    personal = f"{delegation_invite(ceremony).url}/calendar.ics"
    titles = {"nl": "Afgelast: ", "en": "Cancelled: ", "ru": "Отменено: "}
    for lang, prefix in titles.items():
        for path in (
            "/calendar.ics",
            f"/ceremonies/{ceremony.slug}.ics",
            "/calendar/9-mei.ics",
            personal,
        ):
            body = client.get(f"{path}?lang={lang}").data
            event = next(e for e in parse(body).walk("VEVENT") if str(e["UID"]) == ceremony.uid)
            assert str(event["SUMMARY"]) == prefix + ceremony.title(lang)
            assert str(event["STATUS"]) == "CANCELLED"
            assert str(event["TRANSP"]) == "TRANSPARENT"
            seen = next(e for e in ical_js(body)["events"] if e["uid"] == ceremony.uid)
            assert seen["summary"] == prefix + ceremony.title(lang)


def test_republishing_a_cancelled_edition_tells_everyone_who_had_it(
    app: Flask, client: FlaskClient, mail_edition: Ceremony, smtp: Mailbox, login: Any
) -> None:
    """Issue #12, calendar 2: published again after a cancellation, the edition stayed
    cancelled in every invitee's calendar."""
    ceremony = mail_edition
    invite(ceremony, "Embassy", email="en@example.org", language="en")
    invite(ceremony, "Ambassade", email="nl@example.org", language="nl")
    queued_invitations(ceremony)
    send(app)
    login(Role.PLANNER)
    cancel(client, ceremony)
    smtp.received.clear()
    send(app)
    cancelled = {r.recipients[0]: check_itip(r.message, "CANCEL") for r in smtp.received}
    assert len(cancelled) == 2

    db.session.rollback()
    edition = db.session.get(Ceremony, ceremony.id)
    assert edition is not None
    response = client.post(
        f"/staff/ceremonies/{ceremony.slug}/status/publish", data={"version": edition.version}
    )
    assert response.status_code == 302
    db.session.rollback()
    updates = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.UPDATE)
    ).all()
    assert sorted(m.to_address for m in updates) == ["en@example.org", "nl@example.org"]
    release(db.session, updates, STAFF)
    db.session.commit()
    smtp.received.clear()
    send(app)
    assert len(smtp.received) == 2
    for received in smtp.received:
        address = received.recipients[0]
        event = check_itip(received.message, "REQUEST")
        assert event.decoded("SEQUENCE") > cancelled[address].decoded("SEQUENCE")
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["UID"]) == ceremony.uid
        assert str(event["SUMMARY"]) == ceremony.title(address[:2])  # no "Cancelled: "


def test_a_cancellation_not_yet_sent_is_withdrawn_when_the_edition_is_back(
    client: FlaskClient, mail_edition: Ceremony, login: Any
) -> None:
    ceremony = mail_edition
    invite(ceremony, "Embassy", email="en@example.org", status=InvitationStatus.SENT)
    login(Role.PLANNER)
    response = client.post(
        f"/staff/ceremonies/{ceremony.slug}/status/cancel", data={"version": ceremony.version}
    )
    assert response.status_code == 302
    db.session.rollback()
    [notice] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert notice.status == MessageStatus.DRAFT
    edition = db.session.get(Ceremony, ceremony.id)
    assert edition is not None
    client.post(
        f"/staff/ceremonies/{ceremony.slug}/status/publish", data={"version": edition.version}
    )
    db.session.rollback()
    [notice] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert notice.status == MessageStatus.CANCELLED  # withdrawn; nothing else written
