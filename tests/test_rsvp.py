"""The delegation's RSVP page: tokens, reading, replying, members, wreath, deadline, feed.

SECURITY.md "Personal links (RSVP)": one 404 for every bad token, GET and HEAD change
nothing, the token stays out of logs, audit and feed, requests are rate-limited.
"""

from __future__ import annotations

import html
import http.client
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse

from app.audit.models import AuditEntry
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind, ProgrammeItem
from app.contacts.models import Gender, Organisation, OrganisationKind, Person
from app.extensions import Base, db
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationStatus,
    MemberRole,
    WreathChoice,
)
from app.invitations.rsvp_services import (
    DetailsData,
    MemberData,
    RsvpClosed,
    open_for_changes,
    reply,
    save_details,
)
from app.invitations.tokens import GRACE_AFTER_EVENT, issue_token, revoke_token
from app.logs import SecretMaskingFilter as TokenMaskingFilter
from app.logs import mask_secrets as mask_tokens
from app.types import local_today
from tests.calendar_clients import check_wire_rules, ical_js, parse

HIDDEN = "/rsvp/[hidden]"
YEAR = local_today().year + 1
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
KAZAKH = "Қайрат Нұрланұлы"
INTERNAL = "Staff briefing behind the chapel"


# --- the world: an edition, an embassy invited to it, its personal link -----------------


@dataclass(frozen=True)
class Linked:
    token: str
    invitation_id: int
    ceremony_id: int
    slug: str

    @property
    def url(self) -> str:
        return f"/rsvp/{self.token}"


def invite(
    ceremony: Ceremony,
    organisation: str = "Embassy of the Republic of Kazakhstan",
    *,
    language: str = "ru",
    deadline: date | None = None,
    status: InvitationStatus = InvitationStatus.SENT,
) -> Linked:
    """An organisation invited to ``ceremony`` with a live personal link."""
    org = Organisation(
        name=organisation, name_ru="Посольство Республики Казахстан", kind=OrganisationKind.EMBASSY
    )
    head = Person(
        given_name="Marat",
        family_name="Abenov",
        native_name="Марат Абенов",
        gender=Gender.MALE,
    )
    invitation = Invitation(
        ceremony=ceremony,
        organisation=org,
        addressee=head,
        language=language,
        rsvp_deadline=deadline,
        status=status,
    )
    db.session.add(invitation)
    token = issue_token(invitation)
    db.session.commit()
    linked = Linked(token, invitation.id, ceremony.id, ceremony.slug)
    db.session.rollback()
    return linked


@pytest.fixture
def ceremony(edition: Callable[..., Ceremony]) -> Ceremony:
    """Next year's 9 May, published, with an internal item and notes staff keep."""
    made = edition("9-mei", YEAR, status=CeremonyStatus.PUBLISHED, notes="INTERNAL NOTE")
    made.items.append(
        ProgrammeItem(
            kind=ItemKind.OTHER,
            position=len(made.items),
            text_en=INTERNAL,
            text_nl=INTERNAL,
            printable=False,
        )
    )
    made.venue.notes = "INTERNAL VENUE NOTE"
    made.venue.access_notes_en = (
        "Parking at the Dodeweg car park; wheelchair access at the side gate."
    )
    made.venue.access_notes_ru = "Парковка на стоянке у Dodeweg; вход для колясок у боковых ворот."
    made.dress_code_en = "Dark suit, decorations"
    made.dress_code_ru = "Тёмный костюм, награды"
    db.session.commit()
    return made


@pytest.fixture
def linked(ceremony: Ceremony) -> Linked:
    return invite(ceremony, deadline=date(YEAR, 4, 25))


def invitation_of(linked: Linked) -> Invitation:
    db.session.rollback()
    found = db.session.get(Invitation, linked.invitation_id)
    assert found is not None
    return found


def version_of(linked: Linked) -> int:
    return invitation_of(linked).version


def fingerprint() -> dict[str, list[str]]:
    """Every committed row of every table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


def accept(client: FlaskClient, linked: Linked, head: str = "Marat Abenov") -> TestResponse:
    return client.post(
        f"{linked.url}/reply",
        data={
            "answer": "accept",
            "version": str(version_of(linked)),
            "head_name": head,
            "head_function": "Ambassador",
        },
    )


def add(client: FlaskClient, linked: Linked, name: str, **fields: str) -> TestResponse:
    data = {"name": name, "function": "", "role": "attendee", "car_plate": "", **fields}
    return client.post(f"{linked.url}/members", data={**data, "version": str(version_of(linked))})


def audit_entries() -> list[AuditEntry]:
    """The audit log of invitations (the planner's tables log their own changes too)."""
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "invitation")
            .order_by(AuditEntry.id)
        )
    )


