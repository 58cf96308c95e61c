"""The CSV import: all or nothing, every bad row reported by line, idempotent."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.contacts.importer import (
    MAX_IMPORT_BYTES,
    ImportRefused,
    RowError,
    import_contacts,
)
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    ContactGroup,
    Organisation,
    OrganisationKind,
    Person,
)
from app.extensions import db
from tests.contacts_data import count, fingerprint, person_named

HEADER = (
    "organisation,kind,country,resident,honorific,given_name,family_name,native_name,role,"
    "taken_up_at,valid_from,valid_to,email,phone,language,group"
)
GOOD_ROWS = [
    "Embassy of Kazakhstan,embassy,KZ,yes,Его Превосходительство,Askar,Zhumagaliyev,"
    "Асқар Жұмағалиев,ambassador,2023-02-01T09:15,2023-02-01,,askar@example.kz,+31 70 123 4567,"
    'ru,"Diplomatic corps, former Soviet republics"',
    "Embassy of Uzbekistan,embassy,UZ,yes,H.E.,Dilshod,Akhatov,Дилшод Ахатов,ambassador,"
    '2023-02-01T10:00,,,,,en,"Diplomatic corps, former Soviet republics; Central Asia"',
    "Embassy of Armenia,embassy,AM,no,,Tigran,Balayan,,charge_ad_interim,2024-10-03,,,,,,",
    "Gemeente Leusden,municipality,NL,,Burgemeester,Gerolf,Bouwmeester,,mayor,,2020-01-01,,,"
    ",nl,Municipalities",
    "Embassy of Kazakhstan,embassy,KZ,,,Serik,Nurlanov,Серік Нұрланов,representative,,,,,,ru,",
    "Family Petrov,family,,,,,Petrova,Петрова,relative,,,,petrova@example.org,,ru,",
]


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def errors_of(data: bytes) -> list[RowError]:
    with pytest.raises(ImportRefused) as refused:
        import_contacts(db.session, data, actor_user_id=None)
    db.session.rollback()
    return refused.value.errors


# --- a good file --------------------------------------------------------------------


def test_a_good_file_is_imported(app: Flask) -> None:
    result = import_contacts(db.session, csv_file(*GOOD_ROWS), actor_user_id=None)
    db.session.commit()
    assert result.summary() == {
        "rows": 6,
        "organisations_created": 5,
        "organisations_updated": 0,
        "persons_created": 6,
        "persons_updated": 0,
        "appointments_created": 6,
        "appointments_updated": 0,
        "groups_created": 3,
        "memberships_added": 4,
    }
    askar = person_named("Zhumagaliyev")
    assert askar.native_name == "Асқар Жұмағалиев"  # Kazakh letters survive
    assert askar.style_override("ru") == "Его Превосходительство"
    assert (askar.language, askar.email, askar.phone) == (
        "ru",
        "askar@example.kz",
        "+31 70 123 4567",
    )
    (appointment,) = askar.appointments
    assert appointment.role == AppointmentRole.AMBASSADOR
    assert appointment.taken_up_at == datetime(2023, 2, 1, 8, 15, tzinfo=UTC)
    assert appointment.valid_from == date(2023, 2, 1)
    kazakhstan = appointment.organisation
    assert (kazakhstan.kind, kazakhstan.country, kazakhstan.resident) == (
        OrganisationKind.EMBASSY,
        "KZ",
        True,
    )
    assert len(kazakhstan.appointments) == 2
    armenia = db.session.scalar(sa.select(Organisation).where(Organisation.country == "AM"))
    assert armenia is not None
    assert armenia.resident is False
    corps = db.session.scalar(
        sa.select(ContactGroup).where(
            ContactGroup.name == "Diplomatic corps, former Soviet republics"
        )
    )
    assert corps is not None
    assert sorted(o.country for o in corps.organisations) == ["KZ", "UZ"]
    assert person_named("Bouwmeester").style_override("nl") == "Burgemeester"
    # One audit entry says what the import did.
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    assert [e.action for e in entries if e.action == "contacts.import"] == ["contacts.import"]


def test_re_importing_the_same_file_changes_nothing(app: Flask) -> None:
    data = csv_file(*GOOD_ROWS)
    import_contacts(db.session, data, actor_user_id=None)
    db.session.commit()
    before = fingerprint()
    result = import_contacts(db.session, data, actor_user_id=None)
    db.session.commit()
    assert not result.changed, result.summary()
    assert fingerprint() == before  # not a row, not an updated_at, not an audit entry


def test_a_changed_file_updates_only_what_changed(app: Flask) -> None:
    import_contacts(db.session, csv_file(*GOOD_ROWS), actor_user_id=None)
    db.session.commit()
    stamps = {p.family_name: p.updated_at for p in db.session.scalars(sa.select(Person))}
    changed = [GOOD_ROWS[0].replace("+31 70 123 4567", "+31 70 765 4321"), *GOOD_ROWS[1:]]
    result = import_contacts(db.session, csv_file(*changed), actor_user_id=None)
    db.session.commit()
    assert result.summary()["persons_updated"] == 1
    assert result.summary()["persons_created"] == 0
    after = {p.family_name: p.updated_at for p in db.session.scalars(sa.select(Person))}
    assert [name for name in after if after[name] != stamps[name]] == ["Zhumagaliyev"]
    assert person_named("Zhumagaliyev").phone == "+31 70 765 4321"


def test_people_are_matched_by_email_or_by_name_and_organisation(app: Flask) -> None:
    import_contacts(db.session, csv_file(*GOOD_ROWS), actor_user_id=None)
    db.session.commit()
    rows = [
        # Same email, name now spelled differently: the same person, renamed.
        "Embassy of Kazakhstan,embassy,KZ,,,Askar,Jumagaliyev,,ambassador,,2023-02-01,,"
        "ASKAR@example.kz,,,",
        # No email, same name and organisation (letter case aside): the same person.
        "embassy of armenia,embassy,,,,Tigran,Balayan,,charge_ad_interim,,,,tigran@example.am,,,",
    ]
    result = import_contacts(db.session, csv_file(*rows), actor_user_id=None)
    db.session.commit()
    assert result.summary()["persons_created"] == 0
    assert result.summary()["appointments_created"] == 0
    assert result.summary()["organisations_created"] == 0
    assert count(Person) == 6
    assert person_named("Jumagaliyev").email == "askar@example.kz"
    assert person_named("Balayan").email == "tigran@example.am"


# --- hostile files ------------------------------------------------------------------

HOSTILE = [
    # line 2: a good row (nothing of it may be saved)
    "Embassy of Georgia,embassy,GE,yes,H.E.,Nino,Beridze,,ambassador,2022-05-04,,,,,en,",
    # line 3: formula cells
    '"=HYPERLINK(""http://evil.example"",""click"")",embassy,,,,,Evil,,,,,,,,,',
    # line 4: @ formula in the family name
    "Embassy of Nowhere,embassy,,,,,@SUM(A1:A9),,,,,,,,,",
    # line 5: a bidi override in the name
    "Embassy of Latvia,embassy,LV,,,Anna,Ber\u202ezina,,,,,,,,,",
    # line 6: a 10,000-character name
    "Embassy of Lithuania,embassy,LT,,,," + "A" * 10_000 + ",,,,,,,,,",
    # line 7: 30 February
    "Embassy of Estonia,embassy,EE,,,Kaja,Tamm,,ambassador,2025-02-30,,,,,,",
    # line 8: a time the clocks skip in Amsterdam
    "Embassy of Moldova,embassy,MD,,,Ion,Ceban,,ambassador,2026-03-29T02:30,,,,,,",
    # line 9: not a date at all, and an end before the start
    "Embassy of Belarus,embassy,BY,,,Olga,Ivanova,,envoy,soon,2025-05-01,2025-04-01,,,,",
    # line 10: unknown kind, role, country, language; bad email and phone; bad resident
    "Embassy of Atlantis,castle,XX,maybe,,Neptune,Sea,,king,,,,not-an-email,call me,de,",
    # line 11: too few cells
    "Embassy of Ukraine,embassy,UA",
    # line 12: missing the required family name and organisation
    ",embassy,,,,Nobody,,,,,,,,,,",
    # line 13: a control character (the cell spans two lines: quoted newline)
    '"Embassy of\nTurkmenistan",embassy,TM,,,,Berdiyev,,,,,,,,,',
    # line 15: another good row after the two-line record
    "Embassy of Tajikistan,embassy,TJ,,,,Rahmonov,,ambassador,2021-03-03,,,,,,",
]


def test_a_file_with_hostile_rows_imports_nothing_and_names_every_bad_row(app: Flask) -> None:
    before = fingerprint()
    errors = errors_of(csv_file(*HOSTILE))
    assert fingerprint() == before
    report = "\n".join(str(e) for e in errors)
    bad_lines = sorted({e.line for e in errors})
    assert bad_lines == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], report
    assert re.search(r"line 3: organisation: starts like a spreadsheet formula", report)
    assert re.search(r"line 4: family_name: starts like a spreadsheet formula", report)
    assert re.search(r"line 5: family_name: remove control or text-direction", report)
    assert re.search(r"line 6: family_name: 10000 characters, at most 200", report)
    assert re.search(r"line 7: taken_up_at: 2025-02-30 is not an ISO 8601", report)
    assert re.search(r"line 8: taken_up_at: 02:30 does not exist on 2026-03-29", report)
    assert re.search(r"line 9: taken_up_at: soon is not", report)
    assert re.search(r"line 9: valid_to: before valid_from", report)
    for column in ("kind", "country", "resident", "role", "email", "phone", "language"):
        assert re.search(rf"line 10: {column}: ", report), column
    assert re.search(r"line 11: 3 cells where the header has 16", report)
    assert re.search(r"line 12: organisation: required", report)
    assert re.search(r"line 12: family_name: required", report)
    assert re.search(r"line 13: organisation: remove control", report)


def test_the_web_import_reports_every_bad_row_and_saves_nothing(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.PLANNER)
    client.get("/staff/contacts/?lang=en")
    before = fingerprint()
    response = client.post(
        "/staff/contacts/import",
        data={"file": (io.BytesIO(csv_file(*HOSTILE)), "contacts.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported: " in page
    for line in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13):
        assert f"line {line}: " in page, line
    assert "\u202e" not in page  # the report never echoes a bidi override
    assert "<li>line 3: organisation: starts like a spreadsheet formula" in page
    assert fingerprint() == before


def test_the_web_import_saves_a_good_file(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    user = login(Role.PLANNER)
    response = client.post(
        "/staff/contacts/import",
        data={"file": (io.BytesIO(csv_file(*GOOD_ROWS)), "contacts.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(Person) == 6
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "contacts.import"))
    assert entry is not None
    assert entry.actor_user_id == user.id
    assert entry.changes["persons_created"] == 6


def test_the_web_import_refuses_a_missing_or_oversized_file(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.PLANNER)
    client.get("/staff/contacts/?lang=en")
    before = fingerprint()
    response = client.post("/staff/contacts/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a file." in response.get_data(as_text=True)
    big = csv_file(*GOOD_ROWS) + b"#" * (MAX_IMPORT_BYTES + 10)
    # Encoded here: the test client would spool a body this large to a file it never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(big), filename="big.csv", content_type="text/csv")}
    )
    response = client.post(
        "/staff/contacts/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert "larger than 2 MB" in response.get_data(as_text=True)
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "line 1: the file is empty"),
        (b"organisation,kind\r\n", "line 1: header: missing column(s): family_name"),
        (
            (HEADER + ",colour\r\n").encode(),
            "line 1: header: unknown column(s): colour",
        ),
        (
            (HEADER + ",kind\r\n").encode(),
            "line 1: header: column(s) given twice: kind",
        ),
        (
            csv_file(GOOD_ROWS[0]) + "Embassy,embassy,,,,,Caf\xe9,,,,,,,,,\r\n".encode("latin-1"),
            "line 3: the file is not UTF-8",
        ),
        (
            csv_file('"unterminated,embassy,,,,,X,,,,,,,,,'),
            "unreadable CSV",
        ),
        (
            csv_file(
                "Embassy of Peru,embassy,PE,,,,Quispe,,ambassador,,,,,,,",
                "Embassy of Peru,consulate,PE,,,,Mamani,,consul,,,,,,,",
            ),
            "line 3: kind of Embassy of Peru differs from line 2",
        ),
        (
            csv_file(
                "Embassy of Peru,embassy,PE,,,Ana,Quispe,,ambassador,2020-01-01,,,,,,",
                "Embassy of Peru,embassy,PE,,,Ana,Quispe,,ambassador,2021-01-01,,,,,,",
            ),
            "line 3: taken_up_at of ambassador differs from line 2",
        ),
    ],
)
def test_broken_files_are_refused_with_the_line(app: Flask, data: bytes, expected: str) -> None:
    before = fingerprint()
    errors = errors_of(data)
    assert any(expected in str(e) for e in errors), [str(e) for e in errors]
    assert fingerprint() == before


def test_the_exports_own_quoting_is_taken_back(app: Flask) -> None:
    row = "Embassy of Peru,embassy,PE,,,,Quispe,,ambassador,,,,,'+51 1 234 5678,,"
    import_contacts(db.session, csv_file(row), actor_user_id=None)
    db.session.commit()
    assert person_named("Quispe").phone == "+51 1 234 5678"
    # ...but a quoted formula is still a formula.
    errors = errors_of(csv_file("'=1+1,embassy,,,,,X,,,,,,,,,"))
    assert [str(e) for e in errors] == [
        "line 2: organisation: starts like a spreadsheet formula (= + - @)."
    ]


def test_text_is_stored_nfc(app: Flask) -> None:
    decomposed = "Embassy of Kazakhstan,embassy,KZ,,,,Ko\u0308nig,Қ\u0306,,,,,,,,"
    import_contacts(db.session, csv_file(decomposed), actor_user_id=None)
    db.session.commit()
    assert count(Person) == 1
    person = db.session.scalars(sa.select(Person)).one()
    assert person.family_name == "K\u00f6nig"


# --- the command --------------------------------------------------------------------


def test_import_command(runner: FlaskCliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file(*GOOD_ROWS))
    result = runner.invoke(args=["contacts", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "6 row(s): 5 organisation(s) created" in result.output
    again = runner.invoke(args=["contacts", "import", str(good)])
    assert again.exit_code == 0
    assert "0 organisation(s) created, 0 updated; 0 person(s) created, 0 updated" in again.output

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file(*HOSTILE))
    before = fingerprint()
    result = runner.invoke(args=["contacts", "import", str(bad)])
    assert result.exit_code == 1
    assert "nothing imported: " in result.output
    assert "line 6: family_name: 10000 characters" in result.output
    assert fingerprint() == before
    assert count(Appointment) == 6


def test_import_refuses_moments_outside_the_years(tmp_path: Path, runner: FlaskCliRunner) -> None:
    """Year 1 in Amsterdam lies before year 1 in UTC: a clear bad row, not a crash."""
    path = tmp_path / "old.csv"
    path.write_text(
        "organisation,kind,country,resident,honorific,given_name,family_name,native_name,role,"
        "taken_up_at,valid_from,valid_to,email,phone,language,group\n"
        "Embassy of Oldland,embassy,KZ,yes,,Ivan,Old,,ambassador,0001-01-01T00:00,,,,,en,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["contacts", "import", str(path)])
    assert result.exit_code != 0
    assert "line 2" in result.output
    assert "outside the years 1900 to 2200" in result.output
