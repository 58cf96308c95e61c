"""GDPR: every tagged column is exported and erased; retention purges delegations."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
    PersonAddress,
)
from app.extensions import Base, db
from app.invitations.models import DelegationMember, Invitation, MemberRole
from app.privacy.services import HANDLED, categories, erase_staff, export_staff, tagged


def test_every_category_of_personal_data_is_handled() -> None:
    assert categories() == HANDLED
    assert tagged("person")[Person]
    assert set(tagged("delegation")) == {Invitation, DelegationMember}


def marked(category: str, model: type, marker: str, **fixed: object) -> dict[str, object]:
    """A value per tagged column that can be searched for afterwards."""
    return {key: f"{marker}-{key}" for key in tagged(category)[model]} | fixed


@pytest.fixture
def person_with_everything(edition: Callable[..., Ceremony]) -> Person:
    ceremony = edition("9-mei", 2026)
    embassy = Organisation(name="Embassy of Markerland", kind=OrganisationKind.EMBASSY)
    person = Person(
        **marked("person", Person, "ZQX", email="zqx@example.org", gender=Gender.FEMALE)
    )
    person.addresses.append(PersonAddress(language="ru", **marked("person", PersonAddress, "ZQX")))
    person.given_name, person.family_name = "Zqxgiven", "Zqxfamily"
    appointment = Appointment(person=person, organisation=embassy, role=AppointmentRole.AMBASSADOR)
    invitation = Invitation(
        ceremony=ceremony,
        organisation=embassy,
        addressee=person,
        **marked("delegation", Invitation, "ZQX"),
    )
    invitation.members.append(
        DelegationMember(
            name="Zqxgiven Zqxfamily",
            function="ZQX-function",
            car_plate="ZQX-11",
            role=MemberRole.WREATH_LAYER,
        )
    )
    invitation.members.append(DelegationMember(name="Someone Else", function="Attaché"))
    db.session.add_all([embassy, person, appointment, invitation])
    db.session.commit()
    return person


def texts_in_database() -> str:
    db.session.rollback()
    found = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            found.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(found)


def test_export_then_erase(runner: FlaskCliRunner, person_with_everything: Person) -> None:
    person_id = person_with_everything.id
    exported = runner.invoke(args=["privacy", "export", str(person_id)])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    for key in tagged("person")[Person]:
        assert data["person"][key] == getattr(person_with_everything, key)
    for key in tagged("delegation")[Invitation]:
        assert data["invitations"][0][key] == f"ZQX-{key}"
    assert data["delegation_memberships"][0]["car_plate"] == "ZQX-11"
    assert data["appointments"][0]["role"] == "ambassador"
    assert data["forms_of_address"][0]["salutation"] == "ZQX-salutation"
    assert "ZQX" in texts_in_database()

    erased = runner.invoke(args=["privacy", "erase", str(person_id), "--yes"])
    assert erased.exit_code == 0, erased.output
    everything = texts_in_database()
    for marker in ("ZQX", "Zqxgiven", "Zqxfamily", "zqx@example.org"):
        assert marker not in everything
    assert "Someone Else" in everything  # the rest of the delegation stays
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 1


def test_erase_through_the_web(
    client: FlaskClient, login: Callable[[Role], User], person_with_everything: Person
) -> None:
    person_id = person_with_everything.id
    login(Role.ADMIN)
    export = client.get(f"/staff/privacy/persons/{person_id}/export.json")
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(export.data)["person"]["family_name"] == "Zqxfamily"
    assert client.post(f"/staff/privacy/persons/{person_id}/erase").status_code == 302
    assert "Zqxfamily" not in texts_in_database()
    assert client.get(f"/staff/privacy/persons/{person_id}/export.json").status_code == 404


def test_retention_purges_old_delegations(
    runner: FlaskCliRunner, person_with_everything: Person
) -> None:
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation is not None
    recent = runner.invoke(args=["privacy", "purge", "--months", "12"])
    assert "details of 0 invitation(s)" in recent.output  # the 2026 ceremony is recent
    ceremony = invitation.ceremony
    ceremony.starts_at = datetime.now(UTC) - timedelta(days=800)
    ceremony.ends_at = ceremony.starts_at + timedelta(hours=1)
    db.session.commit()
    purged = runner.invoke(args=["privacy", "purge", "--months", "12"])
    assert "details of 1 invitation(s)" in purged.output
    db.session.rollback()
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation is not None
    assert invitation.members == []
    assert invitation.accessibility == ""


def test_staff_accounts(make_user: Callable[..., User]) -> None:
    user = make_user(Role.PLANNER, "leaving@example.org")
    assert export_staff(user)["email"] == "leaving@example.org"
    erase_staff(user)
    db.session.commit()
    assert "leaving@example.org" not in texts_in_database()
    assert not user.active


@pytest.mark.parametrize("lang", ["nl", "en", "ru"])
def test_privacy_statement(client: FlaskClient, lang: str) -> None:
    page = client.get(f"/privacy?lang={lang}")
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.get_data(as_text=True)
    assert "12" in page.get_data(as_text=True)
