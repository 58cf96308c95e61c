"""The contacts pages: edit, refuse bad input without losing it, merge, group, rank."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    ContactGroup,
    Organisation,
    Person,
)
from app.contacts.services import version_of
from app.extensions import db
from app.invitations.models import Invitation, InvitationPolicy, PolicyDecision
from tests.contacts_data import appoint, count, fingerprint, organisation, person_named

R = AppointmentRole


@pytest.fixture
def planner(client: FlaskClient, login: Callable[[Role], User]) -> FlaskClient:
    login(Role.PLANNER)
    assert client.get("/staff/contacts/?lang=en").status_code == 200
    return client


def page(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_errors(response: TestResponse, field_id: str) -> list[str]:
    return re.findall(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page(response), re.S)


def audit(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- organisations and people -------------------------------------------------------


def test_create_and_edit_an_organisation(planner: FlaskClient) -> None:
    response = planner.post(
        "/staff/contacts/organisations/new",
        data={
            "name": "Embassy of Kazakhstan",
            "name_ru": "Посольство Республики Казахстан",
            "kind": "embassy",
            "country": "KZ",
            "email": "info@kazembassy.example",
        },
    )
    assert response.status_code == 302, page(response)[:2000]
    org = db.session.scalar(sa.select(Organisation))
    assert org is not None
    assert (org.name_ru, org.country, org.resident) == (
        "Посольство Республики Казахстан",
        "KZ",
        False,
    )
    (created,) = audit("contacts.organisation.create")
    assert created.actor_user_id is not None
    assert created.object_id == org.id

    shown = planner.get(f"/staff/contacts/organisations/{org.id}")
    assert "Kazakhstan" in page(shown)
    form = planner.get(f"/staff/contacts/organisations/{org.id}/edit")
    version = re.search(r'name="version"[^>]*value="([^"]*)"', page(form))
    assert version is not None
    response = planner.post(
        f"/staff/contacts/organisations/{org.id}/edit",
        data={
            "name": "Embassy of Kazakhstan",
            "kind": "embassy",
            "country": "KZ",
            "resident": "y",
            "version": version.group(1),
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    org = db.session.get(Organisation, org.id)
    assert org is not None
    assert org.resident is True
    assert org.name_ru == ""
    (updated,) = audit("contacts.organisation.update")
    assert updated.changes["resident"] == [False, True]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "Embassy of \u202eLatvia"}, "name", "Remove control or text-direction"),
        ({"name": "E" * 301}, "name", "Field cannot be longer than 300 characters."),
        ({"name": ""}, "name", "This field is required."),
        ({"country": "XX"}, "country", "Not a valid choice"),
        ({"kind": "castle"}, "kind", "Not a valid choice"),
        ({"email": "not an email"}, "email", "Not a valid email address."),
    ],
)
def test_bad_organisation_input_is_refused_and_kept(
    planner: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    before = fingerprint()
    data = {"name": "Embassy of Latvia", "kind": "embassy", "country": "LV", **changes}
    data.setdefault("address", "Balstraat 1\nDen Haag")
    response = planner.post("/staff/contacts/organisations/new", data=data)
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response, field)), field_errors(response, field)
    assert "Balstraat 1\nDen Haag" in page(response)  # what was typed is still there
    assert fingerprint() == before


def test_an_organisation_name_is_unique_whatever_the_case(planner: FlaskClient) -> None:
    organisation("Gemeente Leusden")
    db.session.commit()
    before = fingerprint()
    response = planner.post(
        "/staff/contacts/organisations/new", data={"name": "gemeente leusden", "kind": "other"}
    )
    assert response.status_code == 400
    assert any("exists already" in e for e in field_errors(response, "name"))
    assert fingerprint() == before


def test_a_stale_person_form_is_refused(planner: FlaskClient) -> None:
    person = appoint("Embassy", "Ivanova", given_name="Anna").person
    db.session.commit()
    stale = version_of(person.updated_at)
    first = planner.post(
        f"/staff/contacts/persons/{person.id}/edit",
        data={"family_name": "Ivanova", "given_name": "Anna", "language": "ru", "version": stale},
    )
    assert first.status_code == 302
    before = fingerprint()
    second = planner.post(
        f"/staff/contacts/persons/{person.id}/edit",
        data={"family_name": "Petrova", "given_name": "Anna", "language": "en", "version": stale},
    )
    assert second.status_code == 409
    assert "Someone else changed this record" in page(second)
    assert 'value="Petrova"' in page(second)
    assert fingerprint() == before
    # The refreshed form carries the current version: saving again is deliberate and works.
    fresh = re.search(r'name="version"[^>]*value="([^"]*)"', page(second))
    assert fresh is not None
    assert fresh.group(1) != stale
    third = planner.post(
        f"/staff/contacts/persons/{person.id}/edit",
        data={"family_name": "Petrova", "language": "en", "version": fresh.group(1)},
    )
    assert third.status_code == 302
    assert person_named("Petrova").language == "en"


def test_person_pages_show_every_script(planner: FlaskClient) -> None:
    response = planner.post(
        "/staff/contacts/persons/new",
        data={
            "given_name": "Askar",
            "family_name": "Zhumagaliyev",
            "native_name": "Асқар Жұмағалиев",
            "patronymic": "Серікұлы",
            "gender": "male",
            "email": "askar@example.kz",
            "phone": "+31 70 123 4567",
            "language": "ru",
        },
    )
    assert response.status_code == 302
    person = person_named("Zhumagaliyev")
    shown = page(planner.get(f"/staff/contacts/persons/{person.id}"))
    for text in (
        "Асқар Жұмағалиев",
        "Серікұлы",
        "De heer Askar Zhumagaliyev",
        "Господину Асқару Серікұлы Жұмағалиеву",  # the Kazakh patronymic once, as it is
        "Уважаемый господин Жұмағалиев!",
    ):
        assert text in shown
    found = page(planner.get("/staff/contacts/persons?q=жұмағ"))
    assert f"/staff/contacts/persons/{person.id}" in found


def test_bad_phone_and_email_are_refused(planner: FlaskClient) -> None:
    before = fingerprint()
    response = planner.post(
        "/staff/contacts/persons/new",
        data={"family_name": "Ivanova", "phone": "call me", "language": "ru"},
    )
    assert response.status_code == 400
    assert any("phone number" in e for e in field_errors(response, "phone"))
    assert 'value="call me"' in page(response)
    response = planner.post(
        "/staff/contacts/persons/new",
        data={"family_name": "Ivanova", "email": "a@b", "language": "xx"},
    )
    assert response.status_code == 400
    assert field_errors(response, "email")
    assert field_errors(response, "language")
    assert fingerprint() == before


def test_search_organisations(planner: FlaskClient) -> None:
    appoint("Embassy of Kazakhstan", "Zhumagaliyev")
    organisation("Gemeente Leusden", kind=Organisation.kind.type.enum_class("municipality"))
    db.session.commit()
    assert "Kazakhstan" in page(planner.get("/staff/contacts/?q=kazakh"))
    assert "Kazakhstan" not in page(planner.get("/staff/contacts/?q=leusden"))
    assert "Leusden" in page(planner.get("/staff/contacts/?kind=municipality"))
    assert "Kazakhstan" not in page(planner.get("/staff/contacts/?kind=municipality"))
    assert "Kazakhstan" in page(planner.get("/staff/contacts/persons?q=kazakhstan"))
    assert planner.get("/staff/contacts/?kind=castle").status_code == 400
    assert "No organisations found" in page(planner.get("/staff/contacts/?q=%25_"))


# --- appointments -------------------------------------------------------------------


def test_an_appointment_at_a_time_the_clocks_skip_is_refused(planner: FlaskClient) -> None:
    person = appoint("Embassy", "Ivanova").person
    db.session.commit()
    org_id = person.appointments[0].organisation_id
    before = fingerprint()
    data = {
        "organisation_id": str(org_id),
        "role": "ambassador",
        "taken_up_on": "2026-03-29",
        "taken_up_time": "02:30",
        "tie_break": "0",
    }
    response = planner.post(f"/staff/contacts/persons/{person.id}/appointments/new", data=data)
    assert response.status_code == 400
    assert any("does not exist on 2026-03-29" in e for e in field_errors(response, "taken_up_time"))
    assert 'value="2026-03-29"' in page(response)
    response = planner.post(
        f"/staff/contacts/persons/{person.id}/appointments/new",
        data={
            **data,
            "taken_up_time": "10:00",
            "valid_from": "2026-05-01",
            "valid_to": "2026-04-01",
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "valid_to")
    assert fingerprint() == before
    response = planner.post(
        f"/staff/contacts/persons/{person.id}/appointments/new",
        data={**data, "taken_up_time": "10:00"},
    )
    assert response.status_code == 302
    db.session.rollback()
    saved = db.session.scalars(
        sa.select(Appointment).where(Appointment.role == AppointmentRole.AMBASSADOR)
    ).all()[-1]
    assert saved.taken_up_at is not None
    assert saved.taken_up_at.isoformat() == "2026-03-29T08:00:00+00:00"  # 10:00 CEST


def test_an_appointment_is_found_through_its_person(planner: FlaskClient) -> None:
    mine = appoint("Embassy 1", "Mine")
    theirs = appoint("Embassy 2", "Theirs")
    db.session.commit()
    before = fingerprint()
    base = f"/staff/contacts/persons/{mine.person_id}/appointments/{theirs.id}"
    assert planner.get(f"{base}/edit").status_code == 404
    assert planner.post(f"{base}/delete").status_code == 404
    assert fingerprint() == before
    own = f"/staff/contacts/persons/{theirs.person_id}/appointments/{theirs.id}/delete"
    assert planner.post(own).status_code == 302
    assert count(Appointment) == 1
    assert audit("contacts.appointment.delete")


# --- merging ------------------------------------------------------------------------


def test_merge_two_persons(planner: FlaskClient, edition: Callable[..., Ceremony]) -> None:
    keep = appoint("Embassy of Kazakhstan", "Zhumagaliyev", given_name="Askar")
    duplicate = appoint(
        "Embassy of Kazakhstan",
        "Zhumagaliev",
        R.OTHER,
        email="askar@example.kz",
    )
    duplicate.person.native_name = "Асқар Жұмағалиев"
    ceremony = edition("9-mei", 2026)
    invitation = Invitation(
        ceremony=ceremony, organisation=keep.organisation, addressee=duplicate.person
    )
    db.session.add(invitation)
    db.session.commit()
    keep_id, duplicate_id, invitation_id = keep.person_id, duplicate.person_id, invitation.id

    response = planner.post(
        f"/staff/contacts/persons/{keep_id}/merge", data={"other_id": str(duplicate_id)}
    )
    assert response.status_code == 302, page(response)[:2000]
    db.session.rollback()
    assert db.session.get(Person, duplicate_id) is None
    kept = db.session.get(Person, keep_id)
    assert kept is not None
    assert sorted(a.role.value for a in kept.appointments) == ["ambassador", "other"]
    assert (kept.email, kept.native_name) == ("askar@example.kz", "Асқар Жұмағалиев")
    assert kept.family_name == "Zhumagaliyev"  # the kept record's own values win
    moved = db.session.get(Invitation, invitation_id)
    assert moved is not None
    assert moved.addressee_id == keep_id
    (entry,) = audit("contacts.person.merge")
    assert entry.changes["merged_person_id"] == duplicate_id
    assert entry.changes["invitations_moved"] == [invitation_id]


def test_a_person_cannot_be_merged_into_itself(planner: FlaskClient) -> None:
    person = appoint("Embassy", "Alone").person
    db.session.commit()
    before = fingerprint()
    response = planner.post(
        f"/staff/contacts/persons/{person.id}/merge", data={"other_id": str(person.id)}
    )
    assert response.status_code == 400
    assert fingerprint() == before


def test_merge_two_organisations(planner: FlaskClient, edition: Callable[..., Ceremony]) -> None:
    keep = appoint("Embassy of Kazakhstan", "Zhumagaliyev").organisation
    duplicate = appoint("Kazakhstan embassy", "Nurlanov", R.REPRESENTATIVE).organisation
    duplicate.email = "info@kazembassy.example"
    with db.session.no_autoflush:
        group = ContactGroup(name="Central Asia", organisations=[duplicate])
        shared = ContactGroup(name="Diplomatic corps", organisations=[keep, duplicate])
        db.session.add_all([group, shared])
    ceremony = edition("9-mei", 2026)
    other_ceremony = edition("koedriest", 2026)
    invitation = Invitation(ceremony=ceremony, organisation=duplicate)
    policy = InvitationPolicy(
        ceremony_id=other_ceremony.id, organisation=duplicate, decision=PolicyDecision.PROXY_ONLY
    )
    db.session.add_all([invitation, policy])
    db.session.commit()
    ids = (keep.id, duplicate.id, invitation.id, policy.id)

    response = planner.post(
        f"/staff/contacts/organisations/{ids[0]}/merge", data={"other_id": str(ids[1])}
    )
    assert response.status_code == 302, page(response)[:2000]
    db.session.rollback()
    assert db.session.get(Organisation, ids[1]) is None
    kept = db.session.get(Organisation, ids[0])
    assert kept is not None
    assert sorted(a.person.family_name for a in kept.appointments) == ["Nurlanov", "Zhumagaliyev"]
    assert sorted(g.name for g in kept.groups) == ["Central Asia", "Diplomatic corps"]
    assert kept.email == "info@kazembassy.example"
    moved = db.session.get(Invitation, ids[2])
    assert moved is not None
    assert moved.organisation_id == ids[0]
    moved_policy = db.session.get(InvitationPolicy, ids[3])
    assert moved_policy is not None
    assert moved_policy.organisation_id == ids[0]
    assert audit("contacts.organisation.merge")


def test_two_invitations_to_one_edition_block_a_merge(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    keep = organisation("Embassy of Kazakhstan")
    duplicate = organisation("Kazakhstan embassy")
    ceremony = edition("9-mei", 2026)
    db.session.add_all(
        [
            Invitation(ceremony=ceremony, organisation=keep),
            Invitation(ceremony=ceremony, organisation=duplicate),
        ]
    )
    db.session.commit()
    before = fingerprint()
    response = planner.post(
        f"/staff/contacts/organisations/{keep.id}/merge", data={"other_id": str(duplicate.id)}
    )
    assert response.status_code == 400
    assert any("2026-9-mei" in e for e in field_errors(response, "other_id"))
    assert fingerprint() == before


# --- groups -------------------------------------------------------------------------


def test_groups(planner: FlaskClient) -> None:
    leusden = organisation("Gemeente Leusden")
    amersfoort = organisation("Gemeente Amersfoort")
    db.session.commit()
    response = planner.post("/staff/contacts/groups", data={"name": "Municipalities"})
    assert response.status_code == 302
    db.session.rollback()
    group = db.session.scalars(sa.select(ContactGroup)).one()
    again = planner.post("/staff/contacts/groups", data={"name": "municipalities"})
    assert again.status_code == 400
    assert any("exists already" in e for e in field_errors(again, "name"))
    for org in (leusden, amersfoort):
        added = planner.post(
            f"/staff/contacts/groups/{group.id}/add", data={"organisation_id": str(org.id)}
        )
        assert added.status_code == 302
    shown = page(planner.get(f"/staff/contacts/groups/{group.id}"))
    assert "Gemeente Leusden" in shown
    assert "Gemeente Amersfoort" in shown
    removed = planner.post(f"/staff/contacts/groups/{group.id}/remove/{leusden.id}")
    assert removed.status_code == 302
    db.session.rollback()
    group = db.session.scalars(sa.select(ContactGroup)).one()
    assert [o.name for o in group.organisations] == ["Gemeente Amersfoort"]
    listed = page(planner.get(f"/staff/contacts/?group={group.id}"))
    assert "Gemeente Amersfoort" in listed
    assert "Gemeente Leusden" not in listed
    assert [e.action for e in audit("contacts.group.add")] == ["contacts.group.add"] * 2
    assert planner.post(f"/staff/contacts/groups/{group.id}/add", data={}).status_code == 400


def test_a_viewer_reads_but_cannot_create_a_group(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.VIEWER)
    page_ = client.get("/staff/contacts/groups")
    assert page_.status_code == 200
    assert 'name="name"' not in page_.get_data(as_text=True)
    assert client.post("/staff/contacts/groups", data={"name": "X"}).status_code == 403
    assert count(ContactGroup) == 0


# --- precedence ---------------------------------------------------------------------


def test_precedence_page(planner: FlaskClient) -> None:
    appoint("Embassy of Belgium", "Dupont", R.AMBASSADOR, "2019-11-20", resident=False)
    appoint("Embassy of Aland", "Virtanen", R.AMBASSADOR, "2021-09-08")
    appoint("Embassy of Corvo", "Silva", R.CHARGE_AD_INTERIM, "2015-01-01")
    appoint("Embassy of Delos", "Future", R.AMBASSADOR, "2025-06-01")
    db.session.commit()
    response = planner.get("/staff/contacts/precedence?date=2025-05-09")
    assert response.status_code == 200
    text = page(response)
    rows = re.findall(r"<tr( class=\"dean\")?>\s*<td>(\d+)</td>\s*<td>([^<]*)", text)
    assert [(dean, rank, name.strip()) for dean, rank, name in rows] == [
        (' class="dean"', "1", "Embassy of Belgium"),
        ("", "2", "Embassy of Aland"),
        ("", "3", "Embassy of Corvo"),
    ]
    assert text.count("Dean of the diplomatic corps") == 1
    assert "@media print" in text
    assert "Future" not in text
    later = page(planner.get("/staff/contacts/precedence?date=2025-06-01"))
    assert "Future" in later


def test_precedence_page_refuses_a_bad_date(planner: FlaskClient) -> None:
    response = planner.get("/staff/contacts/precedence?date=2025-02-30")
    assert response.status_code == 400
    assert "Give the date as YYYY-MM-DD" in page(response)
    assert 'value="2025-02-30"' in page(response)
