"""The programme as a printer and a guest read it (issue #13, part 4): no row split over
a page, no lonely or empty heading, nothing internal, a cover in every chosen language,
and an A5 booklet imposed for saddle stitching."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import time
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, ItemKind
from app.ceremonies.services import ProgrammeItemData, add_item
from app.ceremonies.timing import timetable
from app.documents.booklet import booklet_order
from app.documents.services import programme_html, programme_pdf
from app.extensions import db
from app.settings.services import set_setting
from tests import pdf_tools

WORDS = {
    "nl": "de kransen worden gelegd door de delegaties in volgorde van protocol en daarna",
    "en": "the wreaths are laid by the delegations in order of precedence and afterwards",
    "ru": "венки возлагают делегации в порядке протокольного старшинства и после этого",
}


def long_text(number: int, lang: str) -> str:
    """A text of one to five lines that begins and ends with the item's own marks, so
    that a page holding only part of it is seen."""
    body = " ".join([WORDS[lang]] * (1 + number % 5))
    return f"S{number:02d}{lang} {body} E{number:02d}{lang}"


@pytest.fixture
def long_programme(edition: Callable[..., Ceremony]) -> Ceremony:
    """9 May with 40 printable items of long texts in nl, en and ru, each at its own time."""
    ceremony = edition("9-mei", 2026)
    ceremony.items.clear()
    for number in range(40):
        minutes = 9 * 60 + 3 * number
        performer = f"P{number:02d} Performer" if number % 3 == 0 else ""
        add_item(
            ceremony,
            ProgrammeItemData(
                ItemKind.SPEECH,
                time(minutes // 60, minutes % 60),
                None,
                2,
                performer,
                performer,
                performer,
                long_text(number, "nl"),
                long_text(number, "en"),
                long_text(number, "ru"),
                True,
            ),
        )
    db.session.commit()
    return ceremony


def render(app: Flask, ceremony: Ceremony, language: str, *, booklet: bool = False) -> bytes:
    with app.test_request_context():
        return programme_pdf(db.session, ceremony, language, booklet=booklet)


def page_of(pages: list[str], mark: str) -> list[int]:
    return [number for number, page in enumerate(pages) if mark in page]


@pytest.mark.parametrize("paper", ["a5", "a4"])
@pytest.mark.parametrize("language", ["nl", "en", "ru", "nl-ru", "nl-en-ru"])
def test_no_item_is_split_over_pages(
    app: Flask, long_programme: Ceremony, tmp_path: Path, paper: str, language: str
) -> None:
    set_setting(db.session, "programme_paper", paper)
    db.session.commit()
    pages = pdf_tools.pages(render(app, long_programme, language), tmp_path)
    assert len(pages) > (8 if paper == "a5" else 4)  # enough page breaks to be a test
    langs = language.split("-")
    for entry in timetable(long_programme):
        number = int(entry.item.performer_nl[1:3]) if entry.item.performer_nl else None
        mark = entry.item.text_nl[:3]
        [page] = page_of(pages, f"{mark}{langs[0]}")
        # The time starts the line of its text's first words...
        line = next(line for line in pages[page].splitlines() if f"{mark}{langs[0]}" in line)
        assert line.split()[0] == entry.starts.strftime("%H:%M"), line
        # ...and every other part of the item is on that page too.
        for lang in langs:
            assert page_of(pages, f"S{mark[1:]}{lang}") == [page], (mark, lang)
            assert page_of(pages, f"E{mark[1:]}{lang}") == [page], (mark, lang)
        if number is not None:
            assert page_of(pages, f"P{number:02d} Performer") == [page]


def halves(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """The text of the left and the right half of each sheet side."""
    path = tmp_path / "booklet.pdf"
    path.write_bytes(pdf)
    found = []
    for side in range(1, len(pdf_tools.pages(pdf, tmp_path)) + 1):
        pair = []
        for x in (0, 421):
            pair.append(
                subprocess.run(
                    [
                        *("pdftotext", "-f", str(side), "-l", str(side), "-x", str(x), "-y", "0"),
                        *("-W", "421", "-H", "596", "-enc", "UTF-8", str(path), "-"),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=60,
                ).stdout
            )
        found.append((pair[0], pair[1]))
    return found


def test_booklet_order() -> None:
    assert booklet_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert booklet_order(4) == [(4, 1), (2, 3)]
    # Padded to a multiple of four with blank pages (None) at the end of the booklet.
    assert booklet_order(5) == [(None, 1), (2, None), (None, 3), (4, 5)]
    assert booklet_order(1) == [(None, 1), (None, None)]


@pytest.mark.parametrize("language", ["nl", "nl-ru"])
def test_booklet_is_imposed_for_saddle_stitching(
    app: Flask, long_programme: Ceremony, tmp_path: Path, language: str
) -> None:
    set_setting(db.session, "programme_paper", "a4")  # a booklet is A5 whatever is set
    db.session.commit()
    single = render(app, long_programme, language, booklet=False)
    set_setting(db.session, "programme_paper", "a5")
    db.session.commit()
    a5 = render(app, long_programme, language)
    booklet = render(app, long_programme, language, booklet=True)
    assert single != a5
    count = len(pdf_tools.pages(a5, tmp_path))
    sides = halves(booklet, tmp_path)
    assert len(sides) == 2 * -(-count // 4)  # two sides per sheet, four pages per sheet
    assert pdf_tools.info(booklet, tmp_path)["Page size"].startswith("841.89 x 595.276")  # A4
    assert pdf_tools.info(booklet, tmp_path)["Title"] == long_programme.title("nl")
    # Each half holds the A5 page the saddle-stitch order names, its footer "n / count".
    for (left, right), (want_left, want_right) in zip(sides, booklet_order(count), strict=True):
        for text, want in ((left, want_left), (right, want_right)):
            if want is None:
                assert text.strip() == ""
            elif want == 1:
                assert "81e herdenking" in text  # the cover, unnumbered
                assert " / " not in text
            else:
                assert re.search(rf"\b{want} / {count}\b", text), (want, text)


def root_lang(pdf: bytes) -> str:
    with pikepdf.open(BytesIO(pdf)) as document:
        return str(document.Root.Lang)


def test_bilingual_cover_and_headings(
    app: Flask, edition: Callable[..., Ceremony], tmp_path: Path
) -> None:
    ceremony = edition("4-mei", 2026)
    pdf = render(app, ceremony, "nl-ru")
    pages = [" ".join(page.split()) for page in pdf_tools.pages(pdf, tmp_path)]
    cover = pages[0]
    for words in (
        "STICHTING SOVJET EREVELD",
        "Nationale Dodenherdenking",
        "81e herdenking",
        "maandag 4 mei 2026",
        "ФОНД «СОВЕТСКОЕ ВОЕННОЕ КЛАДБИЩЕ»",
        "Национальный день памяти",
        "81-я годовщина",
        "понедельник, 4 мая 2026",
    ):
        assert words in cover
    rest = " ".join(pages[1:])
    assert "Programma · Программа" in rest
    assert "Praktische informatie · Практическая информация" in rest
    assert "Twee minuten stilte Две минуты молчания" in rest
    assert "Vlag halfstok van 18:00 tot zonsondergang (21:08)" in rest
    assert "Флаг приспущен с 18:00 до заката (21:08)" in rest
    assert root_lang(pdf) == "nl"  # the first language is the document's
    # Each part is marked as its own language in the HTML (hyphenation, and what a
    # screen reader reads); WeasyPrint 69 writes no /Lang on the structure elements.
    with app.test_request_context():
        html = programme_html(db.session, ceremony, "nl-ru")
    assert "<h1>Национальный день памяти</h1>" in html
    assert re.search(r'<div class="cover-part second" lang="ru">', html)
    assert '<span lang="ru">Программа</span>' in html
    assert re.search(r'<div class="text second" lang="ru">Две минуты молчания</div>', html)
    # One language: no Russian anywhere; the document is English when English leads.
    assert "Программа" not in pdf_tools.text(render(app, ceremony, "nl"), tmp_path)
    english_first = render(app, ceremony, "en-ru")
    assert root_lang(english_first) == "en"
    assert "National Remembrance" in pdf_tools.pages(english_first, tmp_path)[0]


@pytest.mark.parametrize("language", ["nl", "en", "ru", "nl-en-ru"])
def test_an_edition_without_items_says_so_without_an_empty_heading(
    app: Flask, edition: Callable[..., Ceremony], tmp_path: Path, language: str
) -> None:
    ceremony = edition("9-mei", 2027)
    ceremony.items.clear()
    db.session.commit()
    pdf = render(app, ceremony, language)
    text = " ".join(pdf_tools.text(pdf, tmp_path).split())
    expected = {
        "nl": "Het programma wordt later bekendgemaakt.",
        "en": "The programme will be announced later.",
        "ru": "Программа будет объявлена позднее.",
    }
    for lang in language.split("-"):
        assert expected[lang] in text
    # The venue's access notes still print under their heading; the programme's is gone.
    headings = ("Programma", "Programme", "Программа")
    lines = [line.strip() for line in pdf_tools.text(pdf, tmp_path).splitlines()]
    assert not [line for line in lines if line.split(" · ")[0] in headings]
    cover = " ".join(pdf_tools.pages(pdf, tmp_path)[0].split())
    for lang in language.split("-"):
        assert expected[lang] in cover  # the short text is on the cover
    # With items the heading is back, and the short text is gone.
    filled = edition("9-mei", 2028)
    text = " ".join(pdf_tools.text(render(app, filled, "en"), tmp_path).split())
    assert "Programme" in text
    assert expected["en"] not in text


INTERNAL = "INTERNAL-NOTE-7731"


@pytest.mark.parametrize(
    "slug", ["koedriest", "bloemen-3-mei", "4-mei", "5-mei", "9-mei", "lichtjes-24-december"]
)
def test_nothing_internal_prints(
    app: Flask, edition: Callable[..., Ceremony], tmp_path: Path, slug: str
) -> None:
    ceremony = edition(slug, 2026)
    seeded_note = ceremony.venue.notes
    assert seeded_note  # every seeded venue has staff's notes
    hidden = [i for i in ceremony.items if not i.printable]
    ceremony.notes = INTERNAL
    add_item(
        ceremony,
        ProgrammeItemData(ItemKind.RECEPTION, None, None, 5, *(INTERNAL,) * 6, printable=False),
    )
    db.session.commit()
    for language in ("nl", "en", "ru", "nl-en-ru"):
        text = " ".join(pdf_tools.text(render(app, ceremony, language), tmp_path).split())
        assert INTERNAL not in text
        assert "Coordinates approximate" not in text
        assert seeded_note[:30] not in text
        for item in hidden:
            for lang in ("nl", "en", "ru"):
                assert getattr(item, f"text_{lang}") not in text
    # The seeded notes that leaked before: Koedriest's unverified coordinates.
    if slug == "koedriest":
        assert seeded_note.startswith("Coordinates approximate: verify")


def test_staff_choose_languages_and_booklet(
    client: FlaskClient,
    edition: Callable[..., Ceremony],
    login: Callable[[Role], User],
    tmp_path: Path,
) -> None:
    ceremony = edition("9-mei", 2026)
    login(Role.VIEWER)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}").get_data(as_text=True)
    assert f'action="/staff/ceremonies/{ceremony.slug}/programme.pdf"' in page
    assert 'value="nl-ru"' in page
    assert 'value="booklet"' in page
    url = f"/staff/ceremonies/{ceremony.slug}/programme.pdf"
    before = session_of(client).get("lang")
    pages = client.get(f"{url}?language=ru&layout=pages")
    assert pages.status_code == 200
    assert "День Победы и памяти" in pdf_tools.text(pages.data, tmp_path)
    # The staff member's pages stay in their language.
    assert session_of(client).get("lang") == before
    booklet = client.get(f"{url}?language=nl-ru&layout=booklet")
    assert booklet.status_code == 200
    assert 'filename="2026-9-mei-nl-ru-booklet.pdf"' in booklet.headers["Content-Disposition"]
    assert pdf_tools.info(booklet.data, tmp_path)["Page size"].startswith("841.89 x 595.276")
    assert len(pdf_tools.pages(booklet.data, tmp_path)) == 2  # 2 A5 pages padded to 4: 1 sheet
    # A hand-made URL with a choice the form does not offer: the form again, with the
    # error beside the field and the good choice kept, never a 500 and never another
    # language or layout silently.
    bad = client.get(f"{url}?language=nl-ru&layout=poster")
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert '<p class="error" id="layout-error">Ongeldige keuze.</p>' in body
    assert "language-error" not in body
    assert '<option selected value="nl-ru">' in body
    bad = client.get(f"{url}?language=nl-xx")
    assert bad.status_code == 400
    assert '<p class="error" id="language-error">Ongeldige keuze.</p>' in bad.get_data(as_text=True)
    # Links made before the form (?lang=) still work.
    old = client.get(f"{url}?lang=ru")
    assert old.mimetype == "application/pdf"
    assert "День Победы и памяти" in pdf_tools.text(old.data, tmp_path)


def session_of(client: FlaskClient) -> dict[str, object]:
    with client.session_transaction() as session:
        return dict(session)


def test_programme_command(
    runner: FlaskCliRunner, edition: Callable[..., Ceremony], tmp_path: Path
) -> None:
    ceremony = edition("koedriest", 2026)
    out = tmp_path / "booklet.pdf"
    args = ["documents", "programme", ceremony.slug, "--out", str(out), "--lang", "nl-ru"]
    result = runner.invoke(args=[*args, "--booklet"])
    assert result.exit_code == 0, result.output
    assert "booklet" in result.output
    assert pdf_tools.info(out.read_bytes(), tmp_path)["Page size"].startswith("841.89")
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    text = pdf_tools.text(out.read_bytes(), tmp_path)
    assert "Herdenking Koedriest" in text
    assert "Coordinates approximate" not in text
    bad = runner.invoke(args=[*args[:5], "--lang", "de"])
    assert bad.exit_code == 2
    assert "Invalid value for '--lang'" in bad.output


def test_the_notes_heading_keeps_with_its_text(
    app: Flask, edition: Callable[..., Ceremony], tmp_path: Path
) -> None:
    """4 May's flag note after programmes of growing length: wherever the page ends, the
    heading "Praktische informatie" is on the page of the note it heads."""
    ceremony = edition("4-mei", 2026)
    moved = 0
    for extra in range(14):
        pages = pdf_tools.pages(render(app, ceremony, "nl-ru"), tmp_path)
        [heading] = page_of(pages, "Praktische informatie")
        assert page_of(pages, "Vlag halfstok") == [heading]
        assert page_of(pages, "Флаг приспущен") == [heading]
        moved = max(moved, heading)
        add_item(
            ceremony,
            ProgrammeItemData(
                ItemKind.MUSIC, None, None, 1, "", "", "", long_text(extra, "nl"), "", "", True
            ),
        )
        db.session.commit()
    assert moved >= 2  # the note went over at least one page break on the way
