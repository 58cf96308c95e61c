"""Exports: CSV that no spreadsheet runs as a formula, and vCard 4.0 that parsers read back."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.auth.models import Role, User
from app.contacts.export import fold, safe_cell, to_csv, to_vcards, vcard
from app.contacts.importer import COLUMNS, import_contacts
from app.contacts.models import AppointmentRole, Gender
from app.contacts.services import PersonData, update_person
from app.extensions import db
from tests.contacts_data import appoint, fingerprint, person_named
from tests.test_contacts_import import GOOD_ROWS, csv_file

AWKWARD = 'Comma, semi; back\\slash "quoted"\nsecond line: Ёлка Қазақ 🌹'


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+31 70 123", "'+31 70 123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ivanov", "Ivanov"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_safe_cell(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def test_csv_export_is_formula_safe_and_keeps_every_script(app: Flask) -> None:
    appointment = appoint('=HYPERLINK("http://x")', "@Evil", given_name="-1", email="e@x.org")
    person = appointment.person
    update_person(
        db.session,
        person,
        PersonData(
            family_name="@Evil",
            given_name="-1",
            native_name="Асқар Жұмағалиев",
            phone="+31 70 123 4567",
            email="e@x.org",
        ),
        actor_user_id=None,
    )
    person.address_for_edit("en").style = "H.E."
    db.session.commit()
    (row,) = rows_of(to_csv(db.session))
    assert list(row) == list(COLUMNS)
    assert row["organisation"] == '\'=HYPERLINK("http://x")'
    assert row["family_name"] == "'@Evil"
    assert row["given_name"] == "'-1"
    assert row["phone"] == "'+31 70 123 4567"
    assert row["native_name"] == "Асқар Жұмағалиев"
    assert row["honorific"] == "H.E."
    assert row["role"] == "ambassador"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_an_exported_file_imports_back_without_changes(app: Flask) -> None:
    import_contacts(db.session, csv_file(*GOOD_ROWS), actor_user_id=None)
    db.session.commit()
    before = fingerprint()
    exported = to_csv(db.session).encode()
    result = import_contacts(db.session, exported, actor_user_id=None)
    db.session.commit()
    assert not result.changed, result.summary()
    assert fingerprint() == before


def test_csv_download(client: FlaskClient, login: Callable[[Role], User]) -> None:
    appoint("Embassy of Kazakhstan", "Zhumagaliyev", email="a@example.kz")
    db.session.commit()
    login(Role.VIEWER)
    response = client.get("/staff/contacts/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert rows_of(response.get_data(as_text=True))[0]["email"] == "a@example.kz"


# --- vCard --------------------------------------------------------------------------


def test_fold_never_splits_a_character() -> None:
    line = "NOTE:" + "Қ" * 100 + "🌹" * 30
    folded = fold(line)
    assert folded.endswith("\r\n")
    parts = folded[:-2].split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert parts[0] + "".join(p[1:] for p in parts[1:]) == line


@dataclass
class Prop:
    name: str
    params: dict[str, str]
    value: str  # as written (escaped)

    @property
    def text(self) -> str:
        return unescape(self.value)

    @property
    def fields(self) -> list[str]:
        return [unescape(f) for f in re.split(r"(?<!\\);", self.value)]


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse_vcards(text: str) -> list[dict[str, list[Prop]]]:
    """A strict reader of RFC 6350 (icalendar 7.3 does not unescape vCard properties):
    CRLF lines, unfolding, parameters, one card per BEGIN/END."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # no bare line feeds
    cards: list[dict[str, list[Prop]]] = []
    card: dict[str, list[Prop]] | None = None
    for line in text[:-2].replace("\r\n ", "").split("\r\n"):
        head, _, value = line.partition(":")
        name, *raw_params = head.split(";")
        params = dict(p.split("=", 1) for p in raw_params)
        if (name, value) == ("BEGIN", "VCARD"):
            assert card is None
            card = {}
        elif (name, value) == ("END", "VCARD"):
            assert card is not None
            cards.append(card)
            card = None
        else:
            assert card is not None, line
            card.setdefault(name, []).append(Prop(name, params, value))
    assert card is None
    return cards


