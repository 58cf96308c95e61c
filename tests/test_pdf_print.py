"""PDFs as a printer, a screen reader and a phone read them: each letter's own metadata,
font names in the printer's PDF, QR codes at 150 dpi, long links on the page, lists that
keep a heading with its rows, and place cards and badges at scale."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pikepdf
import pytest
from flask import Flask, render_template
from flask.testing import FlaskCliRunner

from app.ceremonies.models import Ceremony
from app.contacts.models import Organisation, OrganisationKind, Person
from app.documents.letters import Letter, render_letters
from app.documents.lists import CardLayout, cards_html
from app.documents.services import renderer
from app.extensions import db
from app.invitations.models import Invitation
from benchmarks.documents import sample_cards
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


A6_MARGIN = 8 * 72 / 25.4  # the card's page margin, in points
A4_MARGIN = 20 * 72 / 25.4  # the letter's left and right margins


def long_base(length: int) -> str:
    """A PUBLIC_BASE_URL of ``length`` characters, with a long host as a municipality's
    or a foundation's subdomain may have."""
    start = "https://uitnodigingen.stichting-sovjet-ereveld"
    return start + ".leusden-gemeente-nederland.example.org"[: length - len(start)]


@pytest.mark.parametrize("layout", ["card", "letter"])
@pytest.mark.parametrize("base_length", [49, 62])
def test_a_long_personal_link_stays_on_the_page_and_its_code_reads_at_150_dpi(
    app: Flask,
    runner: FlaskCliRunner,
    edition: Callable[..., Ceremony],
    tmp_path: Path,
    layout: str,
    base_length: int,
) -> None:
    """A 98-character link (a 49-character PUBLIC_BASE_URL) and a 111-character one (62):
    every character of it inside the page's margins, the token whole on one line, and
    the QR code read by zbar off the page drawn at 150 dpi."""
    base = long_base(base_length)
    assert len(base) == base_length
    app.config["PUBLIC_BASE_URL"] = base
    make_invitations(edition("9-mei", 2031), 3)
    out = tmp_path / "letters"
    result = runner.invoke(
        args=["documents", "letters", "2031-9-mei", "--out", str(out), "--send", "--layout", layout]
    )
    assert result.exit_code == 0, result.output
    margin = A6_MARGIN if layout == "card" else A4_MARGIN
    for path in sorted(out.glob("0*.pdf")):
        pdf = path.read_bytes()
        assert pdf_tools.info(pdf, tmp_path)["Pages"] == "1"
        codes = pdf_tools.qr_codes(pdf, tmp_path, dpi=150)
        assert len(codes) == 1
        link = codes[0]
        assert link.startswith(base + "/")
        assert len(link) == base_length + 6 + 43
        ((width, _height, words),) = pdf_tools.words(pdf, tmp_path)
        start = next(i for i, word in enumerate(words) if word.text.startswith("https://"))
        printed, pieces = "", []
        for word in words[start:]:
            if len(printed) >= len(link):
                break
            printed += word.text
            pieces.append(word)
        assert printed == link  # every character, in order, nothing else between
        for word in pieces:
            assert word.x_min >= margin - 1, word
            assert word.x_max <= width - margin + 1, word
        token = link.rsplit("/", 1)[1]
        assert any(word.text.endswith(token) for word in pieces)  # never broken


