"""Contacts out: CSV in the import's columns (safe to open in a spreadsheet) and vCard 4.0.

Each output escapes for its own sink: a CSV cell that a spreadsheet would run as a
formula gets a leading apostrophe; vCard text follows RFC 6350 (escaped ``\\ , ;``,
newlines as ``\\n``, lines folded at 75 octets without splitting a character, CRLF).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from datetime import UTC, date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.contacts.importer import COLUMNS
from app.contacts.models import Appointment, Organisation, Person
from app.contacts.services import ZONE, role_label
from app.extensions import DbSession
from app.i18n import force_locale
from app.types import local_today

# Cells a spreadsheet would evaluate (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A fixed namespace: a person's vCard UID stays the same in every export.
VCARD_NAMESPACE = uuid.UUID("6f1d7c8e-3b0a-4f7e-9a57-0c2f3c1e5a10")


def safe_cell(value: str) -> str:
    """The cell as a spreadsheet shows it, never as a formula it runs."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _taken_up(appointment: Appointment) -> str:
    if appointment.taken_up_at is None:
        return ""
    return appointment.taken_up_at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def csv_rows(session: DbSession) -> list[list[str]]:
    """One row per appointment, then people and organisations that have none."""
    organisations = list(
        session.scalars(
            sa.select(Organisation)
            .options(
                selectinload(Organisation.groups),
                selectinload(Organisation.appointments).selectinload(Appointment.person),
            )
            .order_by(Organisation.name)
        )
    )
    rows: list[list[str]] = []

    def row(org: Organisation | None, person: Person | None, a: Appointment | None) -> None:
        values = {
            "organisation": org.name if org else "",
            "kind": org.kind.value if org else "",
            "country": org.country if org else "",
            "resident": ("yes" if org.resident else "no") if org else "",
            "honorific": person.style_override(person.language) if person else "",
            "given_name": person.given_name if person else "",
            "family_name": person.family_name if person else "",
            "native_name": person.native_name if person else "",
            "role": a.role.value if a else "",
            "taken_up_at": _taken_up(a) if a else "",
            "valid_from": _day(a.valid_from) if a else "",
            "valid_to": _day(a.valid_to) if a else "",
            "email": person.email if person else "",
            "phone": person.phone if person else "",
            "language": person.language if person else "",
            "group": "; ".join(sorted(g.name for g in org.groups)) if org else "",
        }
        rows.append([values[c] for c in COLUMNS])

    for org in organisations:
        appointments = sorted(
            org.appointments,
            key=lambda a: (a.person.family_name, a.person.given_name, a.role.value, a.id),
        )
        for appointment in appointments:
            row(org, appointment.person, appointment)
        if not appointments:
            row(org, None, None)
    loners = session.scalars(
        sa.select(Person)
        .where(~Person.appointments.any())
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    for person in loners:
        row(None, person, None)
    return rows


def to_csv(session: DbSession) -> str:
    """The CSV file: a BOM (so that Excel reads UTF-8), the header, formula-safe cells."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for cells in csv_rows(session):
        writer.writerow([safe_cell(c) for c in cells])
    return "\ufeff" + buffer.getvalue()


# --- vCard --------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """An RFC 6350 TEXT value."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out) + "\r\n"


def _property(name: str, value: str, **params: str) -> str:
    rendered = "".join(f";{key}={val}" for key, val in params.items())
    return fold(f"{name}{rendered}:{value}")


def vcard(person: Person, on: date | None = None) -> str:
    """One person as a vCard 4.0, with the organisations of today's appointments."""
    on = on or local_today()
    lines = ["BEGIN:VCARD\r\n", "VERSION:4.0\r\n"]
    uid = uuid.uuid5(VCARD_NAMESPACE, f"person:{person.id}")
    lines.append(_property("UID", f"urn:uuid:{uid}"))
    latin = escape_text(person.full_name or person.family_name)
    if person.native_name:
        # Two representations of one name (RFC 6350 ALTID): Latin script and native.
        lines.append(_property("FN", latin, ALTID="1"))
        lines.append(_property("FN", escape_text(person.native_name), ALTID="1"))
    else:
        lines.append(_property("FN", latin))
    # The prefix of a name in the nominative: only a style staff gave (the defaults of
    # a Russian address block are in the dative).
    honorific = person.style_override(person.language)
    components = [
        person.family_name,
        person.given_name,
        person.patronymic,
        honorific,
        "",
    ]
    lines.append(_property("N", ";".join(escape_text(c) for c in components)))
    if person.email:
        lines.append(_property("EMAIL", escape_text(person.email)))
    if person.phone:
        lines.append(_property("TEL", escape_text(person.phone), VALUE="text"))
    lines.append(_property("LANG", person.language))
    for appointment in sorted(person.appointments, key=lambda a: a.id):
        if not appointment.valid_on(on):
            continue
        lines.append(_property("ORG", escape_text(appointment.organisation.name)))
        # In the person's own language, whoever downloads the card: the same card
        # from the web and from the command line.
        with force_locale(person.language if person.language in ("nl", "en", "ru") else "en"):
            lines.append(_property("ROLE", escape_text(role_label(appointment.role))))
    if person.relation:
        lines.append(_property("NOTE", escape_text(person.relation)))
    revised = person.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines.append(_property("REV", revised))
    lines.append("END:VCARD\r\n")
    return "".join(lines)


def to_vcards(session: DbSession, persons: Iterable[Person] | None = None) -> str:
    """Every person (or those given) as one .vcf file."""
    if persons is None:
        persons = session.scalars(
            sa.select(Person)
            .options(selectinload(Person.appointments).selectinload(Appointment.organisation))
            .order_by(Person.family_name, Person.given_name, Person.id)
        )
    today = local_today()
    return "".join(vcard(person, today) for person in persons)
