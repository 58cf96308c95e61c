"""PDFs as a printer, a screen reader and a phone read them: each letter's own metadata,
font names in the printer's PDF, QR codes at 150 dpi, long links on the page, lists that
keep a heading with its rows, and place cards and badges at scale."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from flask import Flask

from app.ceremonies.models import Ceremony
from app.contacts.models import Organisation, OrganisationKind, Person
from app.documents.letters import Letter, render_letters
from app.extensions import db
from app.invitations.models import Invitation
from tests import pdf_tools

LANGS = ("nl", "en", "ru")
TITLES = {
    "nl": "Uitnodiging: ",
    "en": "Invitation: ",
    "ru": "Приглашение: ",
}


def make_invitations(ceremony: Ceremony, count: int) -> list[Invitation]:
    """``count`` invitations in the languages nl, en, ru in an order that no chunking of
    equal parts lines up with (two Dutch, one English, three Russian, ...)."""
    pattern = ("nl", "nl", "en", "ru", "ru", "ru", "en", "nl", "ru")
    invitations = []
    for number in range(count):
        organisation = Organisation(
            name=f"Embassy number {number}",
            name_ru=f"Посольство номер {number}",
            kind=OrganisationKind.EMBASSY,
            country="KZ",
            address=f"Straat {number}\n2514 AA Den Haag",
        )
        person = Person(given_name="Nurlan", family_name=f"Sarsenbayev {number}", language="ru")
        invitations.append(
            Invitation(
                ceremony=ceremony,
                organisation=organisation,
                addressee=person,
                language=pattern[number % len(pattern)],
                rsvp_deadline=date(ceremony.year, 4, 25),
            )
        )
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


@pytest.fixture
def eighteen(edition: Callable[..., Ceremony]) -> list[Invitation]:
    return make_invitations(edition("9-mei", 2031), 18)


def letters_of(
    invitations: list[Invitation], base: str = "https://ereveld.example"
) -> list[Letter]:
    return [Letter(i, f"{base}/rsvp/{'Ab-_9' * 8}{i.id % 10:03d}") for i in invitations]


@pytest.mark.parametrize("workers", [0, 2])
def test_each_letter_carries_its_own_language_and_title(
    app: Flask, eighteen: list[Invitation], tmp_path: Path, workers: int
) -> None:
    """18 letters in mixed languages, laid out five to a chunk (in this process, and by
    render workers): every letter's PDF says its own /Lang and /Title."""
    app.config["LETTER_CHUNK_SIZE"] = 5
    app.config["LETTER_RENDER_WORKERS"] = workers
    with app.test_request_context():
        batch = render_letters(letters_of(eighteen), "card", tmp_path / "out", keep_workers=False)
    assert len(batch.each) == 18
    langs = []
    for invitation, path in zip(eighteen, batch.each, strict=True):
        with pikepdf.open(path) as pdf:
            lang, title = str(pdf.Root.Lang), str(pdf.docinfo["/Title"])
        langs.append(lang)
        assert lang == invitation.language, path.name
        assert title.startswith(TITLES[lang]), title
        organisation = invitation.organisation.display_name(lang)
        assert title.endswith(organisation), title
        assert pdf_tools.info(path.read_bytes(), tmp_path)["Title"] == title
    assert set(langs) == set(LANGS)
