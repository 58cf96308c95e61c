"""What staff do with contacts: find, create, edit and merge organisations and people,
appointments, groups. Every change is written to the audit log.

Services flush but never commit: the view or command that calls them commits once.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.audit.services import diff, record
from app.ceremonies.errors import CeremonyError
from app.ceremonies.models import Ceremony
from app.ceremonies.timing import local_datetime
from app.contacts.addressing import DEFAULTS as ADDRESS_DEFAULTS
from app.contacts.addressing import proposed_dative, unknown_placeholders
from app.contacts.models import (
    AddressRole,
    Appointment,
    AppointmentRole,
    ContactGroup,
    FormOfAddress,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
    PersonAddress,
)
from app.extensions import DbSession
from app.forms import email_problem
from app.invitations.models import Invitation, InvitationPolicy
from app.refusals import Refusal
from app.types import utcnow

# Heads of mission take up functions in The Hague: wall-clock times are Amsterdam's.
ZONE = ZoneInfo("Europe/Amsterdam")
LANGUAGES = ("nl", "en", "ru")
# Bidi overrides, isolates and marks, and C0/C1 controls (as app.forms refuses them).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_FORBIDDEN_BLOCK = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{3,50}$")
# Not ISO 3166-1 codes, though CLDR names them: unknown, EU, eurozone, UN, outlying Oceania.
_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO"})

KIND_LABELS: dict[OrganisationKind, Any] = {
    OrganisationKind.EMBASSY: _l("Embassy"),
    OrganisationKind.CONSULATE: _l("Consulate"),
    OrganisationKind.MUNICIPALITY: _l("Municipality"),
    OrganisationKind.PROVINCE: _l("Province"),
    OrganisationKind.MINISTRY: _l("Ministry"),
    OrganisationKind.ARMED_FORCES: _l("Armed forces"),
    OrganisationKind.SCHOOL: _l("School"),
    OrganisationKind.VETERANS: _l("Veterans' or remembrance organisation"),
    OrganisationKind.MUSEUM: _l("Museum"),
    OrganisationKind.FOUNDATION: _l("Foundation"),
    OrganisationKind.FAMILY: _l("Family"),
    OrganisationKind.OTHER: _l("Other"),
}

ROLE_LABELS: dict[AppointmentRole, Any] = {
    AppointmentRole.AMBASSADOR: _l("Ambassador"),
    AppointmentRole.ENVOY: _l("Envoy"),
    AppointmentRole.CHARGE_EN_PIED: _l("Chargé d'affaires en pied"),
    AppointmentRole.CHARGE_AD_INTERIM: _l("Chargé d'affaires a.i."),
    AppointmentRole.REPRESENTATIVE: _l("Representative of the head of mission"),
    AppointmentRole.CONSUL: _l("Consul"),
    AppointmentRole.MAYOR: _l("Mayor"),
    AppointmentRole.DEPUTY_MAYOR: _l("Deputy mayor"),
    AppointmentRole.KINGS_COMMISSIONER: _l("King's Commissioner"),
    AppointmentRole.MINISTER: _l("Minister"),
    AppointmentRole.OFFICIAL: _l("Official"),
    AppointmentRole.DIRECTOR: _l("Director"),
    AppointmentRole.RELATIVE: _l("Relative"),
    AppointmentRole.OTHER: _l("Other"),
}

LANGUAGE_LABELS: dict[str, Any] = {"nl": _l("Dutch"), "en": _l("English"), "ru": _l("Russian")}
ADDRESS_ROLE_LABELS: dict[str, Any] = {
    AddressRole.AMBASSADOR.value: _l("Ambassador"),
    AddressRole.CHARGE_AD_INTERIM.value: _l("Chargé d'affaires a.i."),
    AddressRole.CHARGE_EN_PIED.value: _l("Chargé d'affaires en pied"),
    AddressRole.MAYOR.value: _l("Mayor"),
    AddressRole.OTHER.value: _l("Anyone else"),
}
NAMING_FIELDS = frozenset({"given_name", "family_name", "native_name", "patronymic", "gender"})
GENDER_LABELS: dict[str, Any] = {
    Gender.UNKNOWN.value: _l("Unknown (neutral forms of address)"),
    Gender.MALE.value: _l("Male"),
    Gender.FEMALE.value: _l("Female"),
}


class ContactError(Refusal):
    """A rule about contacts refused the change."""


def kind_label(kind: OrganisationKind) -> str:
    return str(KIND_LABELS[kind])


def role_label(role: AppointmentRole) -> str:
    return str(ROLE_LABELS[role])


# --- clean values -------------------------------------------------------------------


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC and trimmed; refuses control and text-direction characters."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    pattern = _FORBIDDEN_BLOCK if multiline else _FORBIDDEN
    if pattern.search(value):
        raise ContactError(_l("Remove control or text-direction characters."))
    return value


def check_email(value: str) -> str:
    """An address that looks deliverable in form (no DNS lookup), or ''."""
    if not value:
        return ""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ContactError(email_problem(error), field="email") from error
    return value


def check_phone(value: str) -> str:
    if value and not PHONE_RE.match(value):
        raise ContactError(
            _l("Use digits, spaces and + ( ) . / - only in a phone number."), field="phone"
        )
    return value


@cache
def _territories(lang: str) -> dict[str, str]:
    names = Locale.parse(lang).territories
    return {
        code: str(name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code (upper case)."""
    return code in _territories("en")