# --- the link holder's answers, for every route of the page ------------------------------------

# rule -> method -> (path after the link, form data, expected status, whether it saves)
LinkAnswer = tuple[str, dict[str, str], int, bool]
LINK_HOLDER: dict[str, dict[str, LinkAnswer]] = {
    "/rsvp/<token>": {"GET": ("", {}, 200, False)},
    "/rsvp/<token>/reply": {"POST": ("/reply", {"answer": "decline"}, 302, True)},
    "/rsvp/<token>/members": {
        "POST": ("/members", {"name": "Aigerim", "role": "attendee"}, 302, True)
    },
    "/rsvp/<token>/members/<int:member_id>": {
        "GET": ("/members/{member}", {}, 200, False),
        "POST": ("/members/{member}", {"name": "Renamed", "role": "speaker"}, 302, True),
    },
    "/rsvp/<token>/members/<int:member_id>/remove": {
        "POST": ("/members/{member}/remove", {}, 400, False)  # the head stays
    },
    "/rsvp/<token>/details": {"POST": ("/details", {"wreath": "own"}, 302, True)},
    "/rsvp/<token>/calendar.ics": {"GET": ("/calendar.ics", {}, 200, False)},
}


def test_every_rsvp_route_has_a_link_holder_answer(app: Flask) -> None:
    rules = {r.rule: r for r in app.url_map.iter_rules() if r.endpoint.startswith("rsvp.")}
    assert set(rules) == set(LINK_HOLDER)
    for rule, expected in LINK_HOLDER.items():
        methods = rules[rule].methods or set()
        assert set(expected) == methods - {"HEAD", "OPTIONS"}, rule


@pytest.mark.parametrize(
    ("rule", "method"), [(rule, method) for rule, by in LINK_HOLDER.items() for method in by]
)
def test_link_holder_matrix(client: FlaskClient, linked: Linked, rule: str, method: str) -> None:
    """The holder of an accepted invitation's link, as a delegation uses it."""
    accept(client, linked)
    path, data, status, writes = LINK_HOLDER[rule][method]
    member = invitation_of(linked).members[0].id
    url = linked.url + path.format(member=member)
    before = fingerprint()
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={**data, "version": str(version_of(linked))})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert (fingerprint() != before) == writes


# --- reading the page ---------------------------------------------------------------------