@pytest.mark.parametrize(("layout", "sheets"), [(CardLayout.TENTS, 150), (CardLayout.BADGES, 38)])
def test_300_place_cards_or_badges_stay_small(
    app: Flask, tmp_path: Path, layout: CardLayout, sheets: int
) -> None:
    """300 guests: a sheet per two place cards or eight badges, under 2 MB (the dotted
    fold lines made 20 MB of place cards), every name on its sheet."""
    made = sample_cards(300)
    common = {"lang": "en", "list_name": "Place cards", "title": "Victory Day"}
    with app.test_request_context():
        pdf = renderer().render_uncached(
            cards_html(made, layout, common), title="Place cards", lang="en"
        )
    assert len(pdf) < 2_000_000
    # In reading order: side-by-side badges would interleave line by line.
    pages = pdf_tools.text(pdf, tmp_path, layout=False).split("\f")[:-1]
    assert len(pages) == sheets
    per_sheet = 300 // sheets + (1 if 300 % sheets else 0)
    for number, card in enumerate(made):
        page = " ".join(pages[number // per_sheet].split())
        assert card.name in page, (number, card.name)


def _synthetic_groups(shift: int) -> list[SimpleNamespace]:
    """Groups of delegations of 1 to 6 guests, every other one with a name in another
    script (a row of two lines), in numbers that move the page breaks with ``shift``."""
    groups = []
    for g in range(6 + shift % 5):
        delegations = []
        for d in range(1 + (g * shift) % 3):
            size = 1 + (shift * 3 + d * 7 + g * 5) % 6
            guests = [
                SimpleNamespace(
                    name=f"Guest {g}.{d}.{k}",
                    other_script=f"Гость {g}.{d}.{k}" if k % 2 else "",
                    function="Counsellor",
                    named=True,
                    role="wreath bearer",
                )
                for k in range(size)
            ]
            delegations.append(
                SimpleNamespace(
                    status="accepted",
                    expected=size,
                    organisation=f"Embassy {g}.{d}",
                    is_dean=False,
                    guests=guests,
                )
            )
        groups.append(SimpleNamespace(name=f"Group heading {g}", delegations=delegations))
    return groups


LIST_COMMON = {
    "lang": "en",
    "list_name": "Guest list",
    "title": "Victory Day",
    "anniversary": "",
    "long_date": "Sunday, 9 May 2027",
    "hours": "11:00–12:00",
    "venue": "Sovjet Ereveld",
    "as_of": "",
}


@pytest.mark.parametrize("shift", range(0, 24, 3))
def test_the_guest_list_keeps_each_group_heading_with_its_rows(
    app: Flask, tmp_path: Path, shift: int
) -> None:
    """Page by page: a group heading is followed on its page by its first delegation's
    heading and first guest; a guest's name in another script is on the guest's page."""
    groups = _synthetic_groups(shift)
    totals = SimpleNamespace(
        invitations=1, accepted=1, declined=0, waiting=0, drafts=0, proxy=0, persons=1
    )
    with app.test_request_context():
        html = render_template("pdf/guest_list.html", groups=groups, totals=totals, **LIST_COMMON)
        pdf = renderer().render_uncached(html, title="Guest list", lang="en")
    pages = [
        [line.strip() for line in page.splitlines() if line.strip()]
        for page in pdf_tools.pages(pdf, tmp_path)
    ]
    assert len(pages) > 1  # there are page breaks to look at
    seen = []
    for lines in pages:
        for index, line in enumerate(lines):
            if line.startswith("Group heading"):
                after = lines[index + 1 :]
                assert any(n.startswith("Embassy") for n in after), (line, lines[-4:])
                assert any(n.startswith("Guest") for n in after), (line, lines[-4:])
                seen.append(line)
            if line.startswith("Guest") and line.split()[1].count(".") == 2:
                number = line.split()[1]
                k = int(number.rsplit(".", 1)[1])
                if k % 2:  # its second line, in Cyrillic, is on the same page
                    assert f"Гость {number}" in lines[index + 1], (line, lines[index + 1 :][:2])
    assert seen == [group.name for group in groups]


@pytest.mark.parametrize("shift", [1, 4, 7])
def test_the_run_sheet_keeps_each_section_heading_with_a_wreath(
    app: Flask, tmp_path: Path, shift: int
) -> None:
    """Page by page: a section heading of the run sheet has a wreath row (its number)
    under it on the same page."""
    sections, position = [], 0
    for g in range(5 + shift % 4):
        entries = []
        for k in range(1 + (shift * 3 + g * 5) % 7):
            position += 1
            entries.append(
                SimpleNamespace(
                    position=position,
                    organisation=SimpleNamespace(display_name=lambda _lang, p=position: f"Org {p}"),
                    rank=None,
                    laid_by="H.E. Someone",
                    bearers=["A", "B"] if (k + shift) % 2 else [],
                    supplier="s",
                    pinned=False,
                    ribbon_text="In memory" if k % 3 else "",
                    colours="red, gold",
                )
            )
        sections.append(SimpleNamespace(name=f"Section {g}", public_defile=False, entries=entries))
    with app.test_request_context():
        html = render_template(
            "pdf/run_sheet.html",
            sections=sections,
            count=position,
            starts="11:00",
            supplier_labels={"s": "Supplier"},
            **LIST_COMMON,
        )
        pdf = renderer().render_uncached(html, title="Run sheet", lang="en")
    pages = [
        [line.strip() for line in page.splitlines() if line.strip()]
        for page in pdf_tools.pages(pdf, tmp_path)
    ]
    assert len(pages) > 1
    seen = []
    for lines in pages:
        for index, line in enumerate(lines):
            if line.startswith("Section "):
                after = lines[index + 1 :]
                assert any(re.match(r"\d+ +Org \d+", n) for n in after), (line, lines[-4:])
                seen.append(line)
    assert seen == [section.name for section in sections]