def country_name(code: str, lang: str) -> str:
    return _territories(lang if lang in LANGUAGES else "en").get(code, code)


def countries(lang: str) -> list[tuple[str, str]]:
    """(code, name) of every country, sorted by name in ``lang``."""
    names = _territories(lang if lang in LANGUAGES else "en")
    return sorted(names.items(), key=lambda pair: pair[1].casefold())


def local_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware instant.

    A date alone means 00:00 in Amsterdam; a date-time without offset is Amsterdam wall
    time, and a time the clocks skip or repeat is refused rather than guessed.
    """
    text = text.strip()
    day: date | None = None
    try:
        day = date.fromisoformat(text)
        moment = datetime.combine(day, time(0))
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise ContactError(
                _l("%(value)s is not an ISO 8601 date or date-time.", value=text[:40])
            ) from error
    # Year 1 at midnight in Amsterdam is before year 1 in UTC: refuse, do not overflow.
    if not 1900 <= moment.year <= 2200:
        raise ContactError(_l("%(value)s is outside the years 1900 to 2200.", value=text[:40]))
    if day is not None:
        return day_start(day)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return wall_time(moment.date(), moment.time())


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in Amsterdam (midnight always exists there)."""
    return datetime.combine(day, time(0), tzinfo=ZONE)


def wall_time(day: date, at: time) -> datetime:
    """``day`` at ``at`` in Amsterdam, refusing skipped and repeated times."""
    try:
        return local_datetime(day, at, ZONE)
    except CeremonyError as error:
        raise ContactError(error.message) from error


