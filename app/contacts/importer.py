"""Importing contacts from CSV: all or nothing, idempotent.

Every row is checked first; a file with any bad row imports nothing and the report names
every bad row by its line number. Only then are organisations (matched by name), people
(by email, else by family name, given name and organisation), appointments (by person,
organisation, role and start) and groups created or brought up to date. An empty cell
leaves the stored value alone, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.audit.services import record
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    ContactGroup,
    Organisation,
    OrganisationKind,
    Person,
)
from app.contacts.services import (
    _FORBIDDEN,
    LANGUAGES,
    ContactError,
    check_email,
    check_phone,
    is_country,
    local_date,
    local_moment,
)
from app.extensions import DbSession
from app.types import utcnow

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
COLUMNS = (
    "organisation",
    "kind",
    "country",
    "resident",
    "honorific",
    "given_name",
    "family_name",
    "native_name",
    "role",
    "taken_up_at",
    "valid_from",
    "valid_to",
    "email",
    "phone",
    "language",
    "group",
)
REQUIRED = ("organisation", "kind", "family_name")
# The models' column lengths: a longer value is a bad row, never silently cut.
MAX_LENGTH = {
    "organisation": 300,
    "honorific": 200,
    "given_name": 200,
    "family_name": 200,
    "native_name": 300,
    "email": 254,
    "phone": 50,
    "group": 200,
}
YES = frozenset({"yes", "y", "true", "1", "ja", "j", "да"})
NO = frozenset({"no", "n", "false", "0", "nee", "нет"})
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@")
GROUP_SEPARATOR = ";"


@dataclass(frozen=True)
class RowError:
    """Why one line of the file was refused."""

    line: int
    message: str

    def __str__(self) -> str:
        return str(_l("line %(line)d: %(message)s", line=self.line, message=self.message))


class ImportRefused(Exception):
    """The file was not imported; ``errors`` lists every bad row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


@dataclass
class Row:
    """One checked line of the file."""

    line: int
    organisation: str
    kind: OrganisationKind
    country: str
    resident: bool | None
    honorific: str
    given_name: str
    family_name: str
    native_name: str
    role: AppointmentRole
    taken_up_at: datetime | None
    valid_from: date | None
    valid_to: date | None
    email: str
    phone: str
    language: str
    groups: list[str]


@dataclass
class ImportResult:
    """What an import changed (all zero when the file was imported before)."""

    rows: int = 0
    organisations_created: list[int] = field(default_factory=list)
    organisations_updated: list[int] = field(default_factory=list)
    persons_created: list[int] = field(default_factory=list)
    persons_updated: list[int] = field(default_factory=list)
    appointments_created: list[int] = field(default_factory=list)
    appointments_updated: list[int] = field(default_factory=list)
    groups_created: list[int] = field(default_factory=list)
    memberships_added: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.organisations_created,
                self.organisations_updated,
                self.persons_created,
                self.persons_updated,
                self.appointments_created,
                self.appointments_updated,
                self.groups_created,
                self.memberships_added,
            )
        )

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "organisations_created": len(self.organisations_created),
            "organisations_updated": len(self.organisations_updated),
            "persons_created": len(self.persons_created),
            "persons_updated": len(self.persons_updated),
            "appointments_created": len(self.appointments_created),
            "appointments_updated": len(self.appointments_updated),
            "groups_created": len(self.groups_created),
            "memberships_added": self.memberships_added,
        }


def import_contacts(
    session: DbSession, data: bytes, *, actor_user_id: int | None, actor_label: str = ""
) -> ImportResult:
    """Check the whole file, then apply it; raises ImportRefused (nothing changed).

    The audit log gets one entry when something changed, none for a repeated import.
    """
    rows = parse(data)
    result = _apply(session, rows)
    if result.changed:
        record(
            session,
            action="contacts.import",
            object_type="organisation",
            object_id=None,
            changes={
                **result.summary(),
                "organisation_ids": result.organisations_created + result.organisations_updated,
                "person_ids": result.persons_created + result.persons_updated,
            },
            actor_user_id=actor_user_id,
            actor_label=actor_label,
        )
    session.flush()
    return result


# --- reading and checking -----------------------------------------------------------


