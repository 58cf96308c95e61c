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


def font_programs(path: Path) -> dict[str, set[bytes]]:
    """Every embedded font's program by the names it goes by (BaseFont of the font and
    its descendant, FontName of its descriptor)."""
    found: dict[str, set[bytes]] = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font":
                continue
            parts = [obj, *(obj.get("/DescendantFonts") or [])]
            for part in parts:
                descriptor = part.get("/FontDescriptor")
                if descriptor is None:
                    continue
                program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                assert program is not None, "every font is embedded"
                content = bytes(program.read_bytes())
                for name in (obj.BaseFont, part.BaseFont, descriptor.FontName):
                    found.setdefault(str(name), set()).add(content)
    return found


def test_the_printers_pdf_gives_each_font_program_its_own_name(
    app: Flask, eighteen: list[Invitation], tmp_path: Path
) -> None:
    app.config["LETTER_CHUNK_SIZE"] = 5
    app.config["LETTER_RENDER_WORKERS"] = 0
    with app.test_request_context():
        batch = render_letters(letters_of(eighteen), "letter", tmp_path / "out")
    found = font_programs(batch.combined)
    faces = {name.split("+", 1)[1] for name in found}
    assert faces == {"Noto-Serif-LGC", "Noto-Serif-LGC-Bold", "Noto-Serif-LGC-Italic"}
    for name, programs in found.items():
        assert len(programs) == 1, f"{len(programs)} different font programs named {name}"
    # Letters with other characters have other subsets: one face, several names.
    assert len(found) > len(faces) * 2
    # The text still reads as it did in each letter's own PDF.
    combined = pdf_tools.pages(batch.combined.read_bytes(), tmp_path)
    for index, path in enumerate(batch.each):
        assert combined[index] == pdf_tools.pages(path.read_bytes(), tmp_path)[0]
    assert len(combined) == 18