def local_date(text: str) -> date:
    """An ISO 8601 date; of a local date-time, its date."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ContactError(_l("%(value)s is not an ISO 8601 date.", value=text[:40])) from error
    return moment.astimezone(ZONE).date() if moment.tzinfo else moment.date()


def as_local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(ZONE) if moment is not None else None


# --- organisations ------------------------------------------------------------------


@dataclass
class OrganisationData:
    """What staff enter for an organisation."""

    name: str
    kind: OrganisationKind
    name_nl: str = ""
    name_en: str = ""
    name_ru: str = ""
    country_genitive_ru: str = ""
    country: str = ""
    resident: bool = True
    address: str = ""
    email: str = ""
    protocol_contact: str = ""
    notes: str = ""

    def check(self) -> None:
        if not self.name:
            raise ContactError(_l("Give the organisation a name."), field="name")
        if self.country and not is_country(self.country):
            raise ContactError(
                _l("%(code)s is not an ISO 3166 country code.", code=self.country[:10]),
                field="country",
            )
        check_email(self.email)


def organisation_by_name(session: DbSession, name: str) -> Organisation | None:
    """The organisation of that name, whatever its letter case."""
    return session.scalar(
        sa.select(Organisation).where(sa.func.lower(Organisation.name) == name.lower())
    )


def _snapshot(obj: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _apply(obj: object, values: dict[str, Any]) -> dict[str, Any]:
    """Set ``values`` on ``obj``; the audit diff of what changed."""
    before = _snapshot(obj, list(values))
    changes = diff(before, values)
    for name in changes:
        setattr(obj, name, values[name])
    return changes


def create_organisation(
    session: DbSession, data: OrganisationData, *, actor_user_id: int | None
) -> Organisation:
    data.check()
    if organisation_by_name(session, data.name) is not None:
        raise ContactError(
            _l("An organisation named %(name)s exists already.", name=data.name), field="name"
        )
    now = utcnow()
    organisation = Organisation(**asdict(data), created_at=now, updated_at=now)
    session.add(organisation)
    session.flush()
    record(
        session,
        action="contacts.organisation.create",
        object_type="organisation",
        object_id=organisation.id,
        changes=diff({}, asdict(data)),
        actor_user_id=actor_user_id,
    )
    return organisation


def check_version(updated_at: datetime, expected: str | None) -> None:
    """Refuse a form made from an older state (the change time travels in the form)."""
    if expected is not None and expected != version_of(updated_at):
        raise EditConflict()


def version_of(updated_at: datetime) -> str:
    return updated_at.astimezone(UTC).isoformat()


class EditConflict(Exception):
    """The form was made from an older state than the one stored."""


def update_organisation(
    session: DbSession,
    organisation: Organisation,
    data: OrganisationData,
    *,
    actor_user_id: int | None,
    expected_version: str | None = None,
) -> Organisation:
    check_version(organisation.updated_at, expected_version)
    data.check()
    other = organisation_by_name(session, data.name)
    if other is not None and other.id != organisation.id:
        raise ContactError(
            _l("An organisation named %(name)s exists already.", name=data.name), field="name"
        )
    changes = _apply(organisation, asdict(data))
    if changes:
        organisation.updated_at = utcnow()
        record(
            session,
            action="contacts.organisation.update",
            object_type="organisation",
            object_id=organisation.id,
            changes=changes,
            actor_user_id=actor_user_id,
        )
    session.flush()
    return organisation


def search_organisations(
    session: DbSession,
    query: str = "",
    *,
    kind: OrganisationKind | None = None,
    group_id: int | None = None,
    limit: int = 500,
) -> list[Organisation]:
    """Organisations whose names (any language), country or email contain ``query``."""
    statement = sa.select(Organisation).options(selectinload(Organisation.groups))
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    if group_id is not None:
        statement = statement.where(Organisation.groups.any(ContactGroup.id == group_id))
    rows = session.scalars(statement.order_by(Organisation.name))
    found = (
        o
        for o in rows
        if _matches(query, o.name, o.name_nl, o.name_en, o.name_ru, o.email, o.country)
    )
    return list(itertools.islice(found, limit))


def _matches(query: str, *texts: str) -> bool:
    """Case-insensitive in every script; SQLite's lower() folds ASCII letters only."""
    folded = unicodedata.normalize("NFC", query).casefold().strip()
    return not folded or any(folded in text.casefold() for text in texts)


# --- people -------------------------------------------------------------------------


@dataclass
class PersonData:
    """What staff enter for a person."""

    family_name: str
    given_name: str = ""
    native_name: str = ""
    patronymic: str = ""
    gender: Gender = Gender.UNKNOWN
    email: str = ""
    phone: str = ""
    language: str = "en"
    relation: str = ""
    notes: str = ""

    def check(self) -> None:
        if not self.family_name:
            raise ContactError(_l("Give the family name."), field="family_name")
        if self.language not in LANGUAGES:
            raise ContactError(_l("Choose Dutch, English or Russian."), field="language")
        check_email(self.email)
        check_phone(self.phone)


def person_by_email(session: DbSession, email: str) -> Person | None:
    if not email:
        return None
    return session.scalars(
        sa.select(Person).where(sa.func.lower(Person.email) == email.lower()).order_by(Person.id)
    ).first()