def test_the_page_speaks_the_invitations_language(
    client: FlaskClient, linked: Linked, ceremony: Ceremony
) -> None:
    response = client.get(linked.url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "День Победы и памяти" in page
    assert "Посольство Республики Казахстан" in page
    assert "господин Марат Абенов" in page  # the mention, in the nominative
    assert html.escape(ceremony.venue.name) in page
    assert "Парковка на стоянке у Dodeweg" in page  # parking and access, in Russian
    assert "Тёмный костюм, награды" in page
    assert "Dark suit" not in page
    assert "car park" not in page
    assert "INTERNAL VENUE NOTE" not in page
    assert "10:30" in page  # the assembly: arrival of guests
    assert "Прибытие гостей" in page
    assert INTERNAL not in page
    assert "INTERNAL NOTE" not in page
    assert 'id="deadline"' in page
    assert re.search(r'<a href="https://www\.openstreetmap\.org/[^"]*" rel="noreferrer', page)
    assert " style=" not in page  # the content security policy forbids inline styles
    assert "<script" not in page


def test_lang_switches_and_is_remembered(client: FlaskClient, linked: Linked) -> None:
    assert '<html lang="en">' in client.get(f"{linked.url}?lang=en").get_data(as_text=True)
    page = client.get(linked.url).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Victory Day and Day of Memory" in page
    assert '<html lang="nl">' in client.get(f"{linked.url}?lang=nl").get_data(as_text=True)
    # A language the page does not speak is ignored.
    assert '<html lang="nl">' in client.get(f"{linked.url}?lang=de").get_data(as_text=True)


def test_a_dutch_invitation_opens_in_dutch(client: FlaskClient, ceremony: Ceremony) -> None:
    dutch = invite(ceremony, "Gemeente Leusden", language="nl")
    page = client.get(dutch.url).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Dag van de Overwinning en Herdenking" in page


def test_private_headers_on_every_answer(client: FlaskClient, linked: Linked) -> None:
    bad = "/rsvp/" + "x" * 43
    responses = [
        client.get(linked.url),
        client.head(linked.url),
        client.get(f"{linked.url}/calendar.ics"),
        client.get(bad),
        accept(client, linked),
        client.post(f"{bad}/reply", data={"answer": "accept"}),
    ]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Robots-Tag"] == "noindex"
        assert response.headers["Referrer-Policy"] == "same-origin"


# --- tokens -----------------------------------------------------------------------------------


def test_unknown_malformed_revoked_and_expired_tokens_get_one_404(
    client: FlaskClient, edition: Callable[..., Ceremony], linked: Linked
) -> None:
    ceremony = db.session.get(Ceremony, linked.ceremony_id)
    assert ceremony is not None
    revoked = invite(ceremony, "Embassy of Belarus")
    invitation = db.session.get(Invitation, revoked.invitation_id)
    assert invitation is not None
    revoke_token(invitation)
    db.session.commit()

    past = edition("9-mei", YEAR - 2, status=CeremonyStatus.HELD)
    expired = invite(past, "Embassy of Armenia")
    assert past.ends_at + GRACE_AFTER_EVENT < datetime.now(UTC)

    # An old link of an invitation that got a new one.
    renewed = invite(ceremony, "Embassy of Georgia")
    invitation = db.session.get(Invitation, renewed.invitation_id)
    assert invitation is not None
    issue_token(invitation)
    db.session.commit()

    bad_tokens = [
        "A" * 43,  # the right shape, nobody's
        linked.token[:-1],  # one character short
        linked.token + "A",
        linked.token.upper() if linked.token.upper() != linked.token else "B" * 43,
        "abc",
        "%D0%9A" * 8,
        "x" * 500,
        revoked.token,
        expired.token,
        renewed.token,
    ]
    reference = client.get("/rsvp/" + "A" * 43)
    assert reference.status_code == 404
    for token in bad_tokens:
        for path in ("", "/calendar.ics", "/members/1"):
            response = client.get(f"/rsvp/{token}{path}")
            assert response.status_code == 404, token
            assert response.data == reference.data, token
            assert token not in response.get_data(as_text=True)
        assert client.head(f"/rsvp/{token}").status_code == 404
        post = client.post(f"/rsvp/{token}/reply", data={"answer": "accept", "version": "1"})
        assert post.status_code == 404
        assert post.data == reference.data
    # The live link still works, and the expired one was live until a day after.
    assert client.get(linked.url).status_code == 200


def test_the_link_works_on_the_day_after_and_not_later(
    client: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    now = datetime.now(UTC)
    recent = edition("9-mei", YEAR - 1, status=CeremonyStatus.HELD)
    recent.starts_at = now - timedelta(hours=3)
    recent.ends_at = now - timedelta(hours=2)
    db.session.commit()
    linked = invite(recent, "Embassy of Moldova")
    page = client.get(linked.url)
    assert page.status_code == 200
    assert 'id="read-only"' in page.get_data(as_text=True)
    ceremony = db.session.get(Ceremony, linked.ceremony_id)
    assert ceremony is not None
    ceremony.starts_at = now - GRACE_AFTER_EVENT - timedelta(hours=3)
    ceremony.ends_at = now - GRACE_AFTER_EVENT - timedelta(minutes=1)
    db.session.commit()
    assert client.get(linked.url).status_code == 404


def test_get_and_head_change_nothing(client: FlaskClient, linked: Linked) -> None:
    assert accept(client, linked).status_code == 302
    member_id = invitation_of(linked).members[0].id
    db.session.rollback()
    before = fingerprint()
    for url in (
        linked.url,
        f"{linked.url}?lang=en",
        f"{linked.url}/members/{member_id}",
        f"{linked.url}/calendar.ics",
        f"{linked.url}/reply",  # not a GET route: 405, nothing else
    ):
        client.get(url)
        client.head(url)
    assert fingerprint() == before
    # Opening the page does not mark the invitation as viewed either.
    assert invitation_of(linked).status == InvitationStatus.ACCEPTED


def test_the_token_is_stored_hashed_and_never_audited(client: FlaskClient, linked: Linked) -> None:
    accept(client, linked)
    add(client, linked, "Aigerim Suleimenova")
    everything = repr(fingerprint())
    assert linked.token not in everything
    entries = audit_entries()
    assert entries
    for entry in entries:
        assert entry.actor_label == f"delegation link of invitation {linked.invitation_id}"
        assert entry.actor_user_id is None
        assert entry.address == "127.0.0.1"
        assert linked.token not in repr(entry.changes)


# --- replying ---------------------------------------------------------------------------------


def test_accepting_names_the_head_and_is_audited(client: FlaskClient, linked: Linked) -> None:
    response = accept(client, linked)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(linked.url)
    invitation = invitation_of(linked)
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.replied_by == "link"
    assert invitation.replied_at is not None
    assert [(m.name, m.function) for m in invitation.members] == [("Marat Abenov", "Ambassador")]
    (entry,) = audit_entries()
    assert entry.action == "rsvp.accepted"
    assert entry.object_type == "invitation"
    assert entry.object_id == linked.invitation_id
    assert entry.changes["status"] == ["sent", "accepted"]
    page = client.get(linked.url).get_data(as_text=True)
    assert 'data-status="accepted"' in page
    assert 'id="member-form"' in page


def test_accepting_needs_a_head(client: FlaskClient, linked: Linked) -> None:
    before = fingerprint()
    response = accept(client, linked, head="")
    assert response.status_code == 400
    assert fingerprint() == before


def test_declining_keeps_the_members_and_accepting_again_finds_them(
    client: FlaskClient, linked: Linked
) -> None:
    accept(client, linked)
    add(client, linked, "Aigerim Suleimenova")
    response = client.post(
        f"{linked.url}/reply", data={"answer": "decline", "version": str(version_of(linked))}
    )
    assert response.status_code == 302
    invitation = invitation_of(linked)
    assert invitation.status == InvitationStatus.DECLINED
    assert len(invitation.members) == 2
    assert accept(client, linked, head="").status_code == 302
    assert len(invitation_of(linked).members) == 2
    actions = [e.action for e in audit_entries()]
    assert actions == ["rsvp.accepted", "rsvp.member_added", "rsvp.declined", "rsvp.accepted"]


def test_an_unknown_answer_is_refused(client: FlaskClient, linked: Linked) -> None:
    before = fingerprint()
    for answer in ("maybe", ""):
        response = client.post(
            f"{linked.url}/reply", data={"answer": answer, "version": str(version_of(linked))}
        )
        assert response.status_code == 400
    assert fingerprint() == before


def test_a_stale_form_gets_the_conflict_page_and_saves_nothing(
    client: FlaskClient, linked: Linked
) -> None:
    old = version_of(linked)
    accept(client, linked)
    before = fingerprint()
    for url, data in (
        (f"{linked.url}/reply", {"answer": "decline"}),
        (f"{linked.url}/members", {"name": "Late", "role": "attendee"}),
        (f"{linked.url}/details", {"wreath": "order"}),
        (f"{linked.url}/reply", {"answer": "decline", "version": "garbage"}),
    ):
        response = client.post(url, data={"version": str(old), **data})
        assert response.status_code == 409, url
        page = response.get_data(as_text=True)
        assert 'id="notice"' in page
        assert 'data-status="accepted"' in page  # the current state, not the stale one
    assert fingerprint() == before


def test_extra_fields_are_ignored(client: FlaskClient, linked: Linked, ceremony: Ceremony) -> None:
    other = invite(ceremony, "Embassy of Uzbekistan")
    accept(client, linked)
    response = add(
        client,
        linked,
        "Aigerim Suleimenova",
        invitation_id=str(other.invitation_id),
        id="1",
        position="-5",
        status="declined",
        token_hash="0" * 64,
    )
    assert response.status_code == 302
    invitation = invitation_of(linked)
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.token_hash is not None
    assert invitation.token_hash != "0" * 64
    assert [m.name for m in invitation.members] == ["Marat Abenov", "Aigerim Suleimenova"]
    assert invitation.members[1].position == 1
    assert invitation_of(other).members == []


# --- members --------------------------------------------------------------------------------


def test_members_in_any_script_round_trip_as_nfc(client: FlaskClient, linked: Linked) -> None:
    accept(client, linked)
    decomposed = unicodedata.normalize("NFD", "Ӛ Ғалымжан Әбілқайыр")
    for name, role in (
        (KAZAKH, "wreath_layer"),
        (decomposed, "wreath_bearer"),
        ("Іңкәр Өтегенова-Һүсейін", "speaker"),
        ("أحمد المنصوري", "attendee"),
    ):
        response = add(client, linked, name, role=role, function="Атташе", car_plate="cd 123-kz")
        assert response.status_code == 302, response.get_data(as_text=True)
    members = invitation_of(linked).members
    names = [m.name for m in members]
    assert names[1] == KAZAKH
    assert names[2] == unicodedata.normalize("NFC", decomposed)
    assert names[3] == "Іңкәр Өтегенова-Һүсейін"
    assert [m.role for m in members[1:3]] == [MemberRole.WREATH_LAYER, MemberRole.WREATH_BEARER]
    assert members[1].car_plate == "CD 123-KZ"
    page = client.get(linked.url).get_data(as_text=True)
    for name in names:
        assert name in page


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "A\u202eexe.live"}, "name"),
        ({"name": "Null\x00byte"}, "name"),
        ({"name": "Line\nbreak"}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"name": "Ok", "function": "y" * 301}, "function"),
        ({"name": "Ok", "car_plate": "X" * 21}, "car_plate"),
        ({"name": "Ok", "car_plate": "<script>"}, "car_plate"),
        ({"name": "Ok", "role": "admin"}, "role"),
    ],
)
def test_bad_members_are_refused_and_keep_what_was_typed(
    client: FlaskClient, linked: Linked, fields: dict[str, str], field: str
) -> None:
    accept(client, linked)
    before = fingerprint()
    data = {"name": "", "function": "", "role": "attendee", "car_plate": "", **fields}
    response = client.post(
        f"{linked.url}/members", data={**data, "version": str(version_of(linked))}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert fingerprint() == before


def test_members_wait_for_an_acceptance(client: FlaskClient, linked: Linked) -> None:
    before = fingerprint()
    assert add(client, linked, "Too early").status_code == 400
    assert fingerprint() == before


def test_a_member_is_changed_and_removed_but_the_head_stays(
    client: FlaskClient, linked: Linked
) -> None:
    accept(client, linked)
    add(client, linked, "Aigerim Suleimenova")
    head, second = (m.id for m in invitation_of(linked).members)
    page = client.get(f"{linked.url}/members/{second}")
    assert page.status_code == 200
    assert "Aigerim Suleimenova" in page.get_data(as_text=True)
    response = client.post(
        f"{linked.url}/members/{second}",
        data={
            "name": KAZAKH,
            "function": "Counsellor",
            "role": "wreath_bearer",
            "car_plate": "",
            "version": str(version_of(linked)),
        },
    )
    assert response.status_code == 302
    changed = invitation_of(linked).members[1]
    assert (changed.name, changed.function, changed.role) == (
        KAZAKH,
        "Counsellor",
        MemberRole.WREATH_BEARER,
    )
    remove = client.post(
        f"{linked.url}/members/{second}/remove", data={"version": str(version_of(linked))}
    )
    assert remove.status_code == 302
    before = fingerprint()
    last = client.post(
        f"{linked.url}/members/{head}/remove", data={"version": str(version_of(linked))}
    )
    assert last.status_code == 400
    assert fingerprint() == before
    assert [m.id for m in invitation_of(linked).members] == [head]
    actions = [e.action for e in audit_entries()]
    assert actions[-2:] == ["rsvp.member_changed", "rsvp.member_removed"]
    changed_entry = audit_entries()[-2]
    assert changed_entry.changes["name"] == ["Aigerim Suleimenova", KAZAKH]


def test_a_member_of_another_invitation_is_not_found(
    client: FlaskClient, linked: Linked, ceremony: Ceremony
) -> None:
    other = invite(ceremony, "Embassy of Kyrgyzstan")
    accept(client, other)
    theirs = invitation_of(other).members[0].id
    accept(client, linked)
    before = fingerprint()
    version = str(version_of(linked))
    assert client.get(f"{linked.url}/members/{theirs}").status_code == 404
    edit = {"name": "Hijack", "role": "attendee", "version": version}
    assert client.post(f"{linked.url}/members/{theirs}", data=edit).status_code == 404
    remove = client.post(f"{linked.url}/members/{theirs}/remove", data={"version": version})
    assert remove.status_code == 404
    assert client.get(f"{linked.url}/members/999999").status_code == 404
    assert fingerprint() == before
    assert client.get(f"{other.url}/members/{theirs}").status_code == 200


# --- wreath, needs, remark ------------------------------------------------------------------


def test_wreath_ribbon_needs_and_remark(client: FlaskClient, linked: Linked) -> None:
    accept(client, linked)
    ribbon = "От народа Казахстана — вечная память героям"
    response = client.post(
        f"{linked.url}/details",
        data={
            "wreath": "order",
            "ribbon_text": ribbon,
            "ribbon_colours": "голубой и жёлтый",
            "accessibility": "One wheelchair user",
            "remark": "We arrive by minibus.",
            "version": str(version_of(linked)),
        },
    )
    assert response.status_code == 302
    invitation = invitation_of(linked)
    assert invitation.wreath == WreathChoice.ORDER
    assert (invitation.ribbon_text, invitation.ribbon_colours) == (ribbon, "голубой и жёлтый")
    assert invitation.accessibility == "One wheelchair user"
    assert invitation.remark == "We arrive by minibus."
    assert audit_entries()[-1].action == "rsvp.details_saved"
    page = client.get(linked.url).get_data(as_text=True)
    assert ribbon in page

    # No wreath: no ribbon either.
    client.post(
        f"{linked.url}/details",
        data={"wreath": "none", "ribbon_text": ribbon, "version": str(version_of(linked))},
    )
    invitation = invitation_of(linked)
    assert (invitation.wreath, invitation.ribbon_text) == (WreathChoice.NONE, "")


@pytest.mark.parametrize(
    "fields",
    [
        {"wreath": "proxy"},
        {"wreath": "burn"},
        {"wreath": "own", "ribbon_text": "я" * 301},
        {"wreath": "own", "ribbon_colours": "c" * 101},
        {"wreath": "own", "ribbon_text": "Memory\u202e"},
        {"wreath": "own", "remark": "r" * 2001},
    ],
)
def test_bad_details_are_refused(
    client: FlaskClient, linked: Linked, fields: dict[str, str]
) -> None:
    accept(client, linked)
    before = fingerprint()
    response = client.post(
        f"{linked.url}/details", data={**fields, "version": str(version_of(linked))}
    )
    assert response.status_code == 400
    assert fingerprint() == before


def test_a_ribbon_of_exactly_300_characters_is_kept(client: FlaskClient, linked: Linked) -> None:
    accept(client, linked)
    ribbon = "Ә" * 300
    client.post(
        f"{linked.url}/details",
        data={"wreath": "own", "ribbon_text": ribbon, "version": str(version_of(linked))},
    )
    assert invitation_of(linked).ribbon_text == ribbon


# --- the deadline ---------------------------------------------------------------------------


def amsterdam(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


def test_changes_until_the_end_of_the_deadline_day_in_amsterdam(linked: Linked) -> None:
    invitation = invitation_of(linked)
    deadline = date(YEAR, 4, 25)
    assert open_for_changes(invitation, amsterdam(deadline, 23, 59))
    assert not open_for_changes(invitation, amsterdam(deadline + timedelta(days=1), 0, 0))
    # 22:30 UTC on the deadline is already the next day in Amsterdam (summer time).
    assert not open_for_changes(invitation, datetime(YEAR, 4, 25, 22, 30, tzinfo=UTC))
    late = amsterdam(deadline + timedelta(days=1), 9, 0)
    with pytest.raises(RsvpClosed):
        reply(invitation, True, expected_version=invitation.version, address="", now=late)
    on_time = amsterdam(deadline, 23, 0)
    head = MemberData(name="Marat Abenov")
    reply(invitation, True, expected_version=invitation.version, address="", head=head, now=on_time)
    db.session.flush()
    with pytest.raises(RsvpClosed):
        save_details(
            invitation,
            DetailsData(WreathChoice.OWN),
            expected_version=invitation.version,
            address="",
            now=late,
        )
    db.session.rollback()


def test_without_a_deadline_the_start_of_the_ceremony_closes_it(
    ceremony: Ceremony,
) -> None:
    linked = invite(ceremony, "Gemeente Amersfoort", language="nl")
    invitation = invitation_of(linked)
    assert invitation.ceremony.rsvp_deadline is None
    assert open_for_changes(invitation, invitation.ceremony.starts_at - timedelta(minutes=1))
    assert not open_for_changes(invitation, invitation.ceremony.starts_at)
    # The edition's deadline counts when the invitation has none of its own.
    invitation.ceremony.rsvp_deadline = date(YEAR, 4, 1)
    assert not open_for_changes(invitation, amsterdam(date(YEAR, 4, 2), 8, 0))
    db.session.rollback()


def test_after_the_deadline_the_page_is_read_only(client: FlaskClient, linked: Linked) -> None:
    accept(client, linked)
    member_id = invitation_of(linked).members[0].id
    invitation = invitation_of(linked)
    invitation.rsvp_deadline = local_today() - timedelta(days=1)
    db.session.commit()
    page = client.get(linked.url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="read-only"' in text
    assert "Marat Abenov" in text
    for form in ("reply-form", "member-form", "details-form"):
        assert f'id="{form}"' not in text
    member_page = client.get(f"{linked.url}/members/{member_id}").get_data(as_text=True)
    assert 'id="read-only"' in member_page
    before = fingerprint()
    version = str(version_of(linked))
    posts: list[tuple[str, dict[str, str]]] = [
        ("/reply", {"answer": "decline"}),
        ("/members", {"name": "Late", "role": "attendee"}),
        (f"/members/{member_id}", {"name": "Renamed", "role": "attendee"}),
        (f"/members/{member_id}/remove", {}),
        ("/details", {"wreath": "own"}),
    ]
    for path, data in posts:
        response = client.post(linked.url + path, data={**data, "version": version})
        assert response.status_code == 403, path
        assert 'id="read-only"' in response.get_data(as_text=True)
    assert fingerprint() == before


def test_a_cancelled_ceremony_is_read_only(client: FlaskClient, linked: Linked) -> None:
    ceremony = db.session.get(Ceremony, linked.ceremony_id)
    assert ceremony is not None
    ceremony.status = CeremonyStatus.CANCELLED
    db.session.commit()
    page = client.get(linked.url).get_data(as_text=True)
    assert 'id="read-only"' in page
    assert accept(client, linked).status_code == 403


# --- the delegation's feed ------------------------------------------------------------------


def test_the_personal_feed_has_the_practical_details_and_no_secrets(
    client: FlaskClient, linked: Linked
) -> None:
    response = client.get(f"{linked.url}/calendar.ics?lang=en")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.data
    check_wire_rules(body)
    calendar = parse(body)
    (event,) = calendar.walk("VEVENT")
    description = str(event["DESCRIPTION"])
    assert "10:30–11:00 (CEST) Arrival of guests" in description
    assert "Parking and access: Parking at the Dodeweg car park" in description
    assert "Dress: Dark suit, decorations" in description
    assert INTERNAL not in description
    assert "INTERNAL NOTE" not in description
    assert "Тёмный" not in description
    assert str(event["SUMMARY"]) == "Victory Day and Day of Memory"
    text = body.decode()
    assert linked.token not in text
    assert "/rsvp/" not in text
    assert "METHOD" not in text
    js = ical_js(body)
    assert len(js["events"]) == 1
    # Russian by default, the invitation's language.
    russian = parse(client.get(f"{linked.url}/calendar.ics").data)
    assert str(russian.walk("VEVENT")[0]["SUMMARY"]) == "День Победы и памяти"
    # Same data, same bytes, and a 304 for a client that has them.
    again = client.get(f"{linked.url}/calendar.ics?lang=en")
    assert again.data == body
    etag = response.headers["ETag"]
    fresh = client.get(f"{linked.url}/calendar.ics?lang=en", headers={"If-None-Match": etag})
    assert fresh.status_code == 304


def test_a_private_edition_is_in_the_feed_without_a_public_link(
    client: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    private = edition("koedriest", YEAR, status=CeremonyStatus.PUBLISHED, public=False)
    linked = invite(private, "Gemeente Amersfoort", language="nl")
    body = client.get(f"{linked.url}/calendar.ics").data
    (event,) = parse(body).walk("VEVENT")
    assert "URL" not in event
    assert str(event["CLASS"]) == "PRIVATE"
    assert "06:15–06:30 (CEST) Verzamelen bij Kamp Amersfoort" in str(event["DESCRIPTION"])
    assert "Ontbijt" not in str(event["DESCRIPTION"])  # internal: not printed


# --- logs and rate limit -----------------------------------------------------------------------


def test_mask_tokens() -> None:
    token = "Ab-_" * 10 + "xyz"
    assert mask_tokens(f'"GET /rsvp/{token} HTTP/1.1" 200 -') == f'"GET {HIDDEN} HTTP/1.1" 200 -'
    assert mask_tokens(f"/rsvp/{token}/members/3?lang=ru") == f"{HIDDEN}/members/3?lang=ru"
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "%s %s", (f"/rsvp/{token}", 7), None
    )
    TokenMaskingFilter().filter(record)
    assert token not in record.getMessage()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a real threaded HTTP server on a free loopback port."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="rsvp-http", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def fetch(host: str, method: str, path: str, body: str = "") -> tuple[int, str]:
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection.request(method, path, body=body.encode() or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_request_log_never_shows_the_token(
    served: str, linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    db.session.remove()
    caplog.set_level(logging.INFO, logger="werkzeug")
    assert fetch(served, "GET", linked.url)[0] == 200
    assert fetch(served, "GET", f"{linked.url}/calendar.ics?lang=en")[0] == 200
    assert fetch(served, "GET", "/rsvp/" + "Q" * 43)[0] == 404
    assert fetch(served, "POST", f"{linked.url}/reply", "answer=maybe&version=1")[0] == 400
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len([m for m in logged if HIDDEN in m]) >= 4
    assert linked.token not in caplog.text
    assert "Q" * 43 not in caplog.text


def test_flasks_exception_log_never_shows_the_token(
    app: Flask, linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask logs "Exception on <path> [POST]" on a 500: the filter sits on its logger."""
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        app.logger.error("Exception on %s [%s]", f"{linked.url}/reply", "POST")
        app.logger.error(f"Exception on {linked.url}/details [POST]")
    assert linked.token not in caplog.text
    assert caplog.text.count(HIDDEN) == 2


def test_requests_are_rate_limited_per_address(app: Flask, client: FlaskClient) -> None:
    app.config["RSVP_RATE_LIMIT"] = 3
    paths = ["/rsvp/" + "A" * 43, "/rsvp/abc", "/rsvp/" + "B" * 43]
    assert [client.get(p).status_code for p in paths] == [404, 404, 404]
    refused = client.get("/rsvp/" + "C" * 43)
    assert refused.status_code == 429
    assert refused.headers["Cache-Control"] == "no-store"
    # Another address has its own count; the public pages are not limited.
    other = client.get("/rsvp/abc", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 404
    assert client.get("/").status_code == 200


def test_the_redis_limiter_counts_across_workers(app: Flask) -> None:
    """Two limiters (two workers) on one Redis share the count."""
    redis = pytest.importorskip("redis")
    from app.invitations.rsvp import RedisLimiter

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    first, second = RedisLimiter(url), RedisLimiter(url)
    key = f"test-{datetime.now(UTC).timestamp()}"
    with app.test_request_context():
        assert first.allow(key, 2, 60)
        assert second.allow(key, 2, 60)
        assert not first.allow(key, 2, 60)


# --- concurrency: real threads against a real server ----------------------------------------

THREADS = 20
VERSION_FIELD = re.compile(r'name="version" value="(\d+)"')


def run_threads(work: Callable[[int], tuple[int, str]]) -> list[tuple[int, str]]:
    """``work(i)`` in THREADS threads released at once; their answers in order."""
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str] | None] = [None] * THREADS
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:  # reported below: a thread must not fail silently
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    done = [r for r in results if r is not None]
    assert len(done) == THREADS
    return done


def test_twenty_concurrent_replies_leave_one_consistent_state(
    app: Flask, served: str, linked: Linked
) -> None:
    app.config["RSVP_RATE_LIMIT"] = 100_000
    version = version_of(linked)
    db.session.remove()  # the server's threads use sessions of their own

    def answer(i: int) -> tuple[int, str]:
        data = {
            "answer": "accept" if i % 2 == 0 else "decline",
            "version": str(version),
            "head_name": f"Head {i}",
            "head_function": "Ambassador",
        }
        return fetch(served, "POST", f"{linked.url}/reply", as_form(data))

    results = run_threads(answer)
    statuses = [status for status, _ in results]
    assert sorted(statuses) == [302] + [409] * (THREADS - 1), statuses
    for status, body in results:
        if status == 409:
            assert 'id="notice"' in body
    winner = statuses.index(302)
    invitation = invitation_of(linked)
    assert invitation.version == version + 1
    members = [m.name for m in members_of(linked.invitation_id)]
    if winner % 2 == 0:
        assert invitation.status == InvitationStatus.ACCEPTED
        assert members == [f"Head {winner}"]
    else:
        assert invitation.status == InvitationStatus.DECLINED
        assert members == []
    entries = audit_entries()
    assert len(entries) == 1
    assert entries[0].action == f"rsvp.{invitation.status.value}"


def test_twenty_concurrent_member_additions_all_land_once(
    app: Flask, served: str, client: FlaskClient, linked: Linked
) -> None:
    """Each thread retries on a conflict with the version it reads anew: no member is
    lost, none is added twice, positions stay distinct."""
    app.config["RSVP_RATE_LIMIT"] = 100_000
    accept(client, linked)
    version = version_of(linked)
    db.session.remove()

    def add_one(i: int) -> tuple[int, str]:
        for conflicts in range(200):
            status, page = fetch(served, "GET", linked.url)
            assert status == 200
            match = VERSION_FIELD.search(page)
            assert match is not None
            data = {"name": f"Member {i}", "role": "attendee", "version": match.group(1)}
            status, body = fetch(served, "POST", f"{linked.url}/members", as_form(data))
            if status != 409:
                return status, str(conflicts)
        return 409, body

    results = run_threads(add_one)
    assert [status for status, _ in results] == [302] * THREADS
    members = members_of(linked.invitation_id)
    names = sorted(m.name for m in members)
    assert names == sorted(["Marat Abenov", *(f"Member {i}" for i in range(THREADS))])
    assert len({m.position for m in members}) == THREADS + 1
    assert invitation_of(linked).version == version + THREADS
    assert len(audit_entries()) == 1 + THREADS


# --- helpers used by the other RSVP tests ---------------------------------------------------------


def members_of(invitation_id: int) -> list[DelegationMember]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(DelegationMember)
            .where(DelegationMember.invitation_id == invitation_id)
            .order_by(DelegationMember.position)
        )
    )


def as_form(data: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(data)
