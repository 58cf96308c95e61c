"""Making contacts in tests through the services, as staff would."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.contacts.models import (
    Appointment,
    AppointmentRole,
    ContactGroup,
    Organisation,
    OrganisationKind,
    Person,
)
from app.contacts.services import (
    AppointmentData,
    OrganisationData,
    PersonData,
    add_appointment,
    create_organisation,
    create_person,
    local_date,
    local_moment,
    organisation_by_name,
    version_of,
)
from app.extensions import Base, db


def organisation(
    name: str,
    kind: OrganisationKind = OrganisationKind.EMBASSY,
    *,
    country: str = "",
    resident: bool = True,
) -> Organisation:
    found = organisation_by_name(db.session, name)
    if found is not None:
        return found
    data = OrganisationData(name=name, kind=kind, country=country, resident=resident)
    return create_organisation(db.session, data, actor_user_id=None)


def appoint(
    mission: str,
    family_name: str,
    role: AppointmentRole = AppointmentRole.AMBASSADOR,
    taken_up: str | None = None,
    *,
    valid_from: str | None = None,
    valid_to: str | None = None,
    resident: bool = True,
    tie_break: int = 0,
    given_name: str = "",
    email: str = "",
) -> Appointment:
    """``family_name`` appointed ``role`` at the embassy ``mission``; dates as ISO text."""
    org = organisation(mission, resident=resident)
    person = create_person(
        db.session,
        PersonData(family_name=family_name, given_name=given_name, email=email),
        actor_user_id=None,
    )
    return add_appointment(
        db.session,
        person,
        AppointmentData(
            organisation=org,
            role=role,
            taken_up_at=local_moment(taken_up) if taken_up else None,
            valid_from=local_date(valid_from) if valid_from else None,
            valid_to=local_date(valid_to) if valid_to else None,
            tie_break=tie_break,
        ),
        actor_user_id=None,
    )


def person_named(family_name: str) -> Person:
    db.session.rollback()
    found = db.session.scalar(sa.select(Person).where(Person.family_name == family_name))
    assert found is not None, family_name
    return found


def count(model: type[Base]) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def fingerprint() -> dict[str, list[str]]:
    """Every committed row of every table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


def contacts_world() -> dict[str, Any]:
    """For the authorisation matrix: an embassy and its duplicate, an ambassador and a
    duplicate of her, a group holding the embassy."""
    ambassador = appoint(
        "Embassy of Contactland",
        "Ivanova",
        AppointmentRole.AMBASSADOR,
        "2023-02-01T10:00",
        given_name="Anna",
        email="anna@contactland.example",
    )
    duplicate = appoint("Embassy of Contactland (old)", "Ivanova", AppointmentRole.OTHER)
    with db.session.no_autoflush:
        group = ContactGroup(name="Diplomatic corps", organisations=[ambassador.organisation])
        db.session.add(group)
    db.session.commit()
    return {
        "contact_organisation_id": ambassador.organisation_id,
        "contact_duplicate_organisation_id": duplicate.organisation_id,
        "contact_person_id": ambassador.person_id,
        "contact_duplicate_person_id": duplicate.person_id,
        "contact_appointment_id": ambassador.id,
        "contact_group_id": group.id,
        "contact_organisation_version": version_of(ambassador.organisation.updated_at),
        "contact_person_version": version_of(ambassador.person.updated_at),
    }