def test_vcard_round_trip(app: Flask) -> None:
    appointment = appoint(
        "Embassy of Kazakhstan, The Hague", "Zhumagaliyev", given_name="Askar", email="a@example.kz"
    )
    person = appointment.person
    update_person(
        db.session,
        person,
        PersonData(
            family_name="Zhumagaliyev; Jr",
            given_name="Askar",
            native_name="Асқар Жұмағалиев",
            patronymic="Серікұлы",
            gender=Gender.MALE,
            email="a@example.kz",
            phone="+7 717 123 45 67",
            language="ru",
            relation=AWKWARD,
        ),
        actor_user_id=None,
    )
    person.address_for_edit("ru").style = "Его Превосходительство"
    appoint("Family Petrov", "Petrova", AppointmentRole.RELATIVE)
    db.session.commit()
    text = to_vcards(db.session)
    assert all(line.endswith("\r") for line in text.split("\n")[:-1])  # CRLF throughout
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))

    cards = parse_vcards(text)
    assert len(cards) == 2
    petrova, askar = cards
    assert [p.value for p in askar["VERSION"]] == ["4.0"]
    assert [(p.text, p.params) for p in askar["FN"]] == [
        ("Askar Zhumagaliyev; Jr", {"ALTID": "1"}),
        ("Асқар Жұмағалиев", {"ALTID": "1"}),
    ]
    assert askar["N"][0].fields == [
        "Zhumagaliyev; Jr",
        "Askar",
        "Серікұлы",
        "Его Превосходительство",
        "",
    ]
    assert askar["EMAIL"][0].text == "a@example.kz"
    assert askar["TEL"][0].text == "+7 717 123 45 67"
    assert askar["LANG"][0].text == "ru"
    assert askar["NOTE"][0].text == AWKWARD
    assert askar["ORG"][0].fields == ["Embassy of Kazakhstan, The Hague"]
    assert askar["ROLE"][0].text == "Посол"  # in the person's own language (ru)
    assert askar["UID"][0].value.startswith("urn:uuid:")
    assert askar["UID"][0].value != petrova["UID"][0].value
    assert petrova["FN"][0].text == "Petrova"
    # Same data, same bytes: the UID and REV come from the stored record.
    assert to_vcards(db.session) == text


def test_vcard_download_and_command(
    client: FlaskClient,
    login: Callable[[Role], User],
    runner: FlaskCliRunner,
    tmp_path: Path,
) -> None:
    appoint("Embassy of Kazakhstan", "Zhumagaliyev", email="a@example.kz")
    db.session.commit()
    login(Role.VIEWER)
    response = client.get("/staff/contacts/export.vcf")
    assert response.status_code == 200
    assert response.mimetype == "text/vcard"
    (card,) = parse_vcards(response.get_data(as_text=True))
    assert card["EMAIL"][0].text == "a@example.kz"

    out = tmp_path / "contacts.vcf"
    result = runner.invoke(args=["contacts", "export", "--format", "vcard", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().decode() == response.get_data(as_text=True)
    result = runner.invoke(args=["contacts", "export"])
    assert result.exit_code == 0
    assert rows_of(result.output)[0]["family_name"] == "Zhumagaliyev"
    assert person_named("Zhumagaliyev").email == "a@example.kz"


def test_structured_name_escapes_backslashes_and_commas(app: Flask) -> None:
    person = appoint("Embassy", "Semi;colon", given_name="Back\\slash, comma").person
    db.session.commit()
    (card,) = parse_vcards(vcard(person))
    assert card["N"][0].value.startswith("Semi\\;colon;Back\\\\slash\\, comma;")
    assert card["N"][0].fields == ["Semi;colon", "Back\\slash, comma", "", "", ""]
