"""The outbox from the staff's side: review, edit, preview, release; the texts with plain
placeholders; reminders; the mail settings of an edition; the demo's 9 May from draft to
sent through a real SMTP server; GDPR."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.ceremonies.models import Ceremony, CeremonyStatus, Host
from app.ceremonies.services import copy_to_year
from app.contacts.models import Person
from app.extensions import db
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.services import Actor
from app.mail.models import MailText, MessageKind, MessageStatus, OutboxMessage
from app.mail.services import draft_invitations, draft_reminders, release
from app.mail.texts import fill, unknown_placeholders
from app.privacy.services import erase_person, export_person
from app.types import local_today
from tests.mail_fixtures import Mailbox
from tests.test_mail import body_of, calendar_of, invite, send
from tests.test_mail_replies import outlook_reply

YEAR = local_today().year + 1
STAFF = Actor(label="test")


@pytest.fixture
def ceremony(mail_edition: Ceremony) -> Ceremony:
    return mail_edition


def messages() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


# --- placeholders ----------------------------------------------------------------------


def test_placeholders_are_plain_and_unknown_ones_are_found() -> None:
    assert unknown_placeholders("Dear {addressee}, {rsvp_link}") == []
    assert unknown_placeholders("{name.__class__} {0} {{ 7*7 }} {nmae} {nmae}") == [
        "name.__class__",
        "0",
        " 7*7 ",
        "nmae",
    ]
    values = {"name": "Ivanov", "honorific": ""}
    assert fill("Dear {honorific} {name}, {rsvp_link}", values, frozenset({"rsvp_link"})) == (
        "Dear Ivanov, {rsvp_link}"
    )
    # A value that looks like a placeholder is never filled again.
    assert fill("{name} {honorific}", {"name": "{honorific}", "honorific": "H.E."}) == (
        "{honorific} H.E."
    )


# --- the outbox page -------------------------------------------------------------------


def test_review_edit_preview_and_release_through_the_pages(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    smtp: Mailbox,
) -> None:
    for n in range(3):
        invite(ceremony, f"Embassy {n}", email=f"e{n}@example.org")
    login(Role.PLANNER)
    outbox = f"/staff/ceremonies/{ceremony.slug}/mail"
    assert client.post(f"{outbox}/draft").status_code == 302
    page = client.get(outbox)
    assert page.status_code == 200
    assert 'data-drafts="invitation"' in page.text
    assert re.search(r'data-count="draft">3<', page.text)
    assert smtp.received == []

    first = messages()[0]
    version = first.version  # the version the form was opened at
    view = client.get(f"/staff/mail/{first.id}")
    assert view.status_code == 200
    assert "Your Excellency," in view.text
    assert "Dear His Excellency" not in view.text
    # No link is made to show it: a stand-in says where it will go (the page speaks nl).
    assert "[de persoonlijke link van de delegatie, ingevuld bij verzending]" in view.text
    eml = client.get(f"/staff/mail/{first.id}/message.eml")
    assert eml.status_code == 200
    assert eml.mimetype == "message/rfc822"
    assert b"text/calendar" in eml.data
    assert messages()[0].invitation.token_hash is None  # type: ignore[union-attr]  # GET made no link

    # An unknown placeholder is refused and what was typed stays in the form.
    typed = "Excellency,\n\nWe look forward to {ceremony} on {datum}.\n\n{rsvp_link}"
    refused = client.post(
        f"/staff/mail/{first.id}",
        data={"subject": "Invitation", "body": typed, "version": version},
    )
    assert refused.status_code == 400
    assert "{datum}" in refused.text
    assert "We look forward to {ceremony} on {datum}." in refused.text
    assert messages()[0].body != typed

    fixed = typed.replace("{datum}", "{date}")
    saved = client.post(
        f"/staff/mail/{first.id}",
        data={"subject": "Invitation to {ceremony}", "body": fixed, "version": version},
    )
    assert saved.status_code == 302
    edited = messages()[0]
    assert edited.subject == "Invitation to {ceremony}"
    # A stale form (the version it was made from) is refused, not saved over.
    stale = client.post(
        f"/staff/mail/{first.id}",
        data={"subject": "Other", "body": "Other", "version": version},
    )
    assert stale.status_code == 409
    assert messages()[0].subject == "Invitation to {ceremony}"

    released = client.post(f"{outbox}/release", data={"kind": "invitation"})
    assert released.status_code == 302
    assert [m.status for m in messages()] == [MessageStatus.QUEUED] * 3
    send(app)
    assert len(smtp.received) == 3
    mine = next(r for r in smtp.received if r.recipients == [edited.to_address])
    text = body_of(mine.message)
    assert "We look forward to" in text
    assert "{" not in text
    assert str(mine.message["Subject"]) == f"Invitation to {ceremony.title('en')}"
    page = client.get(outbox)
    assert re.search(r'data-count="sent">3<', page.text)
    # A sent message can no longer be edited or withdrawn.
    done = messages()[0]
    assert (
        client.post(f"/staff/mail/{done.id}/withdraw", data={"version": done.version}).status_code
        == 400
    )


def test_a_viewer_sees_the_outbox_but_changes_nothing(
    client: FlaskClient, login: Callable[[Role], Any], ceremony: Ceremony
) -> None:
    invite(ceremony)
    draft_invitations(db.session, ceremony)
    db.session.commit()
    login(Role.VIEWER)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}/mail")
    assert page.status_code == 200
    assert "Release" not in page.text
    message = messages()[0]
    assert (
        client.post(
            f"/staff/mail/{message.id}", data={"subject": "x", "body": "y", "version": 1}
        ).status_code
        == 403
    )


def test_staff_texts_with_placeholders_are_used_for_new_drafts(
    client: FlaskClient, login: Callable[[Role], Any], ceremony: Ceremony
) -> None:
    login(Role.PLANNER)
    url = "/staff/mail/texts/invitation/en"
    form = client.get(url)
    assert form.status_code == 200
    assert "{rsvp_link}" in form.text
    bad = client.post(url, data={"subject": "Invitation {ceremony}", "body": "Hi {{ config }}"})
    assert bad.status_code == 400
    assert "{{ config }}" in bad.text  # kept as typed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MailText)) == 0
    good = client.post(
        url,
        data={
            "subject": "Your invitation: {ceremony}",
            "body": "{salutation}\n{addressee}\n{rsvp_link}",
        },
    )
    assert good.status_code == 302
    invite(ceremony)
    [draft] = draft_invitations(db.session, ceremony).written
    assert (draft.subject, draft.body) == (
        "Your invitation: {ceremony}",
        "{salutation}\n{addressee}\n{rsvp_link}",
    )
    db.session.commit()
    preview = client.get(f"/staff/mail/{draft.id}").text
    assert f"Your invitation: {ceremony.title('en')}" in preview
    assert "Your Excellency,\nHis Excellency Mr Kairat Nurlanuly" in preview
    assert client.post(f"{url}/reset").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MailText)) == 0
    assert client.get("/staff/mail/texts/nonsense/en").status_code == 404
    assert client.get("/staff/mail/texts/invitation/de").status_code == 404


def test_drafts_tell_the_edition_as_it_is_when_they_are_read(
    client: FlaskClient, login: Callable[[Role], Any], ceremony: Ceremony
) -> None:
    invite(ceremony, "One", email="one@example.org")
    invite(ceremony, "Two", email="two@example.org")
    _first, second = draft_invitations(db.session, ceremony).written
    second.body = "Written by hand: {rsvp_link}"
    db.session.commit()
    login(Role.PLANNER)
    url = f"/staff/ceremonies/{ceremony.slug}/mail/settings"
    assert client.get(url).status_code == 200
    data = {
        "rsvp_deadline": f"{YEAR}-04-20",
        "hosts-0-name": "A. Smits",
        "hosts-0-function_en": "Mayor of Leusden",
        "hosts-1-function_en": "Director of the Soviet Field of Honour Foundation",
        "dress_code_en": "Dark suit",
        "reminder_days": "5",
        "practical_days": "",
        "version": str(ceremony.version),
    }
    late = client.post(url, data={**data, "rsvp_deadline": f"{YEAR}-05-10"})
    assert late.status_code == 400
    assert f"{YEAR}-05-10" in late.text  # kept as typed
    saved = client.post(url, data=data)
    assert saved.status_code == 302
    one, two = messages()
    shown = client.get(f"/staff/mail/{one.id}").text
    assert (
        "The Mayor of Leusden and the Director of the Soviet Field of Honour Foundation"
        " request the honour of your presence at" in shown
    )
    assert "Dark suit" in shown
    assert "25 April" in shown  # British; the invitation's own deadline wins over the edition's
    assert "Written by hand: [" in client.get(f"/staff/mail/{two.id}").text
    db.session.rollback()
    stored = db.session.get(Ceremony, ceremony.id)
    assert stored is not None
    assert (stored.reminder_days, stored.practical_days) == (5, None)
    stale = client.post(url, data=data)
    assert stale.status_code == 409


# --- reminders -------------------------------------------------------------------------


def test_reminders_go_to_those_who_have_not_replied_once(
    app: Flask, runner: FlaskCliRunner, ceremony: Ceremony
) -> None:
    silent = invite(ceremony, "Silent", email="silent@example.org", status=InvitationStatus.SENT)
    invite(ceremony, "Replied", email="yes@example.org", status=InvitationStatus.ACCEPTED)
    invite(ceremony, "Draft", email="draft@example.org")
    deadline = date(YEAR, 4, 25)
    with app.test_request_context():
        assert draft_reminders(db.session, ceremony, deadline - timedelta(days=8)) == []
        written = draft_reminders(db.session, ceremony, deadline - timedelta(days=7))
        assert [(m.kind, m.to_address) for m in written] == [
            (MessageKind.REMINDER, "silent@example.org")
        ]
        assert written[0].status == MessageStatus.DRAFT
        assert draft_reminders(db.session, ceremony, deadline - timedelta(days=6)) == []
        assert draft_reminders(db.session, ceremony, deadline + timedelta(days=1)) == []
        # The practical note, three days before the ceremony, to the accepted one.
        day = ceremony.local_start.date()
        practical = draft_reminders(db.session, ceremony, day - timedelta(days=3))
    assert [(m.kind, m.to_address) for m in practical] == [
        (MessageKind.PRACTICAL, "yes@example.org")
    ]
    assert silent.id == written[0].invitation_id


def test_a_reminder_carries_the_link_the_delegation_already_has(
    app: Flask, client: FlaskClient, ceremony: Ceremony, smtp: Mailbox
) -> None:
    invite(ceremony)
    release(db.session, draft_invitations(db.session, ceremony).written, STAFF)
    db.session.commit()
    send(app)
    [invitation_token] = re.findall(r"/rsvp/([\w-]{43})", body_of(smtp.received[0].message))
    with app.test_request_context():
        reminders = draft_reminders(db.session, ceremony, date(YEAR, 4, 20))
    release(db.session, reminders, STAFF)
    db.session.commit()
    send(app)
    reminder = smtp.received[1].message
    assert "Reminder" in str(reminder["Subject"])
    assert re.findall(r"/rsvp/([\w-]{43})", body_of(reminder)) == [invitation_token]
    assert client.get(f"/rsvp/{invitation_token}").status_code == 200
    assert "text/calendar" not in [p.get_content_type() for p in reminder.walk()]


def test_a_viewer_never_sees_a_live_personal_link_and_planners_downloads_are_audited(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    smtp: Mailbox,
) -> None:
    """The attack: a viewer opened a draft reminder (or its .eml) of an invitation whose
    link exists, read the live link in it, and could reply as the delegation."""
    invite(ceremony)
    release(db.session, draft_invitations(db.session, ceremony).written, STAFF)
    db.session.commit()
    send(app)
    [token] = re.findall(r"/rsvp/([\w-]{43})", body_of(smtp.received[0].message))
    with app.test_request_context():
        [reminder] = draft_reminders(db.session, ceremony, date(YEAR, 4, 20))
    db.session.commit()
    sent = messages()[0]
    login(Role.VIEWER)
    for message_id in (reminder.id, sent.id):
        page = client.get(f"/staff/mail/{message_id}")
        assert page.status_code == 200
        assert token not in page.text
        assert "[de persoonlijke link van de delegatie, ingevuld bij verzending]" in page.text
        assert "message.eml" not in page.text
        assert client.get(f"/staff/mail/{message_id}/message.eml").status_code == 403
    assert client.post("/logout").status_code == 302
    # Planners see the same stand-in; the .eml as it will leave is theirs, and recorded.
    planner = login(Role.PLANNER)
    page = client.get(f"/staff/mail/{reminder.id}")
    assert token not in page.text
    assert "message.eml" in page.text
    eml = client.get(f"/staff/mail/{reminder.id}/message.eml")
    assert eml.status_code == 200
    assert token.encode() in eml.data
    assert "no-store" in eml.headers["Cache-Control"]
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "mail.eml_downloaded")
    ).one()
    assert entry.actor_user_id == planner.id
    assert entry.changes == {"message": reminder.id, "with_link": True}


def test_a_copy_to_next_year_keeps_the_reminder_days_and_the_deadlines_distance(
    ceremony: Ceremony,
) -> None:
    ceremony.reminder_days, ceremony.practical_days = 10, 2
    ceremony.hosts = [Host(name="A. Smits", function_en="Mayor of Leusden")]
    ceremony.dress_code_ru = "Тёмный костюм"
    db.session.commit()
    copy = copy_to_year(db.session, ceremony, YEAR + 1)
    assert (copy.reminder_days, copy.practical_days, copy.dress_code_ru) == (
        10,
        2,
        "Тёмный костюм",
    )
    assert [(h.name, h.function_en) for h in copy.hosts] == [("A. Smits", "Mayor of Leusden")]
    assert copy.rsvp_deadline is not None
    assert (copy.local_start.date() - copy.rsvp_deadline) == (
        ceremony.local_start.date() - date(YEAR, 4, 25)
    )


def test_remind_and_send_commands(
    app: Flask, runner: FlaskCliRunner, ceremony: Ceremony, smtp: Mailbox
) -> None:
    invite(ceremony, status=InvitationStatus.SENT)
    invite(ceremony, "Draft embassy", email="draft@example.org")
    # Months before the deadline nothing is due; the command says so.
    result = runner.invoke(args=["mail", "remind"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 reminder(s)")
    result = runner.invoke(args=["mail", "draft", ceremony.slug])
    assert result.output.startswith("1 invitation email(s) ready for review")
    result = runner.invoke(args=["mail", "release", "2099-nowhere"])
    assert result.exit_code != 0
    assert "No edition with the slug 2099-nowhere." in result.output
    result = runner.invoke(args=["mail", "release", ceremony.slug])
    assert result.output.startswith("1 message(s) queued")
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sent 1,")
    result = runner.invoke(args=["mail", "outbox", ceremony.slug])
    assert " sent " in result.output
    assert "draft@example.org" in result.output


# --- the demo, from draft to sent --------------------------------------------------------


def test_the_demos_9_may_goes_from_draft_to_sent_and_a_reply_comes_back(
    app: Flask, runner: FlaskCliRunner, smtp: Mailbox, make_user: Any
) -> None:
    make_user(Role.ADMIN)
    assert runner.invoke(args=["ceremonies", "seed"]).exit_code == 0
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    slug = f"{YEAR}-9-mei"
    drafts_before = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Invitation)
        .join(Ceremony)
        .where(Ceremony.slug == slug, Invitation.status == InvitationStatus.DRAFT)
    )
    result = runner.invoke(args=["mail", "draft", slug])
    assert result.exit_code == 0, result.output
    written = int(result.output.split()[0])
    assert written >= 1
    assert runner.invoke(args=["mail", "release", slug]).exit_code == 0
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    invitations = [r for r in smtp.received if "text/calendar" in r.raw.decode("utf-8", "replace")]
    assert len(invitations) == written
    outbox = runner.invoke(args=["mail", "outbox", slug]).output
    assert outbox.count(" sent ") >= written
    assert " queued " not in outbox
    assert " draft " not in outbox
    db.session.rollback()
    remaining = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Invitation)
        .join(Ceremony)
        .where(Ceremony.slug == slug, Invitation.status == InvitationStatus.DRAFT)
    )
    assert remaining == (drafts_before or 0) - written
    # One embassy presses Accept in Outlook; the reply, dropped in, accepts its invitation.
    first = invitations[0]
    address = first.recipients[0]
    edition = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert edition is not None
    from app.mail.replies import apply_message

    calendar = calendar_of(first.message).decode()
    assert edition.uid in calendar
    with app.test_request_context():
        [outcome] = (
            apply_message(db.session, outlook_reply(edition.uid, edition.sequence, address=address))
            or []
        )
        db.session.commit()
    assert outcome.applied
    invitation = db.session.get(Invitation, outcome.invitation_id)
    assert invitation is not None
    assert invitation.status == InvitationStatus.ACCEPTED


# --- GDPR ----------------------------------------------------------------------------------


def test_a_persons_messages_are_exported_and_erased(ceremony: Ceremony) -> None:
    invite(ceremony)
    draft_invitations(db.session, ceremony)
    db.session.commit()
    person = db.session.scalar(
        sa.select(Person).where(Person.email == "ambassador@kz-embassy.example")
    )
    assert person is not None
    exported = export_person(db.session, person)
    [message] = exported["messages"]
    assert message["to_address"] == "ambassador@kz-embassy.example"
    assert message["to_name"] == "Kairat Nurlanuly"
    assert "{salutation}" in message["body"]
    erasure = erase_person(db.session, person)
    db.session.commit()
    assert erasure.messages_deleted == 1
    assert messages() == []


def test_the_invitation_page_shows_the_fate_of_its_messages(
    app: Flask, client: FlaskClient, login: Callable[[Role], Any], ceremony: Ceremony
) -> None:
    invitation = invite(ceremony)
    [draft] = draft_invitations(db.session, ceremony).written
    draft.status = MessageStatus.FAILED
    draft.last_error = "550 5.1.1 No such mailbox"
    db.session.commit()
    login(Role.VIEWER)
    page = client.get(f"/staff/invitations/{invitation.id}")
    assert page.status_code == 200
    assert f'data-message="{draft.id}"' in page.text
    assert "550 5.1.1 No such mailbox" in page.text


def test_a_release_on_the_web_sends_in_the_background(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    smtp: Mailbox,
) -> None:
    from app.mail.sender import wait_for_background

    app.config["MAIL_SEND_IN_BACKGROUND"] = True
    invite(ceremony)
    draft_invitations(db.session, ceremony)
    db.session.commit()
    login(Role.PLANNER)
    response = client.post(f"/staff/ceremonies/{ceremony.slug}/mail/release")
    assert response.status_code == 302  # answered at once; the sending goes on
    wait_for_background()
    assert len(smtp.received) == 1
    assert messages()[0].status == MessageStatus.SENT


def test_a_venues_new_address_moves_its_editions_still_to_come(
    client: FlaskClient,
    login: Callable[[Role], Any],
    ceremony: Ceremony,
    edition: Callable[..., Ceremony],
) -> None:
    past = edition("9-mei", local_today().year - 1, status=CeremonyStatus.HELD)
    past_sequence = past.sequence
    invite(ceremony, "Coming", email="coming@example.org", status=InvitationStatus.ACCEPTED)
    before = ceremony.sequence
    venue = ceremony.venue
    login(Role.PLANNER)
    form = {
        "name": venue.name,
        "address": "Dodeweg 31, 3832 RB Leusden (entrance at the new gate)",
        "latitude": str(venue.latitude),
        "longitude": str(venue.longitude),
        "timezone": venue.timezone,
        "notes": venue.notes,
    }
    response = client.post(f"/staff/venues/{venue.id}/edit", data=form)
    assert response.status_code == 302, response.text[:2000]
    db.session.rollback()
    moved = db.session.get(Ceremony, ceremony.id)
    kept = db.session.get(Ceremony, past.id)
    assert moved is not None
    assert kept is not None
    assert moved.sequence == before + 1
    assert kept.sequence == past_sequence
    [update] = messages()
    assert (update.kind, update.to_address) == (MessageKind.UPDATE, "coming@example.org")
    # Saving the same address again moves nothing.
    assert client.post(f"/staff/venues/{venue.id}/edit", data=form).status_code == 302
    db.session.rollback()
    assert db.session.get(Ceremony, ceremony.id).sequence == before + 1  # type: ignore[union-attr]
    # A taken name is refused with the form as typed, and nothing moves.
    other = {**form, "name": "Monument Koedriest", "address": "Elsewhere 1"}
    refused = client.post(f"/staff/venues/{venue.id}/edit", data=other)
    assert refused.status_code == 400
    assert "Elsewhere 1" in refused.text
    db.session.rollback()
    assert db.session.get(Ceremony, ceremony.id).sequence == before + 1  # type: ignore[union-attr]
