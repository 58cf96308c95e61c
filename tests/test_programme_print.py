"""The programme as a printer and a guest read it (issue #13, part 4): no row split over
a page, no lonely or empty heading, nothing internal, a cover in every chosen language,
and an A5 booklet imposed for saddle stitching."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind
from app.ceremonies.services import ProgrammeItemData, add_item, set_status
from app.ceremonies.timing import timetable
from app.documents.booklet import booklet_order
from app.documents.services import programme_pdf
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
        add_item(
            ceremony,
            ProgrammeItemData(
                ItemKind.SPEECH,
                time(minutes // 60, minutes % 60),
                None,
                2,
                f"P{number:02d} Performer" if number % 3 == 0 else "",
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
        number = int(entry.item.performer[1:3]) if entry.item.performer else None
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