def parse(data: bytes) -> list[Row]:
    """Every row of the file, checked; ImportRefused lists every bad one."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(
            [
                RowError(
                    0,
                    str(
                        _l(
                            "the file is larger than %(size)d MB.",
                            size=MAX_IMPORT_BYTES // (1024 * 1024),
                        )
                    ),
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused([RowError(line, str(_l("the file is not UTF-8 text.")))]) from error

    errors: list[RowError] = []
    records = _records(text, errors)
    header: list[str] | None = None
    rows: list[Row] = []
    for line, cells in records:
        if header is None:
            header = _header(line, cells, errors)
            if header is None:
                break
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(RowError(line, str(_l("more than %(n)d rows.", n=MAX_ROWS))))
            break
        if len(cells) != len(header):
            errors.append(
                RowError(
                    line,
                    str(
                        _l(
                            "%(found)d cells where the header has %(expected)d.",
                            found=len(cells),
                            expected=len(header),
                        )
                    ),
                )
            )
            continue
        row = _row(line, dict(zip(header, cells, strict=True)), errors)
        if row is not None:
            rows.append(row)
    if header is None and not errors:
        errors.append(RowError(1, str(_l("the file is empty: it needs a header row."))))
    if not errors:
        _check_consistency(rows, errors)
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.line))
    return rows


def _records(text: str, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of every non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The reader cannot find the next record reliably after this: stop here.
            errors.append(RowError(reader.line_num, str(_l("unreadable CSV (%(e)s).", e=error))))
            return
        start, last = last + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def _header(line: int, cells: list[str], errors: list[RowError]) -> list[str] | None:
    names = [unicodedata.normalize("NFC", c).strip().lower() for c in cells]
    problems = []
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        problems.append(
            str(
                _l(
                    "unknown column(s): %(names)s.",
                    # Echoed back to the page and the terminal: never a bidi override.
                    names=", ".join(_FORBIDDEN.sub("", n)[:40] for n in unknown),
                )
            )
        )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        problems.append(str(_l("missing column(s): %(names)s.", names=", ".join(missing))))
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        problems.append(str(_l("column(s) given twice: %(names)s.", names=", ".join(doubled))))
    for problem in problems:
        errors.append(RowError(line, str(_l("header: %(problem)s", problem=problem))))
    return None if problems else names


def _cell(column: str, raw: str) -> str:
    """A cell cleaned like a form field; refuses what a form would refuse."""
    # Our own CSV export writes '+31... for +31...: take that back.
    if len(raw) > 1 and raw[0] == "'" and raw[1] in FORMULA_START:
        raw = raw[1:]
    value = unicodedata.normalize("NFC", raw).strip()
    if _FORBIDDEN.search(value):
        raise ContactError(_l("remove control or text-direction characters."))
    limit = MAX_LENGTH.get(column)
    if limit is not None and len(value) > limit:
        raise ContactError(
            _l("%(n)d characters, at most %(max)d allowed.", n=len(value), max=limit)
        )
    allowed_plus = column == "phone" and value.startswith("+")
    if value.startswith(FORMULA_START) and not allowed_plus:
        raise ContactError(_l("starts like a spreadsheet formula (= + - @)."))
    return value


def _row(line: int, raw: dict[str, str], errors: list[RowError]) -> Row | None:
    values: dict[str, str] = {}
    bad = False

    def refuse(column: str, message: object) -> None:
        nonlocal bad
        bad = True
        errors.append(RowError(line, f"{column}: {message}"))

    unreadable: set[str] = set()
    for column in COLUMNS:
        try:
            values[column] = _cell(column, raw.get(column, ""))
        except ContactError as error:
            refuse(column, error.message)
            unreadable.add(column)
            values[column] = ""
    for column in REQUIRED:
        if not values[column] and column not in unreadable:
            refuse(column, _l("required."))

    kind: OrganisationKind | None = None
    kind_text = values["kind"].lower().replace(" ", "_")
    if kind_text:
        try:
            kind = OrganisationKind(kind_text)
        except ValueError:
            refuse("kind", _l("unknown kind %(value)s.", value=values["kind"][:40]))

    country = values["country"].upper()
    if country and not is_country(country):
        refuse("country", _l("not an ISO 3166 country code."))

    resident: bool | None = None
    if values["resident"]:
        answer = values["resident"].lower()
        if answer in YES or answer in NO:
            resident = answer in YES
        else:
            refuse("resident", _l("answer yes or no."))

    role = AppointmentRole.OTHER
    if values["role"]:
        try:
            role = AppointmentRole(values["role"].lower().replace(" ", "_"))
        except ValueError:
            refuse("role", _l("unknown role %(value)s.", value=values["role"][:40]))

    taken_up_at: datetime | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    for column in ("taken_up_at", "valid_from", "valid_to"):
        if not values[column]:
            continue
        try:
            if column == "taken_up_at":
                taken_up_at = local_moment(values[column])
            elif column == "valid_from":
                valid_from = local_date(values[column])
            else:
                valid_to = local_date(values[column])
        except ContactError as error:
            refuse(column, error.message)
    if valid_from and valid_to and valid_to < valid_from:
        refuse("valid_to", _l("before valid_from."))

    for column, check in (("email", check_email), ("phone", check_phone)):
        try:
            check(values[column])
        except ContactError as error:
            refuse(column, error.message)

    language = values["language"].lower()
    if language and language not in LANGUAGES:
        refuse("language", _l("use nl, en or ru."))

    groups = [g.strip() for g in values["group"].split(GROUP_SEPARATOR) if g.strip()]

    if bad or kind is None:
        return None
    return Row(
        line=line,
        organisation=values["organisation"],
        kind=kind,
        country=country,
        resident=resident,
        honorific=values["honorific"],
        given_name=values["given_name"],
        family_name=values["family_name"],
        native_name=values["native_name"],
        role=role,
        taken_up_at=taken_up_at,
        valid_from=valid_from,
        valid_to=valid_to,
        email=values["email"],
        phone=values["phone"],
        language=language,
        groups=groups,
    )


# --- rows that describe one thing ---------------------------------------------------


def _fold(text: str) -> str:
    return text.casefold()


def _person_keys(row: Row) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    if row.email:
        keys.append(("email", _fold(row.email)))
    keys.append(("name", _fold(row.family_name), _fold(row.given_name), _fold(row.organisation)))
    return keys


@dataclass
class _Seen:
    """The values one thing was given, and the line that gave each."""

    values: dict[str, tuple[object, int]] = field(default_factory=dict)

    def agree(self, row: Row, names: tuple[str, ...], what: str, errors: list[RowError]) -> None:
        for name in names:
            value = getattr(row, name)
            if value in ("", None):
                continue
            seen = self.values.get(name)
            if seen is None:
                self.values[name] = (value, row.line)
            elif seen[0] != value:
                errors.append(
                    RowError(
                        row.line,
                        str(
                            _l(
                                "%(column)s of %(what)s differs from line %(line)d.",
                                column=name,
                                what=what,
                                line=seen[1],
                            )
                        ),
                    )
                )


_ORG_COLUMNS = ("kind", "country", "resident")
_PERSON_COLUMNS = ("given_name", "family_name", "native_name", "email", "phone", "language")


def _check_consistency(rows: list[Row], errors: list[RowError]) -> None:
    """Two rows about one organisation, person or appointment must not contradict."""
    organisations: dict[str, _Seen] = {}
    persons: dict[tuple[str, ...], _Seen] = {}
    others: dict[tuple[object, ...], _Seen] = {}
    for row in rows:
        org = organisations.setdefault(_fold(row.organisation), _Seen())
        org.agree(row, _ORG_COLUMNS, row.organisation, errors)
        keys = _person_keys(row)
        person = next((persons[k] for k in keys if k in persons), None) or _Seen()
        for key in keys:
            persons.setdefault(key, person)
        name = f"{row.given_name} {row.family_name}".strip()
        person.agree(row, _PERSON_COLUMNS, name, errors)
        # One honorific per person and language.
        honorific = others.setdefault(("honorific", id(person), row.language), _Seen())
        honorific.agree(row, ("honorific",), name, errors)
        appointment = others.setdefault(
            ("appointment", id(person), _fold(row.organisation), row.role, row.valid_from),
            _Seen(),
        )
        appointment.agree(row, ("taken_up_at", "valid_to"), row.role.value, errors)


# --- applying -----------------------------------------------------------------------


class _Index:
    """What is stored, loaded once and kept up to date as the import adds to it."""

    def __init__(self, session: DbSession) -> None:
        self.organisations = {
            _fold(o.name): o
            for o in session.scalars(
                sa.select(Organisation).options(selectinload(Organisation.groups))
            )
        }
        self.groups = {
            _fold(g.name): g
            for g in session.scalars(
                sa.select(ContactGroup).options(selectinload(ContactGroup.organisations))
            )
        }
        self.by_email: dict[str, Person] = {}
        self.by_name: dict[tuple[str, str, str], Person] = {}
        persons = session.scalars(
            sa.select(Person)
            .options(selectinload(Person.appointments).selectinload(Appointment.organisation))
            .order_by(Person.id)
        )
        for person in persons:
            self.add_person(person)

    def add_person(self, person: Person) -> None:
        if person.email:
            self.by_email.setdefault(_fold(person.email), person)
        for appointment in person.appointments:
            self.add_name(person, appointment.organisation)

    def add_name(self, person: Person, organisation: Organisation) -> None:
        key = (_fold(person.family_name), _fold(person.given_name), _fold(organisation.name))
        self.by_name.setdefault(key, person)

    def find_person(self, row: Row) -> Person | None:
        if row.email and _fold(row.email) in self.by_email:
            return self.by_email[_fold(row.email)]
        key = (_fold(row.family_name), _fold(row.given_name), _fold(row.organisation))
        return self.by_name.get(key)


def _set(obj: object, name: str, value: object) -> bool:
    if value in ("", None) or getattr(obj, name) == value:
        return False
    setattr(obj, name, value)
    return True


def _apply(session: DbSession, rows: list[Row]) -> ImportResult:
    result = ImportResult(rows=len(rows))
    index = _Index(session)
    now = utcnow()
    # New objects, in order; their ids exist only after the flush.
    new_orgs: list[Organisation] = []
    new_persons: list[Person] = []
    new_groups: list[ContactGroup] = []
    new_appointments: list[Appointment] = []
    created: set[int] = set()  # id() of every object made by this import
    changed_appointments: set[int] = set()

    for row in rows:
        organisation = index.organisations.get(_fold(row.organisation))
        if organisation is None:
            organisation = Organisation(
                name=row.organisation,
                kind=row.kind,
                country=row.country,
                resident=True if row.resident is None else row.resident,
                created_at=now,
                updated_at=now,
            )
            session.add(organisation)
            index.organisations[_fold(row.organisation)] = organisation
            new_orgs.append(organisation)
            created.add(id(organisation))
        elif id(organisation) not in created:
            changed = [
                _set(organisation, "kind", row.kind),
                _set(organisation, "country", row.country),
                _set(organisation, "resident", row.resident),
            ]
            if any(changed):
                organisation.updated_at = now
                if organisation.id not in result.organisations_updated:
                    result.organisations_updated.append(organisation.id)

        for name in row.groups:
            group = index.groups.get(_fold(name))
            if group is None:
                group = ContactGroup(name=name, organisations=[])
                session.add(group)
                index.groups[_fold(name)] = group
                new_groups.append(group)
            if organisation not in group.organisations:
                group.organisations.append(organisation)
                result.memberships_added += 1

        person = index.find_person(row)
        if person is None:
            person = Person(
                family_name=row.family_name,
                given_name=row.given_name,
                native_name=row.native_name,
                email=row.email,
                phone=row.phone,
                language=row.language or "en",
                created_at=now,
                updated_at=now,
                appointments=[],
            )
            if row.honorific:
                person.address_for_edit(person.language).style = row.honorific
            session.add(person)
            new_persons.append(person)
            created.add(id(person))
            index.add_person(person)
        else:
            lang = row.language or person.language or "en"
            changed = [
                _set(person, "family_name", row.family_name),
                _set(person, "given_name", row.given_name),
                _set(person, "native_name", row.native_name),
                _set(person, "phone", row.phone),
                _set(person, "language", row.language),
                bool(row.honorific)
                and person.style_override(lang) != row.honorific
                and _set(person.address_for_edit(lang), "style", row.honorific),
                bool(row.email)
                and _fold(person.email) != _fold(row.email)
                and _set(person, "email", row.email),
            ]
            if any(changed):
                person.updated_at = now
                if id(person) not in created and person.id not in result.persons_updated:
                    result.persons_updated.append(person.id)
            if row.email:
                index.by_email.setdefault(_fold(row.email), person)

        appointment = next(
            (
                a
                for a in person.appointments
                if a.organisation is organisation
                and a.role == row.role
                and a.valid_from == row.valid_from
            ),
            None,
        )
        if appointment is None:
            appointment = Appointment(
                organisation=organisation,
                role=row.role,
                taken_up_at=row.taken_up_at,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
            )
            person.appointments.append(appointment)
            new_appointments.append(appointment)
            created.add(id(appointment))
            index.add_name(person, organisation)
        elif id(appointment) not in created:
            changed = [
                _set(appointment, "taken_up_at", row.taken_up_at),
                _set(appointment, "valid_to", row.valid_to),
            ]
            if any(changed):
                changed_appointments.add(appointment.id)

    session.flush()
    result.organisations_created = [o.id for o in new_orgs]
    result.persons_created = [p.id for p in new_persons]
    result.groups_created = [g.id for g in new_groups]
    result.appointments_created = [a.id for a in new_appointments]
    result.appointments_updated = sorted(changed_appointments)
    return result