def create_person(session: DbSession, data: PersonData, *, actor_user_id: int | None) -> Person:
    data.check()
    now = utcnow()
    person = Person(**asdict(data), created_at=now, updated_at=now)
    session.add(person)
    session.flush()
    record(
        session,
        action="contacts.person.create",
        object_type="person",
        object_id=person.id,
        changes=diff({}, asdict(data)),
        actor_user_id=actor_user_id,
    )
    return person


def update_person(
    session: DbSession,
    person: Person,
    data: PersonData,
    *,
    actor_user_id: int | None,
    expected_version: str | None = None,
) -> Person:
    check_version(person.updated_at, expected_version)
    data.check()
    changes = _apply(person, asdict(data))
    if changes.keys() & NAMING_FIELDS:
        # What staff confirmed was printed from the name and gender as they stood, and a
        # dative was of the old name: the new one is proposed afresh.
        for own in person.addresses:
            own.confirmed_at = None
            own.confirmed_by_id = None
            own.name_dative = ""
    if changes:
        person.updated_at = utcnow()
        record(
            session,
            action="contacts.person.update",
            object_type="person",
            object_id=person.id,
            changes=changes,
            actor_user_id=actor_user_id,
        )
    session.flush()
    return person


def search_persons(session: DbSession, query: str = "", *, limit: int = 500) -> list[Person]:
    """People whose names (Latin or native), email or organisations contain ``query``."""
    rows = session.scalars(
        sa.select(Person)
        .options(selectinload(Person.appointments).selectinload(Appointment.organisation))
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    found = (
        p
        for p in rows
        if _matches(
            query,
            p.given_name,
            p.family_name,
            p.full_name,
            p.native_name,
            p.patronymic,
            p.email,
            *(a.organisation.name for a in p.appointments),
        )
    )
    return list(itertools.islice(found, limit))


# --- forms of address ---------------------------------------------------------------


@dataclass
class AddressData:
    """A person's own forms of address in one language; empty takes the defaults."""

    style: str = ""
    address_block: str = ""
    salutation: str = ""
    mention: str = ""
    name_dative: str = ""

    def check(self) -> None:
        for name in ("style", "address_block", "salutation", "mention", "name_dative"):
            value = getattr(self, name)
            setattr(self, name, value.strip())
            if "{" in value or "}" in value:
                raise ContactError(
                    _l("Write the text as it will print, without placeholders in braces."),
                    field=name,
                )


def set_person_address(
    session: DbSession,
    person: Person,
    language: str,
    data: AddressData,
    *,
    actor_user_id: int | None,
) -> PersonAddress:
    """Save a person's own forms of address in ``language``; a change undoes the
    confirmation, which was of the text as it stood."""
    if language not in LANGUAGES:
        raise ContactError(_l("Choose Dutch, English or Russian."), field="language")
    data.check()
    own = person.address_for_edit(language)
    changes = _apply(own, asdict(data))
    if changes:
        if own.confirmed_at is not None:
            changes["confirmed_at"] = [own.confirmed_at.isoformat(), None]
        own.confirmed_at = None
        own.confirmed_by_id = None
        session.flush()
        record(
            session,
            action="contacts.person.address",
            object_type="person",
            object_id=person.id,
            changes={"language": language, **changes},
            actor_user_id=actor_user_id,
        )
    session.flush()
    return own


def confirm_person_address(
    session: DbSession, person: Person, language: str, *, actor_user_id: int | None
) -> PersonAddress:
    """Staff confirm the forms of address in ``language`` as the person page shows them;
    the Russian dative proposed then is kept, so a later proposal cannot change it."""
    if language not in LANGUAGES:
        raise ContactError(_l("Choose Dutch, English or Russian."), field="language")
    own = person.address_for_edit(language)
    if language == "ru" and not own.name_dative:
        own.name_dative = proposed_dative(person)
    own.confirmed_at = utcnow()
    own.confirmed_by_id = actor_user_id
    session.flush()
    record(
        session,
        action="contacts.person.address_confirm",
        object_type="person",
        object_id=person.id,
        changes={"language": language, "name_dative": own.name_dative},
        actor_user_id=actor_user_id,
    )
    return own


@dataclass
class FormOfAddressData:
    """The defaults of one role, language and gender, with placeholders."""

    style: str = ""
    function_line: str = ""
    salutation: str = ""
    mention: str = ""

    def check(self) -> None:
        for name in ("style", "function_line", "salutation", "mention"):
            value = getattr(self, name).strip()
            setattr(self, name, value)
            unknown = unknown_placeholders(value)
            if unknown:
                raise ContactError(
                    _l(
                        "Unknown placeholder %(names)s: use {given}, {surname}, {name}, "
                        "{country} or {organisation}.",
                        names=", ".join("{" + n + "}" for n in unknown),
                    ),
                    field=name,
                )
        if not self.salutation:
            raise ContactError(_l("Give the salutation."), field="salutation")


def update_form_of_address(
    session: DbSession, row: FormOfAddress, data: FormOfAddressData, *, actor_user_id: int | None
) -> FormOfAddress:
    data.check()
    changes = _apply(row, asdict(data))
    session.flush()
    if changes:
        record(
            session,
            action="contacts.form_of_address.update",
            object_type="form_of_address",
            object_id=row.id,
            changes=changes,
            actor_user_id=actor_user_id,
        )
    return row


def _built_in(key: tuple[AddressRole, str, Gender]) -> FormOfAddress:
    style, function, salutation_, mention_ = ADDRESS_DEFAULTS[key]
    return FormOfAddress(
        role=key[0],
        language=key[1],
        gender=key[2],
        style=style,
        function_line=function,
        salutation=salutation_,
        mention=mention_,
    )


def forms_of_address(session: DbSession) -> list[FormOfAddress]:
    """The table of defaults, every role, language and gender: staff's rows, and the
    built-in defaults (not stored) where a row is missing. Writes nothing."""
    rows = {(r.role, r.language, r.gender): r for r in session.scalars(sa.select(FormOfAddress))}
    return [rows.get(key) or _built_in(key) for key in ADDRESS_DEFAULTS]


def form_of_address(
    session: DbSession, role: AddressRole, language: str, gender: Gender
) -> FormOfAddress:
    """The row to edit; one missing is added from the built-in defaults."""
    row = session.scalar(
        sa.select(FormOfAddress).where(
            FormOfAddress.role == role,
            FormOfAddress.language == language,
            FormOfAddress.gender == gender,
        )
    )
    if row is None:
        row = _built_in((role, language, gender))
        session.add(row)
        session.flush()
    return row


def seed_forms_of_address(session: DbSession) -> None:
    """Store every missing row of the defaults (the demo on a database made without the
    migration that seeds them)."""
    for key in ADDRESS_DEFAULTS:
        form_of_address(session, *key)


# --- appointments -------------------------------------------------------------------


@dataclass
class AppointmentData:
    """A person's role at an organisation; ``taken_up_at`` aware (see ``local_moment``)."""

    organisation: Organisation
    role: AppointmentRole
    taken_up_at: datetime | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    tie_break: int = 0

    def check(self) -> None:
        if self.taken_up_at is not None and self.taken_up_at.utcoffset() is None:
            raise ValueError("taken_up_at must be aware")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ContactError(
                _l("The end of the appointment must not be before its start."),
                field="valid_to",
            )

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _appointment_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    plain = {
        key: (value.id if isinstance(value, Organisation) else value)
        for key, value in after.items()
    }
    old = {
        key: (value.id if isinstance(value, Organisation) else value)
        for key, value in before.items()
    }
    return diff(old, plain)


def add_appointment(
    session: DbSession, person: Person, data: AppointmentData, *, actor_user_id: int | None
) -> Appointment:
    data.check()
    appointment = Appointment(person=person, **data.values())
    session.add(appointment)
    session.flush()
    record(
        session,
        action="contacts.appointment.create",
        object_type="appointment",
        object_id=appointment.id,
        changes={"person_id": [None, person.id], **_appointment_changes({}, data.values())},
        actor_user_id=actor_user_id,
    )
    return appointment


def update_appointment(
    session: DbSession,
    appointment: Appointment,
    data: AppointmentData,
    *,
    actor_user_id: int | None,
) -> Appointment:
    data.check()
    before = _snapshot(appointment, list(data.values()))
    changes = _appointment_changes(before, data.values())
    for name, value in data.values().items():
        if getattr(appointment, name) != value:
            setattr(appointment, name, value)
    if changes:
        record(
            session,
            action="contacts.appointment.update",
            object_type="appointment",
            object_id=appointment.id,
            changes=changes,
            actor_user_id=actor_user_id,
        )
    session.flush()
    return appointment


def delete_appointment(
    session: DbSession, appointment: Appointment, *, actor_user_id: int | None
) -> None:
    record(
        session,
        action="contacts.appointment.delete",
        object_type="appointment",
        object_id=appointment.id,
        changes={
            "person_id": [appointment.person_id, None],
            "organisation_id": [appointment.organisation_id, None],
            "role": [appointment.role.value, None],
        },
        actor_user_id=actor_user_id,
    )
    session.delete(appointment)
    session.flush()


# --- groups -------------------------------------------------------------------------


def group_by_name(session: DbSession, name: str) -> ContactGroup | None:
    return session.scalar(
        sa.select(ContactGroup).where(sa.func.lower(ContactGroup.name) == name.lower())
    )


def create_group(session: DbSession, name: str, *, actor_user_id: int | None) -> ContactGroup:
    if not name:
        raise ContactError(_l("Give the group a name."), field="name")
    if group_by_name(session, name) is not None:
        raise ContactError(_l("A group named %(name)s exists already.", name=name), field="name")
    group = ContactGroup(name=name)
    session.add(group)
    session.flush()
    record(
        session,
        action="contacts.group.create",
        object_type="contact_group",
        object_id=group.id,
        changes={"name": [None, name]},
        actor_user_id=actor_user_id,
    )
    return group


def set_membership(
    session: DbSession,
    group: ContactGroup,
    organisation: Organisation,
    member: bool,
    *,
    actor_user_id: int | None,
) -> bool:
    """Add ``organisation`` to ``group`` (or remove it); False when nothing changed."""
    if (organisation in group.organisations) == member:
        return False
    if member:
        group.organisations.append(organisation)
    else:
        group.organisations.remove(organisation)
    record(
        session,
        action="contacts.group.add" if member else "contacts.group.remove",
        object_type="contact_group",
        object_id=group.id,
        changes={"organisation_id": [None, organisation.id] if member else [organisation.id, None]},
        actor_user_id=actor_user_id,
    )
    session.flush()
    return True


def all_groups(session: DbSession) -> list[ContactGroup]:
    return list(
        session.scalars(
            sa.select(ContactGroup)
            .options(selectinload(ContactGroup.organisations))
            .order_by(ContactGroup.name)
        )
    )


# --- merging duplicates -------------------------------------------------------------

_PERSON_FIELDS = [f.name for f in fields(PersonData)]
_ORGANISATION_FIELDS = [f.name for f in fields(OrganisationData) if f.name not in ("name", "kind")]


def _fill_gaps(keep: object, duplicate: object, names: Sequence[str]) -> dict[str, Any]:
    """Copy the duplicate's values where the kept record has none."""
    values = {
        name: getattr(duplicate, name)
        for name in names
        if not getattr(keep, name) and getattr(duplicate, name)
    }
    return _apply(keep, values)


def _same_appointment(a: Appointment, b: Appointment) -> bool:
    # Objects, not ids: a moved appointment's foreign keys change only at the flush.
    def key(x: Appointment) -> tuple[object, ...]:
        return (x.organisation.id, x.person.id, x.role, x.valid_from, x.valid_to, x.taken_up_at)

    return key(a) == key(b)


def merge_persons(
    session: DbSession, keep: Person, duplicate: Person, *, actor_user_id: int | None
) -> Person:
    """Fold ``duplicate`` into ``keep``: appointments, invitations, empty fields; then
    delete it. Identical appointments are kept once."""
    if keep.id == duplicate.id:
        raise ContactError(_l("Choose another person to merge."), field="other_id")
    moved: list[int] = []
    for appointment in list(duplicate.appointments):
        appointment.person = keep
        if any(
            _same_appointment(appointment, a) for a in keep.appointments if a is not appointment
        ):
            session.delete(appointment)
        else:
            moved.append(appointment.id)
    invitations = list(
        session.scalars(sa.select(Invitation).where(Invitation.addressee_id == duplicate.id))
    )
    for invitation in invitations:
        invitation.addressee_id = keep.id
    filled = _fill_gaps(keep, duplicate, _PERSON_FIELDS)
    keep.updated_at = utcnow()
    record(
        session,
        action="contacts.person.merge",
        object_type="person",
        object_id=keep.id,
        changes={
            "merged_person_id": duplicate.id,
            "merged_name": duplicate.full_name,
            "appointments_moved": moved,
            "invitations_moved": [i.id for i in invitations],
            **filled,
        },
        actor_user_id=actor_user_id,
    )
    session.flush()
    session.delete(duplicate)
    session.flush()
    return keep


def _edition_slug(session: DbSession, ceremony_id: int) -> str:
    ceremony = session.get(Ceremony, ceremony_id)
    return ceremony.slug if ceremony is not None else str(ceremony_id)


def merge_organisations(
    session: DbSession, keep: Organisation, duplicate: Organisation, *, actor_user_id: int | None
) -> Organisation:
    """Fold ``duplicate`` into ``keep``: appointments, groups, invitations and invitation
    policies, empty fields; then delete it. Two invitations (or policies) for one edition
    cannot be merged silently: that is refused with the edition named."""
    if keep.id == duplicate.id:
        raise ContactError(_l("Choose another organisation to merge."), field="other_id")
    invitations = list(
        session.scalars(sa.select(Invitation).where(Invitation.organisation_id == duplicate.id))
    )
    policies = list(
        session.scalars(
            sa.select(InvitationPolicy).where(InvitationPolicy.organisation_id == duplicate.id)
        )
    )
    kept_editions = set(
        session.scalars(
            sa.select(Invitation.ceremony_id).where(Invitation.organisation_id == keep.id)
        )
    )
    kept_policy_editions = set(
        session.scalars(
            sa.select(InvitationPolicy.ceremony_id).where(
                InvitationPolicy.organisation_id == keep.id
            )
        )
    )
    for invitation in invitations:
        if invitation.ceremony_id in kept_editions:
            raise ContactError(
                _l(
                    "Both organisations are invited to %(edition)s: remove one invitation "
                    "before merging.",
                    edition=invitation.ceremony.slug,
                ),
                field="other_id",
            )
    for policy in policies:
        if policy.ceremony_id in kept_policy_editions:
            raise ContactError(
                _l(
                    "Both organisations have an invitation policy for %(edition)s: remove "
                    "one before merging.",
                    edition=_edition_slug(session, policy.ceremony_id),
                ),
                field="other_id",
            )
    for invitation in invitations:
        invitation.organisation_id = keep.id
    for policy in policies:
        policy.organisation_id = keep.id
    moved: list[int] = []
    for appointment in list(duplicate.appointments):
        appointment.organisation = keep
        if any(
            _same_appointment(appointment, a) for a in keep.appointments if a is not appointment
        ):
            session.delete(appointment)
        else:
            moved.append(appointment.id)
    groups = [g for g in duplicate.groups if g not in keep.groups]
    keep.groups.extend(groups)
    filled = _fill_gaps(keep, duplicate, _ORGANISATION_FIELDS)
    keep.updated_at = utcnow()
    record(
        session,
        action="contacts.organisation.merge",
        object_type="organisation",
        object_id=keep.id,
        changes={
            "merged_organisation_id": duplicate.id,
            "merged_name": duplicate.name,
            "appointments_moved": moved,
            "groups_added": [g.id for g in groups],
            "invitations_moved": [i.id for i in invitations],
            "policies_moved": [p.id for p in policies],
            **filled,
        },
        actor_user_id=actor_user_id,
    )
    session.flush()
    duplicate.groups.clear()
    session.delete(duplicate)
    session.flush()
    return keep
